"""Failure classes found on the final part of issue 13's dev set, each tested with sentences written for
this file (none copied from ``final.jsonl``): the rules must handle the class, not one report of it.
"""

from __future__ import annotations

import pytest

from report_extractor.rules import extract_report
from schemas.llm import LLMLesion, LLMReport
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side
from tests.report_extractor.rules.report_queries import count_of as _count
from tests.report_extractor.rules.report_queries import largest_mm as _largest_mm
from tests.report_extractor.rules.report_queries import lesions_of as _lesions
from tests.report_extractor.rules.report_queries import status_of as _status


def _largest(report: LLMReport, organ: Organ) -> LLMLesion:
    return max(_lesions(report, organ), key=lambda lesion: _largest_mm(lesion) or 0.0)


# ----------------------------------------------------------------------------------------------------
# "primary" used as a noun for the primary tumour (lexicon gap, class 15)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "mm"),
    [
        pytest.param("The right lower lobe primary measures 3.1 cm, smaller.", Organ.LUNG, 31.0, id="lobe"),
        pytest.param("Target lesions:\n- Pancreatic primary (tail): 27 mm", Organ.PANCREAS, 27.0, id="list"),
        pytest.param("Renal primary, upper pole: 45 mm (baseline 52 mm)", Organ.KIDNEY, 45.0, id="comma"),
        pytest.param("Colon primary at the splenic flexure, 4 cm.", Organ.COLON, 40.0, id="preposition"),
        pytest.param("Non-target:\n- Bladder primary: present", Organ.BLADDER, None, id="unsized"),
    ],
)
def test_a_primary_is_a_lesion(text: str, organ: Organ, mm: float | None) -> None:
    found = _lesions(extract_report(text), organ)
    assert len(found) == 1
    assert _largest_mm(found[0]) == mm


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("History of primary sclerosing cholangitis. The liver is normal.", id="adjective"),
        pytest.param("Carcinoma of unknown primary. Liver: no focal lesion.", id="unknown-primary"),
        pytest.param("Primary care follow-up advised. Liver unremarkable.", id="primary-care"),
    ],
)
def test_primary_as_an_adjective_or_unknown_is_no_lesion(text: str) -> None:
    assert _status(extract_report(text), Organ.LIVER) == "normal"


# ----------------------------------------------------------------------------------------------------
# Scoring-system categories (LR-5, BI-RADS 4) are neither counts nor sizes (class 13)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("An 8 mm LR-4 observation in segment 5.", Organ.LIVER, id="lr-before"),
        pytest.param("New 2.4 cm observation in segment VII (LR-5).", Organ.LIVER, id="lr-after"),
        pytest.param("Right breast: 1.1 cm BI-RADS 5 mass.", Organ.BREAST, id="bi-rads"),
        pytest.param("Left upper lobe: Lung-RADS 4 nodule of 9 mm.", Organ.LUNG, id="lung-rads"),
    ],
)
def test_a_scoring_category_is_not_a_count(text: str, organ: Organ) -> None:
    assert _count(extract_report(text), organ) == 1


# ----------------------------------------------------------------------------------------------------
# RECIST items labelled only by a side or a sub-site under an organ line or header (classes 2 and 8)
# ----------------------------------------------------------------------------------------------------


def test_side_labels_under_a_bare_organ_line_are_lesions_of_that_side() -> None:
    report = extract_report("TARGETS\nAdrenal\n- Left: 31 mm\n- Right: 18 mm (baseline 20 mm)")
    found = sorted(_lesions(report, Organ.ADRENAL_GLAND), key=lambda lesion: _largest_mm(lesion) or 0.0)
    assert [(lesion.side, _largest_mm(lesion)) for lesion in found] == [(Side.RIGHT, 18.0), (Side.LEFT, 31.0)]


@pytest.mark.parametrize(
    ("text", "organ", "side", "mm"),
    [
        pytest.param("LUNG (target):\nleft lower lobe: 17 mm", Organ.LUNG, Side.LEFT, 17.0, id="lobe-label"),
        pytest.param(
            "Target lesions\nKidney\n- Right: 42 mm (baseline 50 mm)",
            Organ.KIDNEY,
            Side.RIGHT,
            42.0,
            id="side-under-organ-line",
        ),
        pytest.param("KIDNEYS:\nright lower pole: 2.2 cm", Organ.KIDNEY, Side.RIGHT, 22.0, id="pole-label"),
    ],
)
def test_a_sub_site_or_side_label_read_as_header_is_an_item(
    text: str, organ: Organ, side: Side, mm: float
) -> None:
    found = _lesions(extract_report(text), organ)
    assert [(lesion.side, _largest_mm(lesion)) for lesion in found] == [(side, mm)]


