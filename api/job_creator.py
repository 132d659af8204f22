"""Stores the rows of new jobs in the background, so ``POST /v1/jobs`` answers 202 once the upload is
on disk and the job exists (status ``creating``), not after every row is stored.

Rows go in chunks of :data:`store.jobs.CREATE_CHUNK`, each its own short transaction (other writers,
the job worker included, interleave); the worker is woken after each chunk, so extraction starts while
the rest of a big upload is still being stored. A file that turns out unreadable half-way fails its job
with the row reached and the reason; a shutdown fails the jobs still being created (their uploads are
incomplete), as a restart after a kill would.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
from collections.abc import Callable, Iterator

import anyio.to_thread

from store import Store
from store.jobs import CREATE_CHUNK

logger = logging.getLogger(__name__)

Rows = Iterator[tuple[str, str | None]]


class JobCreator:
    """Background tasks storing the rows of ``creating`` jobs.

    Args:
        store: where the jobs live.
        on_rows: called (in the event loop) after each chunk is stored (wakes the job worker).
        chunk_size: rows per transaction.
    """

    def __init__(self, store: Store, on_rows: Callable[[], None], *, chunk_size: int = CREATE_CHUNK) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.store = store
        self.on_rows = on_rows
        self.chunk_size = chunk_size
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, job_id: str, rows: Rows, cleanup: Callable[[], None] | None = None) -> None:
        """Store ``rows`` (read in worker threads, so a file may back them) into the ``creating`` job
        ``job_id``, then close its creation; ``cleanup`` runs at the end, whatever happened."""
        task = asyncio.create_task(self._create(job_id, rows, cleanup), name="job-creator")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    @property
    def in_progress(self) -> int:
        """Jobs whose rows are being stored now."""
        return len(self._tasks)

    async def stop(self) -> None:
        """Stop storing rows; the jobs left incomplete are failed with the reason."""
        tasks = list(self._tasks.items())
        for _, task in tasks:
            task.cancel()
        for job_id, task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                if await anyio.to_thread.run_sync(self.store.fail_creation, job_id):
                    logger.warning("job %s failed: its creation was interrupted by a shutdown", job_id)
            except Exception as e:  # the store may be gone: shutting down must still complete
                logger.error("job %s: could not be failed at shutdown (%s)", job_id, type(e).__name__)

    async def _create(self, job_id: str, rows: Rows, cleanup: Callable[[], None] | None) -> None:
        start = 0
        try:
            while True:
                try:
                    chunk = await anyio.to_thread.run_sync(
                        lambda: list(itertools.islice(rows, self.chunk_size))
                    )
                except Exception as e:  # any reader error on a user file, after its first rows were read
                    reason = (
                        f"could not read the file after row {start} ({type(e).__name__}); fix it and "
                        "create the job again"
                    )
                    await anyio.to_thread.run_sync(self.store.fail_job, job_id, reason)
                    logger.warning("job %s failed: its file could not be read after row %d", job_id, start)
                    return
                if not chunk:
                    break
                add = functools.partial(self.store.add_job_rows, job_id, chunk, start=start)
                stored = await anyio.to_thread.run_sync(add)
                if not stored:
                    return  # cancelled while being created
                start += len(chunk)
                self.on_rows()
            await anyio.to_thread.run_sync(self.store.close_job_creation, job_id)
            self.on_rows()
            logger.info("job %s created with %d items", job_id, start)
        except Exception as e:  # never escape the task: the job would stay creating, its rows unstored
            # The type name only: a message (e.g. a UnicodeEncodeError's) may quote report text.
            kind = type(e).__name__
            logger.error("job %s: storing its rows failed after row %d (%s)", job_id, start, kind)
            reason = f"storing the rows failed after row {start} ({kind}); create the job again"
            try:
                await anyio.to_thread.run_sync(self.store.fail_job, job_id, reason)
            except Exception as fail_error:
                logger.error("job %s: could not be failed (%s)", job_id, type(fail_error).__name__)
        finally:
            if cleanup is not None:
                try:
                    cleanup()
                except Exception as e:
                    logger.error("job %s: cleaning up its upload failed (%s)", job_id, type(e).__name__)
