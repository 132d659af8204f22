"""Report records → report-target facts: the only place pydantic records meet the segmentation code.

A :class:`~schemas.records.ReportExtraction` (from the store or a truth / export JSONL) becomes the
plain :class:`~segmentation.targets.LesionFact` / :class:`~segmentation.targets.OrganFact` inputs of
:func:`~segmentation.targets.build_report_target`:

- liver segments ``k`` → mask label ``liver_segment_k``; pancreas parts → the mask-level part
  (``PancreasPart.mask_part``: neck / uncinate → ``pancreas_head``); kidney side → ``kidney_left`` /
  ``kidney_right`` (bilateral → both); unknown location → ``()`` (the whole organ).
- only ``=`` and ``~`` sizes are used as diameters; ``<``, ``>``, ``<=`` bounds and size words
  ("subcentimeter") give an unknown size (the region stays unknown, no volume target).
- a grouped lesion with an exact count ``n`` becomes ``n`` facts: the first carries the group's size,
  the others have unknown size ("two lesions, the largest 2 cm"); ``multiple`` / ``at least`` groups
  give one fact with the size and mark the organ ``multiple`` (never read as one lesion).
- an organ count ``exact n`` → ``count=n``; ``at_least`` / ``multiple`` → ``multiple=True``.
- per-side statuses of paired organs (``OrganFinding.left`` / ``right``) are passed on unchanged; the
  target builder uses them where the case has per-side masks (``kidney_left`` / ``kidney_right``).
- the location does not depend on the size: an unmeasured lesion keeps its sub-segments.

Extractions whose status is not ``ok`` carry no usable facts: :func:`load_report_facts` reports them
as missing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from schemas.records import CountKind, ExtractionStatus, Lesion, OrganFinding, Qualifier, ReportExtraction
from schemas.vocabulary import Organ, Side
from segmentation.targets import LesionFact, OrganFact, OrganStatus
from store.review import is_reviewed

__all__ = [
    "NOT_REVIEWED",
    "ReportFacts",
    "extraction_to_facts",
    "lesion_subsegments",
    "load_report_facts",
    "read_extractions_jsonl",
]

logger = logging.getLogger(__name__)

NOT_REVIEWED = "not reviewed"
"""Start of :func:`load_report_facts`' reason for a report left out by ``reviewed_only``."""

_EXACT_SIZES = (Qualifier.EQUAL, Qualifier.APPROXIMATE)


@dataclass(frozen=True)
class ReportFacts:
    """The facts of one report, ready for :func:`~segmentation.targets.build_report_target`.

    Attributes:
        report_id: the report's ID.
        lesions: one :class:`LesionFact` per (expanded) reported lesion.
        organs: one :class:`OrganFact` per organ the report speaks about.
    """

    report_id: str
    lesions: tuple[LesionFact, ...]
    organs: tuple[OrganFact, ...]

    def status(self, organ: str) -> OrganStatus:
        """The organ's status (``not_mentioned`` when the report does not speak of it)."""
        for fact in self.organs:
            if fact.organ == organ:
                return OrganStatus(fact.status)
        return (
            OrganStatus.LESION if any(f.organ == organ for f in self.lesions) else OrganStatus.NOT_MENTIONED
        )

    def is_positive(self, organ: str) -> bool:
        """Whether the report counts at least one lesion in ``organ`` (report-based evaluation)."""
        return self.status(organ) is OrganStatus.LESION


def lesion_subsegments(lesion: Lesion) -> tuple[str, ...]:
    """Mask labels of the sub-segments that hold ``lesion`` (``()`` when its location is unknown)."""
    if lesion.organ is Organ.LIVER:
        return tuple(f"liver_segment_{k}" for k in lesion.liver_segments)
    if lesion.organ is Organ.PANCREAS:
        parts = dict.fromkeys(f"pancreas_{p.mask_part.value}" for p in lesion.pancreas_parts)
        return tuple(parts)
    if lesion.organ is Organ.KIDNEY:
        return {
            Side.LEFT: ("kidney_left",),
            Side.RIGHT: ("kidney_right",),
            Side.BILATERAL: ("kidney_left", "kidney_right"),
        }.get(lesion.side, ())  # type: ignore[arg-type]
    return ()


def _diameters(lesion: Lesion) -> tuple[float, ...] | None:
    if lesion.size is None or lesion.size.qualifier not in _EXACT_SIZES:
        return None
    return tuple(float(d) for d in lesion.size.diameters_mm)


