"""Per-side statuses of paired organs and lesion sites, end to end through the rules extractor
(:mod:`report_extractor.rules.sides`, :func:`report_extractor.rules.resections.removed_sides`)."""

from __future__ import annotations

import pytest

from report_extractor.postprocess import build_extraction
from report_extractor.rules import extract_report
from report_extractor.rules.resections import read_resections
from report_extractor.rules.sections import split_report
from report_extractor.rules.sides import organ_sides
from schemas.records import OrganStatus, Provenance, ReportExtraction, text_sha256
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side

L, N, A = OrganStatus.LESION, OrganStatus.NORMAL, OrganStatus.ABSENT


def _record(text: str) -> ReportExtraction:
    """The validated record the rules answer gives (no reconciliation warning allowed)."""
    record = build_extraction(
        extract_report(text),
        report_id="t",
        text=text,
        text_sha256=text_sha256(text),
        provenance=Provenance(backend="rules", extractor_version="test"),
    )
    assert not [w for w in record.warnings if w.startswith("organs:")]
    return record


def _sides(
    record: ReportExtraction, organ: Organ
) -> tuple[OrganStatus, OrganStatus | None, OrganStatus | None]:
    finding = record.finding(organ)
    return finding.status, finding.left, finding.right


# --------------------------------------------------------------------------------------------------
# End to end: reports that speak of the sides
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "expected"),
    [
        pytest.param(
            "HISTORY: Renal cell carcinoma, s/p left radical nephrectomy in 2019.\n"
            "FINDINGS: The right kidney enhances symmetrically and is unremarkable.",
            Organ.KIDNEY,
            (N, A, N),
            id="left-nephrectomy-normal-right-kidney",
        ),
        pytest.param(
            "Status post left nephrectomy. The remaining kidney is normal in size without focal lesion.",
            Organ.KIDNEY,
            (N, A, N),
            id="left-nephrectomy-unsided-remnant-normal",
        ),
        pytest.param(
            "Prior right nephrectomy. 1.6 cm exophytic cyst of the kidney.",
            Organ.KIDNEY,
            (L, L, A),
            id="right-nephrectomy-unsided-lesion-on-the-remaining-left",
        ),
        pytest.param(
            "Status post left nephrectomy.",
            Organ.KIDNEY,
            (A, A, None),
            id="left-nephrectomy-alone-stays-absent",
        ),
        pytest.param(
            "ADRENALS: Bilateral adrenal nodules, the right 1.9 cm and the left 1.1 cm, both lipid-rich.",
            Organ.ADRENAL_GLAND,
            (L, L, L),
            id="bilateral-adrenal-nodules-measured",
        ),
        pytest.param(
            "Small bilateral adrenal nodules, unchanged.",
            Organ.ADRENAL_GLAND,
            (L, L, L),
            id="bilateral-adrenal-nodules",
        ),
        pytest.param(
            "Status post right upper lobectomy. New 5 mm solid nodule in the left lower lobe.",
            Organ.LUNG,
            (L, L, None),
            id="right-lobectomy-left-nodule-lobectomy-removes-no-side",
        ),
        pytest.param(
            "Status post right pneumonectomy. New 5 mm solid nodule in the left lower lobe.",
            Organ.LUNG,
            (L, L, A),
            id="right-pneumonectomy-left-nodule",
        ),
        pytest.param(
            "A 2.4 cm enhancing mass in the lower pole of the left kidney. The right kidney is normal.",
            Organ.KIDNEY,
            (L, L, N),
            id="lesion-left-normal-right",
        ),
        pytest.param(
            "KIDNEYS:\n- Right: 3 cm simple cyst\n- Left: normal",
            Organ.KIDNEY,
            (L, N, L),
            id="side-list-labels",
        ),
        pytest.param(
            "LEFT ADRENAL: Normal.\nRIGHT ADRENAL: Normal.",
            Organ.ADRENAL_GLAND,
            (N, N, N),
            id="side-headers-normal",
        ),
        pytest.param(
            "Left mastectomy. Right breast without mass.",
            Organ.BREAST,
            (N, A, N),
            id="left-mastectomy-right-breast",
        ),
    ],
)
def test_sides_spoken_of_separately(
    text: str, organ: Organ, expected: tuple[OrganStatus, OrganStatus | None, OrganStatus | None]
) -> None:
    assert _sides(_record(text), organ) == expected


