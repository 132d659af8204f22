"""Schema 1.1: per-side statuses of paired organs, the free-text lesion ``site``, 1.0 records still valid."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from schemas.llm import LLMLesion, LLMOrgan, llm_json_schema, organ_sides, to_lesion
from schemas.records import (
    SCHEMA_VERSION,
    SITE_MAX_CHARS,
    Lesion,
    OrganFinding,
    OrganStatus,
    Provenance,
    ReportExtraction,
    clean_site,
    combine_side_statuses,
    sides_with_lesions,
    text_sha256,
)
from schemas.vocabulary import Organ, Side

L, N, A, M = OrganStatus.LESION, OrganStatus.NORMAL, OrganStatus.ABSENT, OrganStatus.NOT_MENTIONED
PROV = Provenance(backend="test", extractor_version="t")
SHA = text_sha256("report")


def _record(**kwargs: object) -> ReportExtraction:
    return ReportExtraction(report_id="r", text_sha256=SHA, provenance=PROV, **kwargs)  # type: ignore[arg-type]


def _kidney(status: OrganStatus, left: OrganStatus | None, right: OrganStatus | None) -> OrganFinding:
    return OrganFinding(organ=Organ.KIDNEY, status=status, left=left, right=right)


@pytest.mark.parametrize(
    ("left", "right", "status"),
    [
        pytest.param(A, N, N, id="left-nephrectomy-right-normal"),
        pytest.param(A, A, A, id="both-absent"),
        pytest.param(A, None, A, id="absent-and-unstated"),
        pytest.param(N, None, N, id="normal-and-unstated"),
        pytest.param(L, N, L, id="lesion-and-normal"),
        pytest.param(A, L, L, id="absent-and-lesion"),
        pytest.param(None, L, L, id="unstated-and-lesion"),
        pytest.param(N, N, N, id="both-normal"),
        pytest.param(None, None, M, id="none-stated"),
        pytest.param(M, M, M, id="both-not-mentioned"),
    ],
)
def test_combine_side_statuses(
    left: OrganStatus | None, right: OrganStatus | None, status: OrganStatus
) -> None:
    assert combine_side_statuses(left, right) is status


def test_left_nephrectomy_with_a_normal_right_kidney_is_representable() -> None:
    record = _record(organs=(_kidney(N, A, N),))
    finding = record.finding(Organ.KIDNEY)
    assert (finding.status, finding.left, finding.right) == (N, A, N)
    assert record.side_status(Organ.KIDNEY, Side.LEFT) is A
    assert record.side_status(Organ.KIDNEY, Side.RIGHT) is N
    assert ReportExtraction.model_validate_json(record.model_dump_json()) == record


def test_side_status_falls_back_to_the_organ_status_without_sides() -> None:
    record = _record(organs=(OrganFinding(organ=Organ.KIDNEY, status=N),))
    assert record.side_status(Organ.KIDNEY, Side.LEFT) is N
    assert record.side_status(Organ.LUNG, Side.LEFT) is M
    assert _record(organs=(_kidney(N, N, None),)).side_status(Organ.KIDNEY, Side.RIGHT) is M


def test_not_mentioned_side_is_stored_as_unset() -> None:
    finding = _kidney(N, N, M)
    assert finding.right is None
    assert finding.has_sides


@pytest.mark.parametrize(
    ("organ", "side_field", "message"),
    [
        pytest.param(
            Organ.LIVER,
            "left",
            r"organs\[liver\]\.left: only paired organs have per-side statuses; liver is not paired",
            id="liver-left",
        ),
        pytest.param(
            Organ.SPLEEN,
            "right",
            r"organs\[spleen\]\.right: only paired organs have per-side statuses; spleen is not paired",
            id="spleen-right",
        ),
    ],
)
def test_sides_only_on_paired_organs(organ: Organ, side_field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OrganFinding.model_validate({"organ": organ, "status": "normal", side_field: "normal"})


@pytest.mark.parametrize(
    ("status", "left", "right", "message"),
    [
        pytest.param(
            A,
            A,
            N,
            r"organs\[kidney\]\.status: its sides \(left 'absent', right 'normal'\) give 'normal', "
            r"got 'absent'",
            id="nephrectomy-said-absent",
        ),
        pytest.param(
            N,
            L,
            N,
            r"its sides \(left 'lesion', right 'normal'\) give 'lesion', got 'normal'",
            id="lesion-side",
        ),
        pytest.param(
            L, N, N, r"its sides \(left 'normal', right 'normal'\) give 'normal'", id="no-lesion-side"
        ),
        pytest.param(N, A, A, r"its sides \(left 'absent', right 'absent'\) give 'absent'", id="both-absent"),
        pytest.param(M, None, N, r"its sides \(left unset, right 'normal'\) give 'normal'", id="unset"),
    ],
)
def test_organ_status_must_agree_with_its_sides(
    status: OrganStatus, left: OrganStatus | None, right: OrganStatus | None, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _kidney(status, left, right)


def _kidney_lesion(side: Side | None) -> Lesion:
    return Lesion(organ=Organ.KIDNEY, side=side)


@pytest.mark.parametrize(
    ("left", "right", "side", "message"),
    [
        pytest.param(
            N,
            L,
            Side.LEFT,
            r"lesions\[0\]\.side: a left kidney lesion, but organs\[kidney\]\.left is 'normal'",
            id="left-on-normal",
        ),
        pytest.param(
            L,
            A,
            Side.RIGHT,
            r"lesions\[0\]\.side: a right kidney lesion, but organs\[kidney\]\.right is 'absent'",
            id="right-on-absent",
        ),
        pytest.param(
            A,
            L,
            Side.BILATERAL,
            r"lesions\[0\]\.side: a bilateral kidney lesion, but organs\[kidney\]\.left is 'absent'",
            id="bilateral-on-absent",
        ),
    ],
)
def test_lesion_may_not_sit_on_a_normal_or_absent_side(
    left: OrganStatus, right: OrganStatus, side: Side, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _record(organs=(_kidney(L, left, right),), lesions=(_kidney_lesion(side),))


@pytest.mark.parametrize(
    ("left", "right", "side"),
    [
        pytest.param(A, L, Side.RIGHT, id="right-lesion-after-left-nephrectomy"),
        pytest.param(L, N, Side.LEFT, id="left-lesion-normal-right"),
        pytest.param(L, L, Side.BILATERAL, id="bilateral"),
        pytest.param(L, None, Side.LEFT, id="right-unstated"),
        pytest.param(A, L, None, id="no-side"),
        pytest.param(A, L, Side.UNKNOWN, id="unknown-side"),
    ],
)
def test_lesion_on_a_lesion_side_or_without_side_is_valid(
    left: OrganStatus | None, right: OrganStatus | None, side: Side | None
) -> None:
    record = _record(organs=(_kidney(L, left, right),), lesions=(_kidney_lesion(side),))
    assert record.lesions[0].side is side


@pytest.mark.parametrize(
    ("left", "right", "sides", "expected"),
    [
        pytest.param(N, N, [Side.LEFT], (L, N), id="normal-left-marked"),
        pytest.param(A, None, [Side.BILATERAL], (L, L), id="bilateral-marks-both"),
        pytest.param(A, N, [None, Side.UNKNOWN], None, id="no-side-no-lesion-side"),
        pytest.param(L, N, [None], (L, N), id="already-lesion"),
    ],
)
def test_sides_with_lesions(
    left: OrganStatus | None,
    right: OrganStatus | None,
    sides: list[Side | None],
    expected: tuple[OrganStatus | None, OrganStatus | None] | None,
) -> None:
    assert sides_with_lesions(left, right, sides) == expected


@pytest.mark.parametrize(
    ("site", "stored"),
    [
        pytest.param("  right lower lobe ", "right lower lobe", id="stripped"),
        pytest.param("   ", None, id="blank-is-none"),
        pytest.param("L3 vertebral body", "L3 vertebral body", id="bone-level"),
        pytest.param("x" * SITE_MAX_CHARS, "x" * SITE_MAX_CHARS, id="at-the-bound"),
    ],
)
def test_site_is_stripped_free_text_on_any_organ(site: str, stored: str | None) -> None:
    assert Lesion(organ=Organ.COLON, site=site).site == stored


@pytest.mark.parametrize(
    ("site", "message"),
    [
        pytest.param("sigmoid\ncolon", r"site: control or format characters are not allowed", id="newline"),
        pytest.param("sig\x00moid", r"site: control or format characters are not allowed", id="nul"),
        pytest.param(
            "x" * (SITE_MAX_CHARS + 1), rf"site: at most {SITE_MAX_CHARS} characters, got 81", id="long"
        ),
    ],
)
def test_site_refuses_control_characters_and_long_text(site: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Lesion(organ=Organ.COLON, site=site)


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        pytest.param(" sigmoid\ncolon\t ", "sigmoid colon", id="control-to-space"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param("word " * 30, ("word " * 16).strip(), id="cut-at-a-word"),
        pytest.param("y" * 100, "y" * SITE_MAX_CHARS, id="cut-inside-a-word"),
    ],
)
def test_clean_site_makes_any_text_a_valid_site(text: str | None, cleaned: str | None) -> None:
    assert clean_site(text) == cleaned
    assert Lesion(organ=Organ.BONE, site=clean_site(text)).site == cleaned


def test_schema_version_is_1_1() -> None:
    assert SCHEMA_VERSION == "1.1"
    assert PROV.schema_version == "1.1"


RECORD_1_0 = {
    "report_id": "old-1",
    "text_sha256": SHA,
    "status": "ok",
    "error": None,
    "organs": [
        {"organ": "kidney", "status": "lesion", "count": {"kind": "exact", "value": 1}},
        {"organ": "liver", "status": "normal", "count": None},
    ],
    "lesions": [
        {
            "organ": "kidney",
            "side": "right",
            "liver_segments": [],
            "pancreas_parts": [],
            "kidney_poles": ["lower_pole"],
            "size": {"diameters_mm": [32.0, 28.0], "qualifier": "="},
            "size_class": None,
            "count": {"kind": "exact", "value": 1},
            "certainty": "definite",
            "kind": "mass",
            "malignancy": "unknown",
            "evidence": None,
            "confidence": 1.0,
        }
    ],
    "provenance": {
        "backend": "fake",
        "model": None,
        "extractor_version": "v0",
        "prompt_version": "p1",
        "schema_version": "1.0",
        "decoding": {},
        "created_at": "2025-01-02T03:04:05Z",
        "duration_s": None,
        "prompt_tokens": None,
        "cached_tokens": None,
        "completion_tokens": None,
        "attempts": 1,
    },
    "warnings": [],
}
"""A record exactly as schema 1.0 wrote it (no ``left`` / ``right``, no ``site``)."""


def test_a_1_0_record_validates_and_round_trips() -> None:
    record = ReportExtraction.model_validate_json(json.dumps(RECORD_1_0))
    assert record.provenance.schema_version == "1.0"
    kidney = record.finding(Organ.KIDNEY)
    assert (kidney.left, kidney.right, record.lesions[0].site) == (None, None, None)
    again = ReportExtraction.model_validate_json(record.model_dump_json())
    assert again == record
    dumped = json.loads(record.model_dump_json())
    assert dumped["provenance"]["schema_version"] == "1.0"
    for organ in dumped["organs"]:
        assert (organ.pop("left"), organ.pop("right")) == (None, None)
    dumped["lesions"][0].pop("site")
    assert dumped == RECORD_1_0


def test_llm_schema_has_bounded_sides_and_site() -> None:
    defs = llm_json_schema()["$defs"]
    left = defs["LLMOrgan"]["properties"]["left"]["anyOf"]
    assert {"enum": ["lesion", "normal", "absent"], "type": "string"} in left
    site = defs["LLMLesion"]["properties"]["site"]["anyOf"]
    assert {"maxLength": 60, "type": "string"} in site
    assert "allOf" not in json.dumps(defs)


def test_llm_site_and_sides_map_to_the_record() -> None:
    lesion = to_lesion(LLMLesion(organ=Organ.LUNG, side=Side.RIGHT, site=" lower\tlobe ", quote="nodule"))
    assert (lesion.side, lesion.site, lesion.size) == (Side.RIGHT, "lower lobe", None)
    kidney = LLMOrgan(organ=Organ.KIDNEY, status="normal", left="absent", right="normal")
    assert organ_sides(kidney) == (A, N)
    assert organ_sides(LLMOrgan(organ=Organ.LIVER, status="normal", left="normal")) == (None, None)