def test_an_organ_header_with_its_length_is_no_lesion() -> None:
    report = extract_report("RIGHT KIDNEY: 11.2 cm. No mass.\nLEFT KIDNEY: 10.9 cm. No mass.")
    assert _status(report, Organ.KIDNEY) == "normal"


# ----------------------------------------------------------------------------------------------------
# ADDENDA: a correction reaches the IMPRESSION's restatement; more retraction wordings (class 5)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param(
            "FINDINGS: 9 mm hypodense focus in the pancreatic body.\nIMPRESSION: Pancreatic body hypodensity."
            "\nADDENDUM: The pancreatic body finding represents focal fatty infiltration.",
            Organ.PANCREAS,
            id="retraction-with-impression",
        ),
        pytest.param(
            "PRELIMINARY: Possible 1.5 cm mass in the gallbladder fundus.\nADDENDUM: Reviewed with"
            " ultrasound; there is no gallbladder mass.",
            Organ.GALLBLADDER,
            id="there-is-no-mass",
        ),
        pytest.param(
            "FINDINGS: 1.3 cm enhancing nodule in the spleen.\nIMPRESSION: Splenic nodule.\nADDENDUM: After"
            " review there is no splenic lesion; the nodule was a flow artifact.",
            Organ.SPLEEN,
            id="no-lesion-after-review",
        ),
    ],
)
def test_a_retraction_removes_the_lesion_and_its_restatements(text: str, organ: Organ) -> None:
    assert _lesions(extract_report(text), organ) == []


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        pytest.param(
            "FINDINGS: 3 cm mass in the right adrenal gland.\nIMPRESSION: Right adrenal mass.\nADDENDUM: The"
            " 3 cm mass actually arises from the upper pole of the right kidney.",
            Organ.ADRENAL_GLAND,
            Organ.KIDNEY,
            id="adrenal-to-kidney",
        ),
        pytest.param(
            "FINDINGS: 2 cm mass in the gastric antrum.\nIMPRESSION: Antral mass.\nADDENDUM: On review the"
            " 2 cm mass is centred in the duodenal bulb rather than in the gastric antrum.",
            Organ.STOMACH,
            Organ.DUODENUM,
            id="centred-rather-than",
        ),
        pytest.param(
            "FINDINGS: 2.6 cm mass in the pancreatic head.\nADDENDUM: The 2.6 cm mass is based in the wall of"
            " the second portion of the duodenum rather than in the pancreas.",
            Organ.PANCREAS,
            Organ.DUODENUM,
            id="second-portion-is-no-new-lesion",
        ),
    ],
)
def test_a_moved_lesion_takes_its_restatements_along(text: str, old: Organ, new: Organ) -> None:
    report = extract_report(text)
    assert _lesions(report, old) == []
    assert len(_lesions(report, new)) == 1


@pytest.mark.parametrize(
    ("text", "count"),
    [
        pytest.param(
            "FINDINGS: Two liver lesions, 2.1 cm in segment 6 and 0.9 cm in segment 2.\nIMPRESSION: Two liver"
            " lesions.\nADDENDUM: The segment 2 lesion is a vessel and should be disregarded.",
            1,
            id="two-minus-one",
        ),
        pytest.param(
            "FINDINGS: Three hepatic cysts, 1.5 cm in segment 7, 1.0 cm in segment 4 and 0.6 cm in segment 3."
            "\nIMPRESSION: Three hepatic cysts.\nADDENDUM: The segment 3 cyst is a pseudolesion.",
            2,
            id="three-minus-one",
        ),
    ],
)
def test_a_retracted_member_leaves_the_counted_restatement_one_less(text: str, count: int) -> None:
    assert _count(extract_report(text), Organ.LIVER) == count


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        pytest.param(
            "FINDINGS: Liver: 5.0 cm mass in segment 8 with a 1.4 cm satellite nodule.\nADDENDUM:"
            " Correction - the dominant mass is in segment 7.",
            [7],
            id="dominant",
        ),
        pytest.param(
            "FINDINGS: 3.3 cm and 1.2 cm liver lesions in segment 2.\nADDENDUM: Correction: the largest"
            " lesion lies in segment 3.",
            [3],
            id="largest",
        ),
        pytest.param(
            "FINDINGS: Liver: 4.0 cm mass and a 0.8 cm cyst in segment 6.\nADDENDUM: Correction - the larger"
            " lesion is in segment 5.",
            [5],
            id="larger",
        ),
    ],
)
def test_a_correction_naming_the_dominant_lesion_moves_the_largest(text: str, segments: list[int]) -> None:
    assert _largest(extract_report(text), Organ.LIVER).segments == segments