@pytest.mark.parametrize(
    ("text", "organ", "status"),
    [
        pytest.param("The kidneys are unremarkable.", Organ.KIDNEY, N, id="kidneys-normal"),
        pytest.param("Both adrenal glands are normal.", Organ.ADRENAL_GLAND, N, id="both-adrenals-normal"),
        pytest.param("Right and left kidneys enhance normally.", Organ.KIDNEY, N, id="right-and-left"),
        pytest.param("Lungs clear.", Organ.LUNG, N, id="lungs-clear"),
        pytest.param(
            "Nonobstructing renal calculus. Simple renal cyst, 11 mm.", Organ.KIDNEY, L, id="unsided-lesion"
        ),
        pytest.param("Status post nephrectomy.", Organ.KIDNEY, A, id="unsided-nephrectomy"),
        pytest.param("Liver: normal.", Organ.KIDNEY, OrganStatus.NOT_MENTIONED, id="not-mentioned"),
    ],
)
def test_no_sides_when_the_report_does_not_speak_of_them(
    text: str, organ: Organ, status: OrganStatus
) -> None:
    assert _sides(_record(text), organ) == (status, None, None)


# --------------------------------------------------------------------------------------------------
# Stage functions
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "lesion_sides", "removed", "normal", "expected"),
    [
        pytest.param(N, [], [Side.LEFT], [Side.RIGHT], (A, N), id="resected-and-normal"),
        pytest.param(A, [], [Side.RIGHT], [], (None, A), id="resected-only"),
        pytest.param(N, [], [Side.RIGHT], [], (N, A), id="resected-remnant-described-unsided"),
        pytest.param(L, [None], [Side.RIGHT], [], (L, A), id="unsided-lesion-after-resection"),
        pytest.param(L, [Side.BILATERAL], [], [], (L, L), id="bilateral-lesion"),
        pytest.param(
            L, [Side.LEFT], [Side.LEFT], [Side.LEFT], (L, None), id="lesion-outweighs-resected-and-normal"
        ),
        pytest.param(
            L, [Side.UNKNOWN], [], [Side.RIGHT], (None, None), id="unsided-lesion-next-to-normal-dropped"
        ),
        pytest.param(N, [], [], [], (None, None), id="nothing-stated"),
        pytest.param(A, [], [Side.LEFT, Side.RIGHT], [Side.LEFT], (A, A), id="resected-outweighs-normal"),
    ],
)
def test_organ_sides(
    status: OrganStatus,
    lesion_sides: list[Side | None],
    removed: list[Side],
    normal: list[Side],
    expected: tuple[OrganStatus | None, OrganStatus | None],
) -> None:
    assert organ_sides(status, lesion_sides, removed, normal) == expected


@pytest.mark.parametrize(
    ("text", "organ", "sides"),
    [
        pytest.param(
            "Status post right radical nephrectomy.", Organ.KIDNEY, {Side.RIGHT}, id="two-words-before"
        ),
        pytest.param(
            "The left kidney has been surgically removed.", Organ.KIDNEY, {Side.LEFT}, id="inside-phrase"
        ),
        pytest.param("Solitary right kidney.", Organ.KIDNEY, {Side.LEFT}, id="solitary-is-the-other"),
        pytest.param("Bilateral mastectomies.", Organ.BREAST, {Side.LEFT, Side.RIGHT}, id="bilateral"),
        pytest.param("LEFT ADRENAL: Surgically absent.", Organ.ADRENAL_GLAND, {Side.LEFT}, id="side-header"),
        pytest.param("Prior adrenalectomy.", Organ.ADRENAL_GLAND, None, id="unsided"),
        pytest.param("Right upper lobectomy.", Organ.LUNG, None, id="lobectomy-is-no-resection"),
        pytest.param(
            "Status post partial left nephrectomy.",
            Organ.KIDNEY,
            None,
            id="partial-nephrectomy-keeps-the-side",
        ),
        pytest.param("Right partial mastectomy.", Organ.BREAST, None, id="partial-mastectomy-keeps-the-side"),
    ],
)
def test_removed_sides(text: str, organ: Organ, sides: set[Side] | None) -> None:
    resections = read_resections(text, split_report(text))
    found = resections.sides.get(organ)
    assert (set(found) if found is not None else None) == sides


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Right upper lobectomy.", id="lobectomy"),
        pytest.param("Status post partial left nephrectomy.", id="partial-nephrectomy"),
        pytest.param("Right partial mastectomy.", id="partial-mastectomy"),
        pytest.param("Nephron-sparing surgery: left wedge nephrectomy.", id="wedge-nephrectomy"),
    ],
)
def test_partial_resections_of_paired_organs_remove_no_organ(text: str) -> None:
    resections = read_resections(text, split_report(text))
    assert (resections.complete, resections.remnant, resections.sides) == (frozenset(), frozenset(), {})


