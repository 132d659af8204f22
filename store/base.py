"""Engine ownership and transaction scopes shared by the store's repository mixins."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Self

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import func

from store.engine import WRITE_OPTION, redact
from store.errors import StoreError


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (SQLite returns naive ones)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StoreBase:
    """Owns the engine; hands out read and write sessions (one transaction each).

    Write sessions start with ``BEGIN IMMEDIATE`` on SQLite (one writer at a time, no lock-upgrade
    deadlocks); on PostgreSQL, per-report advisory locks serialize writers of the same report.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})
        self._write_sessions = sessionmaker(bind=self._writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=engine, expire_on_commit=False)

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
        """A session in one write transaction: committed on success, rolled back on error."""
        try:
            with self._write_sessions() as session, session.begin():
                yield session
        except DBAPIError as e:
            raise StoreError(f"database error on {self.url}: {type(e.orig).__name__}: {e.orig}") from e

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A session for reads (its transaction is rolled back on exit)."""
        with self._read_sessions() as session:
            yield session

    def _lock_report(self, session: Session, report_id: str) -> None:
        """Serialize writers of one report ID (PostgreSQL advisory lock, released at commit)."""
        if self.dialect != "postgresql":
            return
        key = int.from_bytes(hashlib.sha256(report_id.encode("utf-8")).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))

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
