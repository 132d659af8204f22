"""The FastAPI application factory.

>>> app = create_app(Settings(allow_no_auth=True, store_url="sqlite://"))   # doctest: +SKIP

``create_app`` checks the configuration at once (no API keys and no explicit no-auth mode → it
refuses); the lifespan opens the store, builds the backend once and starts the job worker.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.deps import reject_repeated_query, require_api_key
from api.errors import install_error_handlers
from api.limits import BodyLimitMiddleware
from api.metrics import Metrics, MetricsMiddleware
from api.routers import extractions, health, jobs, metrics, reports, review, review_page
from api.security import AuthMiddleware
from api.services import open_services
from api.settings import Settings
from report_extractor.backends import Backend
from store import Store

logger = logging.getLogger(__name__)

try:
    VERSION = version("rsuper")
except PackageNotFoundError:  # a source tree without installation
    VERSION = "0.0.0+source"


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, backend: Backend | None = None
) -> FastAPI:
    """Build the service.

    Args:
        settings: configuration (default: read from ``RSUPER_*`` environment variables).
        store: an open store to use instead of opening ``settings.store_url`` (tests).
        backend: a backend to use instead of building ``settings.backend`` (tests).

    Raises:
        SettingsError: no API keys configured and ``RSUPER_ALLOW_NO_AUTH`` not set, or a key too short.
    """
    settings = settings or Settings()
    digests = settings.check_auth()
    if not digests:
        logger.warning("RSUPER_ALLOW_NO_AUTH is set: the API accepts requests without a key (development)")
    app_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await open_services(settings, app_metrics, store=store, backend=backend)
        app.state.services = services
        try:
            yield
        finally:
            app.state.services = None
            await services.close()

    app = FastAPI(
        title="rsuper report structuring service",
        version=VERSION,
        summary="Free-text CT reports in, validated tumor records out (R-Super).",
        lifespan=lifespan,
    )
    _document_limits(app, settings)
    app.state.settings = settings
    app.state.metrics = app_metrics
    app.state.key_digests = digests
    app.state.services = None
    install_error_handlers(app)

    # every /v1 route: the key, and a single-valued query parameter given once
    authenticated = [Depends(require_api_key), Depends(reject_repeated_query)]
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(extractions.router, dependencies=authenticated)
    app.include_router(jobs.router, dependencies=authenticated)
    app.include_router(reports.router, dependencies=authenticated)
    app.include_router(review.router, dependencies=authenticated)
    app.include_router(review_page.router)  # the page holds no data; its requests carry the key

    # Added last = outermost. From the outside in: metrics see every response; CORS answers
    # preflights and decorates errors too; the key is checked before anything reads the body; the
    # limiter bounds the body (the upload limit only on the upload route).
    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
        upload_paths=frozenset({jobs.router.prefix}),  # POST /v1/jobs
    )
    app.add_middleware(AuthMiddleware, digests=digests, metrics_public=settings.metrics_public)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    app.add_middleware(MetricsMiddleware, metrics=app_metrics)
    return app


def _document_limits(app: FastAPI, settings: Settings) -> None:
    """Write the configured batch size into the OpenAPI document (``maxItems`` of a batch)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            reports = schema["components"]["schemas"]["BatchIn"]["properties"]["reports"]
            reports["maxItems"] = settings.max_batch_reports
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
