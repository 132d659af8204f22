"""Database URL resolution and engine construction (SQLite by default, PostgreSQL by URL).

SQLite connections get ``foreign_keys=ON``, WAL journaling, a busy timeout and explicit ``BEGIN``
statements (read transactions ``BEGIN DEFERRED``, write transactions ``BEGIN IMMEDIATE`` so two
writers never deadlock on a lock upgrade). PostgreSQL URLs without a driver use psycopg 3.
"""

from __future__ import annotations

import json
import os
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from store.errors import StoreConfigError

ENV_VAR: Final[str] = "RSUPER_STORE_URL"
"""Environment variable holding the store URL."""

DEFAULT_URL: Final[str] = "sqlite:///rsuper.db"
"""Store URL used when neither an argument nor :data:`ENV_VAR` gives one."""

SQLITE_BUSY_TIMEOUT_S: Final[float] = 30.0
"""How long an SQLite connection waits for a lock before failing (seconds)."""

WRITE_OPTION: Final[str] = "rsuper_write"
"""Execution option marking a connection as a writer (SQLite: ``BEGIN IMMEDIATE``)."""

_HINT = f"pass a SQLAlchemy URL via --store or the {ENV_VAR} environment variable, e.g. {DEFAULT_URL!r} or "
_HINT += "'postgresql+psycopg://user:password@host:5432/rsuper'"


class EncodedJSON(str):
    """A value already encoded as JSON text (e.g. by pydantic's ``model_dump_json``): the store's JSON
    columns write it as it is instead of encoding a Python object again."""

    __slots__ = ()


def dump_json(value: Any) -> str:
    """The store engines' JSON serializer: :class:`EncodedJSON` as it is, anything else
    ``json.dumps``."""
    return value if isinstance(value, EncodedJSON) else json.dumps(value)


def resolve_url(url: str | URL | None = None) -> URL:
    """The store URL: ``url`` if given, else ``$RSUPER_STORE_URL``, else :data:`DEFAULT_URL`.

    ``postgres://`` and driver-less ``postgresql://`` URLs are rewritten to use psycopg 3.

    Raises:
        StoreConfigError: when the URL cannot be parsed or names an unsupported database.
    """
    raw: str | URL = url if url is not None else (os.environ.get(ENV_VAR) or DEFAULT_URL)
    try:
        parsed = make_url(raw)
    except ArgumentError as e:
        raise StoreConfigError(f"store URL is not a valid database URL ({e}); {_HINT}.") from e
    backend = parsed.get_backend_name()
    if backend == "postgres" or (backend == "postgresql" and parsed.drivername == "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "postgresql" and backend != "sqlite":
        raise StoreConfigError(
            f"store URL names an unsupported database {backend!r}; expected sqlite or postgresql; {_HINT}."
        )
    return parsed


def redact(url: URL) -> str:
    """The URL as text with its password hidden (safe to log)."""
    return url.render_as_string(hide_password=True)


def create_store_engine(url: str | URL | None = None, *, echo: bool = False) -> Engine:
    """Build an :class:`~sqlalchemy.Engine` for the store (see :func:`resolve_url` for the URL).

    Raises:
        StoreConfigError: for a bad URL or a missing database driver.
    """
    parsed = resolve_url(url)
    # hide_parameters: SQL parameters (report text!) never reach logs or exception messages.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True, "json_serializer": dump_json}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as e:
        raise StoreConfigError(
            f"no driver for store URL {redact(parsed)!r} ({e}); "
            "install it with pip install 'rsuper[postgres]'."
        ) from e
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module (see the "begin" hook below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")
