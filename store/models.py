"""The store's tables as SQLAlchemy 2 typed ORM classes.

``extractions.record`` holds the full :class:`~schemas.records.ReportExtraction` as JSON (the source of
truth for reads); ``organ_findings`` and ``lesions`` are its relational projection, for queries.
Enumerated columns are plain strings (validated by the pydantic model on the way in), so adding an
enum member needs no migration. The migrations (``store/migrations/versions``) create exactly this
schema; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION: Final[dict[str, str]] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""

ID_LENGTH: Final[int] = 256
"""Maximum report ID length (matches the record model)."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable names for migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        datetime: DateTime(timezone=True),
    }


class ReportRow(Base):
    """One report text (ID + SHA-256 of the text); the text itself only when the caller opted in."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("report_id", "text_sha256", name="uq_reports_report_id_text_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    text_sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExtractionRow(Base):
    """One extraction result, unique per (report ID, text hash, extractor version).

    ``is_current`` marks, per report ID, the current extraction: the latest ``ok`` reviewer's
    correction, else the latest ``ok`` extraction, else the latest of any status; a partial unique
    index keeps it to one row per report. A reviewer's correction (``reviewer`` set: its backend is
    ``reviewer:<name>``) points at the extraction it reviewed (``reviewed_extraction_id``; a plain
    integer, not a foreign key, so that replacing a failed original never touches the review).
    """

    __tablename__ = "extractions"
    __table_args__ = (
        UniqueConstraint(
            "report_id", "text_sha256", "extractor_version", name="uq_extractions_report_id_sha_version"
        ),
        Index(
            "uq_extractions_current_report_id",
            "report_id",
            unique=True,
            sqlite_where=text("is_current = 1"),
            postgresql_where=text("is_current"),
        ),
        Index("ix_extractions_extractor_version_report_id", "extractor_version", "report_id"),
        Index("ix_extractions_is_current_status", "is_current", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    text_sha256: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    backend: Mapped[str] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(256))
    prompt_version: Mapped[str | None] = mapped_column(String(64))
    schema_version: Mapped[str] = mapped_column(String(32))
    provenance: Mapped[dict[str, Any]] = mapped_column(JSONType)
    warnings: Mapped[list[Any]] = mapped_column(JSONType)
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewer: Mapped[str | None] = mapped_column(String(64))
    reviewed_extraction_id: Mapped[int | None] = mapped_column(Integer)


class OrganFindingRow(Base):
    """Status and count of one organ in one extraction (organs the report does not mention: no row)."""

    __tablename__ = "organ_findings"
    __table_args__ = (
        UniqueConstraint("extraction_id", "organ", name="uq_organ_findings_extraction_id_organ"),
        Index("ix_organ_findings_organ_status", "organ", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"))
    organ: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    count_kind: Mapped[str | None] = mapped_column(String(16))
    count_value: Mapped[int | None] = mapped_column(Integer)


class LesionRow(Base):
    """One lesion (or lesion group) of one extraction, in report order (``lesion_index``)."""

    __tablename__ = "lesions"
    __table_args__ = (
        UniqueConstraint("extraction_id", "lesion_index", name="uq_lesions_extraction_id_lesion_index"),
        Index("ix_lesions_organ", "organ"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id", ondelete="CASCADE"))
    lesion_index: Mapped[int] = mapped_column(Integer)
    organ: Mapped[str] = mapped_column(String(32))
    side: Mapped[str | None] = mapped_column(String(16))
    liver_segments: Mapped[list[Any]] = mapped_column(JSONType)
    pancreas_parts: Mapped[list[Any]] = mapped_column(JSONType)
    kidney_poles: Mapped[list[Any]] = mapped_column(JSONType)
    diameters_mm: Mapped[list[Any] | None] = mapped_column(JSONType)
    size_qualifier: Mapped[str | None] = mapped_column(String(8))
    largest_mm: Mapped[float | None] = mapped_column(Float)
    size_class: Mapped[str | None] = mapped_column(String(32))
    count_kind: Mapped[str] = mapped_column(String(16))
    count_value: Mapped[int | None] = mapped_column(Integer)
    certainty: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    malignancy: Mapped[str] = mapped_column(String(16))
    evidence_quote: Mapped[str | None] = mapped_column(Text)
    evidence_start: Mapped[int | None] = mapped_column(Integer)
    evidence_end: Mapped[int | None] = mapped_column(Integer)
    evidence_alignment: Mapped[str | None] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)


class JobRow(Base):
    """A batch extraction job (API service or CLI); counts are kept up to date as items finish."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(1024))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    backend: Mapped[str | None] = mapped_column(String(64))
    extractor_version: Mapped[str | None] = mapped_column(String(128))
    keep_text: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobItemRow(Base):
    """One input row of a job; ``text`` is kept until the row is done (or longer if the job says so)."""

    __tablename__ = "job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "row_index", name="uq_job_items_job_id_row_index"),
        Index("ix_job_items_job_id_status_row_index", "job_id", "status", "row_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    row_index: Mapped[int] = mapped_column(Integer)
    report_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