# ----------------------------------------------------------------------------------------------------
# A RECIST response line sums up the lists above it (class 10)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param(
            "New lesions:\n- Left adrenal: 15 mm nodule\nOverall response: PD due to a new adrenal nodule.",
            Organ.ADRENAL_GLAND,
            id="overall-response",
        ),
        pytest.param(
            "NEW LESIONS: segment 4, 11 mm\nTimepoint response: PD (new hepatic metastasis)",
            Organ.LIVER,
            id="timepoint-response",
        ),
        pytest.param(
            "New: right lower lobe nodule 6 mm\nResponse: progressive disease, new pulmonary nodule.",
            Organ.LUNG,
            id="response",
        ),
    ],
)
def test_a_response_line_adds_no_lesion(text: str, organ: Organ) -> None:
    assert _count(extract_report(text), organ) == 1


# ----------------------------------------------------------------------------------------------------
# Lexicon: granulomas, and a bare small focus in terse notes (classes 1 and 15)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param(
            "Spleen: several calcified granulomas up to 3 mm.", Organ.SPLEEN, "multiple", id="granulomas"
        ),
        pytest.param("A 4 mm calcified granuloma in the right lower lobe.", Organ.LUNG, 1, id="granuloma"),
        pytest.param(
            "Liver: punctate focus in segment 3, too small to characterize.", Organ.LIVER, 1, id="focus"
        ),
        pytest.param(
            "Right kidney upper pole tiny focus, too small to characterize", Organ.KIDNEY, 1, id="note"
        ),
    ],
)
def test_granulomas_and_small_foci_are_lesions(text: str, organ: Organ, count: int | str) -> None:
    assert _count(extract_report(text), organ) == count


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("Small focus of air in the bladder, post catheter.", Organ.BLADDER, id="air"),
        pytest.param(
            "Spleen: tiny focus of calcification, otherwise normal.", Organ.SPLEEN, id="calcification"
        ),
        pytest.param(
            "Liver: small focus of fatty sparing near the gallbladder fossa.", Organ.LIVER, id="sparing"
        ),
    ],
)
def test_a_focus_of_air_calcium_or_fat_is_no_lesion(text: str, organ: Organ) -> None:
    assert _lesions(extract_report(text), organ) == []


# ----------------------------------------------------------------------------------------------------
# A count before "new" makes it an adjective, not a RECIST category (classes 8 and 14)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param(
            "Liver: two new lesions, segment 5 1.4 cm and segment 2 0.8 cm.", Organ.LIVER, 2, id="two"
        ),
        pytest.param("Spleen: a new lesion, 9 mm.", Organ.SPLEEN, 1, id="a-new"),
        pytest.param("Kidneys: three new lesions, all under 1 cm, on the left.", Organ.KIDNEY, 3, id="three"),
    ],
)
def test_counted_new_lesions_are_lesions(text: str, organ: Organ, count: int) -> None:
    assert _count(extract_report(text), organ) == count


# ----------------------------------------------------------------------------------------------------
# Organ vocabulary: unqualified bowel names small bowel and colon; GB and SB abbreviations
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organs"),
    [
        pytest.param("Bowel: unremarkable.", (Organ.SMALL_BOWEL, Organ.COLON), id="bowel-header"),
        pytest.param(
            "No bowel obstruction. Liver normal.", (Organ.SMALL_BOWEL, Organ.COLON), id="bowel-word"
        ),
        pytest.param("GB: contracted, no stones.", (Organ.GALLBLADDER,), id="gb"),
        pytest.param("SB loops of normal caliber.", (Organ.SMALL_BOWEL,), id="sb"),
    ],
)
def test_bowel_words_and_abbreviations_name_their_organs(text: str, organs: tuple[Organ, ...]) -> None:
    report = extract_report(text)
    assert [_status(report, organ) for organ in organs] == ["normal"] * len(organs)


