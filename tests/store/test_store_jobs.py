"""Job queue: creation from a stream, bounded claims, progress, cancel, restart recovery."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from store_cases import make

from schemas.records import text_sha256
from store import (
    ItemError,
    ItemStatus,
    JobItemView,
    JobNotFoundError,
    JobStateError,
    JobStatus,
    Store,
    StoreInputError,
)
from store.engine import create_store_engine
from store.models import JobItemRow


def _items(n: int) -> Iterator[tuple[str, str | None]]:
    return ((f"R{i:05d}", f"report text {i}") for i in range(n))


def _item_texts(store: Store, job_id: str) -> list[str | None]:
    with store.engine.connect() as conn:
        stmt = select(JobItemRow.text).where(JobItemRow.job_id == job_id).order_by(JobItemRow.row_index)
        return list(conn.execute(stmt).scalars())


def test_job_lifecycle(store: Store) -> None:
    job_id = store.create_job(_items(5), source="upload.csv", backend="fake", extractor_version="v1")
    info = store.get_job(job_id)
    assert (info.status, info.total, info.done, info.failed, info.remaining) == (
        JobStatus.PENDING,
        5,
        0,
        0,
        5,
    )
    assert (info.source, info.backend, info.extractor_version) == ("upload.csv", "fake", "v1")

    first = store.claim_items(job_id, limit=2)
    assert [(c.row_index, c.report_id, c.text) for c in first] == [
        (0, "R00000", "report text 0"),
        (1, "R00001", "report text 1"),
    ]
    assert first[0].text_sha256 == text_sha256("report text 0")
    assert store.get_job(job_id).status is JobStatus.RUNNING

    assert store.mark_item_done(first[0].item_id, make("R00000", "report text 0")) is True
    assert store.mark_item_done(first[0].item_id) is False
    assert store.mark_item_failed(first[1].item_id, "backend timed out") is True
    info = store.get_job(job_id)
    assert (info.done, info.failed, info.remaining) == (1, 1, 3)
    assert store.current_extraction("R00000") == make("R00000", "report text 0")

    rest = store.claim_items(job_id, limit=10)
    assert [c.row_index for c in rest] == [2, 3, 4]
    assert store.claim_items(job_id) == []
    for c in rest:
        store.mark_item_done(c.item_id)
    info = store.get_job(job_id)
    assert (info.status, info.done, info.failed) == (JobStatus.DONE, 4, 1)
    assert store.item_errors(job_id) == [ItemError(1, "R00001", "backend timed out")]
    assert store.job_item_counts(job_id) == {"pending": 0, "running": 0, "done": 4, "failed": 1}
    # Done items lose their text (the job did not opt in); the failed one keeps it for a retry.
    assert _item_texts(store, job_id) == [None, "report text 1", None, None, None]
    assert store.resumable_jobs() == []


def test_create_job_streams_chunks_and_accepts_missing_text(store: Store) -> None:
    rows = [*_items(2_500), ("R-empty", None)]
    job_id = store.create_job(iter(rows), chunk_size=1_000)
    assert store.get_job(job_id).total == 2_501
    claimed = store.claim_items(job_id, limit=1_000)
    assert len(claimed) == 1_000
    assert [c.row_index for c in claimed] == list(range(1_000))
    assert store.job_item_counts(job_id)["pending"] == 1_501
    with pytest.raises(StoreInputError, match=r"limit: must be in \[1, 1000\], got 0"):
        store.claim_items(job_id, limit=0)


def test_restart_requeues_claimed_items(store: Store) -> None:
    job_id = store.create_job(_items(4))
    store.claim_items(job_id, limit=3)  # the worker dies here
    restarted = Store(create_store_engine(store.engine.url))
    try:
        assert [j.id for j in restarted.resumable_jobs()] == [job_id]
        assert restarted.requeue_claimed() == 3
        again = restarted.claim_items(job_id, limit=10)
        assert [(c.row_index, c.text) for c in again] == [(i, f"report text {i}") for i in range(4)]
    finally:
        restarted.close()


def test_requeue_only_old_claims(store: Store) -> None:
    job_id = store.create_job(_items(2))
    store.claim_items(job_id, limit=2)
    assert store.requeue_claimed(job_id, older_than=timedelta(hours=1)) == 0
    assert store.requeue_claimed(job_id) == 2


def test_cancel_stops_claims_and_is_final(store: Store) -> None:
    job_id = store.create_job(_items(3))
    assert store.cancel_job(job_id).status is JobStatus.CANCELLED
    assert store.claim_items(job_id) == []
    assert store.resumable_jobs() == []
    assert store.fail_job(job_id, "x").status is JobStatus.CANCELLED
    assert [j.id for j in store.list_jobs([JobStatus.CANCELLED])] == [job_id]


def test_retry_failed_reactivates_the_job(store: Store) -> None:
    job_id = store.create_job(_items(2))
    for c in store.claim_items(job_id):
        store.mark_item_failed(c.item_id, "boom")
    assert store.get_job(job_id).status is JobStatus.DONE
    assert store.retry_failed(job_id) == 2
    info = store.get_job(job_id)
    assert (info.status, info.failed) == (JobStatus.PENDING, 0)
    assert [c.text for c in store.claim_items(job_id)] == ["report text 0", "report text 1"]


def test_keep_text_stores_the_report_text(store: Store) -> None:
    job_id = store.create_job(_items(1), keep_text=True)
    (item,) = store.claim_items(job_id)
    store.mark_item_done(item.item_id, make(item.report_id, "report text 0"))
    assert store.report_text("R00000", text_sha256("report text 0")) == "report text 0"
    assert _item_texts(store, job_id) == ["report text 0"]


def test_unknown_job_and_item(store: Store) -> None:
    with pytest.raises(JobNotFoundError, match=r"job 'nope' not found"):
        store.get_job("nope")
    with pytest.raises(JobNotFoundError):
        store.claim_items("nope")
    with pytest.raises(StoreInputError, match=r"item_id: no job item 12345"):
        store.mark_item_done(12345)


def test_concurrent_claims_are_disjoint(store: Store) -> None:
    job_id = store.create_job(_items(200))

    def worker(_: int) -> list[int]:
        got: list[int] = []
        while batch := store.claim_items(job_id, limit=7):
            for c in batch:
                store.mark_item_done(c.item_id)
            got += [c.row_index for c in batch]
        return got

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(worker, range(4)))
    claimed = [i for r in results for i in r]
    assert sorted(claimed) == list(range(200))
    info = store.get_job(job_id)
    assert (info.status, info.done) == (JobStatus.DONE, 200)
    assert store.job_item_counts(job_id)[ItemStatus.DONE] == 200


def test_creating_a_big_job_lets_other_writers_in_between_chunks(sqlite_store: Store) -> None:
    """Rows go in bounded transactions: another process can take the write lock mid-upload."""
    path = sqlite_store.engine.url.database
    assert path is not None
    got_lock: list[bool] = []

    def rows() -> Iterator[tuple[str, str | None]]:
        for i in range(50):
            if i == 25:  # the first chunks are stored: the lock must be free now
                other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
                try:
                    other.execute("BEGIN IMMEDIATE")
                    other.execute("ROLLBACK")
                    got_lock.append(True)
                except sqlite3.OperationalError:
                    got_lock.append(False)
                finally:
                    other.close()
            yield f"r{i}", "liver"

    job_id = sqlite_store.create_job(rows(), chunk_size=10)
    assert got_lock == [True]
    job = sqlite_store.get_job(job_id)
    assert (job.status, job.total) == (JobStatus.PENDING, 50)


def test_rows_the_database_cannot_hold_become_failed_items(store: Store) -> None:
    """Over-long IDs, NUL characters and lone surrogates (no UTF-8 encoding) are per-row failures with
    the reason, on both databases."""
    rows = [
        ("a" * 1000, "liver"),
        ("b\x00", "liver"),
        ("c", "liver \x00 cyst"),
        ("e\ud800", "liver"),
        ("f", "liver \ud800 cyst"),
        ("g" * 1000 + "\udfff", "liver"),
        ("d", "liver"),
    ]
    job_id = store.create_job(rows)
    job = store.get_job(job_id)
    assert (job.total, job.failed, job.status) == (7, 6, JobStatus.PENDING)
    errors = store.item_errors(job_id)
    assert [e.error for e in errors] == [
        "report_id: has 1000 characters, more than the limit of 256",
        "report_id: must not contain NUL (\\x00) characters",
        "text: must not contain NUL (\\x00) characters",
        "report_id: holds a lone surrogate (not valid Unicode); it cannot be encoded as UTF-8",
        "text: holds a lone surrogate (not valid Unicode); it cannot be encoded as UTF-8",
        "report_id: holds a lone surrogate (not valid Unicode); it cannot be encoded as UTF-8",
    ]
    assert errors[3].report_id == "e\ufffd"
    assert _item_texts(store, job_id)[4] is None  # the text is not kept
    assert store.retry_failed(job_id) == 0  # nothing to retry: they cannot be extracted as they are
    assert [i.report_id for i in store.claim_items(job_id, 10)] == ["d"]


def test_retry_of_a_cancelled_job_is_refused(store: Store) -> None:
    job_id = store.create_job(_items(3))
    item = store.claim_items(job_id, 1)[0]
    store.mark_item_failed(item.item_id, "backend down")
    store.cancel_job(job_id)
    with pytest.raises(JobStateError, match="is cancelled"):
        store.retry_failed(job_id)
    assert store.get_job(job_id).status is JobStatus.CANCELLED
    assert store.claim_items(job_id, 10) == []


def test_open_job_takes_a_given_id(store: Store) -> None:
    """An upload's job is named after its upload file (so a leftover file can be matched)."""
    given = "0b1c2d3e-0000-4000-8000-000000000001"
    assert store.open_job(job_id=given) == given
    assert store.get_job(given).status is JobStatus.CREATING
    with pytest.raises(StoreInputError, match="job_id: must have 1 to 36 characters, got 300"):
        store.open_job(job_id="j" * 300)


