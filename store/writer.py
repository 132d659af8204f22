"""The idempotent, set-based upsert behind ``Store.save_extraction`` / ``save_many``.

A batch costs a fixed handful of SQLAlchemy Core statements (not a handful per record): lock the
batch's report IDs (PostgreSQL), insert the missing report rows, insert the extractions with
``ON CONFLICT DO NOTHING RETURNING`` (no lookup before: only keys that conflicted are read back, and a
stored non-``ok`` one is replaced), insert their organ findings and lesions, and move the
``is_current`` flags.

Rules (per key = report ID, text SHA-256, extractor version): an existing ``ok`` record is never
touched; an existing ``failed`` / ``invalid`` one is replaced. The same key twice in one batch is
handled in order, as if saved one after the other.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from functools import cache
from typing import Any, Final, NamedTuple

from sqlalchemy import Connection, Insert, bindparam, delete, exists, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from schemas.phi import report_ref
from schemas.records import ExtractionStatus, ReportExtraction, text_sha256
from store.convert import extraction_values, finding_values, lesion_values
from store.errors import StoreInputError
from store.models import Base, ExtractionRow, LesionRow, OrganFindingRow, ReportRow, utcnow

_OK: Final[str] = ExtractionStatus.OK.value
_REPORTS: Final = Base.metadata.tables[ReportRow.__tablename__]
_EXTRACTIONS: Final = Base.metadata.tables[ExtractionRow.__tablename__]
_FINDINGS: Final = Base.metadata.tables[OrganFindingRow.__tablename__]
_LESIONS: Final = Base.metadata.tables[LesionRow.__tablename__]

# Statements built once (building and cache-keying a statement costs about as much as running it).
_IDS: Final[BindParameter[Any]] = bindparam("ids", expanding=True)
_E = _EXTRACTIONS.c
_R = _REPORTS.c
_REPORT_ROWS = select(_R.id, _R.report_id, _R.text_sha256, _R.text.is_not(None), _R["metadata"]).where(
    _R.report_id.in_(_IDS)
)
_NOT_OK_ROWS = select(_E.id, _E.report_id, _E.text_sha256, _E.extractor_version).where(
    _E.report_id.in_(_IDS), _E.status != _OK
)
_ROWS_OF_REPORTS = select(_E.id, _E.report_id, _E.text_sha256, _E.status, _E.reviewer, _E.is_current).where(
    _E.report_id.in_(_IDS)
)
_DELETE_EXTRACTIONS = delete(_EXTRACTIONS).where(_E.id.in_(_IDS))
_CLEAR_CURRENT = update(_EXTRACTIONS).where(_E.id.in_(_IDS)).values(is_current=False)
_SET_CURRENT = update(_EXTRACTIONS).where(_E.id == bindparam("row_id")).values(is_current=True)
_OTHER = _EXTRACTIONS.alias("other")
_ONLY_ROW_IS_CURRENT = (
    update(_EXTRACTIONS)
    .where(_E.id.in_(_IDS), ~exists().where(_OTHER.c.report_id == _E.report_id, _OTHER.c.id != _E.id))
    .values(is_current=True)
    .returning(_E.report_id)
)

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


def save_requests(session: Session | Connection, requests: list[SaveRequest]) -> int:
    """Save ``requests`` inside the transaction of ``session`` (an ORM session or a Core connection);
    returns the number of records written.

    Raises:
        StoreInputError: when a given text does not hash to its record's ``text_sha256`` (nothing of
            the batch is written: the caller's transaction rolls back).
    """
    return sum(save_requests_each(session, requests))


def save_requests_each(session: Session | Connection, requests: list[SaveRequest]) -> list[bool]:
    """Like :func:`save_requests`, but says for each request whether its record was written (False:
    an ``ok`` record with its key was already stored, or came earlier in the batch)."""
    for r in requests:
        if r.text is not None and text_sha256(r.text) != r.extraction.text_sha256:
            raise StoreInputError(
                f"text: does not hash to text_sha256 of report {report_ref(r.extraction.report_id)}; pass "
                "the exact text the record was extracted from (or no text)."
            )
    if not requests:
        return []
    conn = session.connection() if isinstance(session, Session) else session
    is_pg = conn.dialect.name == "postgresql"
    if is_pg:
        keys = sorted({advisory_key(r.extraction.report_id) for r in requests})
        conn.execute(
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
        flags = _save_round(conn, [requests[i] for i in indices], is_pg)
        for i, flag in zip(indices, flags, strict=True):
            written[i] = flag
    return written


def _save_round(conn: Connection, batch: list[SaveRequest], is_pg: bool) -> list[bool]:
    """Save requests with distinct keys; whether each one was written.

    SQLAlchemy Core statements (executemany / multi-row ``VALUES``), no ORM unit of work. The
    extractions are inserted with ``ON CONFLICT DO NOTHING RETURNING``, so the common case (new keys)
    needs no lookup: only the keys that conflicted are read back, and a stored ``failed`` /
    ``invalid`` row among them is deleted (its findings and lesions cascade) and inserted again.
    """
    reports = _report_rows(conn, batch, is_pg)
    now = utcnow()
    params = [
        {
            **extraction_values(r.extraction),
            "report_pk": reports[(r.extraction.report_id, r.extraction.text_sha256)][0],
            "is_current": False,
            "created_at": now,
        }
        for r in batch
    ]
    new_ids = _insert_extractions(conn, params, is_pg, on_conflict=True)
    conflicts = [i for i, r in enumerate(batch) if key_of(r.extraction) not in new_ids]
    if conflicts:
        stale = _replaceable(conn, [batch[i] for i in conflicts])
        if stale:
            conn.execute(_DELETE_EXTRACTIONS, {"ids": sorted(stale.values())})
            again = [params[i] for i in conflicts if key_of(batch[i].extraction) in stale]
            new_ids.update(_insert_extractions(conn, again, is_pg, on_conflict=False))
    flags = [key_of(r.extraction) in new_ids for r in batch]
    todo = [r for r, write in zip(batch, flags, strict=True) if write]
    if not todo:
        return flags
    _update_reports(conn, todo, reports)
    findings = [row for r in todo for row in finding_values(r.extraction, new_ids[key_of(r.extraction)])]
    lesions = [row for r in todo for row in lesion_values(r.extraction, new_ids[key_of(r.extraction)])]
    if findings:
        conn.execute(insert(_FINDINGS), findings)
    if lesions:
        conn.execute(insert(_LESIONS), lesions)
    written_ids = sorted(new_ids[key_of(r.extraction)] for r in todo)
    _refresh_current(conn, sorted({r.extraction.report_id for r in todo}), written_ids)
    return flags


def _insert_extractions(
    conn: Connection, params: list[dict[str, Any]], is_pg: bool, *, on_conflict: bool
) -> dict[Key, int]:
    """Insert extraction rows; the key → new row ID of each row inserted (with ``on_conflict``, rows
    whose key is already stored are skipped and absent)."""
    if not params:
        return {}
    stmt = _extraction_insert(is_pg, on_conflict)
    return {(rid, sha, ver): row_id for row_id, rid, sha, ver in conn.execute(stmt, params)}


@cache
def _extraction_insert(is_pg: bool, on_conflict: bool) -> Insert:
    stmt = postgresql.insert(_EXTRACTIONS) if is_pg else sqlite.insert(_EXTRACTIONS)
    if on_conflict:
        stmt = stmt.on_conflict_do_nothing(
            index_elements=[_E.report_id, _E.text_sha256, _E.extractor_version]
        )
    return stmt.returning(_E.id, _E.report_id, _E.text_sha256, _E.extractor_version)


@cache
def _report_insert(is_pg: bool) -> Insert:
    stmt = (postgresql.insert(_REPORTS) if is_pg else sqlite.insert(_REPORTS)).on_conflict_do_nothing()
    return stmt.returning(_R.id, _R.report_id, _R.text_sha256)


def _replaceable(conn: Connection, conflicts: list[SaveRequest]) -> dict[Key, int]:
    """Among requests whose key is already stored: the stored row ID of each one that is not ``ok``
    (a retry replaces it)."""
    wanted = {key_of(r.extraction) for r in conflicts}
    rows = conn.execute(_NOT_OK_ROWS, {"ids": sorted({k[0] for k in wanted})})
    return {(rid, sha, ver): row_id for row_id, rid, sha, ver in rows if (rid, sha, ver) in wanted}


def _report_rows(
    conn: Connection, batch: list[SaveRequest], is_pg: bool
) -> dict[tuple[str, str], tuple[int, bool, Any]]:
    """Insert the missing report rows, with their text / metadata where given (``ON CONFLICT DO
    NOTHING RETURNING``: only reports stored before are read back); returns (report ID, sha) → (pk,
    whether a text is stored, stored metadata) for every report of the batch."""
    wanted: dict[tuple[str, str], SaveRequest] = {}
    for r in batch:
        wanted.setdefault((r.extraction.report_id, r.extraction.text_sha256), r)
    now = utcnow()
    rows = [
        {"report_id": rid, "text_sha256": sha, "text": r.text, "metadata": r.metadata, "created_at": now}
        for (rid, sha), r in sorted(wanted.items(), key=lambda kv: kv[0])
    ]
    out = {
        (rid, sha): (pk, wanted[(rid, sha)].text is not None, wanted[(rid, sha)].metadata)
        for pk, rid, sha in conn.execute(_report_insert(is_pg), rows)
    }
    if len(out) < len(wanted):  # rows stored before: read them
        found = conn.execute(_REPORT_ROWS, {"ids": sorted({rid for rid, _ in wanted.keys() - out.keys()})})
        out.update(((rid, sha), (pk, has, meta)) for pk, rid, sha, has, meta in found if (rid, sha) in wanted)
    return out


def _update_reports(
    conn: Connection, todo: list[SaveRequest], reports: dict[tuple[str, str], tuple[int, bool, Any]]
) -> None:
    """Set the text (where given and not stored yet) and the metadata (where given and different) of
    the reports of the records written (a report row inserted by this batch already has them)."""
    for r in todo:
        pk, has_text, stored_meta = reports[(r.extraction.report_id, r.extraction.text_sha256)]
        changes: dict[str, Any] = {}
        if r.text is not None and not has_text:
            changes["text"] = r.text
        if r.metadata is not None and stored_meta != r.metadata:
            changes["metadata"] = r.metadata
        if changes:
            conn.execute(update(_REPORTS).where(_REPORTS.c.id == pk).values(**changes))


def _refresh_current(conn: Connection, report_ids: list[str], new_ids: list[int] | None = None) -> None:
    """Flag, per report ID, the current extraction: the latest ``ok`` reviewer's correction of the
    report's newest text, else the latest ``ok`` extraction, else the latest (a machine's re-extraction
    of the same text never overrides a person; an edited report's new text does).

    ``new_ids``: rows just inserted for these reports; one that is the only row of its report is
    current without further reading (one statement: the common case of a new report).
    """
    if new_ids:
        done = set(conn.execute(_ONLY_ROW_IS_CURRENT, {"ids": new_ids}).scalars())
        report_ids = [rid for rid in report_ids if rid not in done]
        if not report_ids:
            return
    rows = conn.execute(_ROWS_OF_REPORTS, {"ids": report_ids}).all()
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
        conn.execute(_CLEAR_CURRENT, {"ids": clear})
    conn.execute(_SET_CURRENT, [{"row_id": best[rid][2]} for rid in changed])
