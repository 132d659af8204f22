"""``GET /healthz`` (the process is up) and ``GET /readyz`` (store and backend answer). No API key."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Final

import anyio
import anyio.to_thread
from fastapi import APIRouter

from api.deps import ServicesDep
from api.errors import ApiError, ErrorBody, ErrorCode
from api.schemas import Health, Readiness
from report_extractor.errors import ReportExtractorError
from store import StoreError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])

READY_TIMEOUT_S: Final[float] = 0.8
"""Longest wait for the store's write check (readiness is answered within about a second)."""


def _check_upload_dir(path: Path) -> None:
    """Create (if needed) and write a probe file in the upload folder; OSError when that fails."""
    path.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path, prefix=".ready-"):
        pass


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
    """200 when a write would succeed now, else 503 ``not_ready`` (answered within about a second).

    Checks: the store takes a write (SQLite: the file exists and its write lock is free; PostgreSQL:
    the server answers and is not read-only), the upload folder is writable, the backend's check
    passes.
    """
    try:
        with anyio.fail_after(READY_TIMEOUT_S):
            await anyio.to_thread.run_sync(
                services.store.check_writable, READY_TIMEOUT_S / 2, abandon_on_cancel=True
            )
    except (StoreError, TimeoutError) as e:
        logger.warning("readiness: store cannot take a write (%s)", type(e).__name__)
        raise ApiError(503, ErrorCode.NOT_READY, "store cannot take a write now") from None
    try:
        await anyio.to_thread.run_sync(_check_upload_dir, services.settings.upload_dir)
    except OSError as e:
        logger.warning("readiness: upload folder not writable (%s)", type(e).__name__)
        raise ApiError(503, ErrorCode.NOT_READY, "upload folder not writable") from None
    backend = services.extractor.backend
    try:
        await anyio.to_thread.run_sync(backend.check)
    except (ReportExtractorError, OSError) as e:
        logger.warning("readiness: backend %s not reachable (%s)", backend.name, type(e).__name__)
        raise ApiError(503, ErrorCode.NOT_READY, f"backend {backend.name!r} not reachable") from None
    return Readiness(store=services.store.dialect, backend=backend.version)
