"""``POST /v1/extractions``: one report in, its validated record out (stored, idempotent)."""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import APIRouter, Response

from api.deps import ExtractorDep, MetricsDep, ServicesDep, StoreDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody, ErrorCode, invalid_input
from api.queries import find_extraction
from api.schemas import ReportIn
from report_extractor.batch import failed_record
from report_extractor.engine import ReportInput, validate_report
from report_extractor.errors import InputError, ReportExtractorError
from report_extractor.phi import report_ref
from schemas.records import ExtractionStatus, ReportExtraction
from store import StoreError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/extractions", tags=["extractions"])


@router.post(
    "",
    response_model=ReportExtraction,
    summary="Extract one report",
    responses={
        **ERROR_RESPONSES,
        502: {"model": ErrorBody, "description": "The backend failed; the report is stored as failed"},
        503: {"model": ErrorBody, "description": "Backend or store unavailable"},
    },
)
async def create_extraction(
    body: ReportIn,
    response: Response,
    services: ServicesDep,
    store: StoreDep,
    extractor: ExtractorDep,
    metrics: MetricsDep,
) -> ReportExtraction:
    """Extract one report and store the record.

    Idempotent: the same report ID and text with the same extractor version return the stored ``ok``
    record without calling the backend again (header ``X-Rsuper-Cached: true``). A backend failure
    answers 502 (503 when the backend is down) and keeps a ``failed`` record, which the next POST of
    the same report retries.
    """
    report = ReportInput(body.report_id, body.text, dict(body.metadata or {}))
    try:
        validate_report(report, services.settings.max_report_chars)
    except InputError as e:
        raise invalid_input(f"body.{e}") from None
    version = extractor.version
    try:
        stored = await anyio.to_thread.run_sync(
            lambda: find_extraction(store, report.report_id, report.sha256, version)
        )
    except StoreError as e:
        raise _store_down(e) from None
    if stored is not None:
        response.headers["X-Rsuper-Cached"] = "true"
        return stored
    try:
        record = await anyio.to_thread.run_sync(extractor.extract_one, report, limiter=services.limiter)
    except ReportExtractorError as e:
        logger.error("backend unavailable for report %s: %s", report_ref(report.report_id), type(e).__name__)
        metrics.backend_errors.labels("api", "unavailable").inc()
        record = failed_record(extractor, report, f"backend unavailable ({type(e).__name__})")
        await _save(store, record, report, services.settings.keep_text)
        raise ApiError(
            503,
            ErrorCode.BACKEND_UNAVAILABLE,
            "backend unavailable; the report is kept as failed, retry later",
        ) from None
    metrics.observe_records([record], "api")
    written = await _save(store, record, report, services.settings.keep_text)
    if record.status is not ExtractionStatus.OK:
        raise ApiError(
            502,
            ErrorCode.BACKEND_FAILED,
            f"backend {'failed' if record.status is ExtractionStatus.FAILED else 'gave an invalid answer'}"
            "; the report is kept as failed, retry later",
        )
    if not written:  # a concurrent request stored the same key first: answer with that record
        again = await anyio.to_thread.run_sync(
            lambda: find_extraction(store, report.report_id, report.sha256, version)
        )
        return again or record
    return record


async def _save(store: StoreDep, record: ReportExtraction, report: ReportInput, keep_text: bool) -> bool:
    try:
        return await anyio.to_thread.run_sync(
            lambda: store.save_extraction(
                record, text=report.text if keep_text else None, metadata=report.metadata or None
            )
        )
    except StoreError as e:
        raise _store_down(e) from None


def _store_down(e: StoreError) -> ApiError:
    logger.error("store error: %s", type(e).__name__)
    return ApiError(503, ErrorCode.STORE_UNAVAILABLE, "store unavailable, retry later")
