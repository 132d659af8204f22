"""Database errors become the store's errors by what they say about a retry: the database cannot be
used now (SQLite busy / locked, a lost connection, a PostgreSQL server shutting down) →
``StoreUnavailableError``; the values were refused → ``StoreDataError``; anything else → ``StoreError``."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, ProgrammingError
from store_cases import scratch_schema

import store.engine
from store import Store, StoreDataError, StoreError, StoreUnavailableError, init_store
from store.base import store_error


class _PgError(Exception):
    """Stands in for a psycopg error: a message and a SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(
            OperationalError("INSERT", {}, _sqlite_error("database is locked", sqlite3.SQLITE_BUSY)),
            StoreUnavailableError,
            id="sqlite-busy",
        ),
        pytest.param(
            OperationalError("INSERT", {}, _sqlite_error("table is locked", sqlite3.SQLITE_LOCKED)),
            StoreUnavailableError,
            id="sqlite-locked",
        ),
        pytest.param(
            OperationalError("INSERT", {}, _sqlite_error("busy", sqlite3.SQLITE_BUSY_SNAPSHOT)),
            StoreUnavailableError,
            id="sqlite-busy-extended-code",
        ),
        pytest.param(
            OperationalError("SELECT", {}, _sqlite_error("no such table: x", sqlite3.SQLITE_ERROR)),
            StoreError,
            id="sqlite-no-such-table",
        ),
        pytest.param(
            IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")),
            StoreDataError,
            id="sqlite-integrity",
        ),
        pytest.param(
            OperationalError("SELECT", {}, _PgError("terminating connection", "57P01")),
            StoreUnavailableError,
            id="pg-admin-shutdown",
        ),
        pytest.param(
            OperationalError("SELECT", {}, _PgError("the database system is starting up", "57P03")),
            StoreUnavailableError,
            id="pg-cannot-connect-now",
        ),
        pytest.param(
            OperationalError("SELECT", {}, _PgError("connection failure", "08006")),
            StoreUnavailableError,
            id="pg-connection-failure",
        ),
        pytest.param(
            OperationalError("SELECT", {}, _PgError("connection refused", None)),
            StoreUnavailableError,
            id="pg-could-not-connect",
        ),
        pytest.param(
            OperationalError("INSERT", {}, _PgError("index row size exceeds maximum", "54000")),
            StoreError,
            id="pg-program-limit-is-about-the-row",
        ),
        pytest.param(
            DataError("INSERT", {}, _PgError("invalid byte sequence", "22021")),
            StoreDataError,
            id="pg-data",
        ),
        pytest.param(
            IntegrityError("INSERT", {}, _PgError("duplicate key", "23505")),
            StoreDataError,
            id="pg-integrity",
        ),
        pytest.param(
            ProgrammingError("SELECT", {}, _PgError("syntax error", "42601")),
            StoreError,
            id="pg-programming",
        ),
    ],
)
def test_database_errors_map_by_what_a_retry_would_do(error: DBAPIError, expected: type) -> None:
    mapped = store_error(error, "db")
    assert type(mapped) is expected
    assert str(mapped).startswith("database error on db: ")


def test_a_write_to_a_locked_sqlite_database_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store.engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    s = init_store(f"sqlite:///{tmp_path / 'locked.db'}")
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailableError, match="database is locked"):
            s.open_job(source="x")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    s.open_job(source="x")  # free again
    s.close()


def _terminated_mid_transaction(s: Store, admin: Engine) -> None:
    """Start a write transaction, have the server terminate its connection, then use it again."""
    with s._write() as session:
        pid = session.execute(select(func.pg_backend_pid())).scalar_one()
        with admin.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        time.sleep(0.1)
        session.execute(select(1))


@pytest.mark.postgres
def test_a_terminated_postgres_connection_is_unavailable(postgres_url: str) -> None:
    """A server-side termination (as at a server shutdown) in the middle of a write transaction."""
    with scratch_schema(postgres_url) as scoped:
        s = init_store(scoped.render_as_string(hide_password=False))
        admin = create_engine(scoped)
        try:
            with pytest.raises(StoreUnavailableError, match=r"\[57P01\]"):
                _terminated_mid_transaction(s, admin)
            assert s.open_job(source="x")  # a new connection works
        finally:
            admin.dispose()
            s.close()
