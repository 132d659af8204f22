"""The clients the service builds once per process (in the app's lifespan) and shares."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from api.job_creator import JobCreator
from api.metrics import Metrics
from api.settings import Settings
from api.worker import JobWorker
from api.writer import BatchedWriter
from report_extractor.backends import Backend, create_backend
from report_extractor.engine import Extractor
from store import Store, init_store

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Services:
    """Everything a request handler needs; built by :func:`open_services`, closed by :meth:`close`."""

    settings: Settings
    store: Store
    extractor: Extractor
    limiter: anyio.CapacityLimiter
    worker: JobWorker
    writer: BatchedWriter
    creator: JobCreator
    owns_store: bool
    owns_backend: bool

    @property
    def lookup_first(self) -> bool:
        """Whether the extraction routes ask the store for a stored record before extracting.

        True for model backends (they send a prompt: a call costs far more than a lookup). A local
        backend (``rules``, ``fake``) extracts at once and the store's upsert keeps a stored ``ok``
        record, so the common case (a new report) costs no lookup.
        """
        return self.extractor.backend.uses_prompt

    async def close(self) -> None:
        """Save what the writer holds, stop storing new jobs' rows and the worker, then release what
        this process opened."""
        await self.writer.stop()
        await self.creator.stop()
        await self.worker.stop()
        if self.owns_backend:
            await anyio.to_thread.run_sync(self.extractor.backend.close)
        if self.owns_store:
            self.store.close()


def build_backend(settings: Settings) -> Backend:
    """The configured backend; ``fake`` honours ``RSUPER_FAKE_DELAY_S`` (a slow stand-in for tests)."""
    options: dict[str, Any] = {}
    if settings.backend == "fake" and settings.fake_delay_s > 0:
        options["delay_s"] = settings.fake_delay_s
    return create_backend(settings.backend, settings.model, **options)


async def open_services(
    settings: Settings, metrics: Metrics, *, store: Store | None = None, backend: Backend | None = None
) -> Services:
    """Open the store (migrating it), build the backend and extractor, start the job worker and the
    record writer.

    ``store`` / ``backend`` given by the caller (tests) are used as they are and not closed here.
    """
    owns_store, owns_backend = store is None, backend is None
    if store is None:
        store = await anyio.to_thread.run_sync(lambda: init_store(settings.store_url))
    if backend is None:
        backend = build_backend(settings)
    extractor = Extractor(backend)
    limiter = anyio.CapacityLimiter(settings.backend_concurrency)
    worker = JobWorker(
        store,
        extractor,
        limiter,
        metrics,
        lanes=settings.backend_concurrency,
        batch_size=settings.job_batch_size,
        poll_s=settings.job_poll_s,
        max_chars=settings.max_report_chars,
        requeue_on_start=settings.requeue_on_start,
        stale_claim_s=settings.stale_claim_s,
        upload_dir=settings.upload_dir,
    )
    await worker.start()
    writer = BatchedWriter(
        store, max_records=settings.write_batch_max, max_wait_s=settings.write_batch_wait_ms / 1000
    )
    writer.start()
    creator = JobCreator(store, worker.notify)
    logger.info("service ready: store %s, extractor %s", store.url, extractor.version)
    return Services(settings, store, extractor, limiter, worker, writer, creator, owns_store, owns_backend)
