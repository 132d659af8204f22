"""Issue 13: lesion lists without lesion nouns (class 8, RECIST) and addenda that change the answer.

Sentences written for this file, not taken from the dev set.
"""

from __future__ import annotations

import pytest

from report_extractor.rules import extract_report
from report_extractor.rules.corrections import (
    CorrectionKind,
    blank_replaced_values,
    correction_kind,
    corrections_start,
)
from report_extractor.rules.lists import SUM_LINE_RE, is_recist_category, site_label_end
from schemas.llm import LLMLesion, LLMReport, to_millimetres
from schemas.vocabulary import Organ, Side


def _lesions(report: LLMReport, organ: Organ) -> list[LLMLesion]:
    return [lesion for lesion in report.lesions if lesion.organ is organ]


def _largest(lesion: LLMLesion) -> float | None:
    return max(to_millimetres(lesion.diameters, lesion.unit)) if lesion.diameters else None


def _status(report: LLMReport, organ: Organ) -> str | None:
    return next((o.status for o in report.organs if o.organ is organ), None)


# ------------------------------------------------------------------------------- RECIST list shapes


@pytest.mark.parametrize(
    ("text", "category"),
    [
        pytest.param("TARGET LESIONS:", True, id="target-header"),
        pytest.param("Non-target lesions (unchanged):", True, id="non-target-parenthesis"),
        pytest.param("No new lesions.", True, id="no-new-lesions"),
        pytest.param("New lesion in segment 3, 8 mm.", False, id="new-lesion-with-site"),
        pytest.param("A new lesion is seen.", False, id="new-lesion-verb"),
    ],
)
def test_recist_category_nouns_are_not_lesions(text: str, category: bool) -> None:
    start = text.lower().index("lesion")
    end = start + (7 if text[start:].lower().startswith("lesions") else 6)
    assert is_recist_category(text, start, end, 0, len(text)) is category


@pytest.mark.parametrize(
    ("line", "is_sum"),
    [
        pytest.param("Sum of diameters: 64 mm (baseline 80 mm)", True, id="sum-of-diameters"),
        pytest.param("SUM: 4.1 cm", True, id="sum-colon"),
        pytest.param("Total 52 mm, -12 %", True, id="total"),
        pytest.param("Summary: 2 cm cyst in segment 2.", False, id="summary-is-not-a-sum"),
    ],
)
def test_sum_lines(line: str, is_sum: bool) -> None:
    assert (SUM_LINE_RE.match(line) is not None) is is_sum


@pytest.mark.parametrize(
    ("item", "in_list", "label"),
    [
        pytest.param("Liver, segment 3: 21 mm", False, True, id="organ-and-segment"),
        pytest.param("lower pole: 12 mm", False, True, id="pole-only"),
        pytest.param("Left adrenal: 19 mm", True, True, id="organ-in-a-lesion-list"),
        pytest.param("Left adrenal: 19 mm", False, False, id="organ-outside-a-list-is-a-measure"),
        pytest.param("Spleen: 12.5 cm", False, False, id="organ-length"),
        pytest.param("Right para-aortic node: 14 mm", True, False, id="node"),
        pytest.param("CBD: 6 mm", True, False, id="duct"),
    ],
)
def test_site_labels(item: str, in_list: bool, label: bool) -> None:
    first_digit = next(i for i, ch in enumerate(item) if ch.isdigit() and item[i - 2] in ":,|")
    assert (site_label_end(item, 0, first_digit, in_list=in_list) is not None) is label


@pytest.mark.parametrize(
    ("text", "organ", "sizes", "side"),
    [
        pytest.param(
            "TARGET LESIONS:\n1. Liver, segment 2: 27 mm (baseline 30 mm)\n2. Liver, segment 6: 14 mm\n"
            "Sum: 41 mm (baseline 52 mm)",
            Organ.LIVER,
            [27.0, 14.0],
            None,
            id="liver-targets-with-sum",
        ),
        pytest.param(
            "Liver:\n- segment 5: 3.3 cm\n- segment 1: 9 mm\nSpleen: 11 cm.",
            Organ.LIVER,
            [33.0, 9.0],
            None,
            id="organ-header-then-segments",
        ),
        pytest.param(
            "NEW LESIONS:\n- Right adrenal: 23 mm\nNON-TARGET LESIONS: none.",
            Organ.ADRENAL_GLAND,
            [23.0],
            Side.RIGHT,
            id="organ-only-label-in-new-lesions",
        ),
        pytest.param(
            "Target lesions:\n- Left upper lobe: 16 mm (nadir 11 mm)",
            Organ.LUNG,
            [16.0],
            Side.LEFT,
            id="lobe-label-nadir-is-prior",
        ),
    ],
)
def test_site_size_items_are_lesions(text: str, organ: Organ, sizes: list[float], side: Side | None) -> None:
    report = extract_report(text)
    found = _lesions(report, organ)
    assert sorted(_largest(les) or 0 for les in found) == sorted(sizes)
    if side is not None:
        assert {les.side for les in found} == {side}


