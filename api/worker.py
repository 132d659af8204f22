"""The in-process job worker: asyncio lanes that claim job items from the store and extract them.

Each claimed batch goes through the batch engine shared with ``rsuper extract``
(:func:`report_extractor.batch.extract_batch`) and is finished in one transaction (records saved and
items marked together), so a killed server loses at most the batches in flight: at startup
:meth:`JobWorker.start` puts claimed items back (``requeue_claimed``) and the lanes pick up every
active job (``resumable_jobs``); a job whose rows were still being stored is failed with the reason
(``fail_interrupted_creations``: it holds only part of its upload), and the uploads that belong to no
job being created are deleted (:func:`api.uploads.remove_orphan_uploads`; with several processes,
the stale-claim sweep does both for what is older than ``stale_claim_s``). Reports already extracted with
the same extractor version are marked done without calling the backend, so nothing committed is
redone.

Concurrency towards the backend is bounded by one :class:`anyio.CapacityLimiter` shared with the
API's single-report route; the blocking extractor runs in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final

import anyio
import anyio.to_thread

from api.metrics import Metrics
from api.uploads import remove_orphan_uploads
from report_extractor.batch import OutcomeKind, extract_batch
from report_extractor.engine import Extractor, ReportInput
from store import ClaimedItem, ItemResult, JobStatus, Store, StoreError

logger = logging.getLogger(__name__)

MAX_CREATING: Final[int] = 100_000
"""Most ``creating`` jobs read when matching uploads to their jobs (far more than ever exist)."""


class JobWorker:
    """Extracts pending job items in the background of the API process.

    Args:
        store: the store holding jobs and records.
        extractor: the extractor (its backend is shared with the API routes).
        limiter: bounds backend calls in flight (shared with the API routes).
        metrics: where extraction counts go.
        lanes: concurrent claim-extract-commit loops.
        batch_size: items claimed per backend call.
        poll_s: idle lanes look for new work this often (and whenever :meth:`notify` is called).
        max_chars: longest report accepted (longer ones fail as input errors).
        requeue_on_start: put every claimed item back at startup (one server process).
        stale_claim_s: periodically put back items claimed longer ago than this (0: off).
        upload_dir: the upload folder, swept of uploads that belong to no job being created.
    """

    def __init__(
        self,
        store: Store,
        extractor: Extractor,
        limiter: anyio.CapacityLimiter,
        metrics: Metrics,
        *,
        lanes: int,
        batch_size: int,
        poll_s: float,
        max_chars: int,
        requeue_on_start: bool = True,
        stale_claim_s: float = 0.0,
        upload_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.extractor = extractor
        self.limiter = limiter
        self.metrics = metrics
        self.lanes = lanes
        self.batch_size = batch_size
        self.poll_s = poll_s
        self.max_chars = max_chars
        self.requeue_on_start = requeue_on_start
        self.stale_claim_s = stale_claim_s
        self.upload_dir = upload_dir
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Requeue interrupted items, then start the lanes (returns at once)."""
        if self.requeue_on_start:
            n = await anyio.to_thread.run_sync(self.store.requeue_claimed)
            if n:
                logger.info("requeued %d job items interrupted by the last shutdown", n)
            self._log_interrupted(await anyio.to_thread.run_sync(self._fail_interrupted, None))
            await anyio.to_thread.run_sync(self._remove_orphan_uploads, None)
        self._tasks = [asyncio.create_task(self._lane(i), name=f"job-lane-{i}") for i in range(self.lanes)]
        if self.stale_claim_s > 0:
            self._tasks.append(asyncio.create_task(self._sweeper(), name="job-sweeper"))

    def notify(self) -> None:
        """Wake idle lanes (a job was created or retried)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop the lanes; a batch being extracted finishes and is committed first."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self.poll_s)
        self._wake.clear()

    async def _lane(self, lane: int) -> None:
        while not self._stopping:
            items: list[ClaimedItem] = []
            try:
                items = await anyio.to_thread.run_sync(self._claim)
                if not items:
                    await self._idle()
                    continue
                self.metrics.worker_busy.inc()
                try:
                    await anyio.to_thread.run_sync(self._process, items, limiter=self.limiter)
                finally:
                    self.metrics.worker_busy.dec()
            except StoreError as e:
                logger.error("job lane %d: store error (%s); retrying in %.1fs", lane, e, self.poll_s)
                if items:
                    await anyio.to_thread.run_sync(self._fail_each, items, e)
                await asyncio.sleep(self.poll_s)
            except Exception as e:  # never let one batch end the lane
                logger.exception("job lane %d: unexpected %s on a batch", lane, type(e).__name__)
                if items:
                    await anyio.to_thread.run_sync(self._fail_each, items, e)

    async def _sweeper(self) -> None:
        while not self._stopping:
            await asyncio.sleep(max(self.stale_claim_s / 2, self.poll_s))
            try:
                n = await anyio.to_thread.run_sync(self._requeue_stale)
                if n:
                    logger.warning("requeued %d job items claimed more than %.0fs ago", n, self.stale_claim_s)
                    self.notify()
            except StoreError as e:
                logger.error("stale-claim sweep failed: %s", e)

    def _requeue_stale(self) -> int:
        self._log_interrupted(self._fail_interrupted(timedelta(seconds=self.stale_claim_s)))
        self._remove_orphan_uploads(self.stale_claim_s)
        return self.store.requeue_claimed(older_than=timedelta(seconds=self.stale_claim_s))

    def _remove_orphan_uploads(self, older_than_s: float | None) -> None:
        """Delete the uploads of no ``creating`` job (``older_than_s``: only files not touched for that
        long; ``None`` at the startup of a single process)."""
        if self.upload_dir is None:
            return
        creating = {job.id for job in self.store.list_jobs([JobStatus.CREATING], limit=MAX_CREATING)}
        n = remove_orphan_uploads(self.upload_dir, creating, older_than_s)
        if n:
            logger.warning("deleted %d upload(s) left by an interrupted job creation", n)

    def _fail_interrupted(self, older_than: timedelta | None) -> list[str]:
        return self.store.fail_interrupted_creations(older_than=older_than)

    @staticmethod
    def _log_interrupted(job_ids: list[str]) -> None:
        for job_id in job_ids:
            logger.warning("job %s failed: its creation was interrupted by a shutdown", job_id)

    def _claim(self) -> list[ClaimedItem]:
        for job in self.store.resumable_jobs():
            items = self.store.claim_items(job.id, self.batch_size)
            if items:
                return items
        return []

    def _process(self, items: Sequence[ClaimedItem]) -> None:
        """Extract one claimed batch (the shared batch engine) and finish its items in one transaction."""
        reports = [ReportInput(item.report_id, item.text or "") for item in items]
        outcomes = extract_batch(reports, self.extractor, self.store, max_chars=self.max_chars)
        results = []
        for item, outcome in zip(items, outcomes, strict=True):
            if outcome.kind is OutcomeKind.INPUT_ERROR:
                self.metrics.rejected.inc()
            elif outcome.error_kind in ("backend_unavailable", "backend_error"):
                self.metrics.backend_errors.labels("job", "unavailable").inc()
            results.append(ItemResult(item.item_id, outcome.succeeded, outcome.error, outcome.record))
        self.metrics.observe_records([o.record for o in outcomes if o.record is not None], "job")
        self.store.finish_items(results)

    def _fail_each(self, items: Sequence[ClaimedItem], error: BaseException) -> None:
        """Last resort after an unexpected error: fail every item of the batch, one by one, so a
        bad row can never stop a lane or stay ``running``."""
        message = f"internal error ({type(error).__name__}); retry the job's failed items"
        for item in items:
            try:
                self.store.finish_items([ItemResult(item.item_id, False, message)])
            except Exception as e:  # keep going: the next item may still be recorded
                logger.error("could not record item %d as failed: %s", item.item_id, type(e).__name__)
