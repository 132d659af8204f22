"""Parsing, grounding and verification of backend answers; per-side statuses and sites."""

from __future__ import annotations

import json

import pytest

from report_extractor.backends.fake import FakeBackend
from report_extractor.engine import Extractor, ReportInput
from report_extractor.errors import OutputParseError
from report_extractor.postprocess import (
    UNVERIFIED_CONFIDENCE,
    align_quote,
    build_extraction,
    parse_answer,
)
from schemas.llm import LLMReport
from schemas.records import (
    AlignmentKind,
    CountKind,
    OrganStatus,
    Provenance,
    ReportExtraction,
    text_sha256,
)
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side
from store.review import WarningKind, warning_kind

TEXT = "LIVER: 2.3 x 1.9 cm  mass in segment VII.\nPANCREAS: No focal lesion. Spleen measures 11 cm."
PROV = Provenance(backend="test", extractor_version="t")


def _build(answer: dict[str, object], text: str = TEXT):  # type: ignore[no-untyped-def]
    return build_extraction(
        LLMReport.model_validate(answer),
        report_id="r1",
        text=text,
        text_sha256=text_sha256(text),
        provenance=PROV,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param('{"organs": [', "answer is not valid JSON", id="truncated"),
        pytest.param("not json", "answer is not valid JSON", id="prose"),
        pytest.param('{"lesions": [{"organ": "liver"}]}', "lesions.0.quote: Field required", id="no-quote"),
        pytest.param(
            '{"organs": [{"organ": "heart", "status": "normal"}]}', "organs.0.organ", id="bad-organ"
        ),
        pytest.param('{"organs": [], "why": "x"}', "why: Extra inputs are not permitted", id="extra-field"),
    ],
)
def test_parse_answer_rejects_bad_output_naming_the_field(raw: str, message: str) -> None:
    with pytest.raises(OutputParseError, match=message.replace(".", r"\.")) as info:
        parse_answer(raw)
    assert info.value.raw == raw


@pytest.mark.parametrize(
    ("quote", "kind", "expected"),
    [
        pytest.param(
            "2.3 x 1.9 cm  mass in segment VII", AlignmentKind.EXACT, "2.3 x 1.9 cm  mass", id="exact"
        ),
        pytest.param(
            "2.3 X 1.9 CM mass in segment vii", AlignmentKind.EXACT, "2.3 x 1.9 cm  mass", id="case-space"
        ),
        pytest.param("2.3 x 1.9 cm mass in segmnt VII", AlignmentKind.FUZZY, "2.3 x 1.9 cm", id="typo-fuzzy"),
        pytest.param("a renal cyst of 4 mm in the left kidney", AlignmentKind.UNALIGNED, None, id="absent"),
    ],
)
def test_align_quote(quote: str, kind: AlignmentKind, expected: str | None) -> None:
    evidence = align_quote(quote, TEXT)
    assert evidence.alignment is kind
    if expected is None:
        assert evidence.start is None
    else:
        assert evidence.start is not None
        assert TEXT[evidence.start : evidence.end].startswith(expected)


def test_build_extraction_grounds_converts_units_and_derives_findings() -> None:
    record = _build(
        {
            "organs": [
                {"organ": "liver", "status": "lesion", "count": 1},
                {"organ": "pancreas", "status": "normal"},
            ],
            "lesions": [
                {
                    "organ": "liver",
                    "segments": [7],
                    "diameters": [1.9, 2.3],
                    "unit": "cm",
                    "quote": "2.3 x 1.9 cm  mass in segment VII",
                }
            ],
        }
    )
    (lesion,) = record.lesions
    assert lesion.size is not None
    assert lesion.size.diameters_mm == (23.0, 19.0)
    assert lesion.evidence is not None
    assert lesion.evidence.start == TEXT.index("2.3")
    assert lesion.confidence == 1.0
    assert record.finding(Organ.LIVER).status is OrganStatus.LESION
    assert record.finding(Organ.PANCREAS).status is OrganStatus.NORMAL
    assert record.finding(Organ.KIDNEY).status is OrganStatus.NOT_MENTIONED
    assert record.warnings == ()


