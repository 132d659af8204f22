"""Engine ownership and transaction scopes shared by the store's repository mixins."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Final, Self

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import func

from store.engine import SQLITE_BUSY_TIMEOUT_S, WRITE_OPTION, dump_json, redact
from store.errors import StoreConfigError, StoreDataError, StoreError, StoreUnavailableError
from store.writer import advisory_key


def describe_db_error(error: DBAPIError) -> str:
    """``ErrorClass [SQLSTATE]: first line`` of a database error, at most 200 characters.

    The first line of a driver's message names the problem; following lines (PostgreSQL's
    ``DETAIL`` / ``CONTEXT``) may quote the values of the failing row, i.e. report text, so they are
    never kept.
    """
    orig = error.orig
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    state = getattr(orig, "sqlstate", None)
    code = f" [{state}]" if state else ""
    return f"{type(orig).__name__}{code}: {first[:200]}"


_SQLITE_BUSY: Final[frozenset[int]] = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
"""SQLite primary result codes of a database another connection holds (``database is locked``)."""

_PG_UNAVAILABLE_STATES: Final[tuple[str, ...]] = ("08", "57P")
"""SQLSTATE prefixes of a PostgreSQL server that cannot be used now: class 08 (connection exception)
and 57P (admin / crash shutdown, cannot connect now, database dropped)."""


def store_error(error: DBAPIError, url: str) -> StoreError:
    """The store's error for a database error (raise it ``from error``).

    :class:`StoreUnavailableError` when the database cannot be used now, whatever the data: SQLite
    busy / locked, a lost connection, a PostgreSQL connection error (``OperationalError`` without
    SQLSTATE, classes 08 and 57P); :class:`StoreDataError` for integrity and data errors (the values
    written); else :class:`StoreError`. The message names the error class and its first line only.
    """
    message = f"database error on {url}: {describe_db_error(error)}"
    orig = error.orig
    if error.connection_invalidated:
        return StoreUnavailableError(message)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in _SQLITE_BUSY:
            return StoreUnavailableError(message)
    else:
        state = getattr(orig, "sqlstate", None)
        if state is not None and state.startswith(_PG_UNAVAILABLE_STATES):
            return StoreUnavailableError(message)
        if state is None and isinstance(error, OperationalError):  # the client could not connect
            return StoreUnavailableError(message)
    if isinstance(error, IntegrityError | DataError):
        return StoreDataError(message)
    return StoreError(message)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (SQLite returns naive ones)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoreBase:
    """Owns the engine; hands out read and write sessions (one transaction each).

    Write sessions start with ``BEGIN IMMEDIATE`` on SQLite (one writer at a time, no lock-upgrade
    deadlocks); on PostgreSQL, per-report advisory locks serialize writers of the same report.
    """

    def __init__(self, engine: Engine) -> None:
        if getattr(engine.dialect, "_json_serializer", None) is not dump_json:
            raise StoreConfigError(
                "engine: build it with store.engine.create_store_engine (its JSON serializer writes "
                "pre-encoded records as they are)"
            )
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._write_sessions = sessionmaker(bind=self._writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=engine, expire_on_commit=False)
        database = engine.url.database
        file_db = engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")
        self._sqlite_file: str | None = os.path.abspath(str(database)) if file_db else None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine behind this store."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL, password hidden (safe to log)."""
        return redact(self._engine.url)

    def close(self) -> None:
        """Release all pooled connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on error.

        Raises:
            StoreUnavailableError: the SQLite file was deleted while the store was open (a write
                would go into the unlinked file and be lost).
            StoreUnavailableError: also when the database cannot be used now (SQLite busy / locked,
                a lost PostgreSQL connection or a server shutting down: see :func:`store_error`).
            StoreDataError: the database refused the values (integrity or data error).
            StoreError: on other database errors; the message names the error class and its first
                line only (a database's detail lines can quote the values of the failing row).
        """
        self._check_file()
        try:
            with self._write_sessions() as session, session.begin():
                yield session
        except DBAPIError as e:
            raise store_error(e, self.url) from e

    def _check_file(self) -> None:
        if self._sqlite_file is not None and not os.path.exists(self._sqlite_file):
            raise StoreUnavailableError(f"the SQLite file of {self.url} no longer exists")

    def check_writable(self, timeout_s: float = 0.5) -> None:
        """Check that a write would succeed now, within about ``timeout_s`` (for readiness probes).

        SQLite: the file still exists and the write lock can be taken (``BEGIN IMMEDIATE`` with a
        ``timeout_s`` busy timeout, then rolled back). PostgreSQL: the server answers within
        ``timeout_s`` and is not read-only (a standby, or ``default_transaction_read_only``).

        Raises:
            StoreUnavailableError: naming the reason (never data).
        """
        self._check_file()
        ms = max(1, int(timeout_s * 1000))
        try:
            with self._engine.connect() as conn:
                if self.dialect == "sqlite":
                    raw = conn.connection.driver_connection
                    assert raw is not None  # an open pooled connection
                    raw.execute(f"PRAGMA busy_timeout={ms}")
                    try:
                        raw.execute("BEGIN IMMEDIATE")
                        raw.execute("ROLLBACK")
                    finally:
                        raw.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
                    return
                with conn.begin():
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ms}")
                    read_only = conn.exec_driver_sql("SHOW transaction_read_only").scalar_one()
                if read_only == "on":
                    raise StoreUnavailableError(f"store at {self.url} is read-only")
        except (SQLAlchemyError, sqlite3.Error) as e:
            detail = describe_db_error(e) if isinstance(e, DBAPIError) else type(e).__name__
            raise StoreUnavailableError(f"store at {self.url} cannot take a write: {detail}") from e

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        """Like :meth:`_write`, but a Core connection (no ORM session: cheaper per transaction)."""
        self._check_file()
        try:
            with self._writer.begin() as conn:
                yield conn
        except DBAPIError as e:
            raise store_error(e, self.url) from e

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A session for reads (its transaction is rolled back on exit).

        Raises:
            StoreUnavailableError: the SQLite file was deleted while the store was open (a new
                connection would silently create an empty database in its place).
            StoreError: on database errors, mapped as for writes (:func:`store_error`).
        """
        self._check_file()
        try:
            with self._read_sessions() as session:
                yield session
        except DBAPIError as e:
            raise store_error(e, self.url) from e

    def _lock_report(self, session: Session, report_id: str) -> None:
        """Serialize writers of one report ID (PostgreSQL advisory lock, released at commit; the same
        key as the batched upsert's, :func:`store.writer.advisory_key`)."""
        if self.dialect != "postgresql":
            return
        session.execute(select(func.pg_advisory_xact_lock(advisory_key(report_id))))

    def ping(self) -> None:
        """Check the database answers (for health checks).

        Raises:
            StoreError: naming the database (password hidden) when it does not.
        """
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as e:
            raise StoreError(f"store at {self.url} is not reachable: {e}") from e
