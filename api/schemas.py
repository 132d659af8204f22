"""Request and response models of the HTTP API (records themselves are :class:`ReportExtraction`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from store.jobs import JobStatus

ReportId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"\S", examples=["acc-0001"])]


class ReportIn(BaseModel):
    """One report to extract. ``metadata`` is stored with the report, never logged or prompted."""

    model_config = ConfigDict(extra="forbid")

    report_id: ReportId
    text: Annotated[str, Field(min_length=1, examples=["Liver: 2 cm cyst in segment VI."])]
    metadata: dict[str, Any] | None = None


class ResultFormat(StrEnum):
    """Formats of ``GET /v1/jobs/{job_id}/results``."""

    JSONL = "jsonl"
    CSV = "csv"
    RSUPER_PER_TUMOR = "rsuper-per-tumor"
    RSUPER_PER_CT = "rsuper-per-ct"


class ColumnsOut(BaseModel):
    """The ID and text columns a file upload was read with."""

    id_column: str
    text_column: str
    detected: bool


class ItemErrorOut(BaseModel):
    """A failed job item (no report text)."""

    row_index: int
    report_id: str
    error: str | None


class JobOut(BaseModel):
    """A batch job's state and progress."""

    job_id: str
    status: JobStatus
    source: str | None
    total: int
    done: int
    failed: int
    pending: int = Field(description="Items neither done nor failed (queued or being extracted).")
    reports_per_s: float | None = Field(description="Finished items per second since the job was created.")
    eta_s: float | None = Field(description="Estimated seconds until the job finishes (active jobs).")
    backend: str | None
    extractor_version: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    errors: list[ItemErrorOut] = Field(default_factory=list, description="The first failed items.")


class JobCreated(BaseModel):
    """Answer to ``POST /v1/jobs`` (202): the job is queued; poll ``status_url``."""

    job_id: str
    status: JobStatus
    total: int
    source: str | None
    columns: ColumnsOut | None = None
    status_url: str
    results_url: str


class Health(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Readiness answer: the store and the backend both answered."""

    status: Literal["ready"] = "ready"
    store: str
    backend: str
