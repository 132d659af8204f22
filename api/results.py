"""Streamed job results: JSONL, a CSV summary, and the two R-Super CSVs.

Rows are produced page by page from the store (:meth:`store.Store.iter_job_items`), so a job of any
size streams in flat memory. Items still pending appear with their status (results of a running job
are partial).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, Final

from api.schemas import ResultFormat
from schemas.records import ExtractionStatus, OrganStatus, ReportExtraction
from store import JobItemView, Store
from store.rsuper_csv import PER_CT_COLUMNS, PER_TUMOR_COLUMNS, per_ct_row, per_tumor_rows

SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "row_index",
    "report_id",
    "item_status",
    "extraction_status",
    "error",
    "lesion_organs",
    "lesion_count",
    "extractor_version",
)
"""Columns of the ``csv`` format: one row per job item."""

MEDIA_TYPES: Final[dict[ResultFormat, str]] = {
    ResultFormat.JSONL: "application/x-ndjson",
    ResultFormat.CSV: "text/csv; charset=utf-8",
    ResultFormat.RSUPER_PER_TUMOR: "text/csv; charset=utf-8",
    ResultFormat.RSUPER_PER_CT: "text/csv; charset=utf-8",
}


def _pages(store: Store, job_id: str, version: str | None) -> Iterator[list[tuple[JobItemView, Any]]]:
    for items in store.iter_job_items(job_id):
        keys = {(i.report_id, i.text_sha256) for i in items if i.text_sha256 is not None}
        found = store.find_extractions(keys, version, only_ok=False)
        yield [(i, found.get((i.report_id, i.text_sha256 or ""))) for i in items]


def _jsonl(store: Store, job_id: str, version: str | None) -> Iterator[str]:
    for page in _pages(store, job_id, version):
        lines = []
        for item, record in page:
            obj = {
                "row_index": item.row_index,
                "report_id": item.report_id,
                "item_status": item.status,
                "error": item.error,
                "record": None if record is None else record.model_dump(mode="json"),
            }
            lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
        yield "".join(lines)


def _summary_row(item: JobItemView, record: ReportExtraction | None) -> dict[str, Any]:
    organs = (
        [] if record is None else [f.organ.value for f in record.organs if f.status is OrganStatus.LESION]
    )
    return {
        "row_index": item.row_index,
        "report_id": item.report_id,
        "item_status": item.status,
        "extraction_status": "" if record is None else record.status.value,
        "error": item.error or "",
        "lesion_organs": " / ".join(organs),
        "lesion_count": "" if record is None else len(record.lesions),
        "extractor_version": "" if record is None else record.provenance.extractor_version,
    }


def _csv(rows: Iterable[list[dict[str, Any]]], columns: tuple[str, ...]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for page in rows:
        writer.writerows(page)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


def _ok_records(page: list[tuple[JobItemView, ReportExtraction | None]]) -> list[ReportExtraction]:
    return [r for _, r in page if r is not None and r.status is ExtractionStatus.OK]


def stream_results(store: Store, job_id: str, version: str | None, fmt: ResultFormat) -> Iterator[str]:
    """The job's results in ``fmt``, as text chunks (one per page of items).

    * ``jsonl``: one object per item: ``row_index``, ``report_id``, ``item_status``, ``error``,
      ``record`` (the :class:`ReportExtraction`, or null when none was stored).
    * ``csv``: one summary row per item (:data:`SUMMARY_COLUMNS`).
    * ``rsuper-per-tumor`` / ``rsuper-per-ct``: the R-Super CSVs of the job's ``ok`` records
      (see :mod:`store.rsuper_csv`; ``BDMAP ID`` is the report ID).
    """
    if fmt is ResultFormat.JSONL:
        return _jsonl(store, job_id, version)
    pages = _pages(store, job_id, version)
    if fmt is ResultFormat.CSV:
        return _csv(([_summary_row(i, r) for i, r in page] for page in pages), SUMMARY_COLUMNS)
    if fmt is ResultFormat.RSUPER_PER_TUMOR:
        tumor_rows = ([row for r in _ok_records(page) for row in per_tumor_rows(r)] for page in pages)
        return _csv(tumor_rows, PER_TUMOR_COLUMNS)
    ct_rows = ([row for r in _ok_records(page) if (row := per_ct_row(r)) is not None] for page in pages)
    return _csv(ct_rows, PER_CT_COLUMNS)
