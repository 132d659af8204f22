"""Resumable batch extraction: rows in, records committed to a sink, per-row errors kept.

* Streaming: rows are read, extracted and committed a batch at a time; memory stays flat.
* Resumable: before extracting a batch, the sink is asked which (report ID, text hash) keys it already
  holds for this extractor version; those are skipped. Every batch is committed before the next one
  starts, so a killed run loses at most the batch in flight.
* Honest accounting: empty or over-long texts, missing IDs and backend failures are counted and kept
  (failed / invalid records go to the sink and are retried by the next run; input errors go to the
  summary).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from report_extractor.engine import DEFAULT_MAX_REPORT_CHARS, Extractor, ReportInput, validate_report
from report_extractor.errors import InputError
from report_extractor.ingest import Row
from schemas.records import ExtractionStatus, ReportExtraction

logger = logging.getLogger(__name__)


@runtime_checkable
class ResultSink(Protocol):
    """Where batch results go (the store implements this)."""

    def existing_keys(
        self, keys: Iterable[tuple[str, str]], extractor_version: str, *, only_ok: bool = False
    ) -> set[tuple[str, str]]:
        """The (report ID, text hash) keys already extracted with ``extractor_version``."""
        ...

    def save_many(self, extractions: list[ReportExtraction], *, texts: list[str] | None = None) -> int:
        """Commit records in one transaction; returns how many were written."""
        ...


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be extracted, and why (never the report text)."""

    row_number: int
    report_id: str | None
    kind: str
    message: str


@dataclass
class BatchSummary:
    """Counts for one run of :func:`run_batch`."""

    rows: int = 0
    extracted: int = 0
    skipped_existing: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    error_kinds: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def reports_per_second(self) -> float:
        """Extracted reports per wall-clock second (0 when nothing ran)."""
        return self.extracted / self.seconds if self.seconds > 0 else 0.0

    @property
    def processed_anything(self) -> bool:
        """True when at least one report was extracted ok or already present."""
        return self.statuses[ExtractionStatus.OK.value] > 0 or self.skipped_existing > 0

    MAX_KEPT_ERRORS = 10_000


def _inputs(rows: Iterable[Row], summary: BatchSummary, max_chars: int) -> Iterator[ReportInput]:
    for row in rows:
        summary.rows += 1
        if row.report_id is None:
            _error(summary, row, "missing_id", "report ID is empty")
            continue
        report = ReportInput(report_id=row.report_id, text=row.text or "")
        try:
            validate_report(report, max_chars=max_chars)
        except InputError as e:
            _error(summary, row, e.kind, str(e))
            continue
        yield report


def _error(summary: BatchSummary, row: Row, kind: str, message: str) -> None:
    summary.error_kinds[kind] += 1
    if len(summary.errors) < BatchSummary.MAX_KEPT_ERRORS:
        summary.errors.append(RowError(row.row_number, row.report_id, kind, message))


def _batches(items: Iterator[ReportInput], size: int) -> Iterator[list[ReportInput]]:
    batch: list[ReportInput] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_batch(
    rows: Iterable[Row],
    extractor: Extractor,
    sink: ResultSink,
    *,
    batch_size: int = 64,
    max_chars: int = DEFAULT_MAX_REPORT_CHARS,
    keep_text: bool = False,
    out: IO[str] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BatchSummary:
    """Extract every row not already in ``sink`` and commit the results batch by batch.

    Args:
        rows: input rows (e.g. a :class:`report_extractor.ingest.ReportTable`).
        extractor: the engine with its backend.
        sink: the store (or any :class:`ResultSink`).
        batch_size: reports per backend call and per transaction.
        max_chars: longer reports are per-row errors.
        keep_text: also store the report text (off by default: reports are PHI).
        out: optional text stream receiving one JSON record per newly extracted report.
        on_progress: called with the number of rows handled after each batch (progress bars).

    Returns:
        The run's counts and per-row errors. Backend failures and invalid answers are kept in the
        sink with status ``failed`` / ``invalid`` and are retried by the next run; ``ok`` records are
        never redone.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    summary = BatchSummary()
    started = time.perf_counter()
    version = extractor.version
    handled = 0
    for batch in _batches(_inputs(rows, summary, max_chars), batch_size):
        keys = {(r.report_id, r.sha256) for r in batch}
        done = sink.existing_keys(keys, version, only_ok=True)
        todo: list[ReportInput] = []
        seen: set[tuple[str, str]] = set()
        for report in batch:
            key = (report.report_id, report.sha256)
            if key in done or key in seen:
                summary.skipped_existing += 1
                continue
            seen.add(key)
            todo.append(report)
        if todo:
            records = extractor.extract_many(todo)
            sink.save_many(records, texts=[r.text for r in todo] if keep_text else None)
            for report, record in zip(todo, records, strict=True):
                summary.statuses[record.status.value] += 1
                if record.status is not ExtractionStatus.OK:
                    kind = "backend_failure" if record.status is ExtractionStatus.FAILED else "invalid_answer"
                    _error(summary, Row(0, report.report_id, None), kind, record.error or "")
                if out is not None:
                    out.write(record.model_dump_json() + "\n")
            if out is not None:
                out.flush()
            summary.extracted += len(todo)
        handled_now = summary.rows
        if on_progress is not None:
            on_progress(handled_now - handled)
        handled = handled_now
    if on_progress is not None and summary.rows > handled:
        on_progress(summary.rows - handled)
    summary.seconds = time.perf_counter() - started
    return summary


def open_results_file(path: Path) -> IO[str]:
    """Open a JSONL results file for appending, first dropping a partial last line from a killed run."""
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb+") as f:
            data = f.read()
            if not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                f.seek(cut)
                f.truncate()
    return path.open("a", encoding="utf-8")


def write_errors_csv(errors: list[RowError], path: Path) -> None:
    """Write per-row errors (row number, report ID, kind, message; never text) as CSV."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["row", "report_id", "kind", "message"])
        for e in errors:
            writer.writerow([e.row_number or "", e.report_id or "", e.kind, e.message])
