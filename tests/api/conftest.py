"""Fixtures for the API tests: apps on a temporary SQLite store, with the ``fake`` backend by default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_cases import AppFactory, make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.app import create_app
from report_extractor.backends import Backend


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[AppFactory]:
    """Build an app (lifespan entered) and its TestClient; every client is closed at teardown."""
    clients: list[TestClient] = []

    def factory(
        backend: Backend | str | None = None, raise_errors: bool = True, **overrides: Any
    ) -> TestClient:
        """``backend``: a backend object, or a backend name for the settings (built by the app)."""
        if isinstance(backend, str):
            overrides["backend"], backend = backend, None
        app: FastAPI = create_app(make_settings(tmp_path, **overrides), backend=backend)
        client = TestClient(app, raise_server_exceptions=raise_errors)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    """A client of an app with the ``fake`` backend (empty answers: every report is lesion-free)."""
    return make_client()


API_SCHEMA = "rsuper_api_test"
"""PostgreSQL schema the API tests run in (dropped and created again for each test)."""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL on each database: a file under ``tmp_path``, or an empty PostgreSQL schema.

    Request it before ``make_client``, so that the apps are closed before the schema is dropped.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url = make_url(request.getfixturevalue("postgres_url")).set(drivername="postgresql+psycopg")
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {API_SCHEMA} CASCADE; CREATE SCHEMA {API_SCHEMA}"))
    yield url.update_query_dict({"options": f"-csearch_path={API_SCHEMA}"}).render_as_string(
        hide_password=False
    )
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {API_SCHEMA} CASCADE"))
    admin.dispose()
