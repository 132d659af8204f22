"""Batch jobs in the store: a job row plus one item per input row, claimed by workers.

Lifecycle: :meth:`~JobQueueMixin.open_job` makes a ``creating`` job; its rows are stored chunk by
chunk with :meth:`~JobQueueMixin.add_job_rows` (each chunk its own short transaction; workers may
already claim the items stored) and :meth:`~JobQueueMixin.close_job_creation` makes it ``pending``
(:meth:`~JobQueueMixin.create_job` does all three). Workers :meth:`~JobQueueMixin.claim_items` (job
``running``, items ``running``) → :meth:`~JobQueueMixin.finish_items` (records saved and items marked
done / failed in one transaction) → the job is ``done`` when every item is finished. A job whose
creation stopped half-way (a kill, an unreadable file) is ``failed`` (:meth:`~JobQueueMixin.fail_creation`,
:meth:`~JobQueueMixin.fail_interrupted_creations`): it holds part of its upload and is neither resumed
nor retried. After a restart, :meth:`~JobQueueMixin.requeue_claimed` puts the items that were in
flight back to ``pending`` and :meth:`~JobQueueMixin.resumable_jobs` lists the jobs to pick up again.

Item text is kept only as long as it is needed: it is cleared when the item is done unless the job was
created with ``keep_text=True`` (then it is also stored with the report). Failed items keep their text
so that :meth:`~JobQueueMixin.retry_failed` can run them again.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from schemas.records import ReportExtraction, text_sha256
from store.base import StoreBase, as_utc
from store.errors import JobNotFoundError, JobStateError, StoreInputError
from store.models import ID_LENGTH, Base, JobItemRow, JobRow, utcnow
from store.writer import SaveRequest, save_requests

MAX_CLAIM: Final[int] = 1_000
"""Upper bound on items claimed at once."""


class JobStatus(StrEnum):
    """State of a batch job."""

    CREATING = "creating"
    """Its rows are still being stored (chunk by chunk); items stored so far may already run."""
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES: Final[tuple[JobStatus, ...]] = (JobStatus.CREATING, JobStatus.PENDING, JobStatus.RUNNING)
"""Job states whose items may still be claimed."""

JOB_ID_LENGTH: Final[int] = 36
"""Longest job ID the ``jobs`` table holds (a UUID string)."""

CREATE_CHUNK: Final[int] = 2_000
"""Job rows inserted per transaction by :meth:`JobQueueMixin.create_job` and the service's job creator
(``api.job_creator``), one :meth:`JobQueueMixin.add_job_rows` call each: bounds how long a big upload
holds the write lock."""


class ItemStatus(StrEnum):
    """State of one job item (``running`` = claimed by a worker)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job's state and progress counts."""

    id: str
    status: JobStatus
    source: str | None
    total: int
    done: int
    failed: int
    backend: str | None
    extractor_version: str | None
    keep_text: bool
    error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def remaining(self) -> int:
        """Items neither done nor failed."""
        return self.total - self.done - self.failed

    @classmethod
    def from_row(cls, row: JobRow) -> JobInfo:
        """Build from a ``jobs`` row."""
        return cls(
            id=row.id,
            status=JobStatus(row.status),
            source=row.source,
            total=row.total,
            done=row.done,
            failed=row.failed,
            backend=row.backend,
            extractor_version=row.extractor_version,
            keep_text=row.keep_text,
            error=row.error,
            created_at=as_utc(row.created_at),
            updated_at=as_utc(row.updated_at),
        )


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """An item handed to a worker: what it needs to extract one report."""

    item_id: int
    job_id: str
    row_index: int
    report_id: str
    text: str | None
    text_sha256: str | None


@dataclass(frozen=True, slots=True)
class ItemError:
    """A failed item, for per-row error reports (no report text)."""

    row_index: int
    report_id: str
    error: str | None


@dataclass(frozen=True, slots=True)
class JobItemView:
    """A job item without its text (for result pages)."""

    row_index: int
    report_id: str
    text_sha256: str | None
    status: str
    error: str | None


