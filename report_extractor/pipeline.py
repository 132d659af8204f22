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

from report_extractor.batch import KnownKeys, OutcomeKind, extract_batch
from report_extractor.engine import DEFAULT_MAX_REPORT_CHARS, Extractor, ReportInput
from report_extractor.ingest import Row
from schemas.records import ExtractionStatus, ReportExtraction

logger = logging.getLogger(__name__)


@runtime_checkable
class ResultSink(KnownKeys, Protocol):
    """Where batch results go (the store implements this): the known keys, plus saving.

    The ``existing_keys`` method comes from :class:`report_extractor.batch.KnownKeys`."""

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


def _inputs(rows: Iterable[Row], summary: BatchSummary) -> Iterator[tuple[Row, ReportInput]]:
    for row in rows:
        summary.rows += 1
        # a missing ID goes through the engine too (an input error), so errors stay in row order
        yield row, ReportInput(report_id=row.report_id or "", text=row.text or "")


def _error(summary: BatchSummary, row_number: int, report_id: str | None, kind: str, message: str) -> None:
    summary.error_kinds[kind] += 1
    if len(summary.errors) < BatchSummary.MAX_KEPT_ERRORS:
        summary.errors.append(RowError(row_number, report_id, kind, message))


def _batches(items: Iterator[tuple[Row, ReportInput]], size: int) -> Iterator[list[tuple[Row, ReportInput]]]:
    batch: list[tuple[Row, ReportInput]] = []
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

    Each batch goes through :func:`report_extractor.batch.extract_batch` (the engine the service's
    job worker uses too), then its records are committed to ``sink`` in one transaction.

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
    handled = 0
    for batch in _batches(_inputs(rows, summary), batch_size):
        outcomes = extract_batch([r for _, r in batch], extractor, sink, max_chars=max_chars)
        saved = [(o.record, o.report.text) for o in outcomes if o.record is not None]
        if saved:
            sink.save_many([rec for rec, _ in saved], texts=[t for _, t in saved] if keep_text else None)
        for (row, report), outcome in zip(batch, outcomes, strict=True):
            if outcome.kind is OutcomeKind.SKIPPED:
                summary.skipped_existing += 1
                continue
            if outcome.record is None:  # an input error
                kind = outcome.error_kind or "invalid"
                _error(summary, row.row_number, row.report_id, kind, outcome.error or "")
                continue
            summary.extracted += 1
            summary.statuses[outcome.record.status.value] += 1
            if outcome.kind is not OutcomeKind.OK:
                kind = outcome.error_kind or "backend_failure"
                _error(summary, row.row_number, report.report_id, kind, outcome.error or "")
            if out is not None:
                out.write(outcome.record.model_dump_json() + "\n")
        if out is not None and saved:
            out.flush()
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
