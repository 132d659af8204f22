"""Helpers shared by the API tests (imported as ``api_cases``; fixtures live in ``conftest.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.settings import Settings

AppFactory = Callable[..., TestClient]
"""The ``make_client`` fixture: builds an app (lifespan entered) and returns its TestClient."""

API_KEY = "test-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


LOOKUP_FIRST = [
    pytest.param(True, id="model-backend-asks-the-store-first"),
    pytest.param(False, id="local-backend-extracts-then-upserts"),
]
"""``uses_prompt`` of the backend of an idempotency test: a backend that sends a prompt (a model) is
not called for a stored report; a local one is, and the store's upsert keeps the stored record."""


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test app: a file SQLite store and upload dir under ``tmp_path``, fast polling."""
    values: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path / 'store.db'}",
        "backend": "fake",
        "api_keys": API_KEY,
        "upload_dir": tmp_path / "uploads",
        "job_poll_s": 0.05,
        "backend_concurrency": 2,
        "job_batch_size": 8,
    }
    values.update(overrides)
    return Settings(**values)


def wait_for_job(client: TestClient, job_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll a job until it is no longer creating / pending / running; returns its last status body."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=AUTH).json()
        if body["status"] not in ("creating", "pending", "running"):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job did not finish in {timeout}s: {body}")
        time.sleep(0.05)
