"""``GET /metrics``: Prometheus text format (API key required unless ``RSUPER_METRICS_PUBLIC=1``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import MetricsDep, require_metrics_key
from api.errors import ErrorBody

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    response_model=None,
    summary="Prometheus metrics",
    dependencies=[Depends(require_metrics_key)],
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        401: {"model": ErrorBody},
    },
)
async def metrics(m: MetricsDep) -> Response:
    """Requests, latency histograms, reports extracted, backend errors, tokens, job batches in flight."""
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
