"""``GET /healthz`` (the process is up) and ``GET /readyz`` (store and backend answer). No API key."""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import APIRouter

from api.deps import ServicesDep
from api.errors import ApiError, ErrorBody, ErrorCode
from api.schemas import Health, Readiness
from report_extractor.errors import ReportExtractorError
from store import StoreError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """200 while the process serves requests (checks nothing else)."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={503: {"model": ErrorBody, "description": "Store or backend not reachable"}},
)
async def readyz(services: ServicesDep) -> Readiness:
    """200 when the store answers ``SELECT 1`` and the backend's check passes, else 503 ``not_ready``."""
    try:
        await anyio.to_thread.run_sync(services.store.ping)
    except StoreError as e:
        logger.warning("readiness: store not reachable (%s)", type(e).__name__)
        raise ApiError(503, ErrorCode.NOT_READY, "store not reachable") from None
    backend = services.extractor.backend
    try:
        await anyio.to_thread.run_sync(backend.check)
    except (ReportExtractorError, OSError) as e:
        logger.warning("readiness: backend %s not reachable (%s)", backend.name, type(e).__name__)
        raise ApiError(503, ErrorCode.NOT_READY, f"backend {backend.name!r} not reachable") from None
    return Readiness(store=services.store.dialect, backend=backend.version)
