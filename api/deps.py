"""Dependencies and their ``Annotated`` aliases, in one place (override them in tests).

Every dependency is ``async def``: none of them blocks, and FastAPI runs a plain ``def`` dependency in
a worker thread (one thread hop per dependency per request).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import Depends, Request, Security, params
from fastapi._compat import field_annotation_is_sequence  # what FastAPI itself reads a list by
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, ErrorCode, invalid_input
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


async def reject_repeated_query(request: Request) -> None:
    """422 when a single-valued query parameter of the matched route is given more than once.

    FastAPI would take the last value (``?job_id=&job_id=abc`` passes, the reverse fails), so which
    one counts depends on the order; a client sending two values has a bug, which is named instead.
    List-valued parameters (``list[...]`` annotations) may repeat.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    single = _single_valued_query(route)
    counts = Counter(name for name, _ in request.query_params.multi_items() if name in single)
    repeated = sorted(name for name, n in counts.items() if n > 1)
    if repeated:
        raise invalid_input(
            "; ".join(f"query.{name}: given {counts[name]} times, give it once" for name in repeated)
        )


_SINGLE_QUERY = "rsuper_single_valued_query"
"""Attribute caching, on each route, the names of its single-valued query parameters."""


def _single_valued_query(route: APIRoute) -> frozenset[str]:
    """The names (aliases) of the query parameters of ``route``, its dependencies' included, that
    take one value (computed once per route; routes are not hashable, so it is kept on the route)."""
    names: frozenset[str] | None = getattr(route, _SINGLE_QUERY, None)
    if names is None:
        names = frozenset(
            field.alias
            for field in get_flat_params(route.dependant)
            if isinstance(field.field_info, params.Query)
            and not field_annotation_is_sequence(field.field_info.annotation)
        )
        setattr(route, _SINGLE_QUERY, names)
    return names


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
StoreDep = Annotated[Store, Depends(get_store)]
ExtractorDep = Annotated[Extractor, Depends(get_extractor)]
