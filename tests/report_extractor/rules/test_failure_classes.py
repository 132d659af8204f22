"""Issue 13 failure classes handled by class, from sentences written for these tests: lesions without an
organ word (class 4), relational wording (class 16), "respectively" / "each measuring" lists, pipe
tables with prior and current columns, and side headers whose items continue on the following lines."""

from __future__ import annotations

import pytest

from report_extractor.rules import extract_report
from schemas.llm import LLMLesion, LLMReport, to_millimetres
from schemas.vocabulary import Organ, Side


def _counts(report: LLMReport) -> dict[Organ, int | str | None]:
    return {o.organ: ("multiple" if o.multiple else o.count) for o in report.organs if o.status == "lesion"}


def _largest(lesion: LLMLesion) -> float | None:
    return max(to_millimetres(lesion.diameters, lesion.unit)) if lesion.diameters else None


# --------------------------------------------------------------------------------------------------
# Class 4: a lesion word without an organ word inherits no organ from another section or a non-organ site
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "FINDINGS: Left kidney with a 17 mm simple cyst.\n"
            "IMPRESSION: 5 mm branch-duct IPMN, follow-up advised.",
            {Organ.KIDNEY: 1, Organ.PANCREAS: 1},
            id="pancreatic-acronym-in-impression",
        ),
        pytest.param(
            "Renal cortical cyst on the right, 11 mm.\nMCN suspected, no. Incidental 9 mm insulinoma.",
            {Organ.KIDNEY: 1, Organ.PANCREAS: 1},
            id="pancreatic-tumour-name",
        ),
        pytest.param(
            "Kidneys: 8 mm angiomyolipoma. Liver: normal.\nIMPRESSION: 3 cm HCC in the dome.",
            {Organ.KIDNEY: 1, Organ.LIVER: 1},
            id="liver-tumour-name",
        ),
        pytest.param(
            "SPLEEN: 14 mm hypodense lesion.\nTHYROID: A 9 mm nodule in the isthmus.",
            {Organ.SPLEEN: 1},
            id="thyroid-header",
        ),
        pytest.param(
            "LIVER: 2.6 cm cyst in segment 2.\n"
            "VASCULATURE: 1.4 cm saccular outpouching, a small enhancing focus.",
            {Organ.LIVER: 1},
            id="vascular-header",
        ),
        pytest.param(
            "Adrenals: right 2 cm adenoma.\nLYMPH NODES: 1.6 cm soft tissue mass at the aortic bifurcation.",
            {Organ.ADRENAL_GLAND: 1},
            id="nodal-header",
        ),
    ],
)
def test_no_organ_inherited_across_sections(text: str, expected: dict[Organ, int]) -> None:
    assert _counts(extract_report(text)) == expected


def test_bare_tumour_name_opening_a_report_is_its_indication() -> None:
    report = extract_report("Hepatocellular carcinoma, restaging.\nLiver: 2.2 cm lesion in segment 5.")
    assert _counts(report) == {Organ.LIVER: 1}


# --------------------------------------------------------------------------------------------------
# Class 16: the lesion belongs to the organ of its own phrase, not to the organ it acts on
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param(
            "The second part of the duodenum is compressed by a 4 cm mass in the uncinate.",
            Organ.PANCREAS,
            id="uncinate",
        ),
        pytest.param(
            "Narrowing of the stomach antrum by a 5 cm mass of the pancreatic body.",
            Organ.PANCREAS,
            id="narrowing-of-by",
        ),
        pytest.param(
            "The gallbladder is displaced by a 6 cm mass arising from segment 5.",
            Organ.LIVER,
            id="displaced-by-segment",
        ),
        pytest.param(
            "Colonic wall thickening caused by a 3 cm mass within the left kidney.",
            Organ.KIDNEY,
            id="caused-by",
        ),
        pytest.param("The bladder is indented by a 7 cm mass of the uterus.", Organ.UTERUS, id="indented-by"),
    ],
)
def test_relational_lesion_takes_its_own_organ(text: str, organ: Organ) -> None:
    report = extract_report(text)
    assert [lesion.organ for lesion in report.lesions] == [organ]


def test_organ_acted_on_without_other_site_keeps_the_lesion() -> None:
    report = extract_report("The duodenum is narrowed by a 2 cm mass.")
    assert [lesion.organ for lesion in report.lesions] == [Organ.DUODENUM]


