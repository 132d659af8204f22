"""The two R-Super CSV formats, as pure functions from a :class:`ReportExtraction` to dict rows.

The API streams these rows; :mod:`store.export` writes them to files; :mod:`store.rsuper_import` reads
them back. Only ``ok`` extractions produce rows (failed / invalid ones carry no facts).

**Per-tumor CSV** (:data:`PER_TUMOR_COLUMNS`), one row per lesion in report order:

* ``Tumor ID``: 1, 2, ... per exam; ``no lesion`` for the pseudo-row of a lesion-free exam (whose
  organ, location and size cells are empty, ``Unknow Tumor Size`` is ``no`` and ``no lesion`` is
  ``True``). An exam is lesion-free when no organ has status ``lesion``.
* ``Standardized Organ``: the organ's vocabulary value (``liver``, ``pancreas``, ``adrenal_gland``, ...).
* ``Standardized Location``: liver ``segment k`` joined by `` / `` (ascending); pancreas the mask-level
  parts ``head`` / ``body`` / ``tail`` joined by `` / `` in that order (neck and uncinate → head);
  paired organs (kidney, adrenal gland, lung, breast) ``left``, ``right``, ``left / right`` for a
  *bilateral* description (the lesions lie in the union of both sides), or ``u``; ``u`` whenever the
  sub-segment is unknown. Organs without sub-segments in the reference (spleen, stomach, colon, bone,
  ...; the unpaired organs other than liver and pancreas) write the lesion's free-text ``site``
  ("sigmoid", "L3 vertebral body") or nothing: the reference leaves the cell empty for them, so its
  readers see no sub-segment either way. Liver, pancreas and paired organs keep the reference's values
  (a lung lesion's lobe is not written: ``left`` / ``right`` is what the column means there). The
  location does not depend on the size: an unmeasured lesion keeps its segment / part / side / site.
* ``Tumor Size (mm)``: ``a``, ``a x b`` or ``a x b x c`` (largest first); ``multiple`` for a grouped
  description ("multiple cysts up to 12 mm", "two lesions"), whose numbers bound the group rather
  than describe one tumor; ``u`` when no number is given (size classes like "subcentimeter" too).
* ``Unknow Tumor Size`` (sic): ``yes`` when any row of that organ in that exam has size ``u`` or
  ``multiple``, else ``no`` (as the reference computes it).
* An organ with status ``lesion`` but no individually described lesion (a count only) gets one row
  with location ``u`` (or empty) and size ``multiple`` when its count is above one or a lower bound,
  else ``u``.

**Per-CT CSV** (:data:`PER_CT_COLUMNS`), one row per exam:

* ``number of {organ} lesion instances``: the organ's lesion count as an integer. A count that is a
  lower bound ("multiple" without a number → 2, "at least N" → N) writes that minimum, and the organ
  is listed in ``lower-bound counts`` (R-Super organ names joined by `` / ``), so readers can tell
  "exactly 2" from "2 or more". The count is the organ-level count, or the sum of its lesions'
  counts when that is larger.
* ``largest {organ} lesion diameter (cm)``: the largest measured diameter among the organ's lesions
  (groups included: "up to 12 mm" → 1.2); empty when the organ has lesions but none is measured.
* ``largest liver lesion location (1-8)``: the segments of the largest lesion (``4`` or ``4 / 5``);
  pancreas ``head`` / ``body`` / ``tail``; kidney ``left`` / ``right`` / ``left / right``; ``u`` when
  unknown; empty when the organ has no lesion. The largest lesion is the one with the largest
  diameter (ties: an individual lesion before a group, then report order), else the first lesion.
* Organs without lesions write ``0`` in the count and diameter columns (never blank);
  ``no lesion`` is ``True`` for lesion-free exams.
* Per-side statuses of paired organs follow the organ-level status, which already combines them
  (:func:`schemas.records.combine_side_statuses`): a left nephrectomy with a normal right kidney is
  ``normal`` → kidney count ``0``, diameter ``0``, location empty (no kidney lesion, like any
  lesion-free organ); both kidneys resected → ``absent`` → the same zeros (the reference has no
  "resected" value). With a lesion on one side, the count, diameter and ``left`` / ``right`` location
  come from the lesions as for any lesion organ. A CSV cannot say which side was resected.
* ``reviewed``: ``True`` when the row comes from a reviewer's correction (:mod:`store.review`),
  ``False`` for a machine extraction (not an R-Super column; readers of the reference ignore it).
"""

from __future__ import annotations

from typing import Final