def _expand(lesion: Lesion) -> tuple[list[LesionFact], bool]:
    """Facts of one (possibly grouped) lesion and whether the group's count is open-ended."""
    where = lesion_subsegments(lesion)
    first = LesionFact(organ=lesion.organ.value, diameters_mm=_diameters(lesion), subsegments=where)
    if lesion.count.kind is not CountKind.EXACT:
        return [first], True
    n = max(int(lesion.count.value or 0), 1)
    rest = [LesionFact(organ=lesion.organ.value, diameters_mm=None, subsegments=where)] * (n - 1)
    return [first, *rest], False


def _organ_fact(finding: OrganFinding, open_ended: bool, n_listed: int) -> OrganFact:
    count, multiple = None, open_ended
    if finding.count is not None:
        if finding.count.kind is CountKind.EXACT:
            count = finding.count.value
        else:
            multiple = True
    if finding.status is OrganStatus.LESION and count is None and not multiple and n_listed:
        count = n_listed
    return OrganFact(
        organ=finding.organ.value,
        status=finding.status,
        count=count,
        multiple=multiple,
        left=finding.left,
        right=finding.right,
    )


def extraction_to_facts(extraction: ReportExtraction) -> ReportFacts:
    """Convert one record into :class:`ReportFacts` (rules in the module docstring).

    Raises:
        ValueError: when the extraction's status is not ``ok``.
    """
    if extraction.status is not ExtractionStatus.OK:
        raise ValueError(
            f"report {extraction.report_id!r}: extraction status is {extraction.status.value!r} "
            f"({extraction.error}); re-extract it or drop the case."
        )
    lesions: list[LesionFact] = []
    open_ended: dict[str, bool] = {}
    listed: dict[str, int] = {}
    for lesion in extraction.lesions:
        facts, is_open = _expand(lesion)
        lesions.extend(facts)
        organ = lesion.organ.value
        open_ended[organ] = open_ended.get(organ, False) or is_open
        listed[organ] = listed.get(organ, 0) + len(facts)
    organs = tuple(
        _organ_fact(f, open_ended.get(f.organ.value, False), listed.get(f.organ.value, 0))
        for f in extraction.organs
    )
    return ReportFacts(report_id=extraction.report_id, lesions=tuple(lesions), organs=organs)


def read_extractions_jsonl(path: Path) -> dict[str, ReportExtraction]:
    """Read a JSONL of :class:`ReportExtraction` records (``truth.jsonl``, store exports), by report ID.

    Raises:
        ValueError: naming the line of the first invalid record.
    """
    out: dict[str, ReportExtraction] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = ReportExtraction.model_validate(json.loads(line))
            except ValueError as e:
                raise ValueError(f"{path}:{number}: not a valid ReportExtraction record: {e}") from e
            out[record.report_id] = record
    return out


def load_report_facts(
    report_ids: Iterable[str],
    *,
    store_url: str | None = None,
    reports_jsonl: Path | None = None,
    reviewed_only: bool = False,
) -> tuple[dict[str, ReportFacts], dict[str, str]]:
    """Facts of ``report_ids`` from the store (``store_url``) or a JSONL snapshot (``reports_jsonl``).

    The store's current extraction of a report is a reviewer's correction when there is one (see
    :mod:`store.review`), so training reads what the reviewer said. ``reviewed_only`` keeps only
    reports a reviewer corrected or accepted; the others are reported as missing.

    Returns:
        ``(facts, missing)``: facts by report ID, and ``{report_id: why}`` for IDs without usable facts.

    Raises:
        ValueError: when neither or both sources are given, or the JSONL is invalid.
    """
    if (store_url is None) == (reports_jsonl is None):
        raise ValueError(
            "give exactly one report source: store_url (--store) or reports_jsonl (--reports-jsonl)."
        )
    wanted = list(dict.fromkeys(report_ids))
    records: dict[str, ReportExtraction | None]
    if reports_jsonl is not None:
        snapshot = read_extractions_jsonl(reports_jsonl)
        records = {rid: snapshot.get(rid) for rid in wanted}
        source = str(reports_jsonl)
    else:
        from store import init_store

        store = init_store(store_url, migrate=False)
        records = {rid: store.current_extraction(rid) for rid in wanted}
        source = "the store"
    facts: dict[str, ReportFacts] = {}
    missing: dict[str, str] = {}
    for rid, record in records.items():
        if record is None:
            missing[rid] = f"no extraction in {source}"
        elif record.status is not ExtractionStatus.OK:
            missing[rid] = f"extraction status {record.status.value!r} in {source}"
        elif reviewed_only and not is_reviewed(record):
            missing[rid] = f"{NOT_REVIEWED} in {source}"
        else:
            facts[rid] = extraction_to_facts(record)
    logger.info(
        "report facts: %d found (%d reviewed), %d missing (%s)",
        len(facts),
        sum(1 for rid in facts if (r := records[rid]) is not None and is_reviewed(r)),
        len(missing),
        source,
    )
    return facts, missing
