"""The Alembic migration creates exactly the ORM schema; upgrades are idempotent."""

from __future__ import annotations

import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect
from sqlalchemy.engine import URL
from store_cases import scratch_schema

from store import Store, create_store_engine
from store.migrate import alembic_config, upgrade
from store.models import Base


def _diffs(store: Store, metadata: MetaData) -> list[object]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migration_matches_the_orm(store: Store) -> None:
    assert _diffs(store, Base.metadata) == []


def test_the_comparison_sees_a_difference(store: Store) -> None:
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    Table("extra", changed, Column("id", Integer, primary_key=True))
    diffs = _diffs(store, changed)
    assert [d[0] for d in diffs if isinstance(d, tuple)] == ["add_table"]


def test_upgrade_is_idempotent(store: Store) -> None:
    upgrade(store.engine)
    upgrade(store.engine)
    tables = set(inspect(store.engine).get_table_names())
    assert tables == {*Base.metadata.tables, "alembic_version"}
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0002"]


@pytest.mark.postgres
def test_concurrent_upgrades_of_a_fresh_postgres_database_all_succeed(postgres_url: str) -> None:
    """``rsuper serve --workers N`` starts N processes that each migrate: one migrates, the rest wait."""
    with scratch_schema(postgres_url) as scoped:
        _race(scoped)


def _race(scoped: URL) -> None:
    engines = [create_store_engine(scoped) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        barrier.wait()
        try:
            upgrade(engine)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    try:
        threads = [threading.Thread(target=start, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        with engines[0].connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0002"]
    finally:
        for e in engines:
            e.dispose()


def test_the_reviews_migration_downgrades_and_upgrades_again(store: Store) -> None:
    """0002 (reviewer columns) can be reverted and re-applied; the schema then matches the ORM again."""

    def columns() -> set[str]:
        return {c["name"] for c in inspect(store.engine).get_columns("extractions")}

    with store.engine.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert not {"reviewer", "reviewed_extraction_id"} & columns()
    upgrade(store.engine)
    assert {"reviewer", "reviewed_extraction_id"} <= columns()
    assert _diffs(store, Base.metadata) == []
