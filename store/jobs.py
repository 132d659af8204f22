"""Batch jobs in the store: a job row plus one item per input row, claimed by workers.

Lifecycle: :meth:`~JobQueueMixin.create_job` (``pending``) → workers :meth:`~JobQueueMixin.claim_items`
(job ``running``, items ``running``) → :meth:`~JobQueueMixin.mark_item_done` /
:meth:`~JobQueueMixin.mark_item_failed`, each its own transaction → the job is ``done`` when every item
is finished. After a restart, :meth:`~JobQueueMixin.requeue_claimed` puts the items that were in flight
back to ``pending`` and :meth:`~JobQueueMixin.resumable_jobs` lists the jobs to pick up again.

Item text is kept only as long as it is needed: it is cleared when the item is done unless the job was
created with ``keep_text=True`` (then it is also stored with the report). Failed items keep their text
so that :meth:`~JobQueueMixin.retry_failed` can run them again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from schemas.records import ReportExtraction, text_sha256
from store.base import StoreBase, as_utc
from store.errors import JobNotFoundError, StoreInputError
from store.models import JobItemRow, JobRow, utcnow
from store.writer import SaveRequest, save_requests

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_CLAIM: Final[int] = 1_000
"""Upper bound on items claimed at once."""


class JobStatus(StrEnum):
    """State of a batch job."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES: Final[tuple[JobStatus, ...]] = (JobStatus.PENDING, JobStatus.RUNNING)
"""Job states whose items may still be claimed."""


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
        chunk_size: int = 1_000,
    ) -> str:
        """Create a job from ``(report_id, text)`` rows, streamed in and inserted ``chunk_size`` at a time.

        The whole job is created in one transaction (all rows or none). A ``None`` or empty text is
        accepted here and becomes a per-row failure when the worker reaches it.

        Returns:
            The new job's ID (a UUID string).
        """
        if chunk_size < 1:
            raise StoreInputError(f"chunk_size: must be >= 1, got {chunk_size}")
        job_id = str(uuid.uuid4())
        now = utcnow()
        total = 0
        with self._write() as session:
            session.add(
                JobRow(
                    id=job_id,
                    status=JobStatus.PENDING.value,
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
            session.flush()
            chunk: list[dict[str, Any]] = []
            for report_id, text in items:
                chunk.append(
                    {
                        "job_id": job_id,
                        "row_index": total,
                        "report_id": str(report_id),
                        "text": text,
                        "text_sha256": None if text is None else text_sha256(text),
                        "status": ItemStatus.PENDING.value,
                        "updated_at": now,
                    }
                )
                total += 1
                if len(chunk) >= chunk_size:
                    session.execute(insert(JobItemRow), chunk)
                    chunk = []
            if chunk:
                session.execute(insert(JobItemRow), chunk)
            session.execute(update(JobRow).where(JobRow.id == job_id).values(total=total))
        return job_id

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
        return self._finish_item(item_id, ItemStatus.DONE, None, extraction)

    def mark_item_failed(self, item_id: int, error: str, extraction: ReportExtraction | None = None) -> bool:
        """Mark an item failed with a short ``error`` (never report text); saves ``extraction`` (e.g. a
        ``failed`` record) in the same transaction when given.

        Returns:
            False when the item was already finished (nothing changed), else True.
        """
        return self._finish_item(item_id, ItemStatus.FAILED, error, extraction)

    def _finish_item(
        self, item_id: int, status: ItemStatus, error: str | None, extraction: ReportExtraction | None
    ) -> bool:
        with self._write() as session:
            item = session.get(JobItemRow, item_id, with_for_update=self.dialect == "postgresql")
            if item is None:
                raise StoreInputError(f"item_id: no job item {item_id}")
            if item.status in (ItemStatus.DONE.value, ItemStatus.FAILED.value):
                return False
            job = self._job_row(session, item.job_id, lock=True)
            if extraction is not None:
                text = item.text if job.keep_text and item.text else None
                if text is not None and text_sha256(text) != extraction.text_sha256:
                    text = None
                save_requests(session, [SaveRequest(extraction, text)])
            now = utcnow()
            item.status = status.value
            item.error = error
            item.updated_at = now
            if status is ItemStatus.DONE and not job.keep_text:
                item.text = None
            if status is ItemStatus.DONE:
                job.done += 1
            else:
                job.failed += 1
            job.updated_at = now
            if job.done + job.failed >= job.total and job.status in ACTIVE_JOB_STATUSES:
                job.status = JobStatus.DONE.value
            return True

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
        """Active (pending or running) jobs, oldest first: what a restarted worker picks up."""
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

    def retry_failed(self, job_id: str) -> int:
        """Put a job's failed items back to ``pending`` and reactivate the job.

        Returns:
            The number of items requeued.
        """
        with self._write() as session:
            job = self._job_row(session, job_id, lock=True)
            result = session.execute(
                update(JobItemRow)
                .where(JobItemRow.job_id == job_id, JobItemRow.status == ItemStatus.FAILED.value)
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
