"""The batch engine shared by ``rsuper extract`` and the service's job worker.

Reports in, one :class:`ReportOutcome` per report out, in order:

1. validate each report (empty / over-long / NUL-holding IDs and texts are per-report input errors);
2. ask the sink which (report ID, text hash) keys it already holds ``ok`` for this extractor version
   (those are skipped, never re-extracted);
3. extract the rest in one backend call; a backend that raises (server down) or any unexpected error
   turns into ``failed`` records for the reports of that call, never an exception.

Saving is the caller's business (the CLI hands records to the store; the job worker saves them with
its item updates in one transaction), so the outcomes carry the records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from report_extractor.engine import DEFAULT_MAX_REPORT_CHARS, Extractor, ReportInput, validate_report
from report_extractor.errors import InputError, ReportExtractorError
from report_extractor.postprocess import failed_extraction
from schemas.records import ExtractionStatus, Provenance, ReportExtraction

logger = logging.getLogger(__name__)


@runtime_checkable
class KnownKeys(Protocol):
    """The part of a result store the engine asks before extracting (the store implements it)."""

    def existing_keys(
        self, keys: Iterable[tuple[str, str]], extractor_version: str, *, only_ok: bool = False
    ) -> set[tuple[str, str]]:
        """The (report ID, text hash) keys already extracted with ``extractor_version``."""
        ...


class OutcomeKind(StrEnum):
    """What happened to one report of a batch."""

    OK = "ok"
    SKIPPED = "skipped"
    """Already stored ``ok`` with this extractor version (or a duplicate earlier in the batch)."""
    INPUT_ERROR = "input_error"
    BACKEND_FAILURE = "backend_failure"
    INVALID_ANSWER = "invalid_answer"


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """The result of one report of a batch.

    Attributes:
        report: the input.
        kind: what happened.
        record: the record to save (``ok``, ``failed`` or ``invalid``); None for input errors and
            skipped reports.
        error: why the report did not come out ``ok`` (never report text); None when it did.
        error_kind: a short machine-readable reason (``too_long``, ``bad_id``, ``backend_failure``,
            ...), None when ``ok`` or skipped.
    """

    report: ReportInput
    kind: OutcomeKind
    record: ReportExtraction | None = None
    error: str | None = None
    error_kind: str | None = None

    @property
    def succeeded(self) -> bool:
        """True when the report is stored ``ok`` (now or before)."""
        return self.kind in (OutcomeKind.OK, OutcomeKind.SKIPPED)


def failed_record(extractor: Extractor, report: ReportInput, error: str) -> ReportExtraction:
    """A ``failed`` record for a report the backend could not process at all (kept and retryable).

    ``report`` must pass :func:`~report_extractor.engine.validate_report` (the record model limits IDs).
    """
    backend = extractor.backend
    return failed_extraction(
        report_id=report.report_id,
        text_sha256=report.sha256,
        provenance=Provenance(backend=backend.name, model=backend.model, extractor_version=extractor.version),
        status=ExtractionStatus.FAILED,
        error=error,
    )


def extract_batch(
    reports: Sequence[ReportInput],
    extractor: Extractor,
    known: KnownKeys | None = None,
    *,
    max_chars: int = DEFAULT_MAX_REPORT_CHARS,
) -> list[ReportOutcome]:
    """Validate, skip what is stored, extract the rest (one backend call); one outcome per report.

    Args:
        reports: the batch, in order.
        extractor: the engine with its backend.
        known: asked which keys are already stored ``ok`` (None: extract everything valid).
        max_chars: longer texts are input errors.

    Returns:
        One outcome per report, in input order. Never raises for a report's content, a backend
        outage or an unexpected backend error: those are outcomes.
    """
    outcomes: list[ReportOutcome | None] = [None] * len(reports)
    valid: list[int] = []
    for i, report in enumerate(reports):
        try:
            validate_report(report, max_chars)
        except InputError as e:
            outcomes[i] = ReportOutcome(report, OutcomeKind.INPUT_ERROR, error=str(e), error_kind=e.kind)
            continue
        valid.append(i)
    version = extractor.version
    done: set[tuple[str, str]] = set()
    if known is not None and valid:
        done = known.existing_keys({_key(reports[i]) for i in valid}, version, only_ok=True)
    todo: list[int] = []
    seen: set[tuple[str, str]] = set()
    for i in valid:
        key = _key(reports[i])
        if key in done or key in seen:
            outcomes[i] = ReportOutcome(reports[i], OutcomeKind.SKIPPED)
            continue
        seen.add(key)
        todo.append(i)
    if todo:
        for i, outcome in zip(todo, _extract([reports[i] for i in todo], extractor), strict=True):
            outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


def _key(report: ReportInput) -> tuple[str, str]:
    return report.report_id, report.sha256


def _extract(reports: list[ReportInput], extractor: Extractor) -> list[ReportOutcome]:
    try:
        records = extractor.extract_many(reports)
    except ReportExtractorError as e:
        logger.error("backend unavailable for a batch of %d reports: %s", len(reports), type(e).__name__)
        message = f"backend unavailable ({type(e).__name__}); retry later"
        return [_failed(extractor, r, message, "backend_unavailable") for r in reports]
    except Exception as e:  # a backend bug must not stop a batch: every report becomes a failure
        logger.exception("unexpected %s extracting a batch of %d reports", type(e).__name__, len(reports))
        message = f"internal error in the backend ({type(e).__name__}); retry later"
        return [_failed(extractor, r, message, "backend_error") for r in reports]
    out = []
    for report, record in zip(reports, records, strict=True):
        if record.status is ExtractionStatus.OK:
            out.append(ReportOutcome(report, OutcomeKind.OK, record))
        elif record.status is ExtractionStatus.FAILED:
            out.append(
                ReportOutcome(report, OutcomeKind.BACKEND_FAILURE, record, record.error, "backend_failure")
            )
        else:
            out.append(
                ReportOutcome(report, OutcomeKind.INVALID_ANSWER, record, record.error, "invalid_answer")
            )
    return out


def _failed(extractor: Extractor, report: ReportInput, message: str, kind: str) -> ReportOutcome:
    record = failed_record(extractor, report, message)
    return ReportOutcome(report, OutcomeKind.BACKEND_FAILURE, record, message, kind)
