"""Tests for the deterministic ``rules`` extractor (:mod:`report_extractor.rules`)."""

from __future__ import annotations

import pytest

from report_extractor.rules import RULES_VERSION, extract_report
from report_extractor.rules.sections import SectionKind, split_report
from schemas.llm import LLMLesion, LLMReport, to_millimetres
from schemas.records import Certainty, LesionKind, Qualifier, SizeClass
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side


def _status(report: LLMReport) -> dict[Organ, str]:
    return {o.organ: o.status for o in report.organs}


def _only(report: LLMReport, organ: Organ) -> LLMLesion:
    own = [lesion for lesion in report.lesions if lesion.organ is organ]
    assert len(own) == 1, own
    return own[0]


def _largest_mm(lesion: LLMLesion) -> float:
    return max(to_millimetres(lesion.diameters, lesion.unit))


# ----------------------------------------------------------------------------------------------------
# Organ status: negation, normal, non-lesions
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("No focal hepatic lesion.", Organ.LIVER, id="no-focal-hepatic-lesion"),
        pytest.param("The pancreas is unremarkable.", Organ.PANCREAS, id="unremarkable"),
        pytest.param("Spleen: Normal.", Organ.SPLEEN, id="header-normal"),
        pytest.param("Kidneys without evidence of renal mass.", Organ.KIDNEY, id="without-evidence-of"),
        pytest.param("No suspicious adrenal nodule.", Organ.ADRENAL_GLAND, id="no-suspicious"),
        pytest.param("No ascites, lymphadenopathy, or hepatic mass.", Organ.LIVER, id="negated-list"),
        pytest.param("The hepatic lesion is no longer visualized.", Organ.LIVER, id="post-negation"),
        pytest.param("Hepatic steatosis.", Organ.LIVER, id="steatosis-only"),
        pytest.param("Cholelithiasis without cholecystitis.", Organ.GALLBLADDER, id="stones-only"),
        pytest.param("Mild right hydronephrosis. Right kidney otherwise normal.", Organ.KIDNEY, id="hydro"),
        pytest.param("Cirrhotic liver morphology.", Organ.LIVER, id="cirrhosis-only"),
        pytest.param("Colonic diverticulosis.", Organ.COLON, id="diverticula-only"),
        pytest.param(
            "Hypodensity near the falciform ligament, likely focal fatty infiltration.",
            Organ.LIVER,
            id="focal-fat-explained",
        ),
    ],
)
def test_organ_normal(text: str, organ: Organ) -> None:
    report = extract_report(f"LIVER: {text}" if organ is Organ.LIVER and "hepatic" not in text else text)
    assert _status(report).get(organ) == "normal"
    assert not [lesion for lesion in report.lesions if lesion.organ is organ]


def test_unmentioned_organs_are_left_out() -> None:
    report = extract_report("No focal hepatic lesion.")
    assert set(_status(report)) == {Organ.LIVER}


def test_vessels_and_ducts_do_not_mention_the_organ() -> None:
    text = "The splenic vein and renal arteries are patent. The common hepatic duct is normal."
    report = extract_report(text)
    assert report.organs == []


# ----------------------------------------------------------------------------------------------------
# Hedging
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "certainty"),
    [
        pytest.param("2 cm hepatic mass.", Certainty.DEFINITE, id="definite"),
        pytest.param("Findings suspicious for a 2 cm hepatic mass.", Certainty.PROBABLE, id="suspicious"),
        pytest.param("Probable 2 cm hepatic cyst.", Certainty.PROBABLE, id="probable"),
        pytest.param("Likely small hepatic metastasis.", Certainty.PROBABLE, id="likely"),
        pytest.param("Possible 8 mm pancreatic tail lesion.", Certainty.POSSIBLE, id="possible"),
        pytest.param("Cannot exclude a small pancreatic mass.", Certainty.POSSIBLE, id="cannot-exclude"),
        pytest.param(
            "Small hepatic lesion; malignancy cannot be excluded.", Certainty.DEFINITE, id="kind-hedge"
        ),
    ],
)
def test_certainty(text: str, certainty: Certainty) -> None:
    (lesion,) = extract_report(text).lesions
    assert lesion.certainty is certainty


