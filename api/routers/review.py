"""The review API: the queue (``GET /v1/review/queue``), one report for review
(``GET /v1/review/reports/{id}``), agreement figures (``GET /v1/review/stats``) and the review itself
(``POST /v1/reports/{id}/review``). Same auth as every ``/v1/`` route; report text is never logged."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Final

import anyio.to_thread
from fastapi import APIRouter, Body, Query, Response

from api.deps import StoreDep
from api.errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorBody,
    ErrorCode,
    invalid_input,
    not_found,
    store_unavailable,
)
from api.review_schemas import (
    AgreementOut,
    EditIn,
    QueueOut,
    ReviewIn,
    ReviewOut,
    ReviewViewOut,
    StatsOut,
)
from api.schemas import JobIdQuery, ReportIdPath
from schemas.phi import report_ref
from schemas.vocabulary import Organ
from store import (
    ExtractionNotFoundError,
    ReviewConflictError,
    ReviewInputError,
    StoreError,
    StoreInputError,
)
from store.review import REVIEW_FIELDS, WarningKind

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["review"])

_UNAVAILABLE: Final[dict[int | str, dict[str, Any]]] = {
    503: {"model": ErrorBody, "description": "Store unavailable"}
}
_NOT_FOUND: Final[dict[int | str, dict[str, Any]]] = {
    404: {"model": ErrorBody, "description": "No extraction for this report ID"}
}
NO_STORE: Final[dict[str, str]] = {"Cache-Control": "no-store"}
"""Answers that may carry report text are never cached."""


@router.get(
    "/review/queue",
    response_model=QueueOut,
    summary="Records ordered by need of review",
    responses={**ERROR_RESPONSES, **_UNAVAILABLE},
)
async def review_queue(
    store: StoreDep,
    organ: Annotated[Organ | None, Query(description="Only records that speak about this organ.")] = None,
    job_id: JobIdQuery = None,
    warning: Annotated[WarningKind | None, Query(description="Only records with this warning.")] = None,
    include_reviewed: Annotated[bool, Query(description="Also list reviewed records.")] = False,
    low_confidence: Annotated[float, Query(ge=0.0, le=1.0, description="Low-confidence threshold.")] = 0.8,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> QueueOut:
    """Current extractions, most in need of review first: ``failed`` / ``invalid``, disagreement
    between extractor versions, size numbers not in the evidence, unaligned evidence, low confidence.
    Counts cover every record matching the filters."""
    try:
        queue = await anyio.to_thread.run_sync(
            lambda: store.review_queue(
                organ=organ,
                job_id=job_id,
                warning=warning,
                include_reviewed=include_reviewed,
                low_confidence=low_confidence,
                limit=limit,
                offset=offset,
            )
        )
    except StoreInputError as e:
        raise invalid_input(f"query.{e}") from None
    except StoreError as e:
        raise store_unavailable(e) from None
    return QueueOut.model_validate(queue)


@router.get(
    "/review/stats",
    response_model=StatsOut,
    summary="Agreement of each extractor with its reviewers",
    responses={**ERROR_RESPONSES, **_UNAVAILABLE},
)
async def review_stats(store: StoreDep) -> StatsOut:
    """Records reviewed and, per backend / extractor version, the share of each field reviewers changed."""
    try:
        rows = await anyio.to_thread.run_sync(store.review_agreement)
    except StoreError as e:
        raise store_unavailable(e) from None
    return StatsOut(
        reviewed=sum(r.reviewed for r in rows),
        fields=list(REVIEW_FIELDS),
        rows=[AgreementOut.of(r) for r in rows],
    )


@router.get(
    "/review/reports/{report_id}",
    response_model=ReviewViewOut,
    summary="A report for review",
    responses={**ERROR_RESPONSES, **_NOT_FOUND, **_UNAVAILABLE},
)
async def review_report(report_id: ReportIdPath, store: StoreDep, response: Response) -> ReviewViewOut:
    """The current extraction, the report text when the store kept it (``--keep-text``), why it needs
    review, and every stored version."""
    try:
        view = await anyio.to_thread.run_sync(store.review_view, report_id)
    except StoreError as e:
        raise store_unavailable(e) from None
    if view is None:
        raise not_found(f"no extraction for report {report_id!r}")
    response.headers.update(NO_STORE)
    return ReviewViewOut.of(view)


@router.post(
    "/reports/{report_id}/review",
    response_model=ReviewOut,
    summary="Accept or correct a report's current extraction",
    responses={
        **ERROR_RESPONSES,
        **_NOT_FOUND,
        409: {"model": ErrorBody, "description": "The current extraction is not `expected_version`"},
        **_UNAVAILABLE,
    },
)
async def review(
    report_id: ReportIdPath, body: Annotated[ReviewIn, Body(discriminator="action")], store: StoreDep
) -> ReviewOut:
    """Store the review as a new extraction version by ``reviewer:<name>`` (the original is kept); it
    becomes the current extraction, which exports and training read."""
    edit = body if isinstance(body, EditIn) else None
    try:
        saved = await anyio.to_thread.run_sync(
            lambda: store.save_review(
                report_id,
                body.reviewer,
                organs=None if edit is None else edit.organs,
                lesions=None if edit is None else edit.lesions,
                expected_version=body.expected_version,
            )
        )
    except ReviewInputError as e:
        raise invalid_input(f"body.{e}") from None
    except ExtractionNotFoundError:
        raise not_found(f"no extraction for report {report_id!r}") from None
    except ReviewConflictError as e:
        raise ApiError(409, ErrorCode.CONFLICT, str(e)) from None
    except StoreError as e:
        raise store_unavailable(e) from None
    logger.info(
        "review of %s: %s, changed %s",
        report_ref(report_id),
        body.action.value,
        ",".join(saved.changed) or "nothing",
    )
    return ReviewOut(
        record=saved.record, reviewed_version=saved.reviewed_version, changed=list(saved.changed)
    )
