"""The compact, LLM-facing schema: what a model is asked to emit, and its conversion to records.

Kept flat and bounded on purpose: enums, ``maxItems`` / ``maxLength`` on every array and string, no
inheritance (no ``allOf``), no free-text justification. That is the subset vLLM's xgrammar backend
enforces, and bounds stop small models from looping to the token cap (measured, issue 4).

Numbers stay as the model read them (value + unit); unit conversion and the evidence check happen in
code (:func:`to_lesion`, and the verifier in ``report_extractor``), never in the model's arithmetic.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.records import (
    Certainty,
    Count,
    CountKind,
    Evidence,
    Lesion,
    LesionKind,
    Malignancy,
    OrganStatus,
    Qualifier,
    Size,
    SizeClass,
    clean_site,
    infer_unit,
)
from schemas.vocabulary import PAIRED_ORGANS, KidneyPole, Organ, PancreasPart, Side

LLM_SCHEMA_VERSION: Final[str] = "llm-1.2"
MAX_LESIONS: Final[int] = 40
MAX_QUOTE_CHARS: Final[int] = 300
MAX_SITE_CHARS: Final[int] = 60
"""Longest ``site`` a model may write (the record allows more; a model needs no more)."""

LLMSideStatus = Literal["lesion", "normal", "absent"]
"""Status of one side of a paired organ, as a model may state it (omitted: not stated)."""


class LLMUnit(StrEnum):
    """Units a model may report a size in."""

    MM = "mm"
    CM = "cm"


class LLMOrgan(BaseModel):
    """One organ the report speaks about; ``left`` / ``right`` for a paired organ whose sides differ."""

    model_config = ConfigDict(extra="forbid")

    organ: Organ
    status: LLMSideStatus
    count: Annotated[int, Field(ge=0, le=99)] | None = None
    at_least: bool = False
    multiple: bool = False
    left: LLMSideStatus | None = None
    right: LLMSideStatus | None = None


class LLMLesion(BaseModel):
    """One lesion or lesion group, with one verbatim evidence quote."""

    model_config = ConfigDict(extra="forbid")

    organ: Organ
    side: Side | None = None
    segments: Annotated[list[Annotated[int, Field(ge=1, le=8)]], Field(max_length=8)] = []
    pancreas_parts: Annotated[list[PancreasPart], Field(max_length=5)] = []
    kidney_poles: Annotated[list[KidneyPole], Field(max_length=3)] = []
    diameters: Annotated[list[Annotated[float, Field(gt=0, le=1000)]], Field(max_length=3)] = []
    unit: LLMUnit | None = None
    qualifier: Qualifier = Qualifier.EQUAL
    size_class: SizeClass | None = None
    count: Annotated[int, Field(ge=1, le=99)] | None = 1
    at_least: bool = False
    multiple: bool = False
    certainty: Certainty = Certainty.DEFINITE
    kind: LesionKind = LesionKind.LESION
    malignancy: Malignancy = Malignancy.UNKNOWN
    site: Annotated[str, Field(max_length=MAX_SITE_CHARS)] | None = None
    quote: Annotated[str, Field(min_length=1, max_length=MAX_QUOTE_CHARS)]


class LLMReport(BaseModel):
    """The whole answer for one report."""

    model_config = ConfigDict(extra="forbid")

    organs: Annotated[list[LLMOrgan], Field(max_length=len(Organ))] = []
    lesions: Annotated[list[LLMLesion], Field(max_length=MAX_LESIONS)] = []


def llm_json_schema() -> dict[str, Any]:
    """JSON Schema of :class:`LLMReport` for structured decoding (``$defs`` + ``$ref``, no ``allOf``)."""
    return LLMReport.model_json_schema()


def llm_json_schema_text() -> str:
    """The schema as compact, deterministic JSON text (for prompts and request bodies)."""
    return json.dumps(llm_json_schema(), separators=(",", ":"), sort_keys=True)


def to_millimetres(values: list[float], unit: LLMUnit | None) -> tuple[float, ...]:
    """Convert diameters to mm; a missing unit is inferred by :func:`schemas.records.infer_unit`."""
    if not values:
        return ()
    if unit is None:
        unit = LLMUnit(infer_unit(values))
    scale = 10.0 if unit is LLMUnit.CM else 1.0
    return tuple(round(v * scale, 3) for v in values)


def to_lesion(item: LLMLesion, evidence: Evidence | None = None) -> Lesion:
    """Convert one model lesion to a validated :class:`Lesion` (units converted in code).

    Fields that do not apply to the organ (segments on a kidney, a side on the liver) are dropped
    rather than rejected: the model was asked for them generically. ``site`` is cleaned
    (:func:`schemas.records.clean_site`: control characters and extra whitespace removed).
    """
    diameters = to_millimetres(item.diameters, item.unit)
    if item.multiple:
        count = Count(kind=CountKind.MULTIPLE, value=None)
    else:
        kind = CountKind.AT_LEAST if item.at_least else CountKind.EXACT
        count = Count(kind=kind, value=item.count or 1)
    return Lesion(
        organ=item.organ,
        side=item.side if item.organ in PAIRED_ORGANS else None,
        liver_segments=tuple(item.segments) if item.organ is Organ.LIVER else (),
        pancreas_parts=tuple(item.pancreas_parts) if item.organ is Organ.PANCREAS else (),
        kidney_poles=tuple(item.kidney_poles) if item.organ is Organ.KIDNEY else (),
        size=Size(diameters_mm=diameters, qualifier=item.qualifier) if diameters else None,
        size_class=None if diameters else item.size_class,
        count=count,
        certainty=item.certainty,
        kind=item.kind,
        malignancy=item.malignancy,
        site=clean_site(item.site),
        evidence=evidence or Evidence(quote=item.quote),
    )


def organ_status(item: LLMOrgan) -> tuple[OrganStatus, Count | None]:
    """Status and count of a model organ entry."""
    status = OrganStatus(item.status)
    if status is not OrganStatus.LESION:
        return status, None
    if item.multiple:
        return status, Count(kind=CountKind.MULTIPLE, value=None)
    if not item.count:
        return status, None
    return status, Count(kind=CountKind.AT_LEAST if item.at_least else CountKind.EXACT, value=item.count)


def organ_sides(item: LLMOrgan) -> tuple[OrganStatus | None, OrganStatus | None]:
    """The per-side statuses (left, right) of a model organ entry; ``(None, None)`` for an unpaired
    organ (dropped like a side on a liver lesion) or when the model stated none."""
    if item.organ not in PAIRED_ORGANS:
        return None, None
    return (
        None if item.left is None else OrganStatus(item.left),
        None if item.right is None else OrganStatus(item.right),
    )