from schemas.records import CountKind, ExtractionStatus, Lesion, OrganStatus, ReportExtraction
from schemas.vocabulary import PAIRED_ORGANS, RSUPER_ORGAN_NAMES, Organ, PancreasPart, Side
from store.review import is_reviewed

UNKNOWN: Final[str] = "u"
"""Cell value for an unknown location or size."""

MULTIPLE: Final[str] = "multiple"
"""``Tumor Size (mm)`` of a grouped description."""

NO_LESION_ID: Final[str] = "no lesion"
"""``Tumor ID`` of the pseudo-row of a lesion-free exam."""

TRUE, FALSE = "True", "False"

PER_TUMOR_COLUMNS: Final[tuple[str, ...]] = (
    "BDMAP ID",
    "Tumor ID",
    "Standardized Organ",
    "Standardized Location",
    "Tumor Size (mm)",
    "Unknow Tumor Size",
    "no lesion",
)
"""Columns of the per-tumor CSV, in order (names exactly as the R-Super reference spells them)."""

LOCATION_COLUMNS: Final[dict[Organ, str]] = {
    Organ.LIVER: "largest liver lesion location (1-8)",
    Organ.PANCREAS: "largest pancreatic lesion location (head, body, tail)",
    Organ.KIDNEY: "largest kidney lesion location (left, right)",
}
"""Per-CT location columns of the largest lesion."""

LOWER_BOUND_COLUMN: Final[str] = "lower-bound counts"
"""Per-CT column listing the organs whose count is a minimum ("multiple", "at least N")."""

REVIEWED_COLUMN: Final[str] = "reviewed"
"""Per-CT column: ``True`` for a reviewer's correction, ``False`` for a machine extraction."""


def count_column(organ: Organ) -> str:
    """``number of {organ} lesion instances`` (organ spelled as in :data:`RSUPER_ORGAN_NAMES`)."""
    return f"number of {RSUPER_ORGAN_NAMES[organ]} lesion instances"


def diameter_column(organ: Organ) -> str:
    """``largest {organ} lesion diameter (cm)``."""
    return f"largest {RSUPER_ORGAN_NAMES[organ]} lesion diameter (cm)"


def _per_ct_columns() -> tuple[str, ...]:
    cols = ["BDMAP ID"]
    for organ in RSUPER_ORGAN_NAMES:
        cols += [count_column(organ), diameter_column(organ)]
        if organ in LOCATION_COLUMNS:
            cols.append(LOCATION_COLUMNS[organ])
    return (*cols, LOWER_BOUND_COLUMN, "no lesion", REVIEWED_COLUMN)


PER_CT_COLUMNS: Final[tuple[str, ...]] = _per_ct_columns()
"""Columns of the per-CT CSV, in order: per organ count, largest diameter (and location), then
``lower-bound counts``, ``no lesion`` and ``reviewed``."""

_PANCREAS_ORDER: Final[tuple[PancreasPart, ...]] = (PancreasPart.HEAD, PancreasPart.BODY, PancreasPart.TAIL)


