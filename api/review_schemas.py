"""Request and response models of the review API (``/v1/review/...``, ``POST /v1/reports/{id}/review``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from schemas.records import ExtractionStatus, Lesion, OrganFinding, ReportExtraction
from store import AgreementRow, ReviewView
from store.review import REVIEW_FIELDS, ReviewReason, WarningKind


class ReviewAction(StrEnum):
    """What the reviewer does with the current extraction."""

    ACCEPT = "accept"
    EDIT = "edit"


def _json_objects(value: object) -> list[dict[str, Any]] | None:
    """A list of JSON objects (or null), checked in depth later by the record model, once the report
    is known to exist (so a well-formed review of an unknown report is a 404, not a 422)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise PydanticCustomError("list_type", "Input should be a valid list")
    for item in value:
        if not isinstance(item, dict):
            raise PydanticCustomError("dict_type", "Input should be a list of objects")
    return value


ReviewerName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$",
        description="The reviewer's name; the correction is stored by `reviewer:<name>`.",
        examples=["alice"],
    ),
]
ExpectedVersion = Annotated[
    str | None,
    Field(
        max_length=128,
        description="The extractor version the reviewer looked at; 409 when the current one differs.",
    ),
]


class AcceptIn(BaseModel):
    """Accept the current extraction as it is (stored as a new version by ``reviewer:<name>``)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal[ReviewAction.ACCEPT]
    reviewer: ReviewerName
    expected_version: ExpectedVersion = None


class EditIn(BaseModel):
    """Correct the current extraction: ``lesions`` replaces every lesion (in report order; evidence
    kept as sent), ``organs`` (optional) every organ finding. Without ``organs``, an organ that gets a
    lesion gets status ``lesion``. The result is checked by the record model: a 422 names the field."""

    model_config = ConfigDict(extra="forbid")

    action: Literal[ReviewAction.EDIT]
    reviewer: ReviewerName
    expected_version: ExpectedVersion = None
    lesions: Annotated[
        list[dict[str, Any]], PlainValidator(_json_objects, json_schema_input_type=list[Lesion])
    ]
    organs: Annotated[
        list[dict[str, Any]] | None,
        PlainValidator(_json_objects, json_schema_input_type=list[OrganFinding] | None),
    ] = None


ReviewIn = AcceptIn | EditIn
"""A review: accept the current extraction, or edit it (told apart by ``action``)."""


class ReviewOut(BaseModel):
    """The stored correction (now the report's current extraction) and what the reviewer changed."""

    record: ReportExtraction
    reviewed_version: str
    changed: list[str]


class QueueItemOut(BaseModel):
    """One record of the review queue (no report text)."""

    model_config = ConfigDict(from_attributes=True)

    report_id: str
    extractor_version: str
    backend: str
    status: ExtractionStatus
    reasons: list[ReviewReason]
    score: float
    organs: dict[str, str] = Field(description="Organ → status, for the organs the report speaks about.")
    lesions: int
    min_confidence: float | None
    warning_kinds: list[WarningKind]
    reviewer: str | None


class QueueOut(BaseModel):
    """A page of the review queue, ordered by need of review, with counts over all matching records
    (built from the store's :class:`store.ReviewQueue` with ``model_validate``)."""

    model_config = ConfigDict(from_attributes=True)

    total: int = Field(description="Records matching the filters (reviewed ones only when included).")
    needs_review: int = Field(description="Of those, records with at least one reason.")
    reviewed: int = Field(description="Records matching the filters that a reviewer already checked.")
    by_reason: dict[str, int]
    by_warning: dict[str, int]
    items: list[QueueItemOut]


class VersionOut(BaseModel):
    """One stored extraction of the report."""

    model_config = ConfigDict(from_attributes=True)

    extractor_version: str
    backend: str
    status: str
    is_current: bool
    reviewer: str | None
    created_at: datetime


class ReviewViewOut(BaseModel):
    """A report for review: its current extraction, the text when the store kept it, every version."""

    record: ReportExtraction
    text: str | None = Field(description="The report text when stored with --keep-text, else null.")
    text_kept: bool
    reviewer: str | None = Field(description="Who reviewed the current extraction (null: not reviewed).")
    reasons: list[ReviewReason]
    versions: list[VersionOut]

    @classmethod
    def of(cls, view: ReviewView) -> ReviewViewOut:
        """From the store's review view."""
        return cls(
            record=view.record,
            text=view.text,
            text_kept=view.text is not None,
            reviewer=view.reviewer,
            reasons=list(view.reasons),
            versions=[VersionOut.model_validate(v) for v in view.versions],
        )


class AgreementOut(BaseModel):
    """Agreement of one backend / extractor version with its reviewers."""

    backend: str
    extractor_version: str
    reviewed: int
    changed: dict[str, int] = Field(description="Per field, how many reviewed records the reviewer changed.")
    changed_share: dict[str, float] = Field(description="Per field, the share of reviewed records changed.")

    @classmethod
    def of(cls, row: AgreementRow) -> AgreementOut:
        """From the store's agreement row."""
        return cls(
            backend=row.backend,
            extractor_version=row.extractor_version,
            reviewed=row.reviewed,
            changed=dict(row.changed),
            changed_share={name: round(row.share(name), 4) for name in REVIEW_FIELDS},
        )


class StatsOut(BaseModel):
    """Agreement figures: records reviewed, and per backend / version the share of each field changed."""

    reviewed: int
    fields: list[str]
    rows: list[AgreementOut]
