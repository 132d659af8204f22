"""Review operations of :class:`store.repository.Store`: the review queue, saving a reviewer's
correction, one report's review view, and agreement figures (see :mod:`store.review` for the rules).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from schemas.records import ExtractionStatus, Lesion, OrganFinding, OrganStatus, ReportExtraction
from schemas.vocabulary import Organ
from store.base import StoreBase, as_utc
from store.convert import record_to_extraction
from store.errors import ExtractionNotFoundError, ReviewConflictError, StoreInputError
from store.models import ExtractionRow, JobItemRow, ReportRow
from store.review import (
    LOW_CONFIDENCE,
    REVIEW_FIELDS,
    ReviewReason,
    WarningKind,
    build_correction,
    changed_fields,
    check_reviewer,
    facts_signature,
    review_reasons,
    review_score,
    warning_kind,
)
from store.writer import SaveRequest, save_requests

_OK = ExtractionStatus.OK.value


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One record of the review queue (no report text)."""

    report_id: str
    extractor_version: str
    backend: str
    status: ExtractionStatus
    reasons: tuple[ReviewReason, ...]
    score: float
    organs: dict[str, str]
    lesions: int
    min_confidence: float | None
    warning_kinds: tuple[WarningKind, ...]
    reviewer: str | None


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    """A page of the review queue and the counts over every record that matched the filters."""

    items: list[QueueItem]
    total: int
    needs_review: int
    reviewed: int
    by_reason: dict[str, int]
    by_warning: dict[str, int]


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One stored extraction of a report (any version, current or not)."""

    extractor_version: str
    backend: str
    status: str
    is_current: bool
    reviewer: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewView:
    """What the review page shows for one report."""

    record: ReportExtraction
    text: str | None
    reviewer: str | None
    reasons: tuple[ReviewReason, ...]
    versions: list[VersionInfo]


@dataclass(frozen=True, slots=True)
class ReviewSaved:
    """Outcome of :meth:`ReviewMixin.save_review`."""

    record: ReportExtraction
    reviewed_version: str
    changed: tuple[str, ...]


@dataclass(slots=True)
class AgreementRow:
    """Agreement of one backend / extractor version with its reviewers."""

    backend: str
    extractor_version: str
    reviewed: int = 0
    changed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REVIEW_FIELDS, 0))

    def share(self, name: str) -> float:
        """The share of reviewed records whose ``name`` field the reviewer changed."""
        return self.changed[name] / self.reviewed if self.reviewed else 0.0


class ReviewMixin(StoreBase):
    """Review operations (mixed into :class:`store.repository.Store`)."""

    def iter_current_rows(
        self, *, reviewed_only: bool = False, status: ExtractionStatus | None = None, batch_size: int = 500
    ) -> Iterator[tuple[ReportExtraction, str | None]]:
        """Stream (current extraction, reviewer) of every report, by report ID (flat memory)."""
        stmt = select(ExtractionRow.id, ExtractionRow.record, ExtractionRow.reviewer).where(
            ExtractionRow.is_current
        )
        if reviewed_only:
            stmt = stmt.where(ExtractionRow.reviewer.is_not(None))
        if status is not None:
            stmt = stmt.where(ExtractionRow.status == ExtractionStatus(status).value)
        self._check_file()
        with self._engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(
                stmt.order_by(ExtractionRow.report_id)
            )
            for row_id, record, reviewer in result:
                yield record_to_extraction(record, row_id=row_id), reviewer

    def reviewed_report_ids(self) -> set[str]:
        """Report IDs whose current extraction is a reviewer's correction."""
        with self._read() as session:
            return set(
                session.execute(
                    select(ExtractionRow.report_id).where(
                        ExtractionRow.is_current, ExtractionRow.reviewer.is_not(None)
                    )
                ).scalars()
            )

    def _disagreeing(self) -> set[str]:
        """Report IDs whose current text has ``ok`` machine extractions that disagree on the facts."""
        many = (
            select(ExtractionRow.report_id)
            .where(ExtractionRow.status == _OK, ExtractionRow.reviewer.is_(None))
            .group_by(ExtractionRow.report_id, ExtractionRow.text_sha256)
            .having(func.count() > 1)
        )
        signatures: dict[tuple[str, str], set[tuple[Any, ...]]] = defaultdict(set)
        with self._read() as session:
            rows = session.execute(
                select(
                    ExtractionRow.id, ExtractionRow.report_id, ExtractionRow.text_sha256, ExtractionRow.record
                ).where(
                    ExtractionRow.status == _OK,
                    ExtractionRow.reviewer.is_(None),
                    ExtractionRow.report_id.in_(many),
                )
            ).all()
        for row_id, rid, sha, record in rows:
            signatures[(rid, sha)].add(facts_signature(record_to_extraction(record, row_id=row_id)))
        return {rid for (rid, _), sigs in signatures.items() if len(sigs) > 1}

    def review_queue(
        self,
        *,
        organ: Organ | None = None,
        job_id: str | None = None,
        warning: WarningKind | None = None,
        include_reviewed: bool = False,
        low_confidence: float = LOW_CONFIDENCE,
        limit: int = 50,
        offset: int = 0,
    ) -> ReviewQueue:
        """Current extractions ordered by need of review (score, then report ID), with counts.

        Args:
            organ: only records that speak about this organ (any status but ``not_mentioned``).
            job_id: only reports of this batch job.
            warning: only records with a warning of this kind.
            include_reviewed: also list records a reviewer already corrected or accepted.
            low_confidence: lesion confidence below which a record is ``low_confidence``.
            limit: items per page (1–500); offset: items to skip.

        Raises:
            StoreInputError: for a bad ``limit`` / ``offset``.
        """
        if not 1 <= limit <= 500:
            raise StoreInputError(f"limit: must be in [1, 500], got {limit}")
        if offset < 0:
            raise StoreInputError(f"offset: must be >= 0, got {offset}")
        organ_value = None if organ is None else Organ(organ)
        in_job: set[str] | None = None
        if job_id is not None:
            with self._read() as session:
                in_job = set(
                    session.execute(select(JobItemRow.report_id).where(JobItemRow.job_id == job_id)).scalars()
                )
        disagreeing = self._disagreeing()
        items: list[QueueItem] = []
        reviewed = 0
        by_reason: Counter[str] = Counter()
        by_warning: Counter[str] = Counter()
        for record, reviewer in self.iter_current_rows():
            if in_job is not None and record.report_id not in in_job:
                continue
            if organ_value is not None and not _mentions(record, organ_value):
                continue
            kinds = tuple(dict.fromkeys(warning_kind(w) for w in record.warnings))
            if warning is not None and WarningKind(warning) not in kinds:
                continue
            if reviewer is not None:
                reviewed += 1
                if not include_reviewed:
                    continue
            reasons = (
                ()
                if reviewer
                else review_reasons(
                    record, disagreement=record.report_id in disagreeing, low_confidence=low_confidence
                )
            )
            by_reason.update(r.value for r in reasons)
            by_warning.update(k.value for k in kinds)
            items.append(
                QueueItem(
                    report_id=record.report_id,
                    extractor_version=record.provenance.extractor_version,
                    backend=record.provenance.backend,
                    status=record.status,
                    reasons=reasons,
                    score=review_score(reasons, record) if reasons else 0.0,
                    organs={f.organ.value: f.status.value for f in record.organs},
                    lesions=len(record.lesions),
                    min_confidence=min((x.confidence for x in record.lesions), default=None),
                    warning_kinds=kinds,
                    reviewer=reviewer,
                )
            )
        items.sort(key=lambda i: (-i.score, i.report_id))
        return ReviewQueue(
            items=items[offset : offset + limit],
            total=len(items),
            needs_review=sum(1 for i in items if i.reasons),
            reviewed=reviewed,
            by_reason=dict(by_reason),
            by_warning=dict(by_warning),
        )

    def review_view(self, report_id: str) -> ReviewView | None:
        """The current extraction of ``report_id`` with its kept text (None when the store did not keep
        it), why it needs review, and every stored version; None when the report is unknown."""
        with self._read() as session:
            rows = session.execute(
                select(
                    ExtractionRow.id,
                    ExtractionRow.extractor_version,
                    ExtractionRow.backend,
                    ExtractionRow.status,
                    ExtractionRow.is_current,
                    ExtractionRow.reviewer,
                    ExtractionRow.created_at,
                    ExtractionRow.record,
                    ExtractionRow.text_sha256,
                )
                .where(ExtractionRow.report_id == report_id)
                .order_by(ExtractionRow.id)
            ).all()
            current = next((r for r in rows if r.is_current), None)
            if current is None:
                return None
            text = session.execute(
                select(ReportRow.text).where(
                    ReportRow.report_id == report_id, ReportRow.text_sha256 == current.text_sha256
                )
            ).scalar_one_or_none()
        record = record_to_extraction(current.record, row_id=current.id)
        sigs = {
            facts_signature(record_to_extraction(r.record, row_id=r.id))
            for r in rows
            if r.status == _OK and r.reviewer is None and r.text_sha256 == current.text_sha256
        }
        reasons = () if current.reviewer else review_reasons(record, disagreement=len(sigs) > 1)
        versions = [
            VersionInfo(
                r.extractor_version, r.backend, r.status, r.is_current, r.reviewer, as_utc(r.created_at)
            )
            for r in rows
        ]
        return ReviewView(record, text, current.reviewer, reasons, versions)

    def save_review(
        self,
        report_id: str,
        reviewer: str,
        *,
        organs: Sequence[OrganFinding | Mapping[str, Any]] | None = None,
        lesions: Sequence[Lesion | Mapping[str, Any]] | None = None,
        expected_version: str | None = None,
        at: datetime | None = None,
    ) -> ReviewSaved:
        """Store a reviewer's correction of the current extraction of ``report_id`` (accept it when
        neither ``organs`` nor ``lesions`` is given), in one transaction; the original is kept and
        the correction becomes current.

        Args:
            report_id: the report.
            reviewer: the reviewer's name (stored as backend ``reviewer:<name>``).
            organs: corrected organ findings (all), or None to keep them.
            lesions: corrected lesions (all, in report order), or None to keep them.
            expected_version: the extractor version the reviewer looked at; the save is refused when
                the current extraction has another one (a concurrent review).
            at: the review time (default: now).

        Raises:
            ExtractionNotFoundError: no extraction is stored for ``report_id``.
            ReviewConflictError: the current version is not ``expected_version``.
            ReviewInputError: the correction does not validate (``errors`` name the fields).
        """
        check_reviewer(reviewer)
        with self._write() as session:
            self._lock_report(session, report_id)
            row = session.execute(
                select(ExtractionRow.id, ExtractionRow.record, ExtractionRow.extractor_version).where(
                    ExtractionRow.report_id == report_id, ExtractionRow.is_current
                )
            ).one_or_none()
            if row is None:
                raise ExtractionNotFoundError(f"no extraction for report {report_id!r}")
            if expected_version is not None and row.extractor_version != expected_version:
                raise ReviewConflictError(
                    f"the current extraction is {row.extractor_version!r}, not {expected_version!r}; "
                    "reload the record and review it again"
                )
            base = record_to_extraction(row.record, row_id=row.id)
            correction = build_correction(base, reviewer, organs=organs, lesions=lesions, at=at)
            if save_requests(session, [SaveRequest(correction)]) != 1:
                raise ReviewConflictError(
                    f"a review {correction.provenance.extractor_version!r} of this report already exists; "
                    "review it again"
                )
            session.execute(
                update(ExtractionRow)
                .where(
                    ExtractionRow.report_id == report_id,
                    ExtractionRow.text_sha256 == correction.text_sha256,
                    ExtractionRow.extractor_version == correction.provenance.extractor_version,
                )
                .values(reviewed_extraction_id=row.id)
                .execution_options(synchronize_session=False)
            )
        return ReviewSaved(correction, row.extractor_version, changed_fields(base, correction))

    def review_agreement(self) -> list[AgreementRow]:
        """Per backend / extractor version of the reviewed extractions: how many were reviewed, and per
        field (:data:`store.review.REVIEW_FIELDS`) how many the reviewer changed. Each report counts
        once per reviewed version (its latest review of that version)."""
        base = aliased(ExtractionRow)
        stmt = (
            select(
                ExtractionRow.id,
                ExtractionRow.record,
                base.id,
                base.record,
                base.backend,
                base.extractor_version,
            )
            .join(base, base.id == ExtractionRow.reviewed_extraction_id)
            .where(ExtractionRow.reviewer.is_not(None))
            .order_by(ExtractionRow.id)
        )
        latest: dict[int, tuple[Any, ...]] = {}
        with self._read() as session:
            for row in session.execute(stmt):
                latest[row[2]] = tuple(row)
        rows: dict[tuple[str, str], AgreementRow] = {}
        for rev_id, rev_record, base_id, base_record, backend, version in latest.values():
            entry = rows.setdefault((backend, version), AgreementRow(backend, version))
            entry.reviewed += 1
            before = record_to_extraction(base_record, row_id=base_id)
            for name in changed_fields(before, record_to_extraction(rev_record, row_id=rev_id)):
                entry.changed[name] += 1
        return sorted(rows.values(), key=lambda r: (r.backend, r.extractor_version))


def _mentions(record: ReportExtraction, organ: Organ) -> bool:
    if any(x.organ is organ for x in record.lesions):
        return True
    return record.finding(organ).status is not OrganStatus.NOT_MENTIONED
