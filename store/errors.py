"""One exception tree for the extracted store."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error raised by :mod:`store`."""


class StoreConfigError(StoreError, ValueError):
    """The store URL or an option is wrong; the message says how to fix it."""


class StoreSchemaError(StoreError):
    """The database schema could not be created or upgraded (migration failure)."""


class JobNotFoundError(StoreError, KeyError):
    """No job has the given ID."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} not found; list jobs with Store.list_jobs().")
        self.job_id = job_id

    def __str__(self) -> str:
        return str(self.args[0])


class StoreInputError(StoreError, ValueError):
    """An argument given to the store is invalid (the message names it, the rule, and the value)."""


class ImportFormatError(StoreInputError):
    """An R-Super CSV to import lacks a required column or holds an unreadable value."""


class JobStateError(StoreError):
    """The job is in a state that does not allow the operation (e.g. retrying a cancelled job)."""


class StoreUnavailableError(StoreError):
    """The store cannot take a write now (database gone, locked by another process, read-only)."""
