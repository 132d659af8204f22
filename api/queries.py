"""Read queries the API needs that the store's repository does not offer (yet).

They use only the store's public surface (:attr:`Store.engine`, the ORM models and
:func:`store.convert.record_to_extraction`): page through a job's items in row order, and look up
their extractions. (Lookups by key moved into the store: :meth:`store.Store.find_extractions`.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.records import ExtractionStatus, ReportExtraction
from store import Store
from store.convert import record_to_extraction
from store.models import ExtractionRow, JobItemRow

PAGE: Final[int] = 500
"""Rows per query when paging (well below the parameter limits of SQLite and PostgreSQL)."""


@dataclass(frozen=True, slots=True)
class JobItemView:
    """A job item without its text."""

    row_index: int
    report_id: str
    text_sha256: str | None
    status: str
    error: str | None


def iter_job_items(store: Store, job_id: str, *, page: int = PAGE) -> Iterator[list[JobItemView]]:
    """A job's items in row order, ``page`` at a time (keyset pagination, flat memory)."""
    last = -1
    while True:
        stmt = (
            select(
                JobItemRow.row_index,
                JobItemRow.report_id,
                JobItemRow.text_sha256,
                JobItemRow.status,
                JobItemRow.error,
            )
            .where(JobItemRow.job_id == job_id, JobItemRow.row_index > last)
            .order_by(JobItemRow.row_index)
            .limit(page)
        )
        with Session(store.engine) as session:
            rows = [JobItemView(*r) for r in session.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1].row_index


def extractions_for(
    store: Store, items: Sequence[JobItemView], extractor_version: str | None
) -> dict[tuple[str, str], ReportExtraction]:
    """The stored extraction of each item's (report ID, text hash), for one extractor version
    (any version, preferring ``ok`` and then the newest, when ``extractor_version`` is None)."""
    ids = sorted({i.report_id for i in items})
    if not ids:
        return {}
    stmt = select(
        ExtractionRow.id,
        ExtractionRow.report_id,
        ExtractionRow.text_sha256,
        ExtractionRow.status,
        ExtractionRow.record,
    ).where(ExtractionRow.report_id.in_(ids))
    if extractor_version is not None:
        stmt = stmt.where(ExtractionRow.extractor_version == extractor_version)
    best: dict[tuple[str, str], tuple[tuple[bool, int], int, dict[str, Any]]] = {}
    with Session(store.engine) as session:
        for row_id, rid, sha, status, record in session.execute(stmt):
            rank = (status == ExtractionStatus.OK.value, row_id)
            key = (rid, sha)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, row_id, record)
    return {key: record_to_extraction(rec, row_id=row_id) for key, (_, row_id, rec) in best.items()}
