"""From a backend's JSON answer to a validated, grounded :class:`ReportExtraction`.

Everything here is code, not model judgement: JSON parsing, unit conversion, aligning each lesion's
evidence quote to a character span of the report (exact, then whitespace/case-insensitive, then fuzzy),
checking that every number of a lesion's size occurs in its evidence, and deriving organ findings that
agree with the lesions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Final

from pydantic import ValidationError
from rapidfuzz import fuzz

from report_extractor.errors import OutputParseError
from schemas.llm import LLMLesion, LLMReport, organ_sides, organ_status, to_lesion
from schemas.records import (
    AlignmentKind,
    Count,
    CountKind,
    Evidence,
    ExtractionStatus,
    Lesion,
    OrganFinding,
    OrganStatus,
    Provenance,
    ReportExtraction,
    combine_side_statuses,
    sides_with_lesions,
)
from schemas.vocabulary import Organ

FUZZY_MIN_SCORE: Final[float] = 85.0
"""Minimum rapidfuzz partial-ratio (0-100) for a fuzzy evidence alignment."""

UNVERIFIED_CONFIDENCE: Final[float] = 0.5
"""Confidence of a lesion whose evidence is unaligned or lacks one of its size numbers."""

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def parse_answer(raw: str) -> LLMReport:
    """Parse a backend answer into the LLM-facing model.

    Raises:
        OutputParseError: not JSON (e.g. truncated at the token cap) or not in the schema; the
            message names the first offending field.
    """
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise OutputParseError(f"answer is not valid JSON ({e.msg} at char {e.pos})", raw=raw) from e
    try:
        return LLMReport.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise OutputParseError(f"answer does not follow the schema: {where}: {first['msg']}", raw=raw) from e


def align_quote(quote: str, text: str, start_at: int = 0) -> Evidence:
    """Find ``quote`` in ``text`` and return it as :class:`Evidence` with its character span.

    Tries, in order: an exact match (from ``start_at``, then anywhere), a match ignoring case and
    runs of whitespace, and a fuzzy partial match scoring at least :data:`FUZZY_MIN_SCORE`. The span
    always points into ``text``; ``quote`` is replaced by the aligned text for exact and normalised
    matches and kept as written for fuzzy ones.
    """
    quote = quote.strip()
    if not quote:
        return Evidence(quote=quote)
    idx = text.find(quote, start_at)
    if idx < 0:
        idx = text.find(quote)
    if idx >= 0:
        return Evidence(quote=quote, start=idx, end=idx + len(quote), alignment=AlignmentKind.EXACT)
    pattern = r"\s+".join(re.escape(tok) for tok in quote.split())
    match = re.search(pattern, text, flags=re.IGNORECASE)
    if match:
        return Evidence(
            quote=match.group(0), start=match.start(), end=match.end(), alignment=AlignmentKind.EXACT
        )
    alignment = fuzz.partial_ratio_alignment(quote, text, score_cutoff=FUZZY_MIN_SCORE)
    if alignment is not None and alignment.dest_end > alignment.dest_start:
        return Evidence(
            quote=quote[:2000],
            start=alignment.dest_start,
            end=alignment.dest_end,
            alignment=AlignmentKind.FUZZY,
        )
    return Evidence(quote=quote[:2000])


def numbers_in(text: str) -> set[float]:
    """Every number written in ``text`` (decimal commas read as points)."""
    return {float(m.group(0).replace(",", ".")) for m in _NUMBER.finditer(text)}


def missing_size_numbers(item: LLMLesion, evidence_text: str) -> list[float]:
    """The lesion's diameters (as the model wrote them) that do not occur in its evidence text."""
    present = numbers_in(evidence_text)
    return [d for d in item.diameters if not any(abs(d - p) < 1e-6 for p in present)]


Sides = tuple[OrganStatus | None, OrganStatus | None]
"""Per-side statuses (left, right) of a paired organ; None: not stated."""


def derive_findings(
    answer_organs: Iterable[tuple[Organ, OrganStatus, Count | None]],
    lesions: Iterable[Lesion],
    sides: Mapping[Organ, Sides] | None = None,
) -> tuple[tuple[OrganFinding, ...], list[str]]:
    """Organ findings consistent with the lesions, plus warnings for what had to be corrected.

    An organ with lesions has status ``lesion`` whatever the model said; its count is the model's count
    when that is at least the number of lesions described, else the lesions' own count ("multiple" when
    any group is "multiple"). An organ said to have lesions but without any and without a count gets
    ``at_least 1``.

    ``sides`` (paired organs) are the model's per-side statuses. The sides a lesion lies on become
    ``lesion`` (:func:`schemas.records.sides_with_lesions`); sides that cannot agree with the organ's
    lesions (all lesions without a side), or with a stated ``lesion`` status without lesions, are
    dropped; otherwise the organ status is the one the sides give
    (:func:`schemas.records.combine_side_statuses`: left ``absent`` + right ``normal`` → ``normal``).
    Each correction is a warning.
    """
    warnings: list[str] = []
    lesions_by_organ: dict[Organ, list[Lesion]] = {}
    for lesion in lesions:
        lesions_by_organ.setdefault(lesion.organ, []).append(lesion)
    stated = {}
    for organ, status, count in answer_organs:
        if organ in stated:
            warnings.append(f"organs: {organ.value} listed twice; first entry kept")
            continue
        stated[organ] = (status, count)
    sides = sides or {}
    findings: list[OrganFinding] = []
    for organ in Organ:
        if organ not in stated and organ not in lesions_by_organ and organ not in sides:
            continue  # not mentioned, no lesion, no side: no finding
        own = lesions_by_organ.get(organ, [])
        status, count = stated.get(organ, (OrganStatus.NOT_MENTIONED, None))
        left, right = _reconciled_sides(organ, own, sides.get(organ, (None, None)), warnings)
        by_sides = combine_side_statuses(left, right)
        if (left is not None or right is not None) and by_sides is not status and not own:
            if status is OrganStatus.LESION:  # a stated lesion outweighs sides without one
                warnings.append(f"organs: {organ.value} per-side statuses removed: they give no lesion side")
                left = right = None
            else:
                warnings.append(
                    f"organs: {organ.value} said {status.value!r} but its per-side statuses give "
                    f"{by_sides.value!r}; "
                    f"set to {by_sides.value}"
                )
                status = by_sides
        if own:
            if status is not OrganStatus.LESION:
                warnings.append(f"organs: {organ.value} said {status.value!r} but has lesions; set to lesion")
            findings.append(
                OrganFinding(
                    organ=organ, status=OrganStatus.LESION, count=_count(own, count), left=left, right=right
                )
            )
        elif status is OrganStatus.LESION:
            if count is None or count.minimum == 0:
                count = Count(kind=CountKind.AT_LEAST, value=1)
            findings.append(OrganFinding(organ=organ, status=status, count=count, left=left, right=right))
        elif status is not OrganStatus.NOT_MENTIONED:
            findings.append(OrganFinding(organ=organ, status=status, left=left, right=right))
    return tuple(findings), warnings


