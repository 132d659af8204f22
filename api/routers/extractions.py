"""``POST /v1/extractions``: one report in, its validated record out (stored, idempotent);
``POST /v1/extractions:batch``: many reports in one round trip, one result (or error) per report."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import anyio.to_thread
from fastapi import APIRouter, Response
from pydantic import ValidationError

from api.deps import ExtractorDep, MetricsDep, ServicesDep, StoreDep
from api.errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorBody,
    ErrorCode,
    format_validation_errors,
    invalid_input,
    store_unavailable,
)
from api.schemas import BatchIn, BatchItemOut, BatchItemStatus, BatchOut, ReportIn
from api.services import Services
from report_extractor.batch import OutcomeKind, ReportOutcome, extract_batch, failed_record
from report_extractor.engine import ReportInput, validate_report
from report_extractor.errors import InputError, ReportExtractorError
from schemas.phi import report_ref
from schemas.records import ExtractionStatus, ReportExtraction
from store import SaveRequest, Store, StoreError

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

    Idempotent: the same report ID and text with the same extractor version answer the stored ``ok``
    record (header ``X-Rsuper-Cached: true``) and store nothing new. With a model backend (one that
    sends a prompt) the store is asked first, so the model is not called again; a local backend
    (``rules``) extracts first and the store's upsert (``ON CONFLICT``) keeps the stored record, which
    costs less than a lookup before every extraction. A backend failure answers 502 (503 when the
    backend is down) and keeps a ``failed`` record, which the next POST of the same report retries.
    """
    report = ReportInput(body.report_id, body.text, dict(body.metadata or {}))
    try:
        validate_report(report, services.settings.max_report_chars)
    except InputError as e:
        raise invalid_input(f"body.{e}") from None
    version = extractor.version
    key = (report.report_id, report.sha256)
    if services.lookup_first:
        try:
            stored = await anyio.to_thread.run_sync(lambda: store.find_extractions([key], version).get(key))
        except StoreError as e:
            raise store_unavailable(e) from None
        if stored is not None:
            response.headers["X-Rsuper-Cached"] = "true"
            return stored
    try:
        record = await anyio.to_thread.run_sync(extractor.extract_one, report, limiter=services.limiter)
    except ReportExtractorError as e:
        logger.error("backend unavailable for report %s: %s", report_ref(report.report_id), type(e).__name__)
        metrics.backend_errors.labels("api", "unavailable").inc()
        record = failed_record(extractor, report, f"backend unavailable ({type(e).__name__})")
        if await _save(services, record, report):
            raise ApiError(
                503,
                ErrorCode.BACKEND_UNAVAILABLE,
                "backend unavailable; the report is kept as failed, retry later",
            ) from None
        return await _stored(store, key, version, response, record)
    metrics.observe_records([record], "api")
    if not await _save(services, record, report):  # an ok record with this key is stored: answer it
        return await _stored(store, key, version, response, record)
    if record.status is not ExtractionStatus.OK:
        raise ApiError(
            502,
            ErrorCode.BACKEND_FAILED,
            f"backend {'failed' if record.status is ExtractionStatus.FAILED else 'gave an invalid answer'}"
            "; the report is kept as failed, retry later",
        )
    return record


async def _stored(
    store: Store, key: tuple[str, str], version: str, response: Response, fallback: ReportExtraction
) -> ReportExtraction:
    """The stored ``ok`` record of ``key`` (header ``X-Rsuper-Cached: true``), for a save that found
    it already there."""
    try:
        stored = await anyio.to_thread.run_sync(lambda: store.find_extractions([key], version).get(key))
    except StoreError as e:
        raise store_unavailable(e) from None
    if stored is None:  # deleted meanwhile (a concurrent delete): answer what was extracted
        return fallback
    response.headers["X-Rsuper-Cached"] = "true"
    return stored


_UNAVAILABLE: Final[ErrorBody] = ErrorBody(
    code=ErrorCode.BACKEND_UNAVAILABLE,
    detail="backend unavailable; the report is kept as failed, retry later",
)
_FAILED: Final[ErrorBody] = ErrorBody(
    code=ErrorCode.BACKEND_FAILED, detail="backend failed; the report is kept as failed, retry later"
)
_INVALID: Final[ErrorBody] = ErrorBody(
    code=ErrorCode.BACKEND_FAILED,
    detail="backend gave an invalid answer; the report is kept as failed, retry later",
)


