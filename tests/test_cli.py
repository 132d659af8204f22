"""The ``rsuper`` command line, end to end: extract → store → export, resumability, kill and re-run."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from rsuper_cli.main import app
from store.rsuper_csv import PER_CT_COLUMNS, PER_TUMOR_COLUMNS

runner = CliRunner()

GOOD = [
    ("acc-1", "LIVER: 3.2 x 2.1 cm hypoattenuating mass in segment VII. PANCREAS: Unremarkable."),
    ("acc-2", "IMPRESSION: 12 mm hypodense lesion in the pancreatic tail, suspicious for neoplasm."),
    ("acc-3", "FINDINGS: Liver, pancreas, spleen and kidneys are unremarkable."),
    ("acc-4", "Right lower pole renal cyst measuring 8 mm. Spleen measures 11 cm."),
]


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Accession Number", "Findings"])
        writer.writerows(rows)
    return path


def _ids_in_store(db: Path) -> list[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT report_id, status FROM extractions ORDER BY report_id")).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def test_extract_mixed_rows_then_second_run_does_nothing_new(tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "reports.csv", [*GOOD, ("acc-5", ""), ("", "orphan text")])
    db = tmp_path / "store.db"
    args = ["extract", str(data), "--store", f"sqlite:///{db}", "--errors", str(tmp_path / "errors.csv")]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "id = 'Accession Number'" in first.output
    assert "text = 'Findings'" in first.output
    assert "error empty_text" in first.output
    assert "error missing_id" in first.output
    assert [rid for rid, _ in _ids_in_store(db)] == ["acc-1", "acc-2", "acc-3", "acc-4"]
    errors = list(csv.DictReader((tmp_path / "errors.csv").open()))
    assert [(e["row"], e["kind"]) for e in errors] == [("5", "empty_text"), ("6", "missing_id")]
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "already in store (skipped) │ 4" in second.output
    assert "extracted now              │ 0" in second.output
    assert len(_ids_in_store(db)) == 4


def test_extract_exits_non_zero_only_when_nothing_could_be_processed(tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "bad.csv", [("a", ""), ("b", "  ")])
    result = runner.invoke(app, ["extract", str(data), "--store", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 1
    assert "nothing could be processed" in result.output


def test_extract_bad_column_names_the_flag(tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "r.csv", GOOD)
    result = runner.invoke(app, ["extract", str(data), "--text-col", "Impression"])
    assert result.exit_code == 2
    assert "--text-col: column 'Impression' not found" in result.output


def test_export_writes_both_rsuper_csvs_with_exact_columns(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    assert (
        runner.invoke(app, ["extract", str(_write_csv(tmp_path / "r.csv", GOOD)), "--store", db]).exit_code
        == 0
    )
    for fmt, columns in (("rsuper-per-tumor", PER_TUMOR_COLUMNS), ("rsuper-per-ct", PER_CT_COLUMNS)):
        out = tmp_path / f"{fmt}.csv"
        result = runner.invoke(app, ["export", "--format", fmt, "--out", str(out), "--store", db])
        assert result.exit_code == 0, result.output
        with out.open() as f:
            header = next(csv.reader(f))
        assert tuple(header) == tuple(columns)
    per_tumor = list(csv.DictReader((tmp_path / "rsuper-per-tumor.csv").open()))
    liver = next(r for r in per_tumor if r["BDMAP ID"] == "acc-1")
    assert (liver["Standardized Organ"], liver["Standardized Location"], liver["Tumor Size (mm)"]) == (
        "liver",
        "segment 7",
        "32 x 21",
    )
    bad = runner.invoke(app, ["export", "--format", "xml", "--out", str(tmp_path / "x"), "--store", db])
    assert bad.exit_code == 2
    assert "--format: unknown export format 'xml'" in bad.output


@pytest.mark.timeout(240)
def test_killed_extract_resumes_with_every_report_exactly_once(tmp_path: Path) -> None:
    n = 3000
    rows = [(f"r{i:05d}", f"LIVER: {1 + i % 40} mm cyst in segment {1 + i % 8}. Case {i}.") for i in range(n)]
    data = _write_csv(tmp_path / "many.csv", rows)
    db = tmp_path / "store.db"
    cmd = [
        sys.executable,
        "-m",
        "rsuper_cli",
        "extract",
        str(data),
        "--store",
        f"sqlite:///{db}",
        "--batch-size",
        "16",
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                done = len(_ids_in_store(db))
            except Exception:  # table not created yet, or locked
                continue
            if done >= 200:
                break
    assert proc.poll() is None, "extraction finished before it could be killed; raise n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _ids_in_store(db)
    assert 0 < len(partial) < n
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=200)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    final = _ids_in_store(db)
    assert [rid for rid, _ in final] == [rid for rid, _ in rows]
    assert {status for _, status in final} == {"ok"}