# --------------------------------------------------------------------------------------------------
# "respectively" and "each measuring" lists
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Two liver cysts in segments 3 and 6 measure 7 and 19 mm, respectively.",
            [((3,), 7.0), ((6,), 19.0)],
            id="segments",
        ),
        pytest.param(
            "Hypodense lesions in segments 8, 4 and 2 measuring 1.1, 0.6 and 2.0 cm respectively.",
            [((8,), 11.0), ((4,), 6.0), ((2,), 20.0)],
            id="three-segments-text-order",
        ),
    ],
)
def test_respectively_pairs_sites_and_sizes(text: str, expected: list[tuple[tuple[int, ...], float]]) -> None:
    report = extract_report(text)
    assert [(tuple(lesion.segments), _largest(lesion)) for lesion in report.lesions] == expected


def test_respectively_pairs_sides() -> None:
    report = extract_report("Left and right adrenal nodules of 14 mm and 22 mm, respectively.")
    assert [(lesion.side, _largest(lesion)) for lesion in report.lesions] == [
        (Side.LEFT, 14.0),
        (Side.RIGHT, 22.0),
    ]


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param("Four splenic cysts, each measuring about 8 mm.", Organ.SPLEEN, 4, id="four"),
        pytest.param("Two pancreatic tail cysts each measuring 5 mm.", Organ.PANCREAS, 2, id="two"),
    ],
)
def test_each_measuring_keeps_the_count(text: str, organ: Organ, count: int) -> None:
    assert _counts(extract_report(text)) == {organ: count}


# --------------------------------------------------------------------------------------------------
# Pipe tables: the current column is read, prior / change columns and sums are not
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "| Target | Baseline | Follow-up |\n"
            "| Left adrenal | 30 mm | 22 mm |\n"
            "| Segment 5 liver | 14 mm | 11 mm |",
            {(Organ.ADRENAL_GLAND, 22.0), (Organ.LIVER, 11.0)},
            id="follow-up-column",
        ),
        pytest.param(
            "| # | Site | Nadir (mm) | Current (mm) | Change |\n|---|---|---|---|---|\n"
            "| 1 | Pancreatic head | 28 | 33 | +18% |\n| 2 | Right kidney upper pole | 19 | 19 | 0% |",
            {(Organ.PANCREAS, 33.0), (Organ.KIDNEY, 19.0)},
            id="unit-in-header",
        ),
        pytest.param(
            "Site | 2024-01-10 | 2024-07-02\nSpleen | 12 mm | 17 mm\nSum | 12 mm | 17 mm",
            {(Organ.SPLEEN, 17.0)},
            id="dated-columns-and-sum",
        ),
        pytest.param(
            "Lesion | Location | Now | Prior\nT1 | Liver seg 6 | 41 mm | 38 mm",
            {(Organ.LIVER, 41.0)},
            id="current-before-prior",
        ),
    ],
)
def test_pipe_table(text: str, expected: set[tuple[Organ, float]]) -> None:
    report = extract_report(text)
    assert {(lesion.organ, _largest(lesion)) for lesion in report.lesions} == expected


# --------------------------------------------------------------------------------------------------
# Side headers whose items continue on the following lines
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "KIDNEYS:\nLeft:\n2 cm exophytic cyst at the lower pole.\n6 mm cyst, upper pole.\nRight: normal.",
            [Side.LEFT, Side.LEFT],
            id="side-header-over-lines",
        ),
        pytest.param(
            "LEFT KIDNEY:\nThree cysts, 5, 8 and 12 mm.\nRIGHT KIDNEY:\nUnremarkable.",
            [Side.LEFT, Side.LEFT, Side.LEFT],
            id="sided-organ-header",
        ),
        pytest.param(
            "ADRENAL GLANDS:\nRight: 1.9 cm nodule,\nlow attenuation, an adenoma.\nLeft: 1.1 cm nodule.",
            [Side.RIGHT, Side.LEFT],
            id="continued-item",
        ),
    ],
)
def test_side_headers(text: str, expected: list[Side]) -> None:
    assert [lesion.side for lesion in extract_report(text).lesions] == expected


