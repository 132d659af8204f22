"""Dependencies and their ``Annotated`` aliases, in one place (override them in tests).

Every dependency is ``async def``: none of them blocks, and FastAPI runs a plain ``def`` dependency in
a worker thread (one thread hop per dependency per request).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, ErrorCode
from api.metrics import Metrics
from api.security import AUTHENTICATED, authenticate
from api.services import Services
from api.settings import Settings
from report_extractor.engine import Extractor
from store import Store


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_metrics(request: Request) -> Metrics:
    """The app's metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_services(request: Request) -> Services:
    """The clients built by the lifespan (503 ``not_ready`` while they are not there)."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise ApiError(503, ErrorCode.NOT_READY, "service is starting")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_store(services: ServicesDep) -> Store:
    """The store."""
    return services.store


async def get_extractor(services: ServicesDep) -> Extractor:
    """The extractor (backend + prompts + verification)."""
    return services.extractor


_BEARER = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_X_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`")


async def require_api_key(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None,
    _api_key: Annotated[str | None, Security(_X_API_KEY)] = None,
) -> None:
    """401 unless the request carries a configured API key (no-op in explicit no-auth mode).

    :class:`api.security.AuthMiddleware` has already checked the key of every ``/v1/`` request
    before its body was read; this dependency declares the two schemes in the OpenAPI document and
    checks requests the middleware did not (a protected route outside its paths).
    """
    if request.scope.get(AUTHENTICATED):
        return
    digests: list[bytes] = request.app.state.key_digests
    authenticate(request.headers, digests, required=bool(digests))


async def require_metrics_key(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None,
    _api_key: Annotated[str | None, Security(_X_API_KEY)] = None,
) -> None:
    """Like :func:`require_api_key`, unless ``RSUPER_METRICS_PUBLIC`` opens ``/metrics``."""
    if not settings.metrics_public:
        await require_api_key(request)


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
StoreDep = Annotated[Store, Depends(get_store)]
ExtractorDep = Annotated[Extractor, Depends(get_extractor)]