def test_hedge_on_kind_keeps_existence_definite() -> None:
    (lesion,) = extract_report("2.1 cm hypodense hepatic lesion, likely a cyst.").lesions
    assert lesion.certainty is Certainty.DEFINITE
    assert lesion.kind is LesionKind.CYST


# ----------------------------------------------------------------------------------------------------
# Counts
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Multiple hepatic cysts.", id="multiple"),
        pytest.param("Numerous hepatic metastases.", id="numerous"),
        pytest.param("Innumerable hepatic hypodensities.", id="innumerable"),
        pytest.param("Several small hepatic lesions.", id="several"),
        pytest.param("Hepatic cysts.", id="plural-no-number"),
    ],
)
def test_multiple_is_never_one(text: str) -> None:
    report = extract_report(text)
    (organ,) = report.organs
    assert organ.status == "lesion"
    assert organ.multiple is True
    assert organ.count != 1
    lesion = _only(report, Organ.LIVER)
    assert lesion.multiple is True


@pytest.mark.parametrize(
    ("text", "count"),
    [
        pytest.param("Two hepatic lesions.", 2, id="two"),
        pytest.param("Three hypodense renal lesions.", 3, id="three"),
        pytest.param("4 splenic nodules.", 4, id="digit"),
        pytest.param("At least 3 hepatic lesions.", 3, id="at-least"),
        pytest.param("Segment 7 hepatic lesion.", 1, id="segment-number-is-not-a-count"),
    ],
)
def test_exact_counts(text: str, count: int) -> None:
    report = extract_report(text)
    (organ,) = [o for o in report.organs if o.status == "lesion"]
    assert organ.count == count
    assert organ.multiple is False


def test_multiple_group_keeps_largest_size() -> None:
    report = extract_report("Multiple hepatic metastases, the largest in segment 8 measuring 4.1 x 3.2 cm.")
    lesion = _only(report, Organ.LIVER)
    assert lesion.multiple is True
    assert lesion.segments == [8]
    assert _largest_mm(lesion) == 41.0
    assert lesion.qualifier is Qualifier.UP_TO


# ----------------------------------------------------------------------------------------------------
# Sizes: priors, two sizes, distractors, units
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "largest_mm"),
    [
        pytest.param("Segment 7 hepatic lesion, previously 2.1 cm, now 2.6 cm.", 26.0, id="previously-now"),
        pytest.param("Hepatic lesion has increased from 2.1 to 2.6 cm.", 26.0, id="increased-from-to"),
        pytest.param("Hepatic lesion measures 2.1 x 1.8 cm (previously 1.5 x 1.2 cm).", 21.0, id="paren"),
        pytest.param("Right renal cyst 12 mm, previously 10 mm.", 12.0, id="mm-prior"),
        pytest.param("Pancreatic cyst measuring 1,5 cm.", 15.0, id="decimal-comma"),
        pytest.param("Hepatic lesion measuring 2.3 x 1.8.", 23.0, id="unitless-chain"),
    ],
)
def test_current_size_only(text: str, largest_mm: float) -> None:
    (lesion,) = extract_report(text).lesions
    assert _largest_mm(lesion) == largest_mm


def test_two_sizes_are_two_lesions() -> None:
    report = extract_report("A 2 cm lesion in hepatic segment 7 and a 3 cm lesion in segment 2.")
    lesions = report.lesions
    assert [(lesion.segments, _largest_mm(lesion)) for lesion in lesions] == [([7], 20.0), ([2], 30.0)]
    assert report.organs[0].count == 2


