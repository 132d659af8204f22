"""The extracted store: tumor records in SQLite (default) or PostgreSQL, plus exports and jobs.

Layer 1: depends on :mod:`schemas` only (no torch, MONAI, FastAPI). Open it with :func:`init_store`.
"""

from store.engine import DEFAULT_URL, ENV_VAR, create_store_engine, resolve_url
from store.errors import (
    ExtractionNotFoundError,
    ImportFormatError,
    JobNotFoundError,
    JobStateError,
    ReviewConflictError,
    ReviewInputError,
    StoreConfigError,
    StoreDataError,
    StoreError,
    StoreInputError,
    StoreSchemaError,
    StoreUnavailableError,
)
from store.jobs import ClaimedItem, ItemError, ItemResult, ItemStatus, JobInfo, JobItemView, JobStatus
from store.repository import ExtractionSink, SaveRequest, Store, init_store
from store.reviews import AgreementRow, QueueItem, ReviewQueue, ReviewSaved, ReviewView, VersionInfo

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "AgreementRow",
    "ClaimedItem",
    "ExtractionNotFoundError",
    "ExtractionSink",
    "ImportFormatError",
    "ItemError",
    "ItemResult",
    "ItemStatus",
    "JobInfo",
    "JobItemView",
    "JobNotFoundError",
    "JobStateError",
    "JobStatus",
    "QueueItem",
    "ReviewConflictError",
    "ReviewInputError",
    "ReviewQueue",
    "ReviewSaved",
    "ReviewView",
    "SaveRequest",
    "Store",
    "StoreConfigError",
    "StoreDataError",
    "StoreError",
    "StoreInputError",
    "StoreSchemaError",
    "StoreUnavailableError",
    "VersionInfo",
    "create_store_engine",
    "init_store",
    "resolve_url",
]