def fmt_number(value: float) -> str:
    """A number as the CSVs write it: up to 3 decimals, no trailing zeros (``12``, ``1.25``)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def is_lesion_free(extraction: ReportExtraction) -> bool:
    """True when no organ of the exam has status ``lesion`` (a healthy exam for R-Super)."""
    return not extraction.lesions and not any(f.status is OrganStatus.LESION for f in extraction.organs)


def side_location(side: Side | None) -> str:
    """``left`` / ``right`` / ``left / right`` (bilateral) / ``u``."""
    if side is Side.LEFT:
        return "left"
    if side is Side.RIGHT:
        return "right"
    if side is Side.BILATERAL:
        return "left / right"
    return UNKNOWN


def lesion_location(lesion: Lesion) -> str:
    """``Standardized Location`` of one lesion (see the module docstring)."""
    if lesion.organ is Organ.LIVER:
        return " / ".join(f"segment {s}" for s in lesion.liver_segments) or UNKNOWN
    if lesion.organ is Organ.PANCREAS:
        return _pancreas_location(lesion) or UNKNOWN
    if lesion.organ in PAIRED_ORGANS:
        return side_location(lesion.side)
    return lesion.site or ""


def _pancreas_location(lesion: Lesion) -> str:
    parts = {p.mask_part for p in lesion.pancreas_parts}
    return " / ".join(p.value for p in _PANCREAS_ORDER if p in parts)


def lesion_size(lesion: Lesion) -> str:
    """``Tumor Size (mm)`` of one lesion: ``a [x b [x c]]``, ``multiple`` or ``u``."""
    if lesion.is_group:
        return MULTIPLE
    return UNKNOWN if lesion.size is None else lesion.size.format("mm")


def _count_only_location(organ: Organ) -> str:
    return UNKNOWN if organ in (Organ.LIVER, Organ.PANCREAS) or organ in PAIRED_ORGANS else ""


def per_tumor_rows(extraction: ReportExtraction) -> list[dict[str, str]]:
    """Per-tumor CSV rows of one exam (``[]`` for a non-``ok`` extraction)."""
    if extraction.status is not ExtractionStatus.OK:
        return []
    rid = extraction.report_id
    if is_lesion_free(extraction):
        return [dict(zip(PER_TUMOR_COLUMNS, (rid, NO_LESION_ID, "", "", "", "no", TRUE), strict=True))]
    entries = [(lesion.organ, lesion_location(lesion), lesion_size(lesion)) for lesion in extraction.lesions]
    for finding in extraction.organs:
        if finding.status is OrganStatus.LESION and not extraction.lesions_of(finding.organ):
            count = finding.count
            grouped = count is not None and (count.kind is not CountKind.EXACT or count.minimum > 1)
            entries.append(
                (finding.organ, _count_only_location(finding.organ), MULTIPLE if grouped else UNKNOWN)
            )
    unknown = {organ for organ, _, size in entries if size in (UNKNOWN, MULTIPLE)}
    return [
        dict(
            zip(
                PER_TUMOR_COLUMNS,
                (rid, str(i), organ.value, loc, size, "yes" if organ in unknown else "no", FALSE),
                strict=True,
            )
        )
        for i, (organ, loc, size) in enumerate(entries, start=1)
    ]


def organ_count(extraction: ReportExtraction, organ: Organ) -> tuple[int, bool]:
    """(minimum lesion count, whether it is a lower bound) of one organ, as the per-CT CSV writes it."""
    finding = extraction.finding(organ)
    if finding.status is not OrganStatus.LESION:
        return 0, False
    lesions = extraction.lesions_of(organ)
    from_lesions = sum(lesion.count.minimum for lesion in lesions)
    if finding.count is not None and finding.count.minimum >= from_lesions:
        return finding.count.minimum, finding.count.kind is not CountKind.EXACT
    return from_lesions, any(lesion.count.kind is not CountKind.EXACT for lesion in lesions)


def largest_lesion(lesions: tuple[Lesion, ...]) -> Lesion | None:
    """The lesion with the largest diameter (ties: individual before group, then report order); the
    first lesion when none is measured; None when there are none."""
    measured = [(i, lesion) for i, lesion in enumerate(lesions) if lesion.size is not None]
    if measured:
        return min(measured, key=lambda t: (-t[1].size.largest_mm, t[1].is_group, t[0]))[1]  # type: ignore[union-attr]
    return lesions[0] if lesions else None


def largest_location(organ: Organ, lesion: Lesion | None) -> str:
    """The per-CT location cell of ``organ`` for its largest lesion (liver, pancreas, kidney)."""
    if lesion is None:
        return UNKNOWN
    if organ is Organ.LIVER:
        return " / ".join(str(s) for s in lesion.liver_segments) or UNKNOWN
    if organ is Organ.PANCREAS:
        return _pancreas_location(lesion) or UNKNOWN
    return side_location(lesion.side)


def per_ct_row(extraction: ReportExtraction) -> dict[str, str] | None:
    """The per-CT CSV row of one exam (None for a non-``ok`` extraction)."""
    if extraction.status is not ExtractionStatus.OK:
        return None
    row = {"BDMAP ID": extraction.report_id}
    lower_bound: list[str] = []
    for organ in RSUPER_ORGAN_NAMES:
        count, is_lower = organ_count(extraction, organ)
        lesions = extraction.lesions_of(organ)
        sizes = [lesion.size.largest_mm for lesion in lesions if lesion.size is not None]
        row[count_column(organ)] = str(count)
        if count == 0:
            row[diameter_column(organ)] = "0"
        else:
            row[diameter_column(organ)] = fmt_number(max(sizes) / 10) if sizes else ""
        if organ in LOCATION_COLUMNS:
            row[LOCATION_COLUMNS[organ]] = (
                "" if count == 0 else largest_location(organ, largest_lesion(lesions))
            )
        if is_lower:
            lower_bound.append(RSUPER_ORGAN_NAMES[organ])
    row[LOWER_BOUND_COLUMN] = " / ".join(lower_bound)
    row["no lesion"] = TRUE if is_lesion_free(extraction) else FALSE
    row[REVIEWED_COLUMN] = TRUE if is_reviewed(extraction) else FALSE
    return row
