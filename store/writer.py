"""The idempotent, set-based upsert behind ``Store.save_extraction`` / ``save_many``.

A batch costs a fixed handful of statements (not a handful per record): lock the batch's report IDs
(PostgreSQL), read the existing keys, insert report rows, replace non-``ok`` extractions, insert the
new ones with their organ findings and lesions, and move the ``is_current`` flags.

Rules (per key = report ID, text SHA-256, extractor version): an existing ``ok`` record is never
touched; an existing ``failed`` / ``invalid`` one is replaced. The same key twice in one batch is
handled in order, as if saved one after the other.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any, Final, NamedTuple

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from schemas.records import ExtractionStatus, ReportExtraction, text_sha256
from store.convert import extraction_values, finding_values, lesion_values
from store.errors import StoreInputError
from store.models import Base, ExtractionRow, LesionRow, OrganFindingRow, ReportRow, utcnow

_OK: Final[str] = ExtractionStatus.OK.value

Key = tuple[str, str, str]


class SaveRequest(NamedTuple):
    """One item of ``Store.save_many``: the record, plus the opt-in text and metadata."""

    extraction: ReportExtraction
    text: str | None = None
    metadata: dict[str, Any] | None = None


def key_of(extraction: ReportExtraction) -> Key:
    """(report ID, text SHA-256, extractor version): the store's idempotency key."""
    return extraction.report_id, extraction.text_sha256, extraction.provenance.extractor_version


def advisory_key(report_id: str) -> int:
    """A stable signed 64-bit key of a report ID, for PostgreSQL advisory locks."""
    return int.from_bytes(hashlib.sha256(report_id.encode("utf-8")).digest()[:8], "big", signed=True)


def save_requests(session: Session, requests: list[SaveRequest]) -> int:
    """Save ``requests`` inside the session's transaction; returns the number of records written.

    Raises:
        StoreInputError: when a given text does not hash to its record's ``text_sha256`` (nothing of
            the batch is written: the caller's transaction rolls back).
    """
    return sum(save_requests_each(session, requests))


def save_requests_each(session: Session, requests: list[SaveRequest]) -> list[bool]:
    """Like :func:`save_requests`, but says for each request whether its record was written (False:
    an ``ok`` record with its key was already stored, or came earlier in the batch)."""
    for r in requests:
        if r.text is not None and text_sha256(r.text) != r.extraction.text_sha256:
            raise StoreInputError(
                f"text: does not hash to text_sha256 of report {r.extraction.report_id!r}; pass the exact "
                "text the record was extracted from (or no text)."
            )
    if not requests:
        return []
    is_pg = session.get_bind().dialect.name == "postgresql"
    if is_pg:
        keys = sorted({advisory_key(r.extraction.report_id) for r in requests})
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"), {"keys": keys}
        )
    rounds: list[list[int]] = []
    seen: defaultdict[Key, int] = defaultdict(int)
    for i, r in enumerate(requests):
        k = key_of(r.extraction)
        if seen[k] == len(rounds):
            rounds.append([])
        rounds[seen[k]].append(i)
        seen[k] += 1
    written = [False] * len(requests)
    for indices in rounds:
        flags = _save_round(session, [requests[i] for i in indices], is_pg)
        for i, flag in zip(indices, flags, strict=True):
            written[i] = flag
    return written


def _save_round(session: Session, batch: list[SaveRequest], is_pg: bool) -> list[bool]:
    """Save requests with distinct keys; whether each one was written."""
    report_ids = sorted({r.extraction.report_id for r in batch})
    existing: dict[Key, tuple[int, str]] = {
        (rid, sha, ver): (row_id, status)
        for row_id, rid, sha, ver, status in session.execute(
            select(
                ExtractionRow.id,
                ExtractionRow.report_id,
                ExtractionRow.text_sha256,
                ExtractionRow.extractor_version,
                ExtractionRow.status,
            ).where(ExtractionRow.report_id.in_(report_ids))
        )
    }
    flags = [existing.get(key_of(r.extraction), (0, ""))[1] != _OK for r in batch]
    todo = [r for r, write in zip(batch, flags, strict=True) if write]
    if not todo:
        return flags
    report_pks = _upsert_reports(session, todo, is_pg)
    stale = [existing[k][0] for r in todo if (k := key_of(r.extraction)) in existing]
    if stale:
        session.execute(delete(ExtractionRow).where(ExtractionRow.id.in_(stale)))
    now = utcnow()
    params = [
        {
            **extraction_values(r.extraction),
            "report_pk": report_pks[(r.extraction.report_id, r.extraction.text_sha256)],
            "is_current": False,
            "created_at": now,
        }
        for r in todo
    ]
    ids = session.execute(
        insert(ExtractionRow).returning(ExtractionRow.id, sort_by_parameter_order=True), params
    )
    new_ids = list(ids.scalars())
    findings = [row for r, i in zip(todo, new_ids, strict=True) for row in finding_values(r.extraction, i)]
    lesions = [row for r, i in zip(todo, new_ids, strict=True) for row in lesion_values(r.extraction, i)]
    if findings:
        session.execute(insert(OrganFindingRow), findings)
    if lesions:
        session.execute(insert(LesionRow), lesions)
    _refresh_current(session, sorted({r.extraction.report_id for r in todo}))
    return flags