def test_two_sizes_never_one_20_by_30_lesion() -> None:
    report = extract_report("Renal cysts measuring 2 cm and 3 cm.")
    assert sorted(lesion.diameters[0] for lesion in report.lesions) == [2.0, 3.0]
    assert all(len(lesion.diameters) == 1 for lesion in report.lesions)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("The spleen measures 13 cm in length.", id="spleen-length"),
        pytest.param("The common bile duct measures 8 mm.", id="cbd"),
        pytest.param("Abdominal aorta measures 2.4 cm in caliber.", id="aorta"),
        pytest.param("The right kidney measures 11.2 cm.", id="kidney-length"),
        pytest.param("Enlarged periportal lymph node measuring 1.8 cm.", id="lymph-node"),
        pytest.param("5 mm nonobstructing left renal stone.", id="stone"),
        pytest.param("Pancreatic duct dilated to 5 mm.", id="pancreatic-duct"),
    ],
)
def test_distractor_measurements_are_not_lesions(text: str) -> None:
    assert extract_report(text).lesions == []


def test_organ_length_in_lesion_sentence_is_not_the_lesion_size() -> None:
    lesion = _only(extract_report("The liver measures 17 cm with a 2 cm cyst in segment 3."), Organ.LIVER)
    assert _largest_mm(lesion) == 20.0
    assert lesion.segments == [3]


@pytest.mark.parametrize(
    ("text", "size_class"),
    [
        pytest.param("Subcentimeter hepatic hypodensity.", SizeClass.SUBCENTIMETER, id="subcentimeter"),
        pytest.param("Tiny renal cyst.", SizeClass.TINY, id="tiny"),
        pytest.param(
            "Hepatic hypodensity too small to characterize.", SizeClass.TOO_SMALL_TO_CHARACTERIZE, id="tstc"
        ),
    ],
)
def test_size_classes(text: str, size_class: SizeClass) -> None:
    (lesion,) = extract_report(text).lesions
    assert lesion.size_class is size_class
    assert lesion.diameters == []


# ----------------------------------------------------------------------------------------------------
# Locations
# ----------------------------------------------------------------------------------------------------


def test_liver_segments_roman_and_slash() -> None:
    report = extract_report("LIVER: 1.2 cm hemangioma in segment IVa. 8 mm cyst in segment 4/5.")
    assert [lesion.segments for lesion in report.lesions] == [[4], [4, 5]]


def test_pancreas_parts() -> None:
    lesion = _only(extract_report("2.1 x 1.5 cm cystic lesion in the pancreatic body/tail."), Organ.PANCREAS)
    assert lesion.pancreas_parts == [PancreasPart.BODY, PancreasPart.TAIL]


def test_kidney_pole_and_side() -> None:
    lesion = _only(extract_report("2 cm cyst in the left lower pole renal cortex."), Organ.KIDNEY)
    assert lesion.side is Side.LEFT
    assert lesion.kidney_poles == [KidneyPole.LOWER_POLE]


def test_bilateral_kidney_lesions() -> None:
    lesion = _only(extract_report("Bilateral renal cysts."), Organ.KIDNEY)
    assert lesion.side is Side.BILATERAL


def test_two_sided_kidney_lesions() -> None:
    report = extract_report("2 cm right renal cyst and 1 cm left renal cyst.")
    assert [lesion.side for lesion in report.lesions] == [Side.RIGHT, Side.LEFT]


def test_organ_adjectives_resolve() -> None:
    text = (
        "Hepatic cyst. Splenic hemangioma. Left adrenal adenoma. Vesical mass. Pancreatic cyst. Renal cyst."
    )
    organs = {lesion.organ for lesion in extract_report(text).lesions}
    assert organs == {
        Organ.LIVER,
        Organ.SPLEEN,
        Organ.ADRENAL_GLAND,
        Organ.BLADDER,
        Organ.PANCREAS,
        Organ.KIDNEY,
    }


