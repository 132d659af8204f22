"""Batch jobs: create from an upload or a JSON array, poll progress, stream results, cancel, retry."""

from __future__ import annotations

import contextlib
import itertools
import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Final

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter, ValidationError

from api.deps import MetricsDep, ServicesDep, StoreDep
from api.errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorBody,
    ErrorCode,
    invalid_input,
    not_found,
    store_unavailable,
)
from api.job_creator import Rows
from api.results import MEDIA_TYPES, stream_results
from api.schemas import ColumnsOut, ItemErrorOut, JobCreated, JobIdPath, JobOut, ReportIn, ResultFormat
from api.services import Services
from api.uploads import ALLOWED_SUFFIXES, MEDIA_TYPE_SUFFIXES, Upload, receive_upload
from report_extractor.errors import InputError
from report_extractor.ingest import ReportTable
from store import JobInfo, JobNotFoundError, JobStateError, JobStatus, Store, StoreError
from store.jobs import ACTIVE_JOB_STATUSES

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

MAX_JSON_REPORTS: Final[int] = 100_000
"""Largest JSON-array job (bigger batches: upload a file)."""
ERRORS_SHOWN: Final[int] = 20
_REPORTS = TypeAdapter(list[ReportIn])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No job with this ID"}
}

_CREATE_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "additionalProperties": False,
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": f"A table of reports: a file named {', '.join(ALLOWED_SUFFIXES)}, "
                            "or sent with one of the declared media types",
                        },
                        "id_col": {"type": "string", "description": "Report ID column (default: detect)"},
                        "text_col": {"type": "string", "description": "Report text column (default: detect)"},
                    },
                },
                "encoding": {"file": {"contentType": ", ".join(MEDIA_TYPE_SUFFIXES)}},
            },
            "application/json": {
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_JSON_REPORTS,
                    "items": {"$ref": "#/components/schemas/ReportIn"},
                }
            },
        },
    }
}


def job_out(job: JobInfo, errors: list[ItemErrorOut] | None = None) -> JobOut:
    """The API view of a job: counts, rate (finished items per second since creation) and ETA."""
    finished = job.done + job.failed
    elapsed = (job.updated_at - job.created_at).total_seconds()
    rate = finished / elapsed if finished and elapsed > 0 else None
    active = job.status in ACTIVE_JOB_STATUSES
    eta = job.remaining / rate if active and rate else (0.0 if not active else None)
    return JobOut(
        job_id=job.id,
        status=job.status,
        source=job.source,
        total=job.total,
        done=job.done,
        failed=job.failed,
        pending=job.remaining,
        reports_per_s=None if rate is None else round(rate, 3),
        eta_s=None if eta is None else round(eta, 1),
        backend=job.backend,
        extractor_version=job.extractor_version,
        error=job.error,
        created_at=job.created_at,
        updated_at=job.updated_at,
        errors=errors or [],
    )


def _created(job: JobInfo, request: Request, columns: ColumnsOut | None) -> JobCreated:
    base = str(request.url_for("get_job", job_id=job.id).path)
    return JobCreated(
        job_id=job.id,
        status=job.status,
        total=job.total,
        source=job.source,
        columns=columns,
        status_url=base,
        results_url=f"{base}/results",
    )


def _open_table(services: Services, upload: Upload) -> tuple[JobInfo, ColumnsOut, Rows]:
    """Open an uploaded table and its job (blocking: run in a thread). The columns and the first row
    are read here (a file that is no table, or has no data rows, is a 422); the rows are stored later,
    in the background (:class:`api.job_creator.JobCreator`)."""
    try:
        table = ReportTable(upload.path, upload.fields.get("id_col"), upload.fields.get("text_col"))
        rows = iter(table)
        first = next(rows, None)
        if first is None:
            raise invalid_input("body.file: the file has no data rows")
    except InputError as e:
        message = str(e).replace("--id-col", "id_col").replace("--text-col", "text_col")
        raise invalid_input(f"body.file: {message}") from None
    except ApiError:
        raise
    except Exception as e:  # any reader error on a user file (zip, encoding, parquet, ...) is a 422
        raise invalid_input(f"body.file: could not read the file ({type(e).__name__})") from None
    job = services.store.get_job(_open(services, upload.filename, job_id=upload.path.name.split(".", 1)[0]))
    c = table.columns
    columns = ColumnsOut(id_column=c.id_column, text_column=c.text_column, detected=c.detected)
    items = ((row.report_id or "", row.text) for row in itertools.chain([first], rows))
    return job, columns, items


def _open(services: Services, source: str | None, job_id: str | None = None) -> str:
    """Open a ``creating`` job; an upload's job takes its file's UUID as ID (see
    :func:`api.uploads.remove_orphan_uploads`)."""
    return services.store.open_job(
        source=source,
        backend=services.extractor.backend.name,
        extractor_version=services.extractor.version,
        keep_text=services.settings.keep_text,
        job_id=job_id,
    )


