"""Tests for ``rsuper eval-extraction`` (parts, per-style table) and the dev-set helpers it uses."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from report_extractor.errors import InputError
from report_extractor.evaluation import (
    DEV_PATHS,
    EVALSET_PATH,
    EvalPart,
    PartChoice,
    ReportStyle,
    load_devset,
    score_by_style,
    select_part,
    style_table,
)
from rsuper_cli.main import app

runner = CliRunner()
DEV = load_devset()


def test_load_devset_joins_the_bundled_files() -> None:
    assert len(DEV) == sum(len(load_devset((path,))) for path in DEV_PATHS)
    assert len({case.id for case in DEV}) == len(DEV)


def test_load_devset_rejects_an_id_in_two_files() -> None:
    with pytest.raises(InputError, match="also in"):
        load_devset((EVALSET_PATH, EVALSET_PATH))


@pytest.mark.parametrize(
    ("part", "kept"),
    [
        pytest.param(PartChoice.TUNING, {EvalPart.TUNING}, id="tuning"),
        pytest.param("heldout", {EvalPart.HELDOUT}, id="heldout-as-string"),
        pytest.param(PartChoice.ALL, {EvalPart.TUNING, EvalPart.HELDOUT}, id="all"),
    ],
)
def test_select_part(part: PartChoice | str, kept: set[EvalPart]) -> None:
    chosen = select_part(DEV, part)
    assert {case.part for case in chosen} == kept
    assert len(chosen) == sum(1 for case in DEV if case.part in kept)


def test_select_part_rejects_an_unknown_part_listing_the_valid_ones() -> None:
    with pytest.raises(
        ValueError, match=r"part: must be one of all, tuning, heldout, final, final2, got 'test'"
    ):
        select_part(DEV, "test")


def test_score_by_style_splits_reports_by_style() -> None:
    tuning = select_part(DEV, PartChoice.TUNING)
    cases = [c for c in tuning if c.style is ReportStyle.NOTES][:5] + [
        c for c in tuning if c.style is ReportStyle.ED
    ][:3]
    gold = [case.to_extraction() for case in cases]
    by_style = score_by_style(cases, gold)
    counts = Counter(case.style for case in cases)
    assert {style: m.n_reports for style, m in by_style.items()} == dict(counts)
    table = style_table(by_style)
    assert table.splitlines()[0].startswith("| style | reports | presence F1 |")
    assert "| notes | 5 | 1.000 |" in table
    assert "| ed | 3 |" in table


def _write_one_case(path: Path) -> Path:
    line = next(
        case for case in DEV if case.part is EvalPart.TUNING and case.style is ReportStyle.TEMPLATED
    ).model_dump_json()
    path.write_text(line + "\n", encoding="utf-8")
    return path


def test_cli_scores_one_part_with_a_style_table_and_throughput(tmp_path: Path) -> None:
    evalset = _write_one_case(tmp_path / "one.jsonl")
    result = runner.invoke(
        app, ["eval-extraction", "--evalset", str(evalset), "--part", "tuning", "--by-style"]
    )
    assert result.exit_code == 0, result.output
    assert "part: tuning; 1 reports" in result.output
    assert "reports/s" in result.output
    assert "| templated | 1 |" in result.output


def test_cli_part_without_cases_fails(tmp_path: Path) -> None:
    evalset = _write_one_case(tmp_path / "one.jsonl")
    result = runner.invoke(app, ["eval-extraction", "--evalset", str(evalset), "--part", "heldout"])
    assert result.exit_code == 2
    assert "no such cases" in result.output


def test_cli_rejects_an_unknown_part() -> None:
    result = runner.invoke(app, ["eval-extraction", "--part", "test"])
    assert result.exit_code == 2
    assert "--part: must be one of all, tuning, heldout" in result.output
