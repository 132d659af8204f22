"""The final parts of the issue 13 evaluation set (``evalset/final.jsonl`` and ``evalset/final2.jsonl``):
they load, validate and are selectable. These tests read gold labels only; they never run an extractor
(each part is scored once: ``final`` at the end of issue 13, ``final2`` after ``final`` was used for
fixing failure classes)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from report_extractor.evaluation import (
    DEV_PATHS,
    FINAL2_PATH,
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

PARTS: dict[EvalPart, Path] = {EvalPart.FINAL: FINAL_PATH, EvalPart.FINAL2: FINAL2_PATH}
CASES: dict[EvalPart, list[EvalCase]] = {part: load_evalset(path) for part, path in PARTS.items()}
ALL_CASES = [case for cases in CASES.values() for case in cases]
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
each_part = pytest.mark.parametrize("part", list(PARTS), ids=[p.value for p in PARTS])


@each_part
def test_every_line_is_a_part_case_with_a_unique_numbered_id(part: EvalPart) -> None:
    lines = [line for line in PARTS[part].read_text(encoding="utf-8").splitlines() if line.strip()]
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) == len(CASES[part]) >= 105
    assert ids == [f"{part.value}-{i:03d}" for i in range(1, len(ids) + 1)]
    assert all(case.part is part for case in CASES[part])


@each_part
def test_part_ids_are_not_in_the_dev_set(part: EvalPart) -> None:
    assert not {case.id for case in CASES[part]} & {case.id for case in load_devset()}


def test_the_final_parts_share_no_id_and_no_text() -> None:
    first, second = CASES[EvalPart.FINAL], CASES[EvalPart.FINAL2]
    assert not {case.id for case in first} & {case.id for case in second}
    assert not {case.text for case in first} & {case.text for case in second}


@each_part
def test_each_style_has_at_least_15_cases_and_about_a_fifth_are_normal(part: EvalPart) -> None:
    cases = CASES[part]
    styles = Counter(case.style for case in cases)
    assert set(styles) == set(STYLES)
    assert all(styles[style] >= 15 for style in STYLES), styles
    normal = [case for case in cases if not case.expected.lesions]
    assert 0.15 * len(cases) <= len(normal) <= 0.3 * len(cases)


def _text_numbers_mm(text: str) -> set[float]:
    """Every number of ``text`` read as mm and as cm converted to mm (decimal commas allowed)."""
    values = [float(m.replace(",", ".")) for m in _NUMBER.findall(text)]
    return {round(v * scale, 3) for v in values for scale in (1, 10)}


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
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


@each_part
def test_part_paths_keep_the_final_parts_out_of_all(part: EvalPart) -> None:
    assert part_paths(PartChoice(part.value)) == part_paths(part.value) == (PARTS[part],)
    for other in ("all", "tuning", "heldout"):
        assert part_paths(other) == DEV_PATHS
    assert PARTS[part] not in DEV_PATHS
    assert not [case for case in load_devset() if case.part is part]


@each_part
def test_select_part_final(part: EvalPart) -> None:
    chosen = select_part(load_devset(part_paths(part.value)), part.value)
    assert [case.id for case in chosen] == [case.id for case in CASES[part]]
    assert select_part(load_devset(), part.value) == []
    other = next(path for other, path in PARTS.items() if other is not part)
    assert select_part(load_evalset(other), part.value) == []


@each_part
def test_cli_accepts_the_part(part: EvalPart, tmp_path: Path) -> None:
    """``--part final`` / ``final2`` is a valid choice (a file without its cases fails before any
    extraction)."""
    dev_case = next(case for case in load_devset() if case.part is EvalPart.TUNING)
    evalset = tmp_path / "one.jsonl"
    evalset.write_text(dev_case.model_dump_json() + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval-extraction", "--evalset", str(evalset), "--part", part.value])
    assert result.exit_code == 2
    assert f"--part {part.value}: the evaluation set has no such cases" in result.output
