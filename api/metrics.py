"""Prometheus metrics with a registry per app (tests build many apps; no global state).

Request metrics are labelled by route *template* (``/v1/reports/{report_id}``), never by raw path,
so no report ID ends up in a label and label cardinality stays bounded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.records import ReportExtraction

logger = logging.getLogger("api.access")

LATENCY_BUCKETS: Final[tuple[float, ...]] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0
)  # fmt: skip


class Metrics:
    """The service's metrics, registered in their own :class:`CollectorRegistry`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "rsuper_http_requests", "HTTP requests by method, route template and status.",
            ["method", "route", "status"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "rsuper_http_request_duration_seconds", "HTTP request latency by method and route template.",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.reports = Counter(
            "rsuper_reports_extracted", "Reports extracted, by source (api, job) and extraction status.",
            ["source", "status"], registry=r,
        )  # fmt: skip
        self.rejected = Counter(
            "rsuper_reports_rejected", "Job rows rejected before extraction (empty or over-long text).",
            registry=r,
        )  # fmt: skip
        self.backend_errors = Counter(
            "rsuper_backend_errors", "Backend failures (per-report failures and whole-backend errors).",
            ["source", "kind"], registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "rsuper_llm_tokens",
            "LLM tokens used, by kind (prompt, cached, completion).",
            ["kind"],
            registry=r,
        )
        self.extraction_seconds = Histogram(
            "rsuper_extraction_duration_seconds", "Backend time per report.", buckets=LATENCY_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.jobs_created = Counter("rsuper_jobs_created", "Batch jobs created.", registry=r)
        self.worker_busy = Gauge("rsuper_job_batches_in_flight", "Job batches being extracted.", registry=r)

    def observe_records(self, records: Iterable[ReportExtraction], source: str) -> None:
        """Count extracted records, their failures, timings and token usage."""
        for record in records:
            self.reports.labels(source, record.status.value).inc()
            if record.status.value != "ok":
                self.backend_errors.labels(source, record.status.value).inc()
            prov = record.provenance
            if prov.duration_s is not None:
                self.extraction_seconds.observe(prov.duration_s)
            for kind, n in (
                ("prompt", prov.prompt_tokens),
                ("cached", prov.cached_tokens),
                ("completion", prov.completion_tokens),
            ):
                if n:
                    self.tokens.labels(kind).inc(n)


class MetricsMiddleware:
    """Pure ASGI middleware: request count and latency per route template, plus one access-log line
    (method, route template, status, milliseconds; never paths, query strings or bodies)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and record it once the response has been sent (or failed)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "<unmatched>")
            elapsed = time.perf_counter() - started
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            logger.info("%s %s %d %.1fms", method, route, status, elapsed * 1000)