# --------------------------------------------------------------------------------------------------
# Classes 1, 7, 8, 12, 13, 15: vocabulary, non-lesion explanations, announced lists, verb negation,
# "N or M mm", protocol names
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Lytic destruction of the left iliac wing.", {Organ.BONE: 1}, id="lytic-destruction"),
        pytest.param(
            "Layering dense foci within the gallbladder lumen, compatible with sludge and stones.",
            {},
            id="stones-explain-foci",
        ),
        pytest.param(
            "Subcentimetre hypodense focus near the splenic hilum, likely a splenule.", {}, id="splenule"
        ),
        pytest.param(
            "Lucent areas at both lung apices, reflecting paraseptal emphysema.", {}, id="emphysema"
        ),
        pytest.param("The adrenal glands do not show a nodule.", {}, id="do-not-show"),
        pytest.param("CT scan fails to demonstrate a hepatic lesion.", {}, id="fails-to-demonstrate"),
        pytest.param("MRI LIVER MASS PROTOCOL\nLiver: unremarkable.", {}, id="protocol-title"),
    ],
)
def test_lesion_words_and_explanations(text: str, expected: dict[Organ, int]) -> None:
    assert _counts(extract_report(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "PANCREAS: two cystic lesions:\n- head: 14 mm\n- tail: 9 mm",
            {Organ.PANCREAS: 2},
            id="announced-count",
        ),
        pytest.param(
            "Liver, several metastases:\n1. Segment 5: 31 mm\n2. Segment 8: 17 mm\n3. Segment 2: 6 mm",
            {Organ.LIVER: 3},
            id="announced-several",
        ),
        pytest.param(
            "The dominant lesions measure:\n- segment 4: 2.2 cm\n- segment 7: 1.3 cm",
            {Organ.LIVER: 2},
            id="largest-measure-head",
        ),
        pytest.param(
            "SPLEEN: three lesions:\n- upper pole 12 mm hemangioma",
            {Organ.SPLEEN: 3},
            id="announced-count-kept-when-items-fall-short",
        ),
    ],
)
def test_announced_lists(text: str, expected: dict[Organ, int]) -> None:
    assert _counts(extract_report(text)) == expected


@pytest.mark.parametrize(
    ("text", "largest"),
    [
        pytest.param("A 4 or 5 mm hypodense splenic lesion.", 5.0, id="or-mm"),
        pytest.param("Right renal cyst of 1 or 1.5 cm.", 15.0, id="or-cm"),
    ],
)
def test_alternative_sizes_are_one_lesion(text: str, largest: float) -> None:
    report = extract_report(text)
    assert [_largest(lesion) for lesion in report.lesions] == [largest]


# --------------------------------------------------------------------------------------------------
# Class 5 (addenda): restatements, corrections told twice, normal statements, labelled sites
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Right adrenal 2 cm adenoma.\n"
            "ADDENDUM: Also a 9 mm left adrenal nodule. Bilateral adrenal adenomas.",
            {Organ.ADRENAL_GLAND: 2},
            id="addendum-summary",
        ),
        pytest.param(
            "Spleen: 2.3 cm hemangioma.\n"
            "ADDENDUM: The splenic hemangioma is unchanged from 2021. It remains.",
            {Organ.SPLEEN: 1},
            id="addendum-restatement",
        ),
    ],
)
def test_addendum_restatements_add_nothing(text: str, expected: dict[Organ, int]) -> None:
    assert _counts(extract_report(text)) == expected


def test_side_correction_moves_the_impression_too() -> None:
    text = (
        "FINDINGS: 3 cm mass in the right upper lobe.\nIMPRESSION: Right upper lobe mass.\n"
        "ADDENDUM: The mass is in the LEFT upper lobe."
    )
    report = extract_report(text)
    assert [(lesion.organ, lesion.side, _largest(lesion)) for lesion in report.lesions] == [
        (Organ.LUNG, Side.LEFT, 30.0)
    ]


def test_normal_statement_in_a_correction_moves_nothing() -> None:
    text = (
        "The right kidney has a 2 cm cyst.\n"
        "ADDENDUM: The cyst is in the LEFT kidney; the right kidney is normal."
    )
    assert [lesion.side for lesion in extract_report(text).lesions] == [Side.LEFT]


