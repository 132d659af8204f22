"""Failure classes of issue 13, each tested with sentences written for this file (not dev-set reports).

One parametrized test per class: the extractor must handle the class, not one example of it.
"""

from __future__ import annotations

import pytest

from report_extractor.rules import extract_report
from report_extractor.rules.sections import split_report
from schemas.llm import LLMReport
from schemas.vocabulary import Organ, Side
from tests.report_extractor.rules.report_queries import count_of as _count
from tests.report_extractor.rules.report_queries import largest_mm as _largest_mm
from tests.report_extractor.rules.report_queries import lesions_of as _lesions


def _status(report: LLMReport) -> dict[Organ, str]:
    return {o.organ: o.status for o in report.organs}


def _assert_one_lesion_of(text: str, organ: Organ, mm: float) -> None:
    found = _lesions(extract_report(text), organ)
    assert len(found) == 1
    assert _largest_mm(found[0]) == mm


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


# ----------------------------------------------------------------------------------------------------
# Classes 11 and 13: numbers that are neither sizes nor counts (one shared list)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "mm"),
    [
        pytest.param(
            "A 2.2 cm hypodense splenic lesion measuring 35 HU.", Organ.SPLEEN, 22.0, id="hu-measuring"
        ),
        pytest.param(
            "Right renal lesion 1.4 cm (70 HU), indeterminate.", Organ.KIDNEY, 14.0, id="hu-bracket"
        ),
        pytest.param(
            "Liver: 3 cm lesion with 45 Hounsfield units attenuation.", Organ.LIVER, 30.0, id="hounsfield"
        ),
        pytest.param(
            "Rectal mass about 4 cm long, 12 cm from the anal verge.", Organ.COLON, 40.0, id="distance-verge"
        ),
        pytest.param(
            "A 2.5 cm adrenal nodule, below the 4 cm size threshold.",
            Organ.ADRENAL_GLAND,
            25.0,
            id="threshold",
        ),
    ],
)
def test_attenuation_thresholds_and_distances_are_not_sizes(text: str, organ: Organ, mm: float) -> None:
    _assert_one_lesion_of(text, organ, mm)


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param("Pancreas: cystic lesion (15 HU) in the tail.", Organ.PANCREAS, 1, id="hu-not-count"),
        pytest.param("Liver: a segment 5/6 lesion, 3 cm.", Organ.LIVER, 1, id="segment-pair-not-count"),
        pytest.param("Bosniak 2 cyst of the left kidney.", Organ.KIDNEY, 1, id="bosniak-not-count"),
    ],
)
def test_labels_and_attenuation_are_not_counts(text: str, organ: Organ, count: int) -> None:
    assert _count(extract_report(text), organ) == count


# ----------------------------------------------------------------------------------------------------
# Class 2 (part): abbreviated sides and lung lobes without "lung"
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "side"),
    [
        pytest.param("Incidental 1.4 cm R renal cyst.", Organ.KIDNEY, Side.RIGHT, id="R-renal"),
        pytest.param("Kidneys: L simple cyst 1.8 cm.", Organ.KIDNEY, Side.LEFT, id="L-under-header"),
        pytest.param("Lt adrenal 1.1 cm nodule.", Organ.ADRENAL_GLAND, Side.LEFT, id="Lt-adrenal"),
        pytest.param("5 mm RUL nodule.", Organ.LUNG, Side.RIGHT, id="RUL"),
        pytest.param(
            "Spiculated mass in the left upper lobe, 2.1 cm.", Organ.LUNG, Side.LEFT, id="lobe-no-lung"
        ),
    ],
)
def test_abbreviated_sides_and_lobes(text: str, organ: Organ, side: Side) -> None:
    found = _lesions(extract_report(text), organ)
    assert len(found) == 1
    assert found[0].side is side


def test_quadrant_abbreviation_is_not_a_side() -> None:
    report = extract_report("Hx LLQ pain. 1.2 cm renal cyst.")
    assert _lesions(report, Organ.KIDNEY)[0].side is Side.UNKNOWN


