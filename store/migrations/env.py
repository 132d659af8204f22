"""Alembic environment of the store.

Used through :func:`store.migrate.alembic_config` (no ``alembic.ini``): an open connection is passed
in ``config.attributes["connection"]``; otherwise the URL comes from the config's ``sqlalchemy.url``,
``$RSUPER_STORE_URL`` or the default. SQLite migrations run in batch mode (table copy) so that
``ALTER`` operations SQLite lacks still work.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from store.engine import WRITE_OPTION, create_store_engine
from store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection given by the caller, or on a new one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_store_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as conn:
            _run(conn.execution_options(**{WRITE_OPTION: True}))
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
