"""One exception tree for the extracted store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


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
    """The store cannot take a write now (database gone, locked by another process, read-only, the
    connection lost or the server shutting down): nothing about the data; retry later."""


class StoreDataError(StoreError):
    """The database refused the values written (an integrity or data error): retrying the same values
    fails again, other records may succeed."""


class ExtractionNotFoundError(StoreError, KeyError):
    """No extraction is stored for the report ID."""

    def __str__(self) -> str:
        return str(self.args[0])


class ReviewConflictError(StoreError):
    """The report's current extraction is not the one the reviewer saw (someone saved in between)."""


class ReviewInputError(StoreInputError):
    """A correction does not validate; ``errors`` are pydantic-style errors (``loc`` names the field)."""

    def __init__(self, message: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors)
