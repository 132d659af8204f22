"""Store URL resolution and SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from store import DEFAULT_URL, ENV_VAR, Store, StoreConfigError, init_store, resolve_url
from store.engine import EncodedJSON, create_store_engine, dump_json


def test_url_from_argument_env_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_url().render_as_string() == DEFAULT_URL
    monkeypatch.setenv(ENV_VAR, "sqlite:///from-env.db")
    assert resolve_url().database == "from-env.db"
    assert resolve_url("sqlite:///arg.db").database == "arg.db"


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        pytest.param("postgresql://u:p@h/db", "postgresql+psycopg", id="driverless"),
        pytest.param("postgres://u:p@h/db", "postgresql+psycopg", id="postgres-scheme"),
        pytest.param("postgresql+psycopg://u:p@h/db", "postgresql+psycopg", id="explicit"),
    ],
)
def test_postgres_urls_use_psycopg(url: str, driver: str) -> None:
    assert resolve_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param(
            "not a url", r"not a valid database URL .*--store or the RSUPER_STORE_URL", id="garbage"
        ),
        pytest.param("mysql://u:p@h/db", r"unsupported database 'mysql'.*RSUPER_STORE_URL", id="mysql"),
    ],
)
def test_bad_urls_name_the_setting(url: str, message: str) -> None:
    with pytest.raises(StoreConfigError, match=message):
        init_store(url)


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


def test_password_never_shown(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert store.url.startswith("sqlite:///")
    store.close()
    assert "secret" not in str(resolve_url("postgresql://u:secret@h/db").render_as_string(hide_password=True))


def test_a_store_needs_the_engine_of_create_store_engine() -> None:
    """Records are written pre-encoded (``EncodedJSON``); another engine would store them as strings."""
    with pytest.raises(StoreConfigError, match="create_store_engine"):
        Store(create_engine("sqlite://"))
    assert dump_json(EncodedJSON('{"a": 1}')) == '{"a": 1}'
    assert dump_json({"a": 1}) == '{"a": 1}'
