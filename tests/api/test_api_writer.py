"""The record writer: single-request records share commits, each answered once durable."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from api_cases import AUTH, AppFactory
from fastapi.testclient import TestClient

from api.writer import BatchedWriter
from report_extractor.backends.fake import FakeBackend
from report_extractor.engine import Extractor, ReportInput
from store import SaveRequest, Store, StoreInputError, StoreUnavailableError, init_store
from store import engine as store_engine

EXTRACTOR = Extractor(FakeBackend())


def _request(i: int, text: str | None = None) -> SaveRequest:
    report = ReportInput(f"r{i}", f"Report {i}: no lesion.")
    return SaveRequest(EXTRACTOR.extract_one(report), text)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store."""
    s = init_store(f"sqlite:///{tmp_path / 'w.db'}")
    yield s
    s.close()


async def _save_all(writer: BatchedWriter, requests: list[SaveRequest]) -> list[bool | BaseException]:
    writer.start()
    try:
        return await asyncio.gather(*(writer.save(r) for r in requests), return_exceptions=True)
    finally:
        await writer.stop()


def test_concurrent_records_share_one_commit_and_are_durable_when_answered(
    store: Store, tmp_path: Path
) -> None:
    writer = BatchedWriter(store, max_records=64, max_wait_s=0.05)
    assert asyncio.run(_save_all(writer, [_request(i) for i in range(20)])) == [True] * 20
    assert writer.commits == 1
    other = init_store(f"sqlite:///{tmp_path / 'w.db'}")  # another connection sees them all
    assert other.count() == 20
    other.close()
    again = BatchedWriter(store, max_records=8, max_wait_s=0.05)
    assert asyncio.run(_save_all(again, [_request(i) for i in range(20)])) == [False] * 20  # stored ok
    assert again.commits == 3  # at most 8 records per transaction


def test_a_record_the_store_refuses_fails_only_its_own_request(store: Store) -> None:
    requests = [_request(i) for i in range(5)]
    requests[2] = _request(2, text="not the text this record was extracted from")
    results = asyncio.run(_save_all(BatchedWriter(store, max_wait_s=0.05), requests))
    assert [r is True for r in results] == [True, True, False, True, True]
    assert isinstance(results[2], StoreInputError)
    assert store.count() == 4


def test_the_records_of_one_request_share_one_transaction_all_or_none(store: Store) -> None:
    async def run() -> list[list[bool] | BaseException]:
        writer = BatchedWriter(store, max_records=4, max_wait_s=0.05)
        writer.start()
        try:
            return await asyncio.gather(
                writer.save_many([_request(i) for i in range(3)]),  # fits
                writer.save_many([_request(i) for i in range(3, 6)]),  # does not fit: next transaction
                writer.save_many([_request(6), _request(7, text="not its text")]),  # refused as a whole
                writer.save_many([_request(i) for i in range(8, 14)]),  # more than max_records: alone
                return_exceptions=True,
            )
        finally:
            await writer.stop()
            assert writer.commits == 3

    results = asyncio.run(run())
    assert results[0] == results[1] == [True] * 3
    assert isinstance(results[2], StoreInputError)
    assert results[3] == [True] * 6
    assert store.count() == 12  # r6 was not written: its request failed as a whole


def test_a_store_that_is_gone_fails_every_request(store: Store, tmp_path: Path) -> None:
    (tmp_path / "w.db").unlink()
    results = asyncio.run(_save_all(BatchedWriter(store), [_request(i) for i in range(3)]))
    assert all(isinstance(r, StoreUnavailableError) for r in results)


def test_a_locked_database_answers_the_whole_batch_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds SQLite's write lock: every waiting request gets "unavailable" after one
    busy timeout, not one busy timeout per request (the batch is not split record by record)."""
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_S", 0.5)
    locked = init_store(f"sqlite:///{tmp_path / 'locked.db'}")
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    writer = BatchedWriter(locked, max_records=64, max_wait_s=0.05)
    try:
        started = time.monotonic()
        results = asyncio.run(_save_all(writer, [_request(i) for i in range(8)]))
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert all(isinstance(r, StoreUnavailableError) for r in results), results
    assert elapsed < 2.0  # one busy timeout (0.5 s); split one by one it was 9 x 0.5 s
    assert writer.commits == 0
    assert asyncio.run(_save_all(BatchedWriter(locked), [_request(0)])) == [True]  # free again
    locked.close()


def test_single_report_posts_go_through_the_shared_writer(make_client: AppFactory) -> None:
    client: TestClient = make_client(write_batch_wait_ms=1000, write_batch_max=8)

    def post(i: int) -> int:
        body = {"report_id": f"c{i}", "text": f"Report {i}: no lesion."}
        return client.post("/v1/extractions", json=body, headers=AUTH).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(post, range(8))) == [200] * 8
    writer: BatchedWriter = client.app.state.services.writer  # type: ignore[attr-defined]
    assert writer.commits <= 2  # 8 requests, sharing commits (all 8 arrive within the 1 s wait)
    assert client.get("/v1/reports/c7", headers=AUTH).status_code == 200


def test_batch_posts_go_through_the_shared_writer(make_client: AppFactory) -> None:
    client: TestClient = make_client(write_batch_wait_ms=1000, write_batch_max=8)

    def post(i: int) -> int:
        reports = [{"report_id": f"b{i}-{j}", "text": f"Report {i}.{j}: no lesion."} for j in range(4)]
        r = client.post("/v1/extractions:batch", json={"reports": reports}, headers=AUTH)
        return int(r.json()["ok"])

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(post, range(4))) == [4] * 4
    writer: BatchedWriter = client.app.state.services.writer  # type: ignore[attr-defined]
    assert writer.commits <= 3  # 4 batches of 4 records, two per transaction of at most 8