def test_size_numbers_missing_from_evidence_are_flagged() -> None:
    # The model "converted" 2.3 cm to 23 mm itself: 23 is not written in the evidence.
    record = _build(
        {
            "organs": [{"organ": "liver", "status": "lesion", "count": 1}],
            "lesions": [
                {"organ": "liver", "diameters": [23, 19], "unit": "mm", "quote": "2.3 x 1.9 cm  mass"}
            ],
        }
    )
    assert record.lesions[0].confidence == UNVERIFIED_CONFIDENCE
    assert record.warnings == ("lesions[0].size: 23, 19 not in the evidence text",)


def test_unaligned_quote_is_kept_and_flagged() -> None:
    record = _build(
        {
            "lesions": [
                {
                    "organ": "kidney",
                    "side": "left",
                    "diameters": [4],
                    "unit": "mm",
                    "quote": "4 mm renal cyst",
                }
            ]
        }
    )
    assert record.lesions[0].evidence is not None
    assert record.lesions[0].evidence.alignment is AlignmentKind.UNALIGNED
    assert "lesions[0].evidence: quote not found in the report" in record.warnings
    # the kidney was not listed by the model, but it has a lesion: status follows the lesion
    assert record.finding(Organ.KIDNEY).status is OrganStatus.LESION


@pytest.mark.parametrize(
    ("organ_entry", "lesions", "kind", "value"),
    [
        pytest.param({"count": 3}, [{}], CountKind.EXACT, 3, id="stated-count-wins"),
        pytest.param(
            {"count": 1}, [{}, {"quote": "mass in segment VII"}], CountKind.EXACT, 2, id="too-small"
        ),
        pytest.param({"multiple": True}, [{}], CountKind.MULTIPLE, None, id="multiple-organ"),
        pytest.param({"count": 1}, [{"multiple": True}], CountKind.MULTIPLE, None, id="multiple-group"),
    ],
)
def test_organ_counts_agree_with_lesions(
    organ_entry: dict[str, object], lesions: list[dict[str, object]], kind: CountKind, value: int | None
) -> None:
    base = {"organ": "liver", "quote": "2.3 x 1.9 cm  mass"}
    record = _build(
        {
            "organs": [{"organ": "liver", "status": "lesion", **organ_entry}],
            "lesions": [{**base, **extra} for extra in lesions],
        }
    )
    count = record.finding(Organ.LIVER).count
    assert count is not None
    assert (count.kind, count.value) == (kind, value)


def test_lesion_status_without_lesions_or_count_becomes_at_least_one() -> None:
    record = _build({"organs": [{"organ": "spleen", "status": "lesion"}]})
    count = record.finding(Organ.SPLEEN).count
    assert count is not None
    assert (count.kind, count.value) == (CountKind.AT_LEAST, 1)


# --- per-side statuses and sites (schema 1.1), unmeasured lesions keep their location ---------------

L, N, A = OrganStatus.LESION, OrganStatus.NORMAL, OrganStatus.ABSENT
SIDES_TEXT = (
    "Status post left nephrectomy. Right kidney: 12 mm cyst in the lower pole. "
    "Tiny hypodensity in segment 4. Sigmoid colon polyp. Subcentimeter lesion in the pancreatic tail."
)


def _build_sides(answer: dict[str, object]) -> ReportExtraction:
    return _build(answer, SIDES_TEXT)


def _kidney_cyst(side: str | None = "right") -> dict[str, object]:
    return {
        "organ": "kidney",
        "side": side,
        "kidney_poles": ["lower_pole"],
        "diameters": [12],
        "unit": "mm",
        "quote": "12 mm cyst in the lower pole",
    }


def test_sides_and_lesion_on_the_remaining_kidney() -> None:
    record = _build_sides(
        {
            "organs": [
                {"organ": "kidney", "status": "lesion", "count": 1, "left": "absent", "right": "lesion"}
            ],
            "lesions": [_kidney_cyst()],
        }
    )
    kidney = record.finding(Organ.KIDNEY)
    assert (kidney.status, kidney.left, kidney.right) == (L, A, L)
    assert not record.warnings


def test_left_nephrectomy_and_normal_right_kidney() -> None:
    record = _build_sides(
        {"organs": [{"organ": "kidney", "status": "normal", "left": "absent", "right": "normal"}]}
    )
    kidney = record.finding(Organ.KIDNEY)
    assert (kidney.status, kidney.left, kidney.right) == (N, A, N)


