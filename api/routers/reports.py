"""``GET /v1/reports/{report_id}``: the current extraction of a report, evidence spans included."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter

from api.deps import StoreDep
from api.errors import ERROR_RESPONSES, ErrorBody, not_found
from api.schemas import ReportIdPath
from schemas.records import ReportExtraction

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/{report_id}",
    response_model=ReportExtraction,
    summary="Get a report's current extraction",
    responses={**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "No extraction for this ID"}},
)
async def get_report(report_id: ReportIdPath, store: StoreDep) -> ReportExtraction:
    """The current extraction (latest ``ok``, else latest) with each lesion's evidence quote and span."""
    record = await anyio.to_thread.run_sync(store.current_extraction, report_id)
    if record is None:
        raise not_found(f"no extraction for report {report_id!r}")
    return record