@router.post(
    ":batch",
    response_model=BatchOut,
    summary="Extract many reports in one request",
    responses={
        **ERROR_RESPONSES,
        503: {"model": ErrorBody, "description": "Store unavailable (nothing of the batch is stored)"},
    },
)
async def create_extractions_batch(
    body: BatchIn, services: ServicesDep, store: StoreDep, extractor: ExtractorDep, metrics: MetricsDep
) -> BatchOut:
    """Extract up to ``RSUPER_MAX_BATCH_REPORTS`` reports in one round trip and store them in one
    transaction.

    Every report gets its own result, in request order: ``ok`` with its record (``cached`` when it
    was already stored with this extractor version: the backend is not called again), ``failed``
    (the backend failed; a ``failed`` record is kept and the next request retries it) or
    ``rejected`` (not a valid report: the error names the field, nothing is stored). One bad report
    never fails the others; only an unusable store fails the whole request (503).
    """
    limit = services.settings.max_batch_reports
    if len(body.reports) > limit:
        raise invalid_input(f"body.reports: at most {limit} reports per batch, got {len(body.reports)}")
    results: list[BatchItemOut | None] = [None] * len(body.reports)
    positions: list[int] = []
    reports: list[ReportInput] = []
    for i, item in enumerate(body.reports):
        if not isinstance(item, dict):
            results[i] = _rejected(i, None, f"body.reports.{i}: Input should be a valid dictionary or object")
            continue
        try:
            valid = ReportIn.model_validate(item)
        except ValidationError as e:
            errors = [
                {**err, "loc": ("body", "reports", i, *err["loc"])} for err in e.errors(include_url=False)
            ]
            results[i] = _rejected(i, None, format_validation_errors(errors))
            continue
        positions.append(i)
        reports.append(ReportInput(valid.report_id, valid.text, dict(valid.metadata or {})))
    max_chars = services.settings.max_report_chars
    known_keys = store if services.lookup_first else None
    try:
        outcomes = await anyio.to_thread.run_sync(
            lambda: extract_batch(reports, extractor, known_keys, max_chars=max_chars),
            limiter=services.limiter,
        )
        known, written = await _save_batch(services, outcomes)
    except StoreError as e:
        raise store_unavailable(e) from None
    for i, outcome in zip(positions, outcomes, strict=True):
        results[i] = _batch_item(i, outcome, known, written)
    done = [r for r in results if r is not None]
    metrics.observe_records([o.record for o in outcomes if o.record is not None], "api")
    rejected = sum(1 for r in done if r.status is BatchItemStatus.REJECTED)
    if rejected:
        metrics.rejected.inc(rejected)
    if any(o.error_kind in ("backend_unavailable", "backend_error") for o in outcomes):
        metrics.backend_errors.labels("api", "unavailable").inc()
    ok = sum(1 for r in done if r.status is BatchItemStatus.OK)
    logger.info("batch of %d reports: %d ok, %d rejected", len(done), ok, rejected)
    return BatchOut(ok=ok, failed=len(done) - ok - rejected, rejected=rejected, results=done)


async def _save_batch(
    services: Services, outcomes: Sequence[ReportOutcome]
) -> tuple[dict[tuple[str, str], ReportExtraction], set[tuple[str, str]]]:
    """Save the batch's new records through the process's writer, in one transaction.

    Returns:
        Every record the answer needs by (report ID, text hash): the new ones and those already
        stored ``ok`` (skipped before extracting, or kept by the upsert); and the keys written now
        (any other report of the batch is answered as ``cached``).
    """
    keep_text = services.settings.keep_text
    new = [(o, o.record) for o in outcomes if o.record is not None]
    written = await services.writer.save_many(
        [SaveRequest(rec, o.report.text if keep_text else None, o.report.metadata or None) for o, rec in new]
    )
    known = {_key(o): rec for (o, rec), w in zip(new, written, strict=True) if w}
    wanted = {_key(o) for o in outcomes if o.kind is not OutcomeKind.INPUT_ERROR} - known.keys()
    if wanted:
        store, version = services.store, services.extractor.version
        known.update(await anyio.to_thread.run_sync(lambda: store.find_extractions(wanted, version)))
    return known, {_key(o) for (o, _), w in zip(new, written, strict=True) if w}


def _key(outcome: ReportOutcome) -> tuple[str, str]:
    return outcome.report.report_id, outcome.report.sha256


def _batch_item(
    index: int,
    outcome: ReportOutcome,
    known: dict[tuple[str, str], ReportExtraction],
    written: set[tuple[str, str]],
) -> BatchItemOut:
    report_id = outcome.report.report_id
    if outcome.kind is OutcomeKind.INPUT_ERROR:
        return _rejected(index, report_id, f"body.reports.{index}.{outcome.error}")
    record = known.get(_key(outcome))
    if record is None:  # stored ok earlier, gone since (a concurrent delete): try again
        error = ErrorBody(code=ErrorCode.CONFLICT, detail="the stored record changed meanwhile; retry")
        return BatchItemOut(index=index, report_id=report_id, status=BatchItemStatus.FAILED, error=error)
    cached = outcome.kind is OutcomeKind.SKIPPED or _key(outcome) not in written
    if record.status is ExtractionStatus.OK:
        return BatchItemOut(
            index=index, report_id=report_id, status=BatchItemStatus.OK, cached=cached, record=record
        )
    if outcome.error_kind in ("backend_unavailable", "backend_error"):
        error = _UNAVAILABLE
    else:
        error = _FAILED if record.status is ExtractionStatus.FAILED else _INVALID
    return BatchItemOut(index=index, report_id=report_id, status=BatchItemStatus.FAILED, error=error)


def _rejected(index: int, report_id: str | None, detail: str) -> BatchItemOut:
    error = ErrorBody(code=ErrorCode.INVALID_INPUT, detail=detail)
    return BatchItemOut(index=index, report_id=report_id, status=BatchItemStatus.REJECTED, error=error)


async def _save(services: Services, record: ReportExtraction, report: ReportInput) -> bool:
    """Hand the record to the process's writer; True once committed (False: already stored ``ok``)."""
    text = report.text if services.settings.keep_text else None
    try:
        return await services.writer.save(SaveRequest(record, text, report.metadata or None))
    except StoreError as e:
        raise store_unavailable(e) from None