def test_mass_abutting_other_organ_belongs_to_its_own_organ() -> None:
    report = extract_report("3 cm mass in the pancreatic head abutting the duodenum.")
    assert [lesion.organ for lesion in report.lesions] == [Organ.PANCREAS]
    assert Organ.DUODENUM not in _status(report)


def test_non_organ_sites_are_ignored() -> None:
    assert extract_report("2 cm mesenteric mass. Peritoneal nodules.").lesions == []


# ----------------------------------------------------------------------------------------------------
# Resections
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("Status post cholecystectomy.", Organ.GALLBLADDER, id="cholecystectomy"),
        pytest.param("GALLBLADDER: Surgically absent.", Organ.GALLBLADDER, id="header-absent"),
        pytest.param("Prior splenectomy.", Organ.SPLEEN, id="splenectomy"),
        pytest.param("Status post hysterectomy.", Organ.UTERUS, id="hysterectomy"),
        pytest.param("Status post total pancreatectomy.", Organ.PANCREAS, id="total-pancreatectomy"),
        pytest.param("Status post Whipple. No recurrent mass.", Organ.PANCREAS, id="whipple-no-remnant"),
        pytest.param("Status post left nephrectomy.", Organ.KIDNEY, id="nephrectomy-alone"),
        pytest.param("INDICATION: s/p cholecystectomy. FINDINGS: Liver normal.", Organ.GALLBLADDER, id="hx"),
    ],
)
def test_resected_organ_is_absent(text: str, organ: Organ) -> None:
    assert _status(extract_report(text)).get(organ) == "absent"


def test_whipple_with_remnant_described_uses_remnant() -> None:
    report = extract_report("Status post Whipple. The pancreatic remnant is atrophic without focal lesion.")
    assert _status(report)[Organ.PANCREAS] == "normal"


def test_unilateral_nephrectomy_other_kidney_decides() -> None:
    report = extract_report("Status post left nephrectomy. Right kidney contains a 2.5 cm mass.")
    assert _status(report)[Organ.KIDNEY] == "lesion"
    assert _only(report, Organ.KIDNEY).side is Side.RIGHT


# ----------------------------------------------------------------------------------------------------
# Sections and de-duplication
# ----------------------------------------------------------------------------------------------------


def test_sections_split() -> None:
    text = "INDICATION: pain.\nFINDINGS:\nLIVER: Normal. SPLEEN: Normal.\nIMPRESSION: No acute process."
    kinds = [(s.section, s.header_organs, s.text) for s in split_report(text)]
    assert kinds == [
        (SectionKind.HISTORY, (), "pain."),
        (SectionKind.FINDINGS, (Organ.LIVER,), "Normal."),
        (SectionKind.FINDINGS, (Organ.SPLEEN,), "Normal."),
        (SectionKind.IMPRESSION, (), "No acute process."),
    ]


def test_history_section_lesions_are_not_read() -> None:
    report = extract_report("HISTORY: Pancreatic cancer.\nFINDINGS: The pancreas is unremarkable.")
    assert report.lesions == []
    assert _status(report)[Organ.PANCREAS] == "normal"


def test_findings_and_impression_count_once() -> None:
    text = (
        "FINDINGS: LIVER: 2.3 x 1.8 cm hypodense lesion in segment VII.\n"
        "IMPRESSION: 2.3 cm segment 7 hepatic lesion, suspicious for metastasis."
    )
    report = extract_report(text)
    lesion = _only(report, Organ.LIVER)
    assert lesion.segments == [7]
    assert report.organs[0].count == 1


def test_impression_restatement_without_size_counts_once() -> None:
    text = "FINDINGS: 3 cm mass in the pancreatic tail.\nIMPRESSION: Pancreatic tail mass."
    report = extract_report(text)
    assert len(report.lesions) == 1