def test_organ_lengths_in_a_template_are_not_site_items() -> None:
    report = extract_report("KIDNEYS: Right 11.4 cm, left 11.9 cm. No mass.\nSPLEEN: 12 cm.")
    assert not report.lesions


# ------------------------------------------------------------------------------------- corrections


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        pytest.param("the hepatic lesion is in segment 4, not segment 2.", CorrectionKind.UPDATE, id="site"),
        pytest.param("The nodule should read 9 mm.", CorrectionKind.UPDATE, id="size"),
        pytest.param("the 6 mm focus is a vessel on thin sections.", CorrectionKind.RETRACT, id="vessel"),
        pytest.param("The pancreatic lesion corresponds to focal fat.", CorrectionKind.RETRACT, id="fat"),
        pytest.param("A second cyst is seen in the lower pole.", CorrectionKind.NEW, id="second"),
        pytest.param("The 8 mm lesion in segment 2 was omitted.", CorrectionKind.NEW, id="omitted"),
    ],
)
def test_correction_kinds(sentence: str, kind: CorrectionKind) -> None:
    assert correction_kind(sentence) is kind


def test_replaced_values_are_blanked_after_the_correction_only() -> None:
    text = "Cyst, not the left. ADDENDUM: the cyst is in the right kidney, not the left; 12 mm (not 21)."
    start = corrections_start(text)
    assert start is not None
    blanked = blank_replaced_values(text, start)
    assert len(blanked) == len(text)
    assert blanked.startswith("Cyst, not the left.")
    assert "not the left;" not in blanked[start:]
    assert "(not 21)" not in blanked
    assert "right kidney" in blanked


@pytest.mark.parametrize(
    ("text", "organ", "mm", "side"),
    [
        pytest.param(
            "FINDINGS: 2.2 cm solid mass in the left kidney.\n"
            "ADDENDUM: the renal mass is in the right kidney, not the left.",
            Organ.KIDNEY,
            22.0,
            Side.RIGHT,
            id="side-corrected",
        ),
        pytest.param(
            "FINDINGS: Adrenal: 1.4 cm right adrenal nodule.\n"
            "ADDENDUM: The nodule measures 2.4 cm, not 1.4 cm.",
            Organ.ADRENAL_GLAND,
            24.0,
            Side.RIGHT,
            id="size-corrected",
        ),
        pytest.param(
            "Lung: 9 mm nodule in the right lower lobe, 5 mm nodule in the left upper lobe.\n"
            "ADDENDUM: the 5 mm left upper lobe nodule is a vessel seen end-on.",
            Organ.LUNG,
            9.0,
            Side.RIGHT,
            id="one-retracted",
        ),
    ],
)
def test_corrections_change_the_earlier_lesion(text: str, organ: Organ, mm: float, side: Side | None) -> None:
    found = _lesions(extract_report(text), organ)
    assert len(found) == 1
    assert _largest(found[0]) == mm
    assert found[0].side is side


def test_correction_of_a_liver_segment() -> None:
    text = "LIVER: 3.1 cm metastasis in segment 2.\nCorrection: the metastasis is in segment 7 (not 2)."
    (lesion,) = _lesions(extract_report(text), Organ.LIVER)
    assert lesion.segments == [7]


def test_retracted_finding_leaves_the_organ_normal() -> None:
    text = (
        "Pancreas: 1.5 cm hypodense lesion in the body.\n"
        "ADDENDUM: the pancreatic lesion is focal fatty infiltration."
    )
    report = extract_report(text)
    assert not _lesions(report, Organ.PANCREAS)
    assert _status(report, Organ.PANCREAS) == "normal"


def test_addendum_adds_a_lesion() -> None:
    text = (
        "FINDINGS: 1.2 cm cyst in hepatic segment 5.\nADDENDUM: a second 7 mm cyst is present in segment 3."
    )
    assert len(_lesions(extract_report(text), Organ.LIVER)) == 2


def test_lesion_moved_to_another_organ() -> None:
    text = (
        "FINDINGS: 2.6 cm splenic lesion.\n"
        "ADDENDUM: the 2.6 cm lesion is actually located in the pancreatic tail."
    )
    report = extract_report(text)
    assert not _lesions(report, Organ.SPLEEN)
    (lesion,) = _lesions(report, Organ.PANCREAS)
    assert lesion.pancreas_parts == ["tail"]