@pytest.mark.parametrize(
    ("text", "pole"),
    [
        pytest.param("LEFT KIDNEY:\nUpper pole: 16 mm cyst.", "upper_pole", id="pole-label"),
        pytest.param("Right kidney\n- lower pole: 3 cm solid mass", "lower_pole", id="bulleted-pole-label"),
    ],
)
def test_site_label_before_colon_is_the_location(text: str, pole: str) -> None:
    (lesion,) = extract_report(text).lesions
    assert [p.value for p in lesion.kidney_poles] == [pole]


# --------------------------------------------------------------------------------------------------
# Follow-up wording: treated lesions, "new" in the impression, additional groups, coordinated priors
# --------------------------------------------------------------------------------------------------


def test_treated_lesion_with_a_current_size_is_a_lesion() -> None:
    report = extract_report("Liver: the treated lesion in segment 2 now measures 1.7 cm, no enhancement.")
    assert _counts(report) == {Organ.LIVER: 1}


def test_new_lesions_in_the_impression_restate_the_findings() -> None:
    text = (
        "FINDINGS: New 6 mm nodule in the left upper lobe and new 4 mm nodule in the right lower lobe.\n"
        "IMPRESSION: New bilateral lung nodules."
    )
    assert _counts(extract_report(text)) == {Organ.LUNG: 2}


def test_additional_unmeasured_group_is_not_merged_into_a_measured_lesion() -> None:
    text = "A 2 cm cyst in the pancreatic body. Additional tiny cysts in the body and tail."
    assert _counts(extract_report(text)) == {Organ.PANCREAS: "multiple"}
    assert len(extract_report(text).lesions) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Two splenic lesions, 2.2 cm and 1.5 cm, previously 1.9 cm and 1.1 cm.",
            [22.0, 15.0],
            id="prior-list-after",
        ),
        pytest.param(
            "Liver lesions in segments 3 and 5 measure 9 and 14 mm respectively, previously 7 mm, and 10 mm.",
            [9.0, 14.0],
            id="prior-list-comma-and",
        ),
    ],
)
def test_prior_cue_covers_a_coordinated_list(text: str, expected: list[float]) -> None:
    assert [_largest(lesion) for lesion in extract_report(text).lesions] == expected


# --------------------------------------------------------------------------------------------------
# Sites after the sizes, the side of a bilateral group's largest member, organ measurements under a
# header, lesion extent in hollow organs, parts of a lesion (classes 13 and 14)
# --------------------------------------------------------------------------------------------------


def test_respectively_pairs_sites_written_after_the_sizes() -> None:
    text = "Two hepatic cysts measuring 9 mm and 16 mm, in segments 2 and 6 respectively."
    report = extract_report(text)
    assert [(tuple(lesion.segments), _largest(lesion)) for lesion in report.lesions] == [
        ((2,), 9.0),
        ((6,), 16.0),
    ]


@pytest.mark.parametrize(
    ("text", "side"),
    [
        pytest.param(
            "Bilateral renal cysts, the largest on the right measuring 2.6 cm.", Side.RIGHT, id="largest-on"
        ),
        pytest.param("Cysts in both kidneys, up to 18 mm on the left.", Side.LEFT, id="up-to-on"),
        pytest.param(
            "Bilateral adrenal thickening; bilateral renal cysts up to 1 cm.", Side.BILATERAL, id="no-side"
        ),
    ],
)
def test_bilateral_group_takes_its_largest_members_side(text: str, side: Side) -> None:
    (lesion,) = [les for les in extract_report(text).lesions if les.organ is Organ.KIDNEY]
    assert lesion.side is side


@pytest.mark.parametrize(
    ("text", "organ", "largest"),
    [
        pytest.param(
            "SPLEEN: enlarged, 15 cm, with a 1.2 cm hypodense lesion.", Organ.SPLEEN, 12.0, id="spleen"
        ),
        pytest.param("Uterus: enlarged, 11 cm, with a 4 cm fibroid.", Organ.UTERUS, 40.0, id="uterus"),
    ],
)
def test_header_organ_measurement_is_no_lesion_size(text: str, organ: Organ, largest: float) -> None:
    report = extract_report(text)
    assert [(lesion.organ, _largest(lesion)) for lesion in report.lesions] == [(organ, largest)]