# ----------------------------------------------------------------------------------------------------
# An organ header is described even when its sentence names another organ (organ status)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("PROSTATE: Enlarged, indenting the bladder base.", Organ.PROSTATE, id="prostate"),
        pytest.param("SPLEEN: 13 cm, abutting the left kidney.", Organ.SPLEEN, id="spleen"),
        pytest.param("UTERUS: Anteverted, displaced by the distended bladder.", Organ.UTERUS, id="uterus"),
    ],
)
def test_an_organ_header_is_described_beside_another_organ(text: str, organ: Organ) -> None:
    assert _status(extract_report(text), organ) == "normal"


# ----------------------------------------------------------------------------------------------------
# The count nearest the lesion word wins (class 14)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("Both kidneys with numerous small cysts.", Organ.KIDNEY, id="kidneys"),
        pytest.param("Both lungs show several small nodules.", Organ.LUNG, id="lungs"),
        pytest.param("Both breasts contain multiple simple cysts.", Organ.BREAST, id="breasts"),
    ],
)
def test_a_word_for_many_after_both_makes_a_multiple_group(text: str, organ: Organ) -> None:
    assert _count(extract_report(text), organ) == "multiple"


# ----------------------------------------------------------------------------------------------------
# A site outside the vocabulary inherits no organ from the line before (class 4)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("Uterus: 3 cm fibroid\nLeft ovary cystic lesion, 2.5 cm", Organ.UTERUS, id="ovary"),
        pytest.param("Liver: 1 cm cyst\nThyroid nodule 1.4 cm incidentally noted", Organ.LIVER, id="thyroid"),
        pytest.param("Kidney cyst right 1 cm\nMesenteric nodule 8 mm", Organ.KIDNEY, id="mesentery"),
    ],
)
def test_a_foreign_site_lesion_is_not_the_previous_organs(text: str, organ: Organ) -> None:
    assert _count(extract_report(text), organ) == 1


# ----------------------------------------------------------------------------------------------------
# A lung hilum mass is the lung's (class 6)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "side", "mm"),
    [
        pytest.param("Left lung hilum mass, 3.2 cm", Side.LEFT, 32.0, id="note"),
        pytest.param("A 2.5 cm mass at the right lung hilum.", Side.RIGHT, 25.0, id="prose"),
        pytest.param(
            "Right lung hilar mass measuring 5 cm, central carcinoma likely.", Side.RIGHT, 50.0, id="hilar"
        ),
    ],
)
def test_a_lung_hilum_mass_is_a_lung_lesion(text: str, side: Side, mm: float) -> None:
    found = _lesions(extract_report(text), Organ.LUNG)
    assert [(lesion.side, _largest_mm(lesion)) for lesion in found] == [(side, mm)]


# ----------------------------------------------------------------------------------------------------
# A sentence opening with the site gives it to the lesion (class 6)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "where"),
    [
        pytest.param(
            "In the left lateral segment of the liver, a 1.8 cm cyst.",
            Organ.LIVER,
            (None, [2, 3], [], []),
            id="liver-segments",
        ),
        pytest.param(
            "Within the pancreatic tail, a 2 cm hypodense lesion is present.",
            Organ.PANCREAS,
            (None, [], [PancreasPart.TAIL], []),
            id="pancreas-part",
        ),
        pytest.param(
            "In the upper pole of the left kidney, a 1.1 cm cyst is seen.",
            Organ.KIDNEY,
            (Side.LEFT, [], [], [KidneyPole.UPPER_POLE]),
            id="kidney-pole",
        ),
    ],
)
def test_a_fronted_site_gives_its_location(text: str, organ: Organ, where: tuple[object, ...]) -> None:
    found = _lesions(extract_report(text), organ)
    assert [(x.side, x.segments, x.pancreas_parts, x.kidney_poles) for x in found] == [where]


