"""Schema migrations without an ``alembic.ini``: the Alembic config is built in code.

:func:`upgrade` brings a database to the newest revision (idempotent); the migration scripts ship
inside the package (``store/migrations``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from store.engine import WRITE_OPTION, redact

MIGRATION_LOCK_KEY: Final[int] = 0x7273_7570_6572_6462  # "rsuperdb"
"""PostgreSQL advisory lock taken while migrating, so that concurrent starters migrate one at a time."""

MIGRATIONS_DIR: Final[Path] = Path(__file__).resolve().parent / "migrations"
"""The Alembic ``script_location`` (inside the installed package)."""


def alembic_config(url: str | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` for the store's migrations.

    Args:
        url: database URL for Alembic commands that open their own connection (``alembic`` CLI-style
            use); :func:`upgrade` passes a connection instead.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` (no-op when already there).

    Safe to call from several processes at once (``rsuper serve --workers N``): on PostgreSQL the
    migration runs under a transaction-level advisory lock (:data:`MIGRATION_LOCK_KEY`), on SQLite
    under the ``BEGIN IMMEDIATE`` write lock; the second caller finds the schema up to date.

    Raises:
        StoreSchemaError: when a migration fails (the message names the database, password hidden).
    """
    from store.errors import StoreSchemaError

    config = alembic_config()
    try:
        with engine.connect() as conn:
            writer = conn.execution_options(**{WRITE_OPTION: True})
            if engine.dialect.name == "postgresql":
                writer.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            config.attributes["connection"] = writer
            command.upgrade(config, revision)
            conn.commit()
    except Exception as e:
        raise StoreSchemaError(
            f"could not migrate the store at {redact(engine.url)!r} to {revision}: {e}"
        ) from e