@pytest.mark.parametrize(
    ("text", "organ", "largest"),
    [
        pytest.param(
            "Circumferential mass of the mid esophagus measuring 5 cm in length.",
            Organ.ESOPHAGUS,
            50.0,
            id="esophagus",
        ),
        pytest.param(
            "Polypoid mass of the sigmoid colon measuring 3.5 cm in length.", Organ.COLON, 35.0, id="colon"
        ),
    ],
)
def test_hollow_organ_lesion_extent_is_its_size(text: str, organ: Organ, largest: float) -> None:
    report = extract_report(text)
    assert [(lesion.organ, _largest(lesion)) for lesion in report.lesions] == [(organ, largest)]


def test_organ_length_after_a_solid_organ_lesion_is_still_the_organs() -> None:
    report = extract_report("The kidney contains a 2 cm cyst and measures 11 cm in length.")
    assert [_largest(lesion) for lesion in report.lesions] == [20.0]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "Pancreatic tail cyst of 2.4 cm with an enhancing mural nodule of 5 mm.", id="mural-nodule"
        ),
        pytest.param(
            "A 3 cm cystic lesion in the pancreatic head with a thick septal nodule.", id="septal-nodule"
        ),
    ],
)
def test_part_of_a_lesion_is_no_lesion(text: str) -> None:
    assert _counts(extract_report(text)) == {Organ.PANCREAS: 1}


# --------------------------------------------------------------------------------------------------
# RECIST lists: resolved targets, surgical beds, title lines, bone lesions at pelvic sites, list heads
# without a colon, sub-sites in item labels
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "TARGET LESIONS:\n1. Left adrenal nodule: resolved (baseline 18 mm)\n2. Spleen lesion: 9 mm",
            {Organ.SPLEEN: 1},
            id="resolved-target",
        ),
        pytest.param(
            "TARGET LESIONS:\n1. Liver, segment 2: 15 mm\n2. Left nephrectomy bed nodule: 22 mm",
            {Organ.LIVER: 1},
            id="surgical-bed",
        ),
        pytest.param(
            "Staging CT, cervical cancer.\nUterus: 4 cm cervical mass.", {Organ.UTERUS: 1}, id="title-line"
        ),
        pytest.param(
            "New lytic lesions in the pelvis and sacrum, the largest 2 cm.",
            {Organ.BONE: "multiple"},
            id="pelvic-bone",
        ),
        pytest.param(
            "NEW LESIONS\n- Right adrenal: 12 mm\n- Liver, segment 3: 8 mm",
            {Organ.ADRENAL_GLAND: 1, Organ.LIVER: 1},
            id="list-head-without-colon",
        ),
    ],
)
def test_recist_lists(text: str, expected: dict[Organ, int | str]) -> None:
    assert _counts(extract_report(text)) == expected


@pytest.mark.parametrize(
    ("text", "pole", "part"),
    [
        pytest.param(
            "TARGET LESIONS:\n- Right kidney, lower pole: 27 mm", "lower_pole", None, id="pole-in-label"
        ),
        pytest.param("Target lesions:\n1. Pancreas (tail): 33 mm", None, "tail", id="part-in-label"),
    ],
)
def test_item_label_gives_the_sub_site(text: str, pole: str | None, part: str | None) -> None:
    (lesion,) = extract_report(text).lesions
    assert [p.value for p in lesion.kidney_poles] == ([pole] if pole else [])
    assert [p.value for p in lesion.pancreas_parts] == ([part] if part else [])


def test_side_written_with_the_first_mention_of_the_organ() -> None:
    (lesion,) = extract_report("Left lung, upper lobe nodule: 7 mm").lesions
    assert lesion.side is Side.LEFT


def test_middle_part_of_the_kidney_is_interpolar() -> None:
    (lesion,) = extract_report("Cyst in the middle part of the right kidney, 14 mm").lesions
    assert [p.value for p in lesion.kidney_poles] == ["interpolar"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "A 6 mm hypodense focus in segment 3, which may represent focal fat.", {Organ.LIVER: 1}, id="may"
        ),
        pytest.param(
            "Small enhancing focus in the spleen; could be a perfusion artifact.",
            {Organ.SPLEEN: 1},
            id="could-be",
        ),
        pytest.param("A 6 mm hypodense focus in segment 3, likely focal fat.", {}, id="likely-explained"),
    ],
)
def test_hedged_non_lesion_explanation_leaves_a_lesion(text: str, expected: dict[Organ, int]) -> None:
    assert _counts(extract_report(text)) == expected


