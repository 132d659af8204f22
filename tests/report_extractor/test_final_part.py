"""The final part of the issue 13 evaluation set (``evalset/final.jsonl``): it loads, validates and is
selectable. These tests read gold labels only; they never run an extractor (the part is scored once,
at the end of issue 13)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from report_extractor.evaluation import (
    DEV_PATHS,
    FINAL_PATH,
    EvalCase,
    EvalPart,
    PartChoice,
    ReportStyle,
    load_devset,
    load_evalset,
    organ_count,
    part_paths,
    select_part,
)
from rsuper_cli.main import app
from schemas.records import OrganStatus, text_sha256

FINAL = load_evalset(FINAL_PATH)
STYLES = (
    ReportStyle.TEMPLATED,
    ReportStyle.NARRATIVE,
    ReportStyle.ED,
    ReportStyle.FOLLOWUP,
    ReportStyle.NOTES,
    ReportStyle.RECIST,
    ReportStyle.ADDENDUM,
)
_NUMBER = re.compile(r"(?<![\d,.])(\d+(?:[.,]\d+)?)")


def test_every_line_is_a_final_case_with_a_unique_numbered_id() -> None:
    lines = [line for line in FINAL_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) == len(FINAL) >= 105
    assert ids == [f"final-{i:03d}" for i in range(1, len(ids) + 1)]
    assert all(case.part is EvalPart.FINAL for case in FINAL)


def test_final_ids_are_not_in_the_dev_set() -> None:
    assert not {case.id for case in FINAL} & {case.id for case in load_devset()}


def test_each_style_has_at_least_15_cases_and_about_a_fifth_are_normal() -> None:
    styles = Counter(case.style for case in FINAL)
    assert set(styles) == set(STYLES)
    assert all(styles[style] >= 15 for style in STYLES), styles
    normal = [case for case in FINAL if not case.expected.lesions]
    assert 0.15 * len(FINAL) <= len(normal) <= 0.3 * len(FINAL)


def _text_numbers_mm(text: str) -> set[float]:
    """Every number of ``text`` read as mm and as cm converted to mm (decimal commas allowed)."""
    values = [float(m.replace(",", ".")) for m in _NUMBER.findall(text)]
    return {round(v * scale, 3) for v in values for scale in (1, 10)}


@pytest.mark.parametrize("case", FINAL, ids=[c.id for c in FINAL])
def test_final_label_is_consistent(case: EvalCase) -> None:
    """The label validates, explains itself, sizes come from the text, organ counts sum the lesions."""
    gold = case.to_extraction()
    assert (gold.report_id, gold.text_sha256) == (case.id, text_sha256(case.text))
    assert case.notes, f"{case.id}: every final case explains its labels"
    readable = _text_numbers_mm(case.text)
    missing = [
        mm for les in gold.lesions if les.size for mm in les.size.diameters_mm if round(mm, 3) not in readable
    ]
    assert not missing, f"{case.id}: diameters {missing} do not occur in the text"
    lesion_free = gold.model_copy(update={"organs": ()})
    for finding in gold.organs:
        if finding.status is OrganStatus.LESION:
            assert gold.lesions_of(finding.organ), f"{case.id}: {finding.organ.value} has no lesion entry"
            assert organ_count(lesion_free, finding.organ) == finding.count, (
                f"{case.id}: {finding.organ.value}"
            )


def test_part_paths_keep_the_final_part_out_of_all() -> None:
    assert part_paths(PartChoice.FINAL) == part_paths("final") == (FINAL_PATH,)
    for part in ("all", "tuning", "heldout"):
        assert part_paths(part) == DEV_PATHS
    assert FINAL_PATH not in DEV_PATHS
    assert not [case for case in load_devset() if case.part is EvalPart.FINAL]


def test_select_part_final() -> None:
    chosen = select_part(load_devset(part_paths("final")), "final")
    assert [case.id for case in chosen] == [case.id for case in FINAL]
    assert select_part(load_devset(), "final") == []


def test_cli_accepts_part_final(tmp_path: Path) -> None:
    """``--part final`` is a valid choice (a file without final cases fails before any extraction)."""
    dev_case = next(case for case in load_devset() if case.part is EvalPart.TUNING)
    evalset = tmp_path / "one.jsonl"
    evalset.write_text(dev_case.model_dump_json() + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval-extraction", "--evalset", str(evalset), "--part", "final"])
    assert result.exit_code == 2
    assert "--part final: the evaluation set has no such cases" in result.output
