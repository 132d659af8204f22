"""The extracted store's repository: save, look up and stream tumor records.

>>> store = init_store("sqlite://")                       # in-memory; default: $RSUPER_STORE_URL
>>> store.save_extraction(extraction)                     # doctest: +SKIP
True

Records are keyed by (report ID, SHA-256 of the text, extractor version). Saving is idempotent: an
``ok`` record is never overwritten; a ``failed`` / ``invalid`` one is replaced by the next save of the
same key (a retry). Per report ID, the *current* extraction is the latest ``ok`` reviewer's correction
(:mod:`store.review`), else the latest ``ok`` one, else the latest of any status; reads, exports and
training see current extractions only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol, runtime_checkable

from sqlalchemy import Engine, and_, exists, func, select
from sqlalchemy.sql.elements import ColumnElement

from schemas.records import ExtractionStatus, OrganStatus, ReportExtraction
from schemas.vocabulary import Organ
from store.base import StoreBase
from store.convert import record_to_extraction
from store.engine import create_store_engine
from store.errors import StoreInputError
from store.jobs import JobQueueMixin
from store.migrate import upgrade
from store.models import ExtractionRow, OrganFindingRow, ReportRow
from store.reviews import ReviewMixin
from store.writer import SaveRequest, save_requests, save_requests_each

__all__ = ["ExtractionSink", "SaveRequest", "Store", "init_store"]

log = logging.getLogger(__name__)

IN_CHUNK: Final[int] = 500
"""Values per ``IN (...)`` query (well below SQLite's and PostgreSQL's parameter limits)."""

MAX_BATCH: Final[int] = 5_000
"""Largest ``save_many`` batch (one transaction)."""

_OK: Final[str] = ExtractionStatus.OK.value


@runtime_checkable
class ExtractionSink(Protocol):
    """What the batch pipeline needs from a result store.

    Mirrors ``report_extractor.pipeline.ResultSink`` (which the store may not import, nor the pipeline
    the store); a test checks that :class:`Store` satisfies both.
    """

    def existing_keys(
        self, keys: Iterable[tuple[str, str]], extractor_version: str, *, only_ok: bool = False
    ) -> set[tuple[str, str]]:
        """The (report ID, text hash) pairs among ``keys`` already stored for ``extractor_version``."""
        ...

    def save_extraction(
        self, extraction: ReportExtraction, *, text: str | None = None, metadata: dict[str, Any] | None = None
    ) -> bool:
        """Store one result idempotently; True when something was written."""
        ...

    def save_many(self, extractions: list[ReportExtraction], *, texts: list[str] | None = None) -> int:
        """Store results in one transaction; returns how many were written."""
        ...


class Store(ReviewMixin, JobQueueMixin, StoreBase):
    """Repository over the store's tables (see the module docstring); build it with :func:`init_store`."""

    # ------------------------------------------------------------------ writes

    def save_extraction(
        self, extraction: ReportExtraction, *, text: str | None = None, metadata: dict[str, Any] | None = None
    ) -> bool:
        """Save one extraction in its own transaction (idempotent upsert).

        Args:
            extraction: the record; its key is (report_id, text_sha256, provenance.extractor_version).
            text: the report text, stored only when given (the caller opts in); must hash to
                ``extraction.text_sha256``.
            metadata: JSON-able metadata stored with the report (replaces earlier metadata).

        Returns:
            True when a row was written; False when an ``ok`` record with this key already exists
            (nothing is changed then).

        Raises:
            StoreInputError: when ``text`` does not hash to ``extraction.text_sha256``.
            StoreError: on database errors.
        """
        with self._write_connection() as conn:
            return save_requests(conn, [SaveRequest(extraction, text, metadata)]) == 1

    def save_many(
        self,
        extractions: Iterable[ReportExtraction | SaveRequest],
        *,
        texts: Sequence[str | None] | None = None,
        batch_size: int | None = None,
    ) -> int:
        """Save many extractions (same rules as :meth:`save_extraction`), batched for throughput.

        Args:
            extractions: records, or :class:`SaveRequest` items carrying text and metadata; consumed
                lazily.
            texts: the opt-in report texts, parallel to ``extractions`` (``None`` entries: not kept).
            batch_size: records per transaction; None (default) saves everything in one transaction
                (what the pipeline's ``ResultSink`` expects: it passes bounded chunks).

        Returns:
            The number of records written.

        Raises:
            StoreInputError: for a bad ``batch_size``, ``texts`` of another length, or a text that
                does not hash to its record's ``text_sha256`` (that batch is not written).
        """
        if batch_size is not None and not 1 <= batch_size <= MAX_BATCH:
            raise StoreInputError(f"batch_size: must be in [1, {MAX_BATCH}], got {batch_size}")
        items: Iterable[ReportExtraction | SaveRequest] = extractions
        if texts is not None:
            records = list(extractions)
            if len(records) != len(texts):
                raise StoreInputError(
                    f"texts: must have one entry per extraction ({len(records)}), got {len(texts)}"
                )
            items = [_with_text(r, t) for r, t in zip(records, texts, strict=True)]
        written = 0
        batch: list[SaveRequest] = []
        for item in items:
            batch.append(item if isinstance(item, SaveRequest) else SaveRequest(item))
            if batch_size is not None and len(batch) >= batch_size:
                written += self._save_batch(batch)
                batch = []
        if batch:
            written += self._save_batch(batch)
        return written

    def save_each(self, requests: Sequence[SaveRequest]) -> list[bool]:
        """Save records of independent requests in one transaction (same rules as
        :meth:`save_extraction`); says for each one whether it was written.

        Returns:
            One flag per request, in order: False when an ``ok`` record with its key was already
            stored (or an earlier request of the batch stored it).

        Raises:
            StoreInputError: a text that does not hash to its record's ``text_sha256`` (nothing of
                the batch is written).
            StoreError: on database errors (nothing of the batch is written).
        """
        with self._write_connection() as conn:
            return save_requests_each(conn, list(requests))

    def _save_batch(self, batch: list[SaveRequest]) -> int:
        with self._write_connection() as conn:
            return save_requests(conn, batch)

    # ------------------------------------------------------------------ reads

    def existing_keys(
        self, keys: Iterable[tuple[str, str]], extractor_version: str, *, only_ok: bool = False
    ) -> set[tuple[str, str]]:
        """The (report ID, text hash) pairs among ``keys`` already stored for ``extractor_version``.

        Args:
            keys: (report_id, text_sha256) pairs, any number (queried in chunks of :data:`IN_CHUNK`).
            extractor_version: the extractor version to look for.
            only_ok: count only ``ok`` records (so a resumed batch retries failed ones).
        """
        wanted = set(keys)
        found: set[tuple[str, str]] = set()
        ids = sorted({rid for rid, _ in wanted})
        with self._read() as session:
            for start in range(0, len(ids), IN_CHUNK):
                stmt = select(ExtractionRow.report_id, ExtractionRow.text_sha256).where(
                    ExtractionRow.extractor_version == extractor_version,
                    ExtractionRow.report_id.in_(ids[start : start + IN_CHUNK]),
                )
                if only_ok:
                    stmt = stmt.where(ExtractionRow.status == _OK)
                found.update((rid, sha) for rid, sha in session.execute(stmt) if (rid, sha) in wanted)
        return found

    def find_extractions(
        self, keys: Iterable[tuple[str, str]], extractor_version: str | None, *, only_ok: bool = True
    ) -> dict[tuple[str, str], ReportExtraction]:
        """The stored extraction of each (report ID, text hash) key.

        Args:
            keys: (report_id, text_sha256) pairs, any number (queried in chunks of :data:`IN_CHUNK`).
            extractor_version: the extractor version to look for (None: any version).
            only_ok: only ``ok`` records; else any status, an ``ok`` one preferred, then the newest.

        Returns:
            The records found, by key (keys without a record are absent).
        """
        wanted = set(keys)
        ids = sorted({rid for rid, _ in wanted})
        best: dict[tuple[str, str], tuple[tuple[bool, int], dict[str, Any]]] = {}
        with self._read() as session:
            for start in range(0, len(ids), IN_CHUNK):
                stmt = select(
                    ExtractionRow.id,
                    ExtractionRow.report_id,
                    ExtractionRow.text_sha256,
                    ExtractionRow.status,
                    ExtractionRow.record,
                ).where(ExtractionRow.report_id.in_(ids[start : start + IN_CHUNK]))
                if extractor_version is not None:
                    stmt = stmt.where(ExtractionRow.extractor_version == extractor_version)
                if only_ok:
                    stmt = stmt.where(ExtractionRow.status == _OK)
                for row_id, rid, sha, status, record in session.execute(stmt):
                    key, rank = (rid, sha), (status == _OK, row_id)
                    if key in wanted and (key not in best or rank > best[key][0]):
                        best[key] = (rank, record)
        return {key: record_to_extraction(rec, row_id=rank[1]) for key, (rank, rec) in best.items()}

    def current_extraction(self, report_id: str) -> ReportExtraction | None:
        """The current extraction of ``report_id`` (a reviewer's correction, else the latest ``ok``, else
        the latest), or None if none."""
        with self._read() as session:
            row = session.execute(
                select(ExtractionRow.id, ExtractionRow.record).where(
                    ExtractionRow.report_id == report_id, ExtractionRow.is_current
                )
            ).one_or_none()
        return None if row is None else record_to_extraction(row.record, row_id=row.id)

    def iter_current_extractions(
        self, *, status: ExtractionStatus | None = None, reviewed_only: bool = False, batch_size: int = 500
    ) -> Iterator[ReportExtraction]:
        """Stream the current extraction of every report, ordered by report ID (for exports).

        Rows are fetched ``batch_size`` at a time (a server-side cursor on PostgreSQL), so memory stays
        flat. ``status`` restricts to one extraction status (e.g. ``ok`` for CSV exports);
        ``reviewed_only`` to reports whose current extraction is a reviewer's correction.
        """
        for record, _ in self.iter_current_rows(
            reviewed_only=reviewed_only, status=status, batch_size=batch_size
        ):
            yield record

    def cases_by_organ(self, organ: Organ, status: OrganStatus | None = None) -> list[str]:
        """Report IDs whose current ``ok`` extraction gives ``organ`` the ``status``.

        ``status=None`` returns the reports that mention the organ at all (any status but
        ``not_mentioned``); ``not_mentioned`` returns the reports without a finding for it.
        """
        organ_value = Organ(organ).value
        current = and_(ExtractionRow.is_current, ExtractionRow.status == _OK)
        finding = (OrganFindingRow.extraction_id == ExtractionRow.id) & (OrganFindingRow.organ == organ_value)
        cond: ColumnElement[bool]
        if status is not None and OrganStatus(status) is OrganStatus.NOT_MENTIONED:
            mentioned = finding & (OrganFindingRow.status != OrganStatus.NOT_MENTIONED.value)
            cond = ~exists().where(mentioned)
        elif status is None:
            cond = exists().where(finding & (OrganFindingRow.status != OrganStatus.NOT_MENTIONED.value))
        else:
            cond = exists().where(finding & (OrganFindingRow.status == OrganStatus(status).value))
        stmt = select(ExtractionRow.report_id).where(current, cond).order_by(ExtractionRow.report_id)
        with self._read() as session:
            return list(session.execute(stmt).scalars())

    def count(self, *, status: ExtractionStatus | None = None) -> int:
        """Number of reports with a current extraction (optionally of one ``status``)."""
        stmt = select(func.count()).select_from(ExtractionRow).where(ExtractionRow.is_current)
        if status is not None:
            stmt = stmt.where(ExtractionRow.status == ExtractionStatus(status).value)
        with self._read() as session:
            return int(session.execute(stmt).scalar_one())

    def stats(self) -> dict[str, int]:
        """Current extractions per status (every :class:`ExtractionStatus` listed, zeros included),
        plus ``total`` and ``stored`` (all rows, superseded versions included)."""
        out = {s.value: 0 for s in ExtractionStatus}
        with self._read() as session:
            rows = session.execute(
                select(ExtractionRow.status, func.count())
                .where(ExtractionRow.is_current)
                .group_by(ExtractionRow.status)
            ).all()
            stored = session.execute(select(func.count()).select_from(ExtractionRow)).scalar_one()
        for st, n in rows:
            out[st] = int(n)
        out["total"] = sum(int(n) for _, n in rows)
        out["stored"] = int(stored)
        return out

    def report_text(self, report_id: str, text_sha256: str) -> str | None:
        """The stored text of one report version (None when not kept or unknown)."""
        with self._read() as session:
            return session.execute(
                select(ReportRow.text).where(
                    ReportRow.report_id == report_id, ReportRow.text_sha256 == text_sha256
                )
            ).scalar_one_or_none()

    def report_metadata(self, report_id: str, text_sha256: str) -> Mapping[str, Any] | None:
        """The metadata stored with one report version (None when none)."""
        with self._read() as session:
            return session.execute(
                select(ReportRow.meta).where(
                    ReportRow.report_id == report_id, ReportRow.text_sha256 == text_sha256
                )
            ).scalar_one_or_none()


def _with_text(item: ReportExtraction | SaveRequest, text: str | None) -> SaveRequest:
    if isinstance(item, SaveRequest):
        return item._replace(text=text)
    return SaveRequest(item, text)


def init_store(url: str | None = None, *, migrate: bool = True, echo: bool = False) -> Store:
    """Open the store at ``url`` (else ``$RSUPER_STORE_URL``, else ``sqlite:///rsuper.db``).

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///rsuper.db`` or
            ``postgresql+psycopg://user:password@host:5432/rsuper``.
        migrate: run ``alembic upgrade head`` first (idempotent).
        echo: log SQL statements (parameters stay hidden).

    Raises:
        StoreConfigError: for a bad URL (the message names ``RSUPER_STORE_URL`` / ``--store``).
        StoreSchemaError: when the migration fails.
    """
    engine: Engine = create_store_engine(url, echo=echo)
    if migrate:
        upgrade(engine)
    log.info("store opened at %s", engine.url.render_as_string(hide_password=True))
    return Store(engine)
