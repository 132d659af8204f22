"""Request and response models of the HTTP API (records themselves are :class:`ReportExtraction`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from api.errors import ErrorBody
from report_extractor.engine import MAX_REPORT_ID_CHARS
from schemas.records import ReportExtraction
from store.jobs import JobStatus

_SPACE: Final[str] = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
"""Exactly the characters for which Python's ``str.isspace()`` is true (what ``strip()`` removes)."""

TEXT_PATTERN: Final[str] = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"
"""Documented pattern of IDs and report text: not blank, no NUL (databases cannot store NUL)."""

MAX_JOB_ID_CHARS: Final[int] = 64
"""Longest job ID accepted in a path (job IDs are UUIDs, 36 characters)."""


def checked_text(value: str) -> str:
    """Reject what :data:`TEXT_PATTERN` forbids, and lone surrogates (not encodable as UTF-8).

    Raises:
        PydanticCustomError: rendered as a 422 naming the field.
    """
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL (\\x00) characters")
    if not value.strip():
        raise PydanticCustomError("blank_string", "must not be blank")
    _check_encodable(value)
    return value


def _check_encodable(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("invalid_unicode", "must be valid Unicode (no lone surrogates)") from None


def checked_metadata(value: object) -> dict[str, Any] | None:
    """Accept a JSON object (or null) whose keys and strings, at any depth, hold no NUL and no lone
    surrogate (no store keeps them: PostgreSQL's JSONB refuses ``\\u0000``).

    Raises:
        PydanticCustomError: rendered as a 422 naming the field.
    """
    if value is not None and not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise PydanticCustomError("nul_character", "must not contain NUL (\\x00) characters")
            _check_encodable(item)
    return value


_TEXT_SCHEMA: Final[dict[str, Any]] = {"pattern": TEXT_PATTERN}

_NulFree = Annotated[str, WithJsonSchema({"type": "string", "not": {"pattern": r"\x00"}})]
MetadataValue = TypeAliasType(
    "MetadataValue",
    "bool | int | float | _NulFree | list[MetadataValue] | dict[_NulFree, MetadataValue] | None",
)
"""Any JSON value without NUL in its strings or keys (documents ``metadata``; :func:`checked_metadata`
enforces it with one readable error)."""

ReportId = Annotated[
    str,
    Field(
        min_length=1, max_length=MAX_REPORT_ID_CHARS, json_schema_extra=_TEXT_SCHEMA, examples=["acc-0001"]
    ),
    AfterValidator(checked_text),
]
"""A report ID in a body: 1–256 characters, not blank, no NUL."""

ReportIdPath = Annotated[
    str,
    Path(min_length=1, max_length=MAX_REPORT_ID_CHARS, json_schema_extra=_TEXT_SCHEMA),
    AfterValidator(checked_text),
]
"""A report ID in a path (same rules as :data:`ReportId`)."""

_JOB_ID_RULES: Final[dict[str, Any]] = {
    "min_length": 1,
    "max_length": MAX_JOB_ID_CHARS,
    "json_schema_extra": _TEXT_SCHEMA,
}
"""The rules of a job ID wherever it is given (path or query)."""

JobIdPath = Annotated[str, Path(**_JOB_ID_RULES), AfterValidator(checked_text)]
"""A job ID in a path (at most :data:`MAX_JOB_ID_CHARS` characters, not blank, no NUL)."""


def _checked_optional_text(value: str | None) -> str | None:
    return None if value is None else checked_text(value)


JobIdQuery = Annotated[
    str | None, Query(description="Only this job.", **_JOB_ID_RULES), AfterValidator(_checked_optional_text)
]
"""An optional job ID in a query (same rules as :data:`JobIdPath`)."""


class ReportIn(BaseModel):
    """One report to extract. ``metadata`` is stored with the report, never logged or prompted."""

    model_config = ConfigDict(extra="forbid")

    report_id: ReportId
    text: Annotated[
        str,
        Field(min_length=1, json_schema_extra=_TEXT_SCHEMA, examples=["Liver: 2 cm cyst in segment VI."]),
        AfterValidator(checked_text),
    ]
    metadata: Annotated[
        dict[str, Any] | None,
        PlainValidator(checked_metadata, json_schema_input_type=dict[_NulFree, MetadataValue] | None),
    ] = None


class BatchIn(BaseModel):
    """Many reports in one request (``POST /v1/extractions:batch``).

    Each item is checked on its own against :class:`ReportIn`: an invalid one gets its own error in
    the answer and never fails the others, so the items are declared as any JSON value here.
    """

    model_config = ConfigDict(extra="forbid")

    reports: Annotated[
        list[Any],
        Field(
            min_length=1,
            description="Reports, each a `ReportIn` object; at most `RSUPER_MAX_BATCH_REPORTS` (maxItems).",
        ),
    ]


class BatchItemStatus(StrEnum):
    """What happened to one report of a batch."""

    OK = "ok"
    """Extracted (or already stored, ``cached``); ``record`` holds the result."""
    FAILED = "failed"
    """The backend failed or answered invalidly; a ``failed`` record is kept, retry later."""
    REJECTED = "rejected"
    """The item is not a valid report (``error`` names the field); nothing was stored."""


class BatchItemOut(BaseModel):
    """The result of one report of a batch, at the item's position."""

    index: int
    report_id: str | None = Field(description="The item's report ID (null when it had no valid one).")
    status: BatchItemStatus
    cached: bool = Field(False, description="The record was already stored; the backend was not called.")
    record: ReportExtraction | None = None
    error: ErrorBody | None = None


class BatchOut(BaseModel):
    """Answer to ``POST /v1/extractions:batch``: one result per report, in request order."""

    ok: int
    failed: int
    rejected: int
    results: list[BatchItemOut]


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
    """Answer to ``POST /v1/jobs`` (202): the job exists and its upload is stored; poll ``status_url``.

    The job is usually still ``creating`` (its rows are being stored in the background, the worker
    already extracts those stored): ``total`` counts the rows stored so far.
    """

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