# --------------------------------------------------------------------------------------------------
# Counted lists inside a sentence, count corrections, listed bone sites (classes 5, 8 and 14)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Liver: 3 hypodense lesions: segment II 9 mm; segment VI 14 mm; segment VIII 2.1 cm.",
            [((2,), 9.0), ((6,), 14.0), ((8,), 21.0)],
            id="inline-counted-list",
        ),
        pytest.param(
            "Pancreas: two cysts: head 11 mm; tail 6 mm.",
            [((), 11.0), ((), 6.0)],
            id="inline-parts",
        ),
    ],
)
def test_counted_list_inside_a_sentence(text: str, expected: list[tuple[tuple[int, ...], float]]) -> None:
    report = extract_report(text)
    assert [(tuple(lesion.segments), _largest(lesion)) for lesion in report.lesions] == expected
    assert sum(organ.count or 0 for organ in report.organs) == len(expected)


def test_count_correction_replaces_a_group_of_unknown_count() -> None:
    text = (
        "FINDINGS: Multiple hepatic cysts, the largest 2.5 cm in segment 4.\n"
        "ADDENDUM: Correction: there are two hepatic cysts, not multiple:"
        " segment 4, 2.5 cm; segment 7, 1.2 cm."
    )
    assert _counts(extract_report(text)) == {Organ.LIVER: 2}


@pytest.mark.parametrize(
    ("text", "count"),
    [
        pytest.param("Sclerotic lesions in T9 and L1.", 2, id="levels"),
        pytest.param("Lytic lesions in L3, the sacrum and the left femur.", 3, id="level-and-bones"),
        pytest.param("Sclerotic lesions throughout the spine.", "multiple", id="no-list"),
    ],
)
def test_listed_bone_sites_count_lesions(text: str, count: int | str) -> None:
    assert _counts(extract_report(text)) == {Organ.BONE: count}


# --------------------------------------------------------------------------------------------------
# Classes 3 and 12: lower-case note lines, negation ending at a comma that opens a new clause
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "side"),
    [
        pytest.param(
            "Cystic lesion right kidney 15 mm\nleft kidney stone", Side.RIGHT, id="lower-case-note-line"
        ),
        pytest.param(
            "Low density nodule left adrenal 1.3cm\nright adrenal normal", Side.LEFT, id="adrenal-notes"
        ),
    ],
)
def test_lower_case_note_lines_stay_apart(text: str, side: Side) -> None:
    assert [lesion.side for lesion in extract_report(text).lesions] == [side]


def test_lower_case_line_opening_with_a_joining_word_continues() -> None:
    report = extract_report("A 2 cm hypodense lesion is seen\nin the right kidney.")
    assert [(lesion.organ, lesion.side) for lesion in report.lesions] == [(Organ.KIDNEY, Side.RIGHT)]


@pytest.mark.parametrize(
    ("text", "largest"),
    [
        pytest.param(
            "Hypodense area in segment 3, without enhancement, likely a cyst, 11 mm.", 11.0, id="likely"
        ),
        pytest.param(
            "No internal enhancement, probably a simple 9 mm cyst of the left kidney.", 9.0, id="probably"
        ),
    ],
)
def test_negation_ends_where_a_comma_opens_a_new_clause(text: str, largest: float) -> None:
    assert [_largest(lesion) for lesion in extract_report(text).lesions] == [largest]


def test_negated_list_still_negates_past_commas() -> None:
    assert _counts(extract_report("No hepatic mass, cyst or nodule.")) == {}


# --------------------------------------------------------------------------------------------------
# "each" with listed sites, sides of other organs' phrases, trailing site phrases, "double kidneys",
# diagnosis-only sentences (classes 2, 10, 14)
# --------------------------------------------------------------------------------------------------


def test_each_with_listed_sites_gives_one_lesion_per_site() -> None:
    report = extract_report("Liver: three cysts (segments 2, 4 and 6), each 4 mm.")
    assert [(tuple(lesion.segments), _largest(lesion)) for lesion in report.lesions] == [
        ((2,), 4.0),
        ((4,), 4.0),
        ((6,), 4.0),
    ]