def test_separate_lesions_in_different_segments_are_kept() -> None:
    text = "LIVER: Hypodensity in segment 2. Another hypodensity in segment 6."
    assert len(extract_report(text).lesions) == 2


# ----------------------------------------------------------------------------------------------------
# Output contract
# ----------------------------------------------------------------------------------------------------

_CONTRACT_REPORTS = [
    "FINDINGS:\nLIVER: There is a 2.3 x 1.8 cm hypodense lesion in segment VII, previously 1.9 cm. "
    "Multiple subcentimeter hypodensities, too small to characterize.\nGALLBLADDER: Surgically absent.\n"
    "PANCREAS: No focal pancreatic mass.\n"
    "KIDNEYS: Bilateral renal cysts, largest 3 cm in the left lower pole.\n"
    "IMPRESSION:\n1. 2.3 cm segment 7 hepatic lesion, suspicious for metastasis.\n"
    "2. Bilateral renal cysts.",
    "Two hepatic lesions measuring 2 cm and 3 cm. Left adrenal nodule measuring 1,2 cm. " * 3,
    "The liver is normal. " + "x" * 400 + " A 4.5 cm hepatic mass in segment 8. " + "y" * 400,
    "",
    "No acute findings.",
]


@pytest.mark.parametrize("text", _CONTRACT_REPORTS)
def test_output_contract(text: str) -> None:
    report = extract_report(text)
    again = LLMReport.model_validate_json(report.model_dump_json())
    assert again == report
    for lesion in report.lesions:
        assert lesion.quote in text
        assert len(lesion.quote) <= 300
        for d in lesion.diameters:
            assert f"{d:g}" in lesion.quote.replace(",", ".")


def test_deterministic() -> None:
    text = _CONTRACT_REPORTS[0]
    assert extract_report(text) == extract_report(text)


def test_rejects_non_string() -> None:
    with pytest.raises(TypeError, match="text: expected str, got int"):
        extract_report(3)  # type: ignore[arg-type]


def test_version_is_a_string() -> None:
    assert RULES_VERSION


# ----------------------------------------------------------------------------------------------------
# Rules 1.1: "at least", plural summaries, listed sides / sizes, organ lengths, hedged nature
# ----------------------------------------------------------------------------------------------------


def _lesion_organ(report: LLMReport, organ: Organ) -> tuple[int | None, bool, bool]:
    (entry,) = [o for o in report.organs if o.organ is organ]
    return entry.count, entry.at_least, entry.multiple


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param("At least five hypodense hepatic lesions are present.", Organ.LIVER, 5, id="words"),
        pytest.param(
            "There are at least 3 renal cysts bilaterally, up to 1.5 cm.", Organ.KIDNEY, 3, id="digit"
        ),
        pytest.param("SPLEEN: at least two small hypodense foci.", Organ.SPLEEN, 2, id="header-two"),
        pytest.param("More than 10 hepatic metastases, the largest 3 cm.", Organ.LIVER, 10, id="more-than"),
    ],
)
def test_at_least_sets_the_flag(text: str, organ: Organ, count: int) -> None:
    report = extract_report(text)
    assert _lesion_organ(report, organ) == (count, True, False)
    lesion = _only(report, organ)
    assert (lesion.count, lesion.at_least, lesion.multiple) == (count, True, False)


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param(
            "LIVER: A 3.1 cm mass in segment 6. "
            "At least two additional smaller lesions are seen in the left lobe.",
            Organ.LIVER,
            3,
            id="liver-1-plus-2",
        ),
        pytest.param(
            "1.8 cm cyst in the pancreatic tail and "
            "at least three additional subcentimeter pancreatic cysts.",
            Organ.PANCREAS,
            4,
            id="pancreas-1-plus-3",
        ),
    ],
)
def test_at_least_additional_adds_to_described(text: str, organ: Organ, count: int) -> None:
    report = extract_report(text)
    assert _lesion_organ(report, organ) == (count, True, False)
    own = [lesion for lesion in report.lesions if lesion.organ is organ]
    assert [lesion.at_least for lesion in own] == [False, True]