def test_retry_of_a_job_whose_creation_failed_is_refused(store: Store) -> None:
    """A ``failed`` job holds only part of its upload: a retry would run it to ``done`` with rows
    missing and its error gone, so it is refused with the reason."""
    job_id = _interrupted_creation(store, rows=3, chunk_size=2)
    item = store.claim_items(job_id, 1)[0]
    store.mark_item_failed(item.item_id, "backend down")
    assert store.fail_interrupted_creations() == [job_id]
    before = store.get_job(job_id)
    with pytest.raises(JobStateError) as caught:
        store.retry_failed(job_id)
    assert str(caught.value) == (
        f"job {job_id!r} is failed: its upload was not fully stored; create the job again"
    )
    after = store.get_job(job_id)
    assert (after.status, after.failed, after.error) == (JobStatus.FAILED, 1, before.error)
    assert store.claim_items(job_id, 10) == []


def _interrupted_creation(store: Store, rows: int, chunk_size: int) -> str:
    """Create a job whose row stream stops with an error after ``rows`` rows (a killed creator)."""

    def rows_then_crash() -> Iterator[tuple[str, str | None]]:
        yield from _items(rows)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        store.create_job(rows_then_crash(), chunk_size=chunk_size)
    (job,) = store.list_jobs([JobStatus.CREATING])
    return job.id


