"""Alembic migrations of the store (``script_location`` for :func:`store.migrate.alembic_config`)."""
