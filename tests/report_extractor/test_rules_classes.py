"""Failure classes of issue 13, each tested with sentences written for this file (not dev-set reports).

One parametrized test per class: the extractor must handle the class, not one example of it.
"""

from __future__ import annotations

import pytest

from report_extractor.rules import extract_report
from report_extractor.rules.sections import split_report
from schemas.llm import LLMLesion, LLMReport, to_millimetres
from schemas.vocabulary import Organ, Side


def _status(report: LLMReport) -> dict[Organ, str]:
    return {o.organ: o.status for o in report.organs}


def _lesions(report: LLMReport, organ: Organ) -> list[LLMLesion]:
    return [lesion for lesion in report.lesions if lesion.organ is organ]


def _count(report: LLMReport, organ: Organ) -> int | str | None:
    found = next((o for o in report.organs if o.organ is organ), None)
    if found is None or found.status != "lesion":
        return None
    return "multiple" if found.multiple else found.count


def _largest_mm(lesion: LLMLesion) -> float | None:
    return max(to_millimetres(lesion.diameters, lesion.unit)) if lesion.diameters else None


# ----------------------------------------------------------------------------------------------------
# Class 3: one finding per line without periods
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n_sentences"),
    [
        pytest.param("Cyst in the left kidney\nRight kidney normal", 2, id="two-notes"),
        pytest.param("Spleen small\nPancreas normal\nLiver cyst 1 cm", 3, id="three-notes"),
        pytest.param("A hypodense lesion is seen in the\nleft lobe of the liver.", 1, id="wrapped-on-the"),
        pytest.param("A hypodense lesion is seen,\nmeasuring 2 cm.", 1, id="wrapped-on-comma"),
        pytest.param("A 2 cm lesion is seen in\nsegment 7.", 1, id="wrapped-on-in"),
        pytest.param("The cyst measures 2 cm and\nis unchanged.", 1, id="wrapped-on-and"),
        pytest.param("There is a small cyst\nin the upper pole.", 1, id="next-line-lower-case"),
    ],
)
def test_line_breaks_end_notes_but_not_wrapped_sentences(text: str, n_sentences: int) -> None:
    assert len(split_report(text)) == n_sentences


@pytest.mark.parametrize(
    ("text", "organ", "side", "normal"),
    [
        pytest.param(
            "Simple cyst right kidney\nLeft kidney calculus", Organ.KIDNEY, Side.RIGHT, None, id="kid"
        ),
        pytest.param(
            "Left adrenal nodule, adenoma considered\nRight adrenal normal",
            Organ.ADRENAL_GLAND,
            Side.LEFT,
            None,
            id="adrenal",
        ),
        pytest.param(
            "Liver small cyst\nSpleen normal size", Organ.LIVER, None, Organ.SPLEEN, id="liver-spleen"
        ),
    ],
)
def test_side_and_organ_do_not_bleed_across_note_lines(
    text: str, organ: Organ, side: Side | None, normal: Organ | None
) -> None:
    report = extract_report(text)
    found = _lesions(report, organ)
    assert len(found) == 1
    assert found[0].side is side
    if normal is not None:
        assert _status(report)[normal] == "normal"


# ----------------------------------------------------------------------------------------------------
# Classes 1 and 15: the lesion vocabulary, by category
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("Low density shadow in the spleen, 1.5cm", Organ.SPLEEN, id="shadow-low-density"),
        pytest.param(
            "Liver: slightly high density shadow, haemangioma considered", Organ.LIVER, id="shadow-high"
        ),
        pytest.param("Round shadow at the pancreatic body", Organ.PANCREAS, id="shadow-round"),
        pytest.param("Nodular shadow in the left lung", Organ.LUNG, id="shadow-nodular"),
        pytest.param("Hypodense focus in the spleen", Organ.SPLEEN, id="focus-hypodense"),
        pytest.param(
            "LIVER: Arterially enhancing observation in segment 4.", Organ.LIVER, id="lirads-observation"
        ),
        pytest.param("Osteolytic lesion of the sacrum.", Organ.BONE, id="bone-osteolytic"),
        pytest.param("Expansile lesion of a left rib.", Organ.BONE, id="bone-expansile"),
        pytest.param(
            "Sclerotic focus in the iliac bone, bone island.", Organ.BONE, id="bone-sclerotic-focus"
        ),
        pytest.param("Bone destruction of the sacrum", Organ.BONE, id="bone-destruction"),
        pytest.param("Uterine myoma 3cm", Organ.UTERUS, id="benign-myoma"),
        pytest.param("Left adrenal pheochromocytoma 4 cm.", Organ.ADRENAL_GLAND, id="benign-pheo"),
        pytest.param("Small bowel carcinoid in the ileum.", Organ.SMALL_BOWEL, id="carcinoid"),
        pytest.param("Polycystic kidney disease.", Organ.KIDNEY, id="polycystic"),
    ],
)
def test_lesion_vocabulary_by_category(text: str, organ: Organ) -> None:
    report = extract_report(text)
    assert _status(report).get(organ) == "lesion", report


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Patient kept under observation. Liver normal.", id="observation-not-a-lesion"),
        pytest.param("Liver: no abnormal density shadow", id="negated-shadow"),
    ],
)
def test_vocabulary_words_that_are_not_lesions_here(text: str) -> None:
    assert _status(extract_report(text)).get(Organ.LIVER) == "normal"


def test_polycystic_organs_are_multiple() -> None:
    report = extract_report("Polycystic liver and kidneys")
    assert _count(report, Organ.LIVER) == "multiple"