def test_exact_count_has_no_at_least_flag() -> None:
    report = extract_report("Three hypodense renal lesions.")
    assert _lesion_organ(report, Organ.KIDNEY) == (3, False, False)


@pytest.mark.parametrize(
    ("text", "organ", "count", "largest"),
    [
        pytest.param(
            "FINDINGS: LIVER: 2.4 cm metastasis in segment 8. 1.1 cm metastasis in segment 3.\n"
            "IMPRESSION: Interval growth of hepatic metastases in segments 8 and 3.",
            Organ.LIVER,
            2,
            [24.0, 11.0],
            id="impression-interval-growth",
        ),
        pytest.param(
            "FINDINGS: KIDNEYS: 2.5 cm cyst in the left upper pole. 0.9 cm cyst in the right kidney.\n"
            "IMPRESSION: Bilateral renal cysts, including a 2.5 cm cyst.",
            Organ.KIDNEY,
            2,
            [25.0, 9.0],
            id="impression-including-known-size",
        ),
        pytest.param(
            "LIVER: 2 cm lesion in segment 6. 3 cm lesion in segment 2. These lesions are consistent with "
            "metastases.",
            Organ.LIVER,
            2,
            [20.0, 30.0],
            id="findings-anaphoric-these",
        ),
        pytest.param(
            "FINDINGS: 2 cm hepatic metastasis in segment 6 and 3 cm hepatic metastasis in segment 2.\n"
            "IMPRESSION: Two hepatic metastases.",
            Organ.LIVER,
            2,
            [20.0, 30.0],
            id="impression-same-number",
        ),
        pytest.param(
            "FINDINGS: Adrenals: 1.4 cm left adrenal nodule. 2.2 cm right adrenal nodule.\n"
            "IMPRESSION: Multiple adrenal nodules, again seen.",
            Organ.ADRENAL_GLAND,
            2,
            [14.0, 22.0],
            id="impression-multiple-word-two-described",
        ),
    ],
)
def test_plural_summary_of_described_lesions_adds_nothing(
    text: str, organ: Organ, count: int, largest: list[float]
) -> None:
    report = extract_report(text)
    assert _lesion_organ(report, organ) == (count, False, False)
    own = [lesion for lesion in report.lesions if lesion.organ is organ]
    assert [_largest_mm(lesion) for lesion in own] == largest
    assert not any(lesion.multiple for lesion in own)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "FINDINGS: The liver is normal.\nIMPRESSION: Multiple hepatic metastases.", id="no-prior"
        ),
        pytest.param("IMPRESSION: Bilateral renal cysts.", id="impression-only"),
        pytest.param(
            "FINDINGS: LIVER: 2 cm cyst in segment 3. Additional hepatic cysts are seen in the right lobe.",
            id="additional-is-new",
        ),
        pytest.param(
            "FINDINGS: 2 cm hepatic metastasis in segment 6.\nIMPRESSION: Innumerable hepatic metastases.",
            id="multiple-word-one-described",
        ),
    ],
)
def test_plural_without_prior_description_stays_multiple(text: str) -> None:
    report = extract_report(text)
    (entry,) = [o for o in report.organs if o.status == "lesion"]
    assert entry.multiple is True


def test_summary_with_a_new_size_is_kept() -> None:
    text = (
        "FINDINGS: LIVER: 2.4 cm metastasis in segment 8.\n"
        "IMPRESSION: Hepatic metastases including a new 4 cm lesion in segment 2."
    )
    report = extract_report(text)
    sizes = sorted(_largest_mm(lesion) for lesion in report.lesions if lesion.diameters)
    assert sizes == [24.0, 40.0]