@pytest.mark.parametrize(
    ("organ", "lesions", "expected", "warning"),
    [
        pytest.param(
            {"organ": "kidney", "status": "absent", "left": "absent", "right": "normal"},
            [],
            (N, A, N),
            "organs: kidney said 'absent' but its per-side statuses give 'normal'; set to normal",
            id="status-from-sides",
        ),
        pytest.param(
            {"organ": "kidney", "status": "lesion", "left": "absent", "right": "normal"},
            [_kidney_cyst()],
            (L, A, L),
            "organs: kidney right said 'normal' but has lesions; set to lesion",
            id="lesion-side-marked",
        ),
        pytest.param(
            {"organ": "kidney", "status": "lesion", "left": "absent", "right": "normal"},
            [_kidney_cyst(side=None)],
            (L, None, None),
            "organs: kidney per-side statuses removed: its lesions have no side",
            id="unsided-lesion-drops-sides",
        ),
        pytest.param(
            {"organ": "kidney", "status": "lesion", "count": 2, "left": "normal", "right": "normal"},
            [],
            (L, None, None),
            "organs: kidney per-side statuses removed: they give no lesion side",
            id="stated-lesion-outweighs-sides",
        ),
        pytest.param(
            {"organ": "liver", "status": "normal", "left": "normal"},
            [],
            (N, None, None),
            None,
            id="unpaired-sides-dropped",
        ),
    ],
)
def test_sides_are_reconciled_with_status_and_lesions(
    organ: dict[str, object],
    lesions: list[dict[str, object]],
    expected: tuple[OrganStatus, OrganStatus | None, OrganStatus | None],
    warning: str | None,
) -> None:
    record = _build_sides({"organs": [organ], "lesions": lesions})
    finding = record.finding(Organ(str(organ["organ"])))
    assert (finding.status, finding.left, finding.right) == expected
    if warning is None:
        assert not record.warnings
    else:
        assert record.warnings == (warning,)
        assert warning_kind(warning) is WarningKind.ORGAN_STATUS_CORRECTED


UNMEASURED = {
    "organs": [
        {"organ": "liver", "status": "lesion", "count": 1},
        {"organ": "colon", "status": "lesion", "count": 1},
        {"organ": "pancreas", "status": "lesion", "count": 1},
        {"organ": "kidney", "status": "lesion", "count": 1, "left": "absent", "right": "lesion"},
    ],
    "lesions": [
        {"organ": "liver", "segments": [4], "size_class": "tiny", "quote": "Tiny hypodensity in segment 4"},
        {"organ": "colon", "site": "sigmoid", "quote": "Sigmoid colon polyp"},
        {
            "organ": "pancreas",
            "pancreas_parts": ["tail"],
            "size_class": "subcentimeter",
            "quote": "Subcentimeter lesion in the pancreatic tail",
        },
        {
            "organ": "kidney",
            "side": "right",
            "kidney_poles": ["lower_pole"],
            "quote": "cyst in the lower pole",
        },
    ],
}
"""Four unmeasured lesions, each with its location."""


def _locations(record: ReportExtraction) -> list[tuple[object, ...]]:
    return [
        (x.liver_segments, x.pancreas_parts, x.side, x.kidney_poles, x.site, x.size) for x in record.lesions
    ]


EXPECTED_LOCATIONS = [
    ((4,), (), None, (), None, None),
    ((), (), None, (), "sigmoid", None),
    ((), (PancreasPart.TAIL,), None, (), None, None),
    ((), (), Side.RIGHT, (KidneyPole.LOWER_POLE,), None, None),
]


def test_unmeasured_lesions_keep_their_location_in_postprocess() -> None:
    assert _locations(_build_sides(UNMEASURED)) == EXPECTED_LOCATIONS


def test_the_engine_with_the_fake_backend_keeps_sides_site_and_locations() -> None:
    backend = FakeBackend(answers={"r1": json.dumps(UNMEASURED)})
    record = Extractor(backend).extract_one(ReportInput("r1", SIDES_TEXT))
    assert _locations(record) == EXPECTED_LOCATIONS
    kidney = record.finding(Organ.KIDNEY)
    assert (kidney.left, kidney.right) == (A, L)
    assert record.provenance.schema_version == "1.1"