def test_a_job_left_creating_by_a_kill_is_failed_visibly(store: Store) -> None:
    job_id = _interrupted_creation(store, rows=5, chunk_size=2)
    finished = store.create_job(_items(2))
    assert store.fail_interrupted_creations(older_than=timedelta(hours=1)) == []  # could be alive
    assert store.fail_interrupted_creations() == [job_id]
    info = store.get_job(job_id)
    assert info.status is JobStatus.FAILED
    assert info.error == (
        "job creation was interrupted after 4 rows were stored (the server stopped); create the job again"
    )
    assert store.claim_items(job_id, 10) == []
    assert store.get_job(finished).status is JobStatus.PENDING
    assert store.fail_interrupted_creations() == []


def test_iter_job_items_pages_in_row_order_without_text(store: Store) -> None:
    job_id = store.create_job(_items(7))
    pages = list(store.iter_job_items(job_id, page=3))
    assert [len(p) for p in pages] == [3, 3, 1]
    items = [i for p in pages for i in p]
    assert [i.row_index for i in items] == list(range(7))
    assert items[4] == JobItemView(4, "R00004", text_sha256("report text 4"), "pending", None)
    assert list(store.iter_job_items("no-such-job")) == []
    with pytest.raises(StoreInputError, match="page: must be >= 1"):
        next(store.iter_job_items(job_id, page=0))