# ----------------------------------------------------------------------------------------------------
# A measured mural nodule is part of its cystic lesion (class 14)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "mm"),
    [
        pytest.param(
            "A 3 cm cyst with a 5 mm mural nodule in the pancreatic tail.", Organ.PANCREAS, 30.0, id="with"
        ),
        pytest.param(
            "Left kidney: 4.1 cm complex cyst containing a 1.2 cm solid mural nodule.",
            Organ.KIDNEY,
            41.0,
            id="containing",
        ),
        pytest.param(
            "A 2.6 cm cystic lesion in the pancreatic head with an 8 mm enhancing mural nodule.",
            Organ.PANCREAS,
            26.0,
            id="enhancing",
        ),
    ],
)
def test_a_measured_mural_nodule_is_no_second_lesion(text: str, organ: Organ, mm: float) -> None:
    found = _lesions(extract_report(text), organ)
    assert [_largest_mm(lesion) for lesion in found] == [mm]


# ----------------------------------------------------------------------------------------------------
# Varices named by an organ adjective are vascular (class 7, organ status)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param("Esophageal varices.\nLiver cirrhotic.", Organ.ESOPHAGUS, id="esophageal"),
        pytest.param("Gastric and esophageal varices, large.", Organ.STOMACH, id="gastric-and-esophageal"),
        pytest.param("Large gastric fundal varices.", Organ.STOMACH, id="fundal"),
    ],
)
def test_varices_do_not_describe_their_organ(text: str, organ: Organ) -> None:
    assert _status(extract_report(text), organ) == "not_mentioned"


# ----------------------------------------------------------------------------------------------------
# A urothelial filling defect is a lesion; a vascular one is not (class 15)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "mm"),
    [
        pytest.param(
            "1.4 cm enhancing filling defect in the left renal pelvis.", Organ.KIDNEY, 14.0, id="pelvis"
        ),
        pytest.param(
            "Bladder: 9 mm filling defect at the dome, suspicious for TCC.", Organ.BLADDER, 9.0, id="bladder"
        ),
        pytest.param(
            "Irregular filling defect of the right renal pelvis, 12 mm.", Organ.KIDNEY, 12.0, id="after"
        ),
    ],
)
def test_a_urothelial_filling_defect_is_a_lesion(text: str, organ: Organ, mm: float) -> None:
    assert [_largest_mm(lesion) for lesion in _lesions(extract_report(text), organ)] == [mm]


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param(
            "Filling defect in the right lower lobe pulmonary artery, an embolus.", Organ.LUNG, id="embolus"
        ),
        pytest.param(
            "Filling defect in the main portal vein near the liver hilum.", Organ.LIVER, id="portal-vein"
        ),
        pytest.param(
            "No filling defect in the collecting systems of either kidney.", Organ.KIDNEY, id="negated"
        ),
    ],
)
def test_a_vascular_or_negated_filling_defect_is_no_lesion(text: str, organ: Organ) -> None:
    assert _lesions(extract_report(text), organ) == []


# ----------------------------------------------------------------------------------------------------
# An opening indication naming a prior finding is history (class 5)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param(
            "Follow-up of a previously described 1.2 cm left adrenal nodule.\nFINDINGS: The adrenal glands"
            " are normal.",
            Organ.ADRENAL_GLAND,
            id="previously-described",
        ),
        pytest.param(
            "Surveillance CT for a known 9 mm pancreatic cyst.\nFINDINGS: No pancreatic cyst is identified.",
            Organ.PANCREAS,
            id="known",
        ),
        pytest.param(
            "Follow-up of prior 6 mm liver hypodensity.\nFINDINGS: Liver: no focal lesion.",
            Organ.LIVER,
            id="prior",
        ),
    ],
)
def test_an_indication_naming_a_prior_finding_adds_no_lesion(text: str, organ: Organ) -> None:
    assert _status(extract_report(text), organ) == "normal"


def test_a_plain_title_line_leaves_the_findings_alone() -> None:
    assert (
        _count(extract_report("Follow-up CT.\nFINDINGS: 1.2 cm liver cyst in segment 3."), Organ.LIVER) == 1
    )