@router.post(
    "",
    status_code=202,
    response_model=JobCreated,
    summary="Create a batch job",
    openapi_extra=_CREATE_BODY,
    responses={**ERROR_RESPONSES, 415: {"model": ErrorBody, "description": "Unsupported content or file"}},
)
async def create_job(request: Request, services: ServicesDep, metrics: MetricsDep) -> JobCreated:
    """Queue a batch: a multipart upload (``file`` + optional ``id_col`` / ``text_col``) streamed to
    disk, or a JSON array of ``{report_id, text}``.

    Answers 202 as soon as the upload is stored and its columns checked: the job is ``creating``
    while its rows are stored in the background (``total`` counts the rows stored so far), and the
    worker starts extracting them at once; poll ``status_url``.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    columns: ColumnsOut | None = None
    try:
        if ctype == "multipart/form-data":
            upload = await receive_upload(request, services.settings.upload_dir)
            try:
                job, columns, rows = await anyio.to_thread.run_sync(_open_table, services, upload)
            except BaseException:
                with contextlib.suppress(OSError):
                    upload.path.unlink()
                raise
            services.creator.start(job.id, rows, cleanup=lambda: upload.path.unlink(missing_ok=True))
        elif ctype == "application/json":
            reports = _parse_reports(await request.body())
            job = await anyio.to_thread.run_sync(lambda: services.store.get_job(_open(services, "json")))
            services.creator.start(job.id, iter([(r.report_id, r.text) for r in reports]))
        else:
            raise ApiError(
                415,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                "send multipart/form-data (a file) or application/json (an array of reports)",
            )
    except StoreError as e:
        raise store_unavailable(e, "creating a job") from None
    metrics.jobs_created.inc()
    logger.info("job %s accepted; its rows are being stored", job.id)
    return _created(job, request, columns)


def _parse_reports(body: bytes) -> list[ReportIn]:
    try:
        reports = _REPORTS.validate_json(body)
    except ValidationError as e:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in e.errors(include_url=False)]
        raise RequestValidationError(errors) from None
    if not reports:
        raise invalid_input("body: List should have at least 1 item after validation, not 0")
    if len(reports) > MAX_JSON_REPORTS:
        raise invalid_input(f"body: at most {MAX_JSON_REPORTS} reports per JSON job; upload a file instead")
    return reports


async def _job(store: Store, job_id: str) -> JobInfo:
    try:
        return await anyio.to_thread.run_sync(store.get_job, job_id)
    except JobNotFoundError:
        raise not_found(f"no job {job_id!r}") from None


@router.get(
    "/{job_id}", response_model=JobOut, summary="Job status", responses={**ERROR_RESPONSES, **_NOT_FOUND}
)
async def get_job(job_id: JobIdPath, store: StoreDep) -> JobOut:
    """Status, counts (done / failed / pending), reports/s, ETA, and the first failed items."""
    job = await _job(store, job_id)
    errors = []
    if job.failed:
        found = await anyio.to_thread.run_sync(lambda: store.item_errors(job_id, limit=ERRORS_SHOWN))
        errors = [ItemErrorOut(row_index=e.row_index, report_id=e.report_id, error=e.error) for e in found]
    return job_out(job, errors)


@router.get(
    "/{job_id}/results",
    response_class=StreamingResponse,
    response_model=None,
    summary="Stream a job's results",
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}, "description": "Streamed results"},
        **ERROR_RESPONSES,
        **_NOT_FOUND,
    },
)
async def get_results(
    job_id: JobIdPath,
    store: StoreDep,
    fmt: Annotated[ResultFormat, Query(alias="format")] = ResultFormat.JSONL,
) -> StreamingResponse:
    """The job's results so far (partial while it runs; header ``X-Job-Status``), streamed."""
    job = await _job(store, job_id)
    ext = "jsonl" if fmt is ResultFormat.JSONL else "csv"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        stream_results(store, job_id, job.extractor_version, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "X-Job-Status": job.status.value,
            "Content-Disposition": f'attachment; filename="job-{job.id}-{fmt.value}-{stamp}.{ext}"',
        },
    )


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    summary="Cancel a job",
    responses={**ERROR_RESPONSES, **_NOT_FOUND, 409: {"model": ErrorBody, "description": "Job finished"}},
)
async def cancel_job(job_id: JobIdPath, store: StoreDep) -> JobOut:
    """Stop claiming the job's items (a batch in flight still finishes). 409 when already finished."""
    job = await _job(store, job_id)
    if job.status in ACTIVE_JOB_STATUSES:
        job = await anyio.to_thread.run_sync(store.cancel_job, job_id)
        if job.status is JobStatus.CANCELLED:
            return job_out(job)
    raise ApiError(409, ErrorCode.CONFLICT, f"job {job_id!r} is already {job.status.value}")


@router.post(
    "/{job_id}/retry",
    response_model=JobOut,
    summary="Retry a job's failed items",
    responses={
        **ERROR_RESPONSES,
        **_NOT_FOUND,
        409: {
            "model": ErrorBody,
            "description": (
                "Job cancelled, still being created, or failed (its upload was not fully stored: "
                "create the job again)"
            ),
        },
    },
)
async def retry_job(job_id: JobIdPath, services: ServicesDep) -> JobOut:
    """Put the job's failed items back in the queue (e.g. after a backend outage) and reactivate it.

    Refused with 409: a cancelled job (reactivating it would also run the rows the cancel stopped), a
    job still being created, and a ``failed`` job (its creation failed: its upload was not fully
    stored, so it is created again instead).
    """
    store = services.store
    await _job(store, job_id)
    try:
        n = await anyio.to_thread.run_sync(store.retry_failed, job_id)
    except JobStateError as e:
        raise ApiError(409, ErrorCode.CONFLICT, str(e)) from None
    if n:
        services.worker.notify()
    return job_out(await _job(store, job_id))