_ITEMS = Base.metadata.tables[JobItemRow.__tablename__]
_FINISH = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .values(status=bindparam("new_status"), error=bindparam("new_error"), updated_at=bindparam("at"))
)
_FINISH_CLEARING_TEXT = _FINISH.values(text=None)
"""Finish job items (Core executemany, no ORM objects); the second also drops the item's text."""

ITEM_PAGE: Final[int] = 500
"""Job items per query when paging (well below the parameter limits of SQLite and PostgreSQL)."""


_SURROGATES: Final = re.compile("[\ud800-\udfff]")
"""Lone surrogates: a ``str`` may hold them (e.g. JSON ``"\\ud800"``), UTF-8 cannot encode them."""


def _encodes(value: str) -> bool:
    """Whether ``value`` encodes as UTF-8 (holds no lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _item_values(job_id: str, row_index: int, report_id: str, text: str | None) -> dict[str, Any]:
    """The ``job_items`` row of one input row; rows the database cannot hold (over-long ID, NUL, text
    that does not encode as UTF-8) become failed items with the reason, stored without their text."""
    problem = None
    if not _encodes(report_id):
        problem = "report_id: holds a lone surrogate (not valid Unicode); it cannot be encoded as UTF-8"
        report_id = _SURROGATES.sub("\ufffd", report_id)
    if len(report_id) > ID_LENGTH:
        problem = problem or f"report_id: has {len(report_id)} characters, more than the limit of {ID_LENGTH}"
        report_id = f"{report_id[: ID_LENGTH - 24]}...#{text_sha256(report_id)[:16]}"
    if "\x00" in report_id:
        problem = problem or "report_id: must not contain NUL (\\x00) characters"
        report_id = report_id.replace("\x00", "\ufffd")
    if text is not None and "\x00" in text:
        problem = problem or "text: must not contain NUL (\\x00) characters"
    if text is not None and problem is None and not _encodes(text):
        problem = "text: holds a lone surrogate (not valid Unicode); it cannot be encoded as UTF-8"
    if problem is not None:  # stored without its text: it cannot be extracted as it is
        return {
            "job_id": job_id,
            "row_index": row_index,
            "report_id": report_id,
            "text": None,
            "text_sha256": None,
            "status": ItemStatus.FAILED.value,
            "error": problem,
            "updated_at": utcnow(),
        }
    return {
        "job_id": job_id,
        "row_index": row_index,
        "report_id": report_id,
        "text": text,
        "text_sha256": None if text is None else text_sha256(text),
        "status": ItemStatus.PENDING.value,
        "error": None,
        "updated_at": utcnow(),
    }


@dataclass(frozen=True, slots=True)
class ItemResult:
    """How one claimed item finished: done or failed (with a short reason, never report text), and
    the record to save with it (``None``: nothing to save, e.g. an input error or a stored ``ok``)."""

    item_id: int
    done: bool
    error: str | None = None
    extraction: ReportExtraction | None = None


class JobQueueMixin(StoreBase):
    """Job and job-item operations of :class:`store.repository.Store`."""

    def create_job(
        self,
        items: Iterable[tuple[str, str | None]],
        *,
        source: str | None = None,
        backend: str | None = None,
        extractor_version: str | None = None,
        keep_text: bool = False,
        chunk_size: int = CREATE_CHUNK,
    ) -> str:
        """Create a job from ``(report_id, text)`` rows, streamed in and stored ``chunk_size`` at a time.

        :meth:`open_job`, then :meth:`add_job_rows` per chunk, then :meth:`close_job_creation` (see
        them). Each chunk is its own short transaction, so a big upload never holds the write lock for
        long (other writers interleave); while rows are being stored the job is ``creating``.

        Returns:
            The new job's ID (a UUID string).
        """
        if chunk_size < 1:
            raise StoreInputError(f"chunk_size: must be >= 1, got {chunk_size}")
        job_id = self.open_job(
            source=source, backend=backend, extractor_version=extractor_version, keep_text=keep_text
        )
        rows = iter(items)
        start = 0
        while chunk := list(itertools.islice(rows, chunk_size)):
            if not self.add_job_rows(job_id, chunk, start=start):
                return job_id  # cancelled while being created
            start += len(chunk)
        self.close_job_creation(job_id)
        return job_id

    def open_job(
        self,
        *,
        source: str | None = None,
        backend: str | None = None,
        extractor_version: str | None = None,
        keep_text: bool = False,
        job_id: str | None = None,
    ) -> str:
        """Store a new job without rows, status ``creating``: its rows come with :meth:`add_job_rows`
        (workers may already run the rows stored; the job cannot finish before
        :meth:`close_job_creation`).

        Args:
            job_id: the new job's ID (default: a new UUID string), e.g. the UUID its upload file is
                named after, so that an upload left behind can be matched to its job.

        Returns:
            The new job's ID.

        Raises:
            StoreInputError: ``job_id`` is empty or longer than the ID limit.
        """
        if job_id is not None and not 0 < len(job_id) <= JOB_ID_LENGTH:
            raise StoreInputError(f"job_id: must have 1 to {JOB_ID_LENGTH} characters, got {len(job_id)}")
        job_id = job_id or str(uuid.uuid4())
        now = utcnow()
        with self._write() as session:
            session.add(
                JobRow(
                    id=job_id,
                    status=JobStatus.CREATING.value,
                    source=source,
                    total=0,
                    done=0,
                    failed=0,
                    backend=backend,
                    extractor_version=extractor_version,
                    keep_text=keep_text,
                    created_at=now,
                    updated_at=now,
                )
            )
        return job_id

    def add_job_rows(self, job_id: str, rows: Sequence[tuple[str, str | None]], *, start: int) -> bool:
        """Store one chunk of a ``creating`` job's rows, in one transaction (keep chunks bounded, e.g.
        :data:`CREATE_CHUNK`, so the write lock is never held for long).

        A ``None`` or empty text is accepted here and becomes a per-row failure when the worker reaches
        it; a row the database cannot hold (report ID longer than the limit, NUL characters, a report
        ID or text that does not encode as UTF-8) is stored as a ``failed`` item with the reason.

        Args:
            job_id: a job from :meth:`open_job`.
            rows: ``(report_id, text)`` pairs.
            start: the row index of the first row (the rows stored before it).

        Returns:
            False when the job is no longer ``creating`` (cancelled meanwhile): nothing was stored.
        """
        chunk = [
            _item_values(job_id, start + i, str(report_id), text) for i, (report_id, text) in enumerate(rows)
        ]
        with self._write() as session:
            job = self._job_row(session, job_id, lock=True)
            if job.status != JobStatus.CREATING.value:
                return False
            if chunk:
                session.execute(insert(JobItemRow), chunk)
            job.total += len(chunk)
            job.failed += sum(1 for row in chunk if row["status"] == ItemStatus.FAILED.value)
            job.updated_at = utcnow()
        return True

    def close_job_creation(self, job_id: str) -> JobInfo:
        """All rows of a ``creating`` job are stored: it becomes ``pending`` (or ``done`` if its rows
        were all finished meanwhile). A job no longer ``creating`` (cancelled) is left as it is."""
        with self._write() as session:
            job = self._job_row(session, job_id, lock=True)
            if job.status == JobStatus.CREATING.value:
                finished = job.done + job.failed
                job.status = (JobStatus.DONE if finished >= job.total else JobStatus.PENDING).value
                job.updated_at = utcnow()
            return JobInfo.from_row(job)

    def claim_items(self, job_id: str, limit: int = 16) -> list[ClaimedItem]:
        """Claim up to ``limit`` pending items of an active job, in row order (marks them ``running``).

        Safe with several workers: PostgreSQL skips rows locked by other claimers
        (``FOR UPDATE SKIP LOCKED``); SQLite serializes writers. Returns ``[]`` when nothing is left
        or the job is not active (cancelled, failed, done).
        """
        if not 1 <= limit <= MAX_CLAIM:
            raise StoreInputError(f"limit: must be in [1, {MAX_CLAIM}], got {limit}")
        with self._write() as session:
            job = self._job_row(session, job_id)
            if job.status not in ACTIVE_JOB_STATUSES:
                return []
            stmt = (
                select(JobItemRow)
                .where(JobItemRow.job_id == job_id, JobItemRow.status == ItemStatus.PENDING.value)
                .order_by(JobItemRow.row_index)
                .limit(limit)
            )
            if self.dialect == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(session.execute(stmt).scalars())
            now = utcnow()
            for row in rows:
                row.status = ItemStatus.RUNNING.value
                row.claimed_at = now
                row.updated_at = now
            if rows and job.status == JobStatus.PENDING.value:
                job.status = JobStatus.RUNNING.value
                job.updated_at = now
            return [
                ClaimedItem(r.id, r.job_id, r.row_index, r.report_id, r.text, r.text_sha256) for r in rows
            ]

    def mark_item_done(self, item_id: int, extraction: ReportExtraction | None = None) -> bool:
        """Mark an item done, saving its extraction in the same transaction when given.

        Returns:
            False when the item was already finished (nothing changed), else True.
        """
        return self.finish_items([ItemResult(item_id, True, None, extraction)]) == 1

    def mark_item_failed(self, item_id: int, error: str, extraction: ReportExtraction | None = None) -> bool:
        """Mark an item failed with a short ``error`` (never report text); saves ``extraction`` (e.g. a
        ``failed`` record) in the same transaction when given.

        Returns:
            False when the item was already finished (nothing changed), else True.
        """
        return self.finish_items([ItemResult(item_id, False, error, extraction)]) == 1

    def finish_items(self, results: Sequence[ItemResult]) -> int:
        """Finish many items in one transaction: save their records, set their status, count them.

        Items already finished are left alone (their records are not saved again).

        Returns:
            The number of items finished by this call.

        Raises:
            StoreInputError: an unknown item ID (nothing is written).
        """
        if not results:
            return 0
        ids = sorted({r.item_id for r in results})
        with self._write() as session:
            conn = session.connection()
            c = _ITEMS.c
            stmt = select(c.id, c.job_id, c.status, c.text).where(c.id.in_(ids))
            if self.dialect == "postgresql":
                stmt = stmt.order_by(c.id).with_for_update()
            items = {row.id: row for row in conn.execute(stmt)}
            missing = [i for i in ids if i not in items]
            if missing:
                raise StoreInputError(f"item_id: no job item {missing[0]}")
            jobs = {
                job_id: self._job_row(session, job_id, lock=True)
                for job_id in sorted({row.job_id for row in items.values()})
            }
            saves: list[SaveRequest] = []
            now = utcnow()
            finished_ids: set[int] = set()
            updates: dict[bool, list[dict[str, Any]]] = {True: [], False: []}  # clear the text?
            for r in results:
                item = items[r.item_id]
                if (
                    item.status in (ItemStatus.DONE.value, ItemStatus.FAILED.value)
                    or r.item_id in finished_ids
                ):
                    continue
                job = jobs[item.job_id]
                if r.extraction is not None:
                    text = item.text if job.keep_text and item.text else None
                    if text is not None and text_sha256(text) != r.extraction.text_sha256:
                        text = None
                    saves.append(SaveRequest(r.extraction, text))
                status = (ItemStatus.DONE if r.done else ItemStatus.FAILED).value
                error = None if r.done else r.error
                updates[r.done and not job.keep_text].append(
                    {"item_id": r.item_id, "new_status": status, "new_error": error, "at": now}
                )
                if r.done:
                    job.done += 1
                else:
                    job.failed += 1
                job.updated_at = now
                finished_ids.add(r.item_id)
            for clear_text, params in updates.items():
                if params:
                    conn.execute(_FINISH_CLEARING_TEXT if clear_text else _FINISH, params)
            save_requests(conn, saves)
            for job in jobs.values():
                active = job.status in (JobStatus.PENDING.value, JobStatus.RUNNING.value)
                if active and job.done + job.failed >= job.total:
                    job.status = JobStatus.DONE.value
            return len(finished_ids)

    def get_job(self, job_id: str) -> JobInfo:
        """A job's state and progress.

        Raises:
            JobNotFoundError: when no job has this ID.
        """
        with self._read() as session:
            return JobInfo.from_row(self._job_row(session, job_id))

    def list_jobs(self, statuses: Iterable[JobStatus] | None = None, *, limit: int = 100) -> list[JobInfo]:
        """Jobs, newest first, optionally only those in ``statuses``."""
        stmt = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id).limit(limit)
        if statuses is not None:
            stmt = stmt.where(JobRow.status.in_([JobStatus(s).value for s in statuses]))
        with self._read() as session:
            return [JobInfo.from_row(r) for r in session.execute(stmt).scalars()]

    def resumable_jobs(self) -> list[JobInfo]:
        """Active (``creating``, ``pending`` or ``running``) jobs, oldest first: what a worker picks up
        (the items of a ``creating`` job stored so far may already run)."""
        stmt = (
            select(JobRow)
            .where(JobRow.status.in_([s.value for s in ACTIVE_JOB_STATUSES]))
            .order_by(JobRow.created_at, JobRow.id)
        )
        with self._read() as session:
            return [JobInfo.from_row(r) for r in session.execute(stmt).scalars()]

    def requeue_claimed(self, job_id: str | None = None, *, older_than: timedelta | None = None) -> int:
        """Put claimed (``running``) items back to ``pending``: call at startup, after a crash.

        Args:
            job_id: only this job's items (default: every job).
            older_than: only items claimed at least this long ago (for a live multi-worker setup).

        Returns:
            The number of items requeued.
        """
        stmt = update(JobItemRow).where(JobItemRow.status == ItemStatus.RUNNING.value)
        if job_id is not None:
            stmt = stmt.where(JobItemRow.job_id == job_id)
        if older_than is not None:
            stmt = stmt.where(JobItemRow.claimed_at <= utcnow() - older_than)
        stmt = stmt.values(status=ItemStatus.PENDING.value, claimed_at=None, updated_at=utcnow())
        with self._write() as session:
            result = session.execute(stmt.execution_options(synchronize_session=False))
            return int(getattr(result, "rowcount", 0) or 0)

    def fail_interrupted_creations(self, *, older_than: timedelta | None = None) -> list[str]:
        """Fail the jobs left ``creating`` by a process that stopped while storing their rows.

        Such a job holds only part of its upload, so it can neither finish nor be resumed: it becomes
        ``failed`` with the reason and the number of rows stored (its rows are no longer claimed).
        Call at startup (one server process: every ``creating`` job is interrupted) or, with several
        processes, with ``older_than`` (a live creator stores a chunk, and touches the job, every few
        seconds).

        Returns:
            The IDs of the jobs failed.
        """
        stmt = select(JobRow.id).where(JobRow.status == JobStatus.CREATING.value)
        cutoff = None if older_than is None else utcnow() - older_than
        if cutoff is not None:
            stmt = stmt.where(JobRow.updated_at <= cutoff)
        with self._read() as session:
            candidates = list(session.execute(stmt).scalars())
        return [job_id for job_id in candidates if self.fail_creation(job_id, older_than=older_than)]

    def fail_creation(self, job_id: str, *, older_than: timedelta | None = None) -> bool:
        """Fail one job left ``creating`` (its creator stopped): ``failed``, with the reason and the
        number of rows stored; with ``older_than``, only when it was not touched for that long.

        Returns:
            True when the job was failed; False when it is no longer ``creating`` (its creator finished)
            or, with ``older_than``, was touched recently (its creator is alive).
        """
        with self._write() as session:
            job = self._job_row(session, job_id, lock=True)
            if job.status != JobStatus.CREATING.value:
                return False
            if older_than is not None and as_utc(job.updated_at) > as_utc(utcnow() - older_than):
                return False
            job.status = JobStatus.FAILED.value
            job.error = (
                f"job creation was interrupted after {job.total} rows were stored (the server "
                "stopped); create the job again"
            )
            job.updated_at = utcnow()
            return True

    def retry_failed(self, job_id: str) -> int:
        """Put a job's failed items back to ``pending`` and reactivate the job.

        Items that failed because the database could not hold them (stored without text) stay
        failed. Refused: a cancelled job (reactivating it would also run the rows the cancel
        stopped), a job still being created, and a ``failed`` job (its creation failed: its upload was
        not fully stored, so running it would end ``done`` with rows missing).

        Returns:
            The number of items requeued.

        Raises:
            JobStateError: the job is cancelled, still being created, or failed; the message says why.
        """
        with self._write() as session:
            job = self._job_row(session, job_id, lock=True)
            if job.status == JobStatus.FAILED.value:
                raise JobStateError(
                    f"job {job_id!r} is failed: its upload was not fully stored; create the job again"
                )
            if job.status in (JobStatus.CANCELLED.value, JobStatus.CREATING.value):
                raise JobStateError(
                    f"job {job_id!r} is {job.status}; a {job.status} job's failed rows cannot be "
                    "retried (create a new job with them)"
                )
            result = session.execute(
                update(JobItemRow)
                .where(
                    JobItemRow.job_id == job_id,
                    JobItemRow.status == ItemStatus.FAILED.value,
                    JobItemRow.text.is_not(None),
                )
                .values(status=ItemStatus.PENDING.value, error=None, claimed_at=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            n = int(getattr(result, "rowcount", 0) or 0)
            if n:
                job.failed -= n
                job.status = JobStatus.PENDING.value
                job.error = None
                job.updated_at = utcnow()
            return n

    def cancel_job(self, job_id: str) -> JobInfo:
        """Cancel an active job: no more items are claimed (items in flight may still finish).
        Finished jobs are left as they are."""
        return self._set_job_status(job_id, JobStatus.CANCELLED, None)

    def fail_job(self, job_id: str, error: str) -> JobInfo:
        """Mark an active job failed as a whole (e.g. its backend is unusable), with a short ``error``."""
        return self._set_job_status(job_id, JobStatus.FAILED, error)

    def _set_job_status(self, job_id: str, status: JobStatus, error: str | None) -> JobInfo:
        with self._write() as session:
            job = self._job_row(session, job_id, lock=True)
            if job.status in ACTIVE_JOB_STATUSES:
                job.status = status.value
                job.error = error
                job.updated_at = utcnow()
            return JobInfo.from_row(job)

    def iter_job_items(self, job_id: str, *, page: int = ITEM_PAGE) -> Iterator[list[JobItemView]]:
        """A job's items in row order, ``page`` at a time (keyset pagination, flat memory; one short
        read transaction per page)."""
        if page < 1:
            raise StoreInputError(f"page: must be >= 1, got {page}")
        last = -1
        while True:
            stmt = (
                select(
                    JobItemRow.row_index,
                    JobItemRow.report_id,
                    JobItemRow.text_sha256,
                    JobItemRow.status,
                    JobItemRow.error,
                )
                .where(JobItemRow.job_id == job_id, JobItemRow.row_index > last)
                .order_by(JobItemRow.row_index)
                .limit(page)
            )
            with self._read() as session:
                rows = [JobItemView(*r) for r in session.execute(stmt)]
            if not rows:
                return
            yield rows
            last = rows[-1].row_index

    def job_item_counts(self, job_id: str) -> dict[str, int]:
        """Items per :class:`ItemStatus` (zeros included), counted from the items themselves."""
        out = {s.value: 0 for s in ItemStatus}
        with self._read() as session:
            self._job_row(session, job_id)
            rows: Sequence[Any] = session.execute(
                select(JobItemRow.status, func.count())
                .where(JobItemRow.job_id == job_id)
                .group_by(JobItemRow.status)
            ).all()
        for st, n in rows:
            out[st] = int(n)
        return out

    def item_errors(self, job_id: str, *, limit: int = 1_000) -> list[ItemError]:
        """A job's failed items in row order (row index, report ID, error; never text)."""
        stmt = (
            select(JobItemRow.row_index, JobItemRow.report_id, JobItemRow.error)
            .where(JobItemRow.job_id == job_id, JobItemRow.status == ItemStatus.FAILED.value)
            .order_by(JobItemRow.row_index)
            .limit(limit)
        )
        with self._read() as session:
            self._job_row(session, job_id)
            return [ItemError(r.row_index, r.report_id, r.error) for r in session.execute(stmt)]

    def _job_row(self, session: Session, job_id: str, *, lock: bool = False) -> JobRow:
        stmt = select(JobRow).where(JobRow.id == job_id)
        if lock and self.dialect == "postgresql":
            stmt = stmt.with_for_update()
        job = session.execute(stmt).scalar_one_or_none()
        if job is None:
            raise JobNotFoundError(job_id)
        return job
