"""The Alembic migration creates exactly the ORM schema; upgrades are idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from store import Store
from store.migrate import upgrade
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
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0001"]
