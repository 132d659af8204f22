"""Store fixtures: a fresh store on SQLite and on PostgreSQL (one scratch schema per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from store_cases import scratch_schema

from store import Store, init_store

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _postgres_store(base_url: str) -> Iterator[Store]:
    with scratch_schema(base_url) as scoped:
        store = init_store(scoped.render_as_string(hide_password=False))
        try:
            yield store
        finally:
            store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("store") / "rsuper.db"
        s = init_store(f"sqlite:///{path}")
        yield s
        s.close()
    else:
        yield from _postgres_store(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A migrated, empty SQLite store (for backend-independent tests)."""
    s = init_store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'rsuper.db'}")
    yield s
    s.close()
