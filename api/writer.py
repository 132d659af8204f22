"""One writer per process for the records of API requests, with batched commits.

Request handlers hand their records to :meth:`BatchedWriter.save` (one record) or
:meth:`BatchedWriter.save_many` (the records of one batch request) and wait; one task takes what is
queued (up to ``max_records`` records, waiting at most ``max_wait_s`` for more once the first arrived),
saves it in one transaction (:meth:`store.Store.save_each`) in a worker thread, and answers each
waiting request once that transaction is committed, i.e. when its records are durable. Under load many
requests share one commit instead of each paying a transaction and queueing on SQLite's write lock
(whose busy handler sleeps); alone, a request waits at most ``max_wait_s``.

The records of one request are never split across transactions. A transaction that failed because
of the records' values (the store refused a record: :class:`store.StoreInputError`,
:class:`store.StoreDataError`, or a Python error raised by one record) is retried one request per
transaction, so such records fail only their own request. Any other failure says nothing about the
records (a store that is unavailable, locked by another process, or failing): every request of the
batch gets its error at once (a 503 "retry later"), instead of each waiting its own turn at a busy
timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import anyio.to_thread

from store import SaveRequest, Store, StoreDataError, StoreError, StoreInputError, StoreUnavailableError

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    requests: list[SaveRequest]
    done: asyncio.Future[list[bool]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BatchedWriter:
    """Saves records handed in by concurrent requests in shared transactions (see the module doc).

    Args:
        store: where the records go.
        max_records: most records per transaction (one request with more gets a transaction of its
            own).
        max_wait_s: how long the first record of a batch waits for company (0: take what is queued).
    """

    def __init__(self, store: Store, *, max_records: int = 64, max_wait_s: float = 0.002) -> None:
        if max_records < 1:
            raise ValueError(f"max_records must be >= 1, got {max_records}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0, got {max_wait_s}")
        self.store = store
        self.max_records = max_records
        self.max_wait_s = max_wait_s
        self.commits = 0
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._carry: _Pending | None = None  # taken from the queue, saved in the next transaction
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the writer task (in the running event loop)."""
        self._task = asyncio.create_task(self._run(), name="record-writer")

    async def stop(self) -> None:
        """Save what is queued, then stop the task."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def save(self, request: SaveRequest) -> bool:
        """Save one record; returns once it is committed.

        Returns:
            True when the record was written; False when an ``ok`` record with its key was already
            stored.

        Raises:
            StoreError: the store refused the record or is unavailable.
        """
        return (await self.save_many([request]))[0]

    async def save_many(self, requests: list[SaveRequest]) -> list[bool]:
        """Save the records of one request in one transaction (all or none); returns once committed.

        Returns:
            One flag per record, in order (see :meth:`save`).

        Raises:
            StoreError: the store refused a record (none of them is written) or is unavailable.
        """
        if self._task is None:
            raise StoreUnavailableError("the record writer is not running")
        if not requests:
            return []
        pending = _Pending(list(requests))
        await self._queue.put(pending)
        return await pending.done

    async def _next_batch(self) -> list[_Pending]:
        """The requests of the next transaction: at most ``max_records`` records, unless the first
        request alone has more (a request is never split; one that does not fit waits for the next)."""
        first, self._carry = self._carry, None
        batch = [first if first is not None else await self._queue.get()]
        size = len(batch[0].requests)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while size < self.max_records:
            if not self._queue.empty():
                nxt = self._queue.get_nowait()
            else:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    nxt = await asyncio.wait_for(self._queue.get(), left)
                except TimeoutError:
                    break
            if size + len(nxt.requests) > self.max_records:
                self._carry = nxt
                break
            batch.append(nxt)
            size += len(nxt.requests)
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[_Pending]) -> None:
        requests = [r for p in batch for r in p.requests]
        try:
            written = await anyio.to_thread.run_sync(self.store.save_each, requests)
        except StoreUnavailableError as e:
            _answer_all(batch, e)
            return
        except Exception as e:
            if len(batch) == 1 or not _caused_by_records(e):
                _answer_all(batch, e if isinstance(e, StoreError) else StoreError(type(e).__name__))
                return
            logger.warning(
                "a batch of %d requests failed (%s); saving them one by one", len(batch), type(e).__name__
            )
            for pending in batch:
                await self._commit([pending])
            return
        self.commits += 1
        start = 0
        for pending in batch:
            flags = written[start : start + len(pending.requests)]
            start += len(pending.requests)
            if not pending.done.done():
                pending.done.set_result(flags)


def _caused_by_records(error: Exception) -> bool:
    """Whether one request of a failed transaction may be the cause (then it is split request by
    request): the store refused a record's values, or a record raised a Python error."""
    return isinstance(error, StoreInputError | StoreDataError) or not isinstance(error, StoreError)


def _answer_all(batch: list[_Pending], error: BaseException) -> None:
    for pending in batch:
        if not pending.done.done():
            pending.done.set_exception(error)