# ----------------------------------------------------------------------------------------------------
# A bilateral group told by its largest member's side is one with its "bilateral" restatement (class 10)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ"),
    [
        pytest.param(
            "FINDINGS: Kidneys: bilateral cysts, the largest on the left measuring 3 cm.\nIMPRESSION:"
            " Bilateral renal cysts.",
            Organ.KIDNEY,
            id="kidneys",
        ),
        pytest.param(
            "FINDINGS: Multiple bilateral pulmonary nodules, the largest in the right upper lobe measuring"
            " 9 mm.\nIMPRESSION: Bilateral pulmonary nodules.",
            Organ.LUNG,
            id="lungs",
        ),
        pytest.param(
            "FINDINGS: Bilateral breast cysts, the largest in the left breast measuring 2.2 cm.\nIMPRESSION:"
            " Bilateral breast cysts.",
            Organ.BREAST,
            id="breasts",
        ),
    ],
)
def test_a_bilateral_restatement_joins_the_group(text: str, organ: Organ) -> None:
    assert len(_lesions(extract_report(text), organ)) == 1


# ----------------------------------------------------------------------------------------------------
# A count in brackets after a plural lesion word (class 14)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param(
            "Liver: metastases (at least four), the largest 2 cm in segment 3.", Organ.LIVER, 4, id="at-least"
        ),
        pytest.param("Renal cysts (n = 3), up to 1.5 cm.", Organ.KIDNEY, 3, id="n-equals"),
        pytest.param(
            "The pulmonary nodules are unchanged in number (ten in total).", Organ.LUNG, 10, id="in-total"
        ),
    ],
)
def test_a_bracketed_count_after_the_noun_counts(text: str, organ: Organ, count: int) -> None:
    assert _count(extract_report(text), organ) == count


def test_a_bracketed_at_least_count_is_a_lower_bound() -> None:
    report = extract_report("Liver: the cysts are stable in number (at least five).")
    assert [(lesion.count, lesion.at_least) for lesion in _lesions(report, Organ.LIVER)] == [(5, True)]


# ----------------------------------------------------------------------------------------------------
# A counted list under an organ header ends at the next organ header (class 8)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "count"),
    [
        pytest.param(
            "RIGHT KIDNEY: Two lesions: upper pole, 2.1 cm cyst; lower pole, 9 mm cyst.\nLEFT KIDNEY:"
            " 10.8 cm. No mass.",
            Organ.KIDNEY,
            2,
            id="kidneys",
        ),
        pytest.param(
            "LEFT ADRENAL: Two nodules: 1.8 cm and 1.1 cm.\nRIGHT ADRENAL: 3.5 cm. Normal.",
            Organ.ADRENAL_GLAND,
            2,
            id="adrenals",
        ),
        pytest.param(
            "RIGHT LUNG: Three nodules: 6 mm; 5 mm; 4 mm.\nLEFT LUNG: 14 cm. Clear.",
            Organ.LUNG,
            3,
            id="lungs",
        ),
    ],
)
def test_a_counted_list_ends_at_the_next_organ_header(text: str, organ: Organ, count: int) -> None:
    assert _count(extract_report(text), organ) == count


# ----------------------------------------------------------------------------------------------------
# A lesion that narrows an organ is not in it (class 16)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "other"),
    [
        pytest.param(
            "A 2.5 cm mass centred in the uncinate process narrows the duodenal sweep.",
            Organ.PANCREAS,
            Organ.DUODENUM,
            id="uncinate",
        ),
        pytest.param(
            "A 4 cm mass in segment 6 narrows the adjacent hepatic flexure.",
            Organ.LIVER,
            Organ.COLON,
            id="segment",
        ),
        pytest.param(
            "A 3 cm lesion of the lower pole narrows the proximal ureter and the colon.",
            Organ.KIDNEY,
            Organ.COLON,
            id="pole",
        ),
    ],
)
def test_a_lesion_that_narrows_an_organ_stays_in_its_own(text: str, organ: Organ, other: Organ) -> None:
    report = extract_report(text)
    assert (len(_lesions(report, organ)), _lesions(report, other)) == (1, [])


# ----------------------------------------------------------------------------------------------------
# A vertebral level with a fracture or degeneration describes the bone (organ status)
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Compression fracture of T12 with mild height loss.", id="compression"),
        pytest.param("Degenerative change at L4-L5.", id="degenerative"),
        pytest.param("Old L2 transverse process fx.", id="fx"),
    ],
)
def test_a_vertebral_fracture_describes_the_bone_as_normal(text: str) -> None:
    assert _status(extract_report(text), Organ.BONE) == "normal"


def test_a_pathologic_fracture_through_a_lesion_keeps_the_lesion() -> None:
    assert _count(extract_report("Lytic lesion in L3 with a pathologic fracture."), Organ.BONE) == 1