# ----------------------------------------------------------------------------------------------------
# Classes 9, 10 and 14: diagnosis nouns and restatements add no lesion
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "count", "side"),
    [
        pytest.param(
            "A round low-attenuation area in the right renal cortex, suggestive of a simple cyst.",
            Organ.KIDNEY,
            1,
            Side.RIGHT,
            id="diagnosis-after-suggestive",
        ),
        pytest.param(
            "Two splenic nodules without enhancement, likely hemangiomas.",
            Organ.SPLEEN,
            2,
            None,
            id="count-seen",
        ),
        pytest.param(
            "Left adrenal nodule, adenoma considered", Organ.ADRENAL_GLAND, 1, Side.LEFT, id="considered"
        ),
        pytest.param(
            "A 3 cm liver lesion in segment 2; differential includes adenoma.", Organ.LIVER, 1, None, id="ddx"
        ),
        pytest.param(
            "Pancreatic body lesion of 1.5 cm. Metastasis cannot be excluded.",
            Organ.PANCREAS,
            1,
            None,
            id="anaphora",
        ),
        pytest.param(
            "Hepatic lesion in segment 3, 2 cm. The lesion is hypoenhancing.",
            Organ.LIVER,
            1,
            None,
            id="the-lesion",
        ),
    ],
)
def test_diagnosis_and_restatement_add_no_lesion(
    text: str, organ: Organ, count: int, side: Side | None
) -> None:
    report = extract_report(text)
    assert _count(report, organ) == count, report
    if side is not None:
        assert _lesions(report, organ)[0].side is side


def test_a_new_lesion_in_the_next_sentence_still_counts() -> None:
    report = extract_report("Hepatic lesion in segment 3, 2 cm. Another lesion is noted.")
    assert _count(report, Organ.LIVER) == 2


# ----------------------------------------------------------------------------------------------------
# Class 14: counts and sizes of groups
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param("LIVER: Small hypodensities in segments 2 and 6.", Organ.LIVER, 2, id="two-segments"),
        pytest.param(
            "Cysts in the pancreatic head and tail.", Organ.PANCREAS, "multiple", id="parts-stay-a-group"
        ),
        pytest.param("Cysts in both kidneys.", Organ.KIDNEY, "multiple", id="sides-stay-a-group"),
        pytest.param("Bilateral adrenal adenomas.", Organ.ADRENAL_GLAND, 2, id="bilateral-adrenal"),
        pytest.param("Bilateral renal cysts.", Organ.KIDNEY, "multiple", id="bilateral-renal"),
        pytest.param(
            "Multiple liver cysts in segments 2 and 6.", Organ.LIVER, "multiple", id="multiple-wins"
        ),
    ],
)
def test_group_counts(text: str, organ: Organ, count: int | str) -> None:
    assert _count(extract_report(text), organ) == count


@pytest.mark.parametrize(
    ("text", "organ", "mm"),
    [
        pytest.param(
            "Numerous hepatic metastases. The largest, in segment 4, measures 3.5 cm.",
            Organ.LIVER,
            35.0,
            id="next",
        ),
        pytest.param(
            "Several splenic cysts; the largest measures 18 mm (previously 15 mm).",
            Organ.SPLEEN,
            18.0,
            id="semicolon",
        ),
    ],
)
def test_largest_member_sizes_the_group(text: str, organ: Organ, mm: float) -> None:
    report = extract_report(text)
    found = _lesions(report, organ)
    assert len(found) == 1
    assert found[0].multiple
    assert _largest_mm(found[0]) == mm


def test_largest_member_takes_its_segment() -> None:
    found = _lesions(
        extract_report("Numerous hepatic metastases. The largest, in segment 4, measures 3.5 cm."),
        Organ.LIVER,
    )
    assert found[0].segments == [4]


# ----------------------------------------------------------------------------------------------------
# Class 5: history headers hold one line; addenda are findings
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "mm"),
    [
        pytest.param(
            "COMPARISON: CT of March.\nThe left renal cyst measures 2.4 cm, previously 2.2 cm.",
            Organ.KIDNEY,
            24.0,
            id="comparison-then-findings",
        ),
        pytest.param(
            "Indication:\nstaging.\nA 1.7 cm splenic lesion is new.",
            Organ.SPLEEN,
            17.0,
            id="header-alone-on-line",
        ),
        pytest.param(
            "FINDINGS: Liver normal.\nADDENDUM: A 9 mm hypodense lesion in the pancreatic tail was missed.",
            Organ.PANCREAS,
            9.0,
            id="addendum",
        ),
    ],
)
def test_findings_after_history_lines_and_in_addenda(text: str, organ: Organ, mm: float) -> None:
    _assert_one_lesion_of(text, organ, mm)


def test_history_line_itself_adds_no_lesion() -> None:
    report = extract_report(
        "HISTORY: Known hepatic metastases from colon cancer.\nFINDINGS: Liver unremarkable."
    )
    assert _status(report)[Organ.LIVER] == "normal"
