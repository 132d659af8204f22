"""Fixtures shared by every test package (package-specific ones live in ``tests/<package>/conftest.py``)."""

from __future__ import annotations

import os

import pytest

POSTGRES_URL_ENV = "RSUPER_TEST_POSTGRES_URL"
"""Environment variable with the URL of a scratch PostgreSQL database for ``postgres`` tests."""


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the scratch PostgreSQL database (``$RSUPER_TEST_POSTGRES_URL``).

    Skips when unset, except on CI (``CI=true``), where PostgreSQL tests must run: then it fails.
    """
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        if os.environ.get("CI", "").strip().lower() in ("true", "1"):
            pytest.fail(f"{POSTGRES_URL_ENV} is not set but CI=true: PostgreSQL tests must run on CI.")
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    return url
