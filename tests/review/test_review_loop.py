"""The review loop outside the browser: extract with the CLI → correct in the store → the correction
reaches ``rsuper export`` (``--reviewed-only`` too), ``rsuper review-stats`` and the training facts."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from review_cases import write_reports_csv
from typer.testing import CliRunner

from rsuper_cli.main import app
from segmentation.records import load_report_facts
from store import init_store

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A store with the two reports extracted by ``rsuper extract`` (rules backend)."""
    data = write_reports_csv(tmp_path / "reports.csv")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = runner.invoke(app, ["extract", str(data), "--store", url])
    assert result.exit_code == 0, result.output
    return url


def _correct_liver_diameter(url: str, diameters: tuple[float, ...]) -> None:
    store = init_store(url)
    record = store.current_extraction("acc-1")
    assert record is not None
    assert record.lesions[0].size is not None
    assert record.lesions[0].size.diameters_mm == (32, 21)
    first = record.lesions[0].model_dump(mode="json")
    first["size"]["diameters_mm"] = list(diameters)
    store.save_review("acc-1", "alice", lesions=[first, *record.lesions[1:]])
    store.close()


def _export(url: str, fmt: str, out: Path, *extra: str) -> list[dict[str, str]]:
    result = runner.invoke(app, ["export", "--format", fmt, "--out", str(out), "--store", url, *extra])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(out.open(encoding="utf-8")))


def test_export_reads_the_correction_and_filters_reviewed(store_url: str, tmp_path: Path) -> None:
    _correct_liver_diameter(store_url, (45, 21))
    tumors = _export(store_url, "rsuper-per-tumor", tmp_path / "t.csv")
    liver = [r for r in tumors if r["BDMAP ID"] == "acc-1"]
    assert [r["Tumor Size (mm)"] for r in liver] == ["45 x 21"]
    ct = {r["BDMAP ID"]: r for r in _export(store_url, "rsuper-per-ct", tmp_path / "c.csv")}
    assert (ct["acc-1"]["reviewed"], ct["acc-2"]["reviewed"]) == ("True", "False")
    assert ct["acc-1"]["largest liver lesion diameter (cm)"] == "4.5"
    only = _export(store_url, "rsuper-per-ct", tmp_path / "r.csv", "--reviewed-only")
    assert [r["BDMAP ID"] for r in only] == ["acc-1"]


def test_review_stats_command(store_url: str) -> None:
    empty = runner.invoke(app, ["review-stats", "--store", store_url])
    assert empty.exit_code == 0, empty.output
    assert "records reviewed: 0" in empty.output
    _correct_liver_diameter(store_url, (45, 21))
    table = runner.invoke(app, ["review-stats", "--store", store_url])
    assert table.exit_code == 0, table.output
    assert "records reviewed: 1" in table.output
    as_json = runner.invoke(app, ["review-stats", "--store", store_url, "--json"])
    (row,) = json.loads(as_json.output)
    assert row["backend"] == "rules"
    assert row["reviewed"] == 1
    assert row["changed"]["size"] == 1
    assert row["changed_share"]["size"] == 1.0
    assert row["changed_share"]["organ"] == 0.0


def test_training_facts_read_the_correction(store_url: str) -> None:
    _correct_liver_diameter(store_url, (45, 21))
    facts, missing = load_report_facts(["acc-1", "acc-2"], store_url=store_url)
    assert missing == {}
    assert facts["acc-1"].lesions[0].diameters_mm == (45.0, 21.0)
    reviewed, skipped = load_report_facts(["acc-1", "acc-2"], store_url=store_url, reviewed_only=True)
    assert list(reviewed) == ["acc-1"]
    assert skipped == {"acc-2": "not reviewed in the store"}
