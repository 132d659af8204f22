"""The record model: cross-field rules, sizes, counts, and JSON round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.llm import LLMLesion, LLMUnit, llm_json_schema, to_lesion, to_millimetres
from schemas.records import (
    Count,
    CountKind,
    Evidence,
    Lesion,
    OrganFinding,
    OrganStatus,
    Provenance,
    ReportExtraction,
    Size,
    text_sha256,
)
from schemas.vocabulary import Organ, PancreasPart, Side, resolve_organ, resolve_side

PROV = Provenance(backend="test", extractor_version="t")
SHA = text_sha256("report")


def _record(**kwargs: object) -> ReportExtraction:
    return ReportExtraction(report_id="r", text_sha256=SHA, provenance=PROV, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("word", "organ"),
    [
        pytest.param("hepatic", Organ.LIVER, id="hepatic"),
        pytest.param("Renal", Organ.KIDNEY, id="renal"),
        pytest.param("adrenal_gland", Organ.ADRENAL_GLAND, id="enum-value"),
        pytest.param("vesical", Organ.BLADDER, id="vesical"),
        pytest.param("  splenic ", Organ.SPLEEN, id="spaces"),
    ],
)
def test_resolve_organ(word: str, organ: Organ) -> None:
    assert resolve_organ(word) is organ


def test_resolve_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match=r"organ: unknown organ 'heart'"):
        resolve_organ("heart")
    with pytest.raises(ValueError, match=r"side: unknown side 'up'"):
        resolve_side("up")
    assert resolve_side("both") is Side.BILATERAL


def test_pancreas_parts_map_to_mask_level() -> None:
    assert [p.mask_part for p in PancreasPart] == [
        PancreasPart.HEAD,
        PancreasPart.HEAD,
        PancreasPart.HEAD,
        PancreasPart.BODY,
        PancreasPart.TAIL,
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"organ": "liver", "side": "left"}, "side: only paired organs have a side", id="side-liver"
        ),
        pytest.param(
            {"organ": "kidney", "liver_segments": (5,)}, "liver_segments: only liver", id="seg-kidney"
        ),
        pytest.param(
            {"organ": "liver", "liver_segments": (9,)}, "Couinaud segments are 1-8, got 9", id="seg-9"
        ),
        pytest.param(
            {"organ": "liver", "pancreas_parts": ("head",)}, "pancreas_parts: only pancreas", id="part-liver"
        ),
        pytest.param(
            {"organ": "liver", "size": {"diameters_mm": (0,)}},
            "every diameter must be > 0 mm",
            id="zero-size",
        ),
        pytest.param(
            {"organ": "liver", "size": {"diameters_mm": (1, 2, 3, 4)}}, "at most 3 items", id="four-diameters"
        ),
        pytest.param(
            {"organ": "liver", "size": {"diameters_mm": (10,)}, "size_class": "tiny"},
            "size_class: give either",
            id="size-and-class",
        ),
    ],
)
def test_lesion_cross_field_rules(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Lesion.model_validate(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {
                "organs": (OrganFinding(organ=Organ.LIVER, status=OrganStatus.NORMAL),),
                "lesions": (Lesion(organ=Organ.LIVER),),
            },
            "lesions\\[0\\].organ: liver has a lesion but its status is 'normal'",
            id="normal-with-lesion",
        ),
        pytest.param(
            {"lesions": (Lesion(organ=Organ.LIVER),)}, "its status is 'not_mentioned'", id="unlisted-organ"
        ),
        pytest.param(
            {"organs": (OrganFinding(organ=Organ.SPLEEN, status=OrganStatus.LESION),)},
            "organs\\[spleen\\]: status 'lesion' needs lesions or a count > 0",
            id="lesion-nothing",
        ),
        pytest.param(
            {"status": "failed"}, "error: a 'failed' extraction must say why", id="failed-no-reason"
        ),
        pytest.param(
            {"organs": (OrganFinding(organ=Organ.LIVER, status=OrganStatus.NORMAL),) * 2},
            "organs: liver is listed twice",
            id="duplicate-organ",
        ),
    ],
)
def test_report_cross_field_rules(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _record(**kwargs)


def test_normal_organ_cannot_have_a_count() -> None:
    with pytest.raises(ValidationError, match="status 'normal' cannot have lesions"):
        OrganFinding(organ=Organ.LIVER, status=OrganStatus.NORMAL, count=Count(value=2))


def test_multiple_is_not_one() -> None:
    multiple = Count(kind=CountKind.MULTIPLE, value=None)
    assert multiple.minimum == 2
    assert str(multiple) == "multiple"
    with pytest.raises(ValidationError, match=r"count\.value: must be null"):
        Count(kind=CountKind.MULTIPLE, value=1)


def test_implausible_sizes_are_kept_and_flagged() -> None:
    record = _record(
        organs=(OrganFinding(organ=Organ.LIVER, status=OrganStatus.LESION),),
        lesions=(Lesion(organ=Organ.LIVER, size=Size(diameters_mm=(310.0,))),),
    )
    assert record.warnings == ("lesions[0].size: 310 mm exceeds 300 mm",)
    assert ReportExtraction.model_validate_json(record.model_dump_json()) == record


def test_evidence_span_rules() -> None:
    with pytest.raises(ValidationError, match="start and end must both be set"):
        Evidence(quote="x", start=1)
    with pytest.raises(ValidationError, match=r"evidence\.end: must be >= start"):
        Evidence(quote="x", start=5, end=2, alignment="exact")


diameters = st.lists(st.floats(min_value=0.1, max_value=400, allow_nan=False), min_size=1, max_size=3)


@given(diameters)
def test_size_sorted_and_formats_round_trip(values: list[float]) -> None:
    size = Size(diameters_mm=tuple(values))
    assert list(size.diameters_mm) == sorted(size.diameters_mm, reverse=True)
    parsed = tuple(float(x) for x in size.format("mm").split(" x "))
    assert parsed == pytest.approx(size.diameters_mm, abs=1e-3)
    in_cm = tuple(float(x) * 10 for x in size.format("cm").split(" x "))
    assert in_cm == pytest.approx(size.diameters_mm, abs=1e-2)


@given(diameters, st.sampled_from([LLMUnit.MM, LLMUnit.CM]))
def test_unit_conversion_in_code(values: list[float], unit: LLMUnit) -> None:
    converted = to_millimetres(values, unit)
    factor = 10.0 if unit is LLMUnit.CM else 1.0
    assert converted == pytest.approx(tuple(v * factor for v in values), rel=1e-6, abs=1e-3)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([2.3], (23.0,), id="small-unitless-is-cm"),
        pytest.param([12], (12.0,), id="big-unitless-is-mm"),
    ],
)
def test_unitless_heuristic(values: list[float], expected: tuple[float, ...]) -> None:
    assert to_millimetres(values, None) == expected


@given(
    st.builds(
        Lesion,
        organ=st.sampled_from(list(Organ)),
        size=st.none() | st.builds(Size, diameters_mm=diameters.map(tuple)),
        count=st.sampled_from([Count(), Count(kind=CountKind.MULTIPLE, value=None), Count(value=3)]),
    )
)
def test_record_json_round_trip(lesion: Lesion) -> None:
    record = _record(organs=(OrganFinding(organ=lesion.organ, status=OrganStatus.LESION),), lesions=(lesion,))
    assert ReportExtraction.model_validate_json(record.model_dump_json()) == record


def test_llm_schema_is_bounded_and_flat() -> None:
    schema = llm_json_schema()
    text = str(schema)
    assert "allOf" not in text
    assert schema["properties"]["lesions"]["maxItems"] == 40
    quote = schema["$defs"]["LLMLesion"]["properties"]["quote"]
    assert quote["maxLength"] == 300


def test_llm_lesion_drops_fields_that_do_not_apply() -> None:
    item = LLMLesion(
        organ=Organ.LIVER,
        side=Side.LEFT,
        segments=[7],
        pancreas_parts=[PancreasPart.HEAD],
        diameters=[1.5],
        unit=LLMUnit.CM,
        quote="1.5 cm lesion",
    )
    lesion = to_lesion(item)
    assert (lesion.side, lesion.liver_segments, lesion.pancreas_parts) == (None, (7,), ())
    assert lesion.size == Size(diameters_mm=(15.0,))