@pytest.mark.parametrize(
    ("text", "organ", "expected"),
    [
        pytest.param(
            "Bilateral adrenal nodules, 2.3 cm on the right and 1.6 cm on the left.",
            Organ.ADRENAL_GLAND,
            [(Side.RIGHT, 23.0), (Side.LEFT, 16.0)],
            id="adrenal-right-left",
        ),
        pytest.param(
            "Bilateral renal cysts measuring 1.2 cm on the left and 0.8 cm on the right.",
            Organ.KIDNEY,
            [(Side.LEFT, 12.0), (Side.RIGHT, 8.0)],
            id="renal-left-right",
        ),
        pytest.param(
            "Both kidneys contain cysts measuring 15 mm on the right and 2 cm on the left.",
            Organ.KIDNEY,
            [(Side.RIGHT, 15.0), (Side.LEFT, 20.0)],
            id="both-kidneys",
        ),
    ],
)
def test_bilateral_with_sided_sizes_is_one_lesion_per_side(
    text: str, organ: Organ, expected: list[tuple[Side, float]]
) -> None:
    report = extract_report(text)
    assert [(lesion.side, _largest_mm(lesion)) for lesion in report.lesions] == expected
    assert _lesion_organ(report, organ) == (2, False, False)


@pytest.mark.parametrize(
    ("text", "organ", "expected"),
    [
        pytest.param(
            "Two hepatic lesions in segments 6 and 7 measuring 2 and 3 cm.",
            Organ.LIVER,
            [([6], 20.0), ([7], 30.0)],
            id="segments-in-order",
        ),
        pytest.param(
            "Two liver lesions in segments VII and II measuring 14 and 9 mm.",
            Organ.LIVER,
            [([7], 14.0), ([2], 9.0)],
            id="roman-segments-text-order",
        ),
        pytest.param(
            "Two lesions in the pancreatic head and tail measuring 1.1 and 2.4 cm.",
            Organ.PANCREAS,
            [([PancreasPart.HEAD], 11.0), ([PancreasPart.TAIL], 24.0)],
            id="pancreas-parts",
        ),
    ],
)
def test_listed_locations_pair_with_listed_sizes(
    text: str, organ: Organ, expected: list[tuple[list[object], float]]
) -> None:
    report = extract_report(text)
    got = [
        (lesion.segments if organ is Organ.LIVER else lesion.pancreas_parts, _largest_mm(lesion))
        for lesion in report.lesions
    ]
    assert got == expected


@pytest.mark.parametrize(
    ("text", "side", "poles"),
    [
        pytest.param(
            "Two hypodense lesions in the right kidney "
            "measuring 1.2 cm (upper pole) and 0.8 cm (lower pole).",
            Side.RIGHT,
            [[KidneyPole.UPPER_POLE], [KidneyPole.LOWER_POLE]],
            id="parenthesised-poles",
        ),
        pytest.param(
            "Left renal cysts in the upper and lower poles measuring 1 and 2 cm.",
            Side.LEFT,
            [[KidneyPole.UPPER_POLE], [KidneyPole.LOWER_POLE]],
            id="listed-poles",
        ),
    ],
)
def test_listed_kidney_lesions_keep_side_and_poles(
    text: str, side: Side, poles: list[list[KidneyPole]]
) -> None:
    report = extract_report(text)
    assert [lesion.side for lesion in report.lesions] == [side, side]
    assert [lesion.kidney_poles for lesion in report.lesions] == poles