def test_side_words_of_another_organ_are_not_the_lesions() -> None:
    text = (
        "FINDINGS: 2.2 cm mass in the left upper lobe.\n"
        "IMPRESSION: Left upper lobe mass with bilateral renal cysts."
    )
    lung = [lesion for lesion in extract_report(text).lesions if lesion.organ is Organ.LUNG]
    assert [(lesion.side, _largest(lesion)) for lesion in lung] == [(Side.LEFT, 22.0)]


def test_trailing_site_phrase_belongs_to_the_lesion() -> None:
    (lesion,) = extract_report("KIDNEYS: 1.2 cm cyst, right kidney lower pole.").lesions
    assert (lesion.side, [p.value for p in lesion.kidney_poles]) == (Side.RIGHT, ["lower_pole"])


def test_double_kidneys_are_both_kidneys() -> None:
    (lesion,) = extract_report("Double kidneys multiple small cysts").lesions
    assert lesion.side is Side.BILATERAL


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Liver: 2 hypodense lesions in segment 2 and 8; suspicious for metastases.",
            {Organ.LIVER: 2},
            id="after-semicolon",
        ),
        pytest.param("Spleen: 12 mm lesion. Likely hemangioma.", {Organ.SPLEEN: 1}, id="likely-sentence"),
    ],
)
def test_diagnosis_only_sentence_restates(text: str, expected: dict[Organ, int]) -> None:
    assert _counts(extract_report(text)) == expected


def test_relocation_to_another_organ_reaches_the_only_earlier_lesion() -> None:
    text = "Spleen: 2.1 cm hypodense lesion.\nADDENDUM: the lesion actually arises from the pancreatic tail."
    assert _counts(extract_report(text)) == {Organ.PANCREAS: 1}


def test_dash_separated_items_with_abbreviated_baseline() -> None:
    text = (
        "TARGET LESIONS\nT1 liver seg 4 - 19 mm (BL 25 mm)\nT2 left adrenal - 11 mm (BL 15 mm)\n"
        "SUM 30 mm (BL 40 mm)"
    )
    report = extract_report(text)
    assert {(lesion.organ, _largest(lesion)) for lesion in report.lesions} == {
        (Organ.LIVER, 19.0),
        (Organ.ADRENAL_GLAND, 11.0),
    }


# --------------------------------------------------------------------------------------------------
# Classes 9 and 14: the diagnosis noun after a measured description, counts before hyphenated
# modifiers, unmeasured lesion words each with its own site
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Low-density focus in the left renal cortex measuring 7 mm, suggestive of two adjacent cysts.",
            {Organ.KIDNEY: 1},
            id="measured-description-then-diagnosis",
        ),
        pytest.param(
            "Two non-enhancing lesions in the spleen, consistent with hemangiomas.",
            {Organ.SPLEEN: 2},
            id="hyphen",
        ),
        pytest.param("Four well-circumscribed liver cysts.", {Organ.LIVER: 4}, id="hyphenated-adjective"),
        pytest.param("Liver S3 small cyst, S7 small hemangioma", {Organ.LIVER: 2}, id="separately-sited"),
        pytest.param(
            "Small cyst in segment 4, likely a biliary hamartoma.", {Organ.LIVER: 1}, id="diagnosis-not-sited"
        ),
    ],
)
def test_diagnosis_and_count_words(text: str, expected: dict[Organ, int]) -> None:
    assert _counts(extract_report(text)) == expected


def test_recist_list_with_a_legend_reads_current_values() -> None:
    text = (
        "TARGET LESIONS (mm, current [baseline]):\n"
        "1. Left adrenal mass: 24 [30]\n2. Liver, segment 6: 15 [19]"
    )
    report = extract_report(text)
    assert {(lesion.organ, _largest(lesion)) for lesion in report.lesions} == {
        (Organ.ADRENAL_GLAND, 24.0),
        (Organ.LIVER, 15.0),
    }


def test_site_after_a_listed_sizes_own_clause() -> None:
    text = "A 1.3 cm enhancing lesion in segment 2 and a second one, 0.9 cm, in segment 4."
    report = extract_report(text)
    assert [(tuple(lesion.segments), _largest(lesion)) for lesion in report.lesions] == [
        ((2,), 13.0),
        ((4,), 9.0),
    ]
