"""Fixtures for the API tests: apps on a temporary SQLite store, with the ``fake`` backend by default."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_cases import make_settings
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from report_extractor.backends import Backend

AppFactory = Callable[..., TestClient]


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