@pytest.mark.parametrize(
    ("text", "organ", "largest", "side"),
    [
        pytest.param(
            "The left kidney contains a 2 cm cyst and measures 11 cm.",
            Organ.KIDNEY,
            20.0,
            Side.LEFT,
            id="and-measures",
        ),
        pytest.param(
            "The right kidney contains a 1.4 cm cyst and measures 10.5 cm in length.",
            Organ.KIDNEY,
            14.0,
            Side.RIGHT,
            id="and-measures-in-length",
        ),
        pytest.param(
            "Spleen with a 9 mm hypodense lesion, measuring 12.5 cm craniocaudal.",
            Organ.SPLEEN,
            9.0,
            None,
            id="craniocaudal-after-sized-lesion",
        ),
        pytest.param(
            "KIDNEYS: The left kidney measures 10.9 cm and contains a 1.2 cm cyst.",
            Organ.KIDNEY,
            12.0,
            Side.LEFT,
            id="organ-length-first",
        ),
    ],
)
def test_organ_measurement_after_lesion_is_not_its_size(
    text: str, organ: Organ, largest: float, side: Side | None
) -> None:
    report = extract_report(text)
    lesion = _only(report, organ)
    assert _largest_mm(lesion) == largest
    assert lesion.side is side
    assert _lesion_organ(report, organ) == (1, False, False)


def test_lesion_own_measurement_in_craniocaudal_is_kept() -> None:
    lesion = _only(
        extract_report("The liver contains a cyst which measures 2 cm in craniocaudal dimension."),
        Organ.LIVER,
    )
    assert _largest_mm(lesion) == 20.0


@pytest.mark.parametrize(
    ("text", "organ", "certainty"),
    [
        pytest.param(
            "1.6 cm hypodense lesion in the pancreatic tail, metastasis cannot be excluded.",
            Organ.PANCREAS,
            Certainty.DEFINITE,
            id="hedged-nature-comma",
        ),
        pytest.param(
            "Enhancing 9 mm renal lesion - malignancy cannot be ruled out.",
            Organ.KIDNEY,
            Certainty.DEFINITE,
            id="hedged-nature-dash",
        ),
        pytest.param(
            "A small mass in the uncinate process cannot be excluded.",
            Organ.PANCREAS,
            Certainty.POSSIBLE,
            id="hedged-existence-post",
        ),
        pytest.param(
            "Possible lesion in hepatic segment 4.", Organ.LIVER, Certainty.POSSIBLE, id="possible-lesion"
        ),
    ],
)
def test_hedged_nature_vs_hedged_existence(text: str, organ: Organ, certainty: Certainty) -> None:
    lesion = _only(extract_report(text), organ)
    assert lesion.certainty is certainty


@pytest.mark.parametrize(
    ("text", "organ", "certainty"),
    [
        pytest.param(
            "FINDINGS: A small mass in the uncinate process cannot be excluded.\n"
            "IMPRESSION: Possible small uncinate process mass.",
            Organ.PANCREAS,
            Certainty.POSSIBLE,
            id="existence-repeated",
        ),
        pytest.param(
            "FINDINGS: A subtle hypodensity in the uncinate process cannot be excluded.\n"
            "IMPRESSION: Possible small pancreatic head mass.",
            Organ.PANCREAS,
            Certainty.POSSIBLE,
            id="uncinate-restated-as-head",
        ),
        pytest.param(
            "FINDINGS: 1.6 cm hypodense lesion in hepatic segment 5, metastasis cannot be excluded.\n"
            "IMPRESSION: Hepatic segment 5 lesion, possibly metastasis.",
            Organ.LIVER,
            Certainty.DEFINITE,
            id="nature-repeated",
        ),
        pytest.param(
            "FINDINGS: Possible 8 mm lesion in the pancreatic tail.\n"
            "IMPRESSION: Possible pancreatic tail lesion.",
            Organ.PANCREAS,
            Certainty.POSSIBLE,
            id="possible-repeated",
        ),
    ],
)
def test_hedged_lesion_repeated_in_impression_counts_once(
    text: str, organ: Organ, certainty: Certainty
) -> None:
    report = extract_report(text)
    lesion = _only(report, organ)
    assert lesion.certainty is certainty
    assert _lesion_organ(report, organ) == (1, False, False)


def test_version_was_bumped() -> None:
    assert RULES_VERSION == "1.6"