def _upsert_reports(session: Session, todo: list[SaveRequest], is_pg: bool) -> dict[tuple[str, str], int]:
    """Insert missing report rows; set text / metadata where given. Returns (report ID, sha) → pk."""
    wanted: dict[tuple[str, str], SaveRequest] = {}
    for r in todo:
        wanted[(r.extraction.report_id, r.extraction.text_sha256)] = r
    now = utcnow()
    rows = [
        {"report_id": rid, "text_sha256": sha, "text": r.text, "metadata": r.metadata, "created_at": now}
        for (rid, sha), r in wanted.items()
    ]
    table = Base.metadata.tables[ReportRow.__tablename__]
    stmt = (postgresql.insert(table) if is_pg else sqlite.insert(table)).on_conflict_do_nothing()
    session.execute(stmt, rows)
    found = session.execute(
        select(
            ReportRow.id, ReportRow.report_id, ReportRow.text_sha256, ReportRow.text, ReportRow.meta
        ).where(ReportRow.report_id.in_(sorted({rid for rid, _ in wanted})))
    ).all()
    pks: dict[tuple[str, str], int] = {}
    for pk, rid, sha, stored_text, stored_meta in found:
        if (rid, sha) not in wanted:
            continue
        r = wanted[(rid, sha)]
        pks[(rid, sha)] = pk
        changes: dict[str, Any] = {}
        if r.text is not None and stored_text is None:
            changes["text"] = r.text
        if r.metadata is not None and stored_meta != r.metadata:
            changes["meta"] = r.metadata
        if changes:
            session.execute(
                update(ReportRow)
                .where(ReportRow.id == pk)
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
    return pks


def _refresh_current(session: Session, report_ids: list[str]) -> None:
    """Flag, per report ID, the current extraction: the latest ``ok`` reviewer's correction of the
    report's newest text, else the latest ``ok`` extraction, else the latest (a machine's re-extraction
    of the same text never overrides a person; an edited report's new text does)."""
    rows = session.execute(
        select(
            ExtractionRow.id,
            ExtractionRow.report_id,
            ExtractionRow.text_sha256,
            ExtractionRow.status,
            ExtractionRow.reviewer,
            ExtractionRow.is_current,
        ).where(ExtractionRow.report_id.in_(report_ids))
    ).all()
    newest: dict[str, tuple[int, str]] = {}
    for row_id, rid, sha, *_ in rows:
        if rid not in newest or row_id > newest[rid][0]:
            newest[rid] = (row_id, sha)
    best: dict[str, tuple[bool, bool, int]] = {}
    current: dict[str, int] = {}
    for row_id, rid, sha, status, reviewer, is_current in rows:
        rank = (status == _OK, reviewer is not None and sha == newest[rid][1], row_id)
        if rid not in best or rank > best[rid]:
            best[rid] = rank
        if is_current:
            current[rid] = row_id
    changed = [rid for rid, (_, _, row_id) in best.items() if current.get(rid) != row_id]
    if not changed:
        return
    clear = [current[rid] for rid in changed if rid in current]
    if clear:
        session.execute(
            update(Base.metadata.tables[ExtractionRow.__tablename__])
            .where(ExtractionRow.id.in_(clear))
            .values(is_current=False)
        )
    table = Base.metadata.tables[ExtractionRow.__tablename__]
    session.execute(
        update(table).where(table.c.id == bindparam("row_id")).values(is_current=True),
        [{"row_id": best[rid][2]} for rid in changed],
    )