def _reconciled_sides(organ: Organ, own: list[Lesion], stated: Sides, warnings: list[str]) -> Sides:
    """The stated sides made to agree with the organ's lesions (see :func:`derive_findings`)."""
    left, right = stated
    if (left is None and right is None) or not own:
        return left, right
    marked = sides_with_lesions(left, right, (lesion.side for lesion in own))
    if marked is None:
        warnings.append(f"organs: {organ.value} per-side statuses removed: its lesions have no side")
        return None, None
    for name, before, after in (("left", left, marked[0]), ("right", right, marked[1])):
        if before is not None and before is not after:
            warnings.append(
                f"organs: {organ.value} {name} said {before.value!r} but has lesions; set to lesion"
            )
    return marked


def _count(lesions: list[Lesion], stated: Count | None) -> Count:
    if any(lesion.count.kind is CountKind.MULTIPLE for lesion in lesions):
        return Count(kind=CountKind.MULTIPLE, value=None)
    described = sum(lesion.count.minimum for lesion in lesions)
    at_least = any(lesion.count.kind is CountKind.AT_LEAST for lesion in lesions)
    if stated is not None and stated.kind is CountKind.MULTIPLE:
        return stated
    if stated is not None and stated.value is not None and stated.value >= described:
        return stated
    return Count(kind=CountKind.AT_LEAST if at_least else CountKind.EXACT, value=described)


def build_extraction(
    answer: LLMReport,
    *,
    report_id: str,
    text: str,
    text_sha256: str,
    provenance: Provenance,
) -> ReportExtraction:
    """Ground and verify an answer, returning a validated record (status ``ok``).

    Lesions whose quote cannot be aligned, or whose size numbers are missing from their evidence,
    are kept with confidence :data:`UNVERIFIED_CONFIDENCE` and a warning naming the lesion index.
    """
    warnings: list[str] = []
    lesions: list[Lesion] = []
    cursor = 0
    for i, item in enumerate(answer.lesions):
        evidence = align_quote(item.quote, text, start_at=cursor)
        confidence = 1.0
        if evidence.start is None:
            warnings.append(f"lesions[{i}].evidence: quote not found in the report")
            confidence = UNVERIFIED_CONFIDENCE
        else:
            cursor = evidence.end or cursor
        evidence_text = text[evidence.start : evidence.end] if evidence.start is not None else item.quote
        missing = missing_size_numbers(item, evidence_text)
        if missing:
            warnings.append(
                f"lesions[{i}].size: {', '.join(f'{m:g}' for m in missing)} not in the evidence text"
            )
            confidence = UNVERIFIED_CONFIDENCE
        try:
            lesion = to_lesion(item, evidence)
        except ValidationError as e:
            first = e.errors()[0]
            warnings.append(f"lesions[{i}] dropped: {'.'.join(map(str, first['loc']))}: {first['msg']}")
            continue
        if confidence != lesion.confidence:  # verified lesions keep the default confidence as built
            lesion = lesion.model_copy(update={"confidence": confidence})
        lesions.append(lesion)
    organs = ((o.organ, *organ_status(o)) for o in answer.organs)
    sides: dict[Organ, Sides] = {}
    for o in answer.organs:
        sides.setdefault(o.organ, organ_sides(o))
    findings, finding_warnings = derive_findings(organs, lesions, sides)
    return ReportExtraction(
        report_id=report_id,
        text_sha256=text_sha256,
        status=ExtractionStatus.OK,
        organs=findings,
        lesions=tuple(lesions),
        provenance=provenance,
        warnings=tuple(warnings + finding_warnings),
    )


def failed_extraction(
    *,
    report_id: str,
    text_sha256: str,
    provenance: Provenance,
    status: ExtractionStatus,
    error: str,
) -> ReportExtraction:
    """A record for a report that could not be extracted (``invalid`` answer or ``failed`` backend)."""
    return ReportExtraction(
        report_id=report_id,
        text_sha256=text_sha256,
        status=status,
        error=error[:2000],
        provenance=provenance,
    )