# --------------------------------------------------------------------------------------------------
# Sites and unmeasured locations, end to end
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "organ", "side", "site"),
    [
        pytest.param(
            "8 mm part-solid nodule in the right lower lobe.", Organ.LUNG, Side.RIGHT, "lower lobe", id="lung"
        ),
        pytest.param(
            "Subsolid nodule in the lingula, 6 mm.", Organ.LUNG, Side.LEFT, "lingula", id="lingula-left"
        ),
        pytest.param(
            "Apple-core lesion of the transverse colon, 4 cm.",
            Organ.COLON,
            None,
            "transverse colon",
            id="colon",
        ),
        pytest.param("Sigmoid colon: 2 cm polypoid mass.", Organ.COLON, None, "sigmoid", id="colon-header"),
        pytest.param(
            "Lytic lesion in the T7 vertebral body, 1.5 cm.", Organ.BONE, None, "T7", id="bone-level"
        ),
        pytest.param(
            "Sclerotic metastasis of the left acetabulum.",
            Organ.BONE,
            None,
            "left acetabulum",
            id="bone-named",
        ),
        pytest.param(
            "Left breast, 2 o'clock: 8 mm oval mass.",
            Organ.BREAST,
            Side.LEFT,
            "2 o'clock",
            id="breast-clock-no-count",
        ),
        pytest.param(
            "Fungating mass of the gastric fundus, 5 cm.", Organ.STOMACH, None, "fundus", id="stomach"
        ),
        pytest.param(
            "1.3 cm nodule in the lateral limb of the left adrenal gland.",
            Organ.ADRENAL_GLAND,
            Side.LEFT,
            "lateral limb",
            id="adrenal-limb",
        ),
    ],
)
def test_lesion_site(text: str, organ: Organ, side: Side | None, site: str) -> None:
    (lesion,) = _record(text).lesions_of(organ)
    assert (lesion.side, lesion.site) == (side, site)


@pytest.mark.parametrize(
    ("text", "organ", "location"),
    [
        pytest.param(
            "Tiny hypodensity in hepatic segment 3, too small to characterize.",
            Organ.LIVER,
            {"liver_segments": (3,)},
            id="liver-segment",
        ),
        pytest.param(
            "Subcentimeter cystic focus in the pancreatic neck.",
            Organ.PANCREAS,
            {"pancreas_parts": (PancreasPart.NECK,)},
            id="pancreas-part",
        ),
        pytest.param(
            "Small hyperdense cyst in the interpolar right kidney, not measured.",
            Organ.KIDNEY,
            {"side": Side.RIGHT, "kidney_poles": (KidneyPole.INTERPOLAR,)},
            id="kidney-pole-side",
        ),
        pytest.param(
            "Tiny nodule in the left upper lobe.",
            Organ.LUNG,
            {"side": Side.LEFT, "site": "upper lobe"},
            id="lung-site",
        ),
        pytest.param(
            "RIGHT LUNG, MIDDLE LOBE: spiculated nodule, not measurable.",
            Organ.LUNG,
            {"side": Side.RIGHT, "site": "middle lobe"},
            id="header-site",
        ),
        pytest.param(
            "FINDINGS: Left kidney: 3.1 cm enhancing lesion.\n"
            "IMPRESSION: Enhancing lesion of the upper pole of the left kidney.",
            Organ.KIDNEY,
            {"side": Side.LEFT, "kidney_poles": (KidneyPole.UPPER_POLE,)},
            id="restatement-fills-the-pole",
        ),
    ],
)
def test_unmeasured_lesion_keeps_its_location(text: str, organ: Organ, location: dict[str, object]) -> None:
    (lesion,) = _record(text).lesions_of(organ)
    assert {key: getattr(lesion, key) for key in location} == location
