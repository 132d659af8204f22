"""Review of extractions, the pure part: corrections as records, what changed, why a record needs review.

A reviewer's correction is an ordinary :class:`~schemas.records.ReportExtraction` of the same report
text whose provenance names the reviewer: backend ``reviewer:<name>``, extractor version
``reviewer:<name>@<UTC timestamp>``. Stored next to the extraction it reviewed (which is kept), it
becomes the report's current extraction, so exports and training read it. Its lesions have confidence
1 (a person checked them) and its machine warnings are dropped (they were about the machine's answer).

Nothing here touches the database; :mod:`store.reviews` stores and queries reviews.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import ValidationError

from schemas.records import (
    AlignmentKind,
    ExtractionStatus,
    Lesion,
    OrganFinding,
    OrganStatus,
    Provenance,
    ReportExtraction,
    sides_with_lesions,
)
from schemas.vocabulary import Side
from store.errors import ReviewInputError

REVIEWER_PREFIX: Final[str] = "reviewer:"
"""Backend (and extractor-version) prefix of a reviewer's correction."""

REVIEWER_NAME: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")
"""A reviewer name: 1–48 letters, digits, ``.``, ``_`` or ``-`` (starting with a letter or digit)."""

LOW_CONFIDENCE: Final[float] = 0.8
"""Default threshold below which a lesion's confidence puts its record in the review queue."""

LESION_FIELDS: Final[tuple[str, ...]] = (
    "organ",
    "side",
    "liver_segments",
    "pancreas_parts",
    "kidney_poles",
    "size",
    "size_class",
    "count",
    "certainty",
    "kind",
    "malignancy",
    "site",
)
"""Lesion fields compared between an extraction and its review (evidence and confidence are not facts)."""

REVIEW_FIELDS: Final[tuple[str, ...]] = ("status", "organs", "lesion_count", *LESION_FIELDS)
"""Every field :func:`changed_fields` can name, in order."""


class ReviewReason(StrEnum):
    """Why a record needs a person's look, most pressing first."""

    FAILED = "failed"
    INVALID = "invalid"
    DISAGREEMENT = "disagreement"
    SIZE_NOT_IN_EVIDENCE = "size_not_in_evidence"
    UNALIGNED_EVIDENCE = "unaligned_evidence"
    LOW_CONFIDENCE = "low_confidence"


REASON_WEIGHTS: Final[dict[ReviewReason, float]] = {
    ReviewReason.FAILED: 100.0,
    ReviewReason.INVALID: 90.0,
    ReviewReason.DISAGREEMENT: 40.0,
    ReviewReason.SIZE_NOT_IN_EVIDENCE: 30.0,
    ReviewReason.UNALIGNED_EVIDENCE: 20.0,
    ReviewReason.LOW_CONFIDENCE: 10.0,
}
"""Queue priority of each reason (a record's score is the sum of its reasons' weights)."""


class WarningKind(StrEnum):
    """The kind of one extraction warning (for filtering the queue)."""

    UNALIGNED_EVIDENCE = "unaligned_evidence"
    SIZE_NOT_IN_EVIDENCE = "size_not_in_evidence"
    ORGAN_STATUS_CORRECTED = "organ_status_corrected"
    DUPLICATE_ORGAN = "duplicate_organ"
    LESION_DROPPED = "lesion_dropped"
    IMPLAUSIBLE_SIZE = "implausible_size"
    OTHER = "other"


_WARNING_MARKERS: Final[tuple[tuple[str, WarningKind], ...]] = (
    ("per-side statuses", WarningKind.ORGAN_STATUS_CORRECTED),
    ("quote not found", WarningKind.UNALIGNED_EVIDENCE),
    ("not in the evidence", WarningKind.SIZE_NOT_IN_EVIDENCE),
    ("but has lesions", WarningKind.ORGAN_STATUS_CORRECTED),
    ("listed twice", WarningKind.DUPLICATE_ORGAN),
    ("dropped", WarningKind.LESION_DROPPED),
    ("exceeds", WarningKind.IMPLAUSIBLE_SIZE),
)

_NUMBER: Final[re.Pattern[str]] = re.compile(r"\d+(?:[.,]\d+)?")


def warning_kind(warning: str) -> WarningKind:
    """The kind of a warning written by the extractor or the record model."""
    for marker, kind in _WARNING_MARKERS:
        if marker in warning:
            return kind
    return WarningKind.OTHER


def reviewer_of(extraction: ReportExtraction) -> str | None:
    """The reviewer's name when ``extraction`` is a reviewer's correction, else None."""
    backend = extraction.provenance.backend
    return backend[len(REVIEWER_PREFIX) :] if backend.startswith(REVIEWER_PREFIX) else None


def is_reviewed(extraction: ReportExtraction) -> bool:
    """Whether ``extraction`` is a reviewer's correction (a reviewed record)."""
    return reviewer_of(extraction) is not None


def check_reviewer(name: str) -> str:
    """``name`` when it is a valid reviewer name (:data:`REVIEWER_NAME`).

    Raises:
        ReviewInputError: naming the rule and the value.
    """
    if not isinstance(name, str) or not REVIEWER_NAME.match(name):
        raise ReviewInputError(
            f"reviewer: must be 1-48 letters, digits, '.', '_' or '-' (starting with a letter or digit), "
            f"got {name!r}",
            [{"loc": ("reviewer",), "msg": "invalid reviewer name"}],
        )
    return name


def review_version(reviewer: str, at: datetime) -> str:
    """``reviewer:<name>@<UTC timestamp, microseconds>``: the extractor version of a correction."""
    return f"{REVIEWER_PREFIX}{reviewer}@{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


def build_correction(
    base: ReportExtraction,
    reviewer: str,
    *,
    organs: Sequence[OrganFinding | Mapping[str, Any]] | None = None,
    lesions: Sequence[Lesion | Mapping[str, Any]] | None = None,
    at: datetime | None = None,
) -> ReportExtraction:
    """A reviewer's correction of ``base``: accept it as it is (no ``organs`` / ``lesions``), or replace
    its organ findings and / or lesions.

    Args:
        base: the extraction reviewed (usually the report's current one).
        reviewer: the reviewer's name (:data:`REVIEWER_NAME`).
        organs: the corrected organ findings (all of them), or None to keep ``base``'s.
        lesions: the corrected lesions (all of them, in report order), or None to keep ``base``'s.
            Without ``organs``, an organ that gets a lesion gets status ``lesion``.
        at: the review time (default: now, UTC).

    Returns:
        An ``ok`` record of the same report text, by ``reviewer:<name>``, stamped ``at``.

    Raises:
        ReviewInputError: an invalid reviewer name; accepting a record that is not ``ok`` (it has no
            facts to accept); or a correction the record model refuses (``errors`` name the fields).
    """
    check_reviewer(reviewer)
    if organs is None and lesions is None and base.status is not ExtractionStatus.OK:
        raise ReviewInputError(
            f"action: a {base.status.value!r} extraction has no facts to accept; edit its organs and lesions",
            [{"loc": ("action",), "msg": f"cannot accept a {base.status.value!r} extraction; edit it"}],
        )
    when = at or datetime.now(UTC)
    data = base.model_dump(mode="json")
    if organs is not None:
        data["organs"] = [_as_json(o) for o in organs]
    if lesions is not None:
        data["lesions"] = [_as_json(lesion) for lesion in lesions]
        if organs is None:
            before = base.model_dump(mode="json")["lesions"]
            data["organs"] = _organs_with_lesions(data["organs"], data["lesions"], before)
    for lesion in data["lesions"]:
        if isinstance(lesion, dict):
            lesion["confidence"] = 1.0
    data.update(
        status=ExtractionStatus.OK.value,
        error=None,
        warnings=[],
        provenance=Provenance(
            backend=f"{REVIEWER_PREFIX}{reviewer}",
            extractor_version=review_version(reviewer, when),
            created_at=when,
        ).model_dump(mode="json"),
    )
    try:
        return ReportExtraction.model_validate(data)
    except ValidationError as e:
        errors = e.errors(include_url=False, include_input=False)
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ReviewInputError(f"{where + ': ' if where else ''}{message}", errors) from None


def _organs_with_lesions(organs: list[Any], lesions: list[Any], before: list[Any]) -> list[Any]:
    """``organs`` made consistent with corrected ``lesions`` (``before``: the reviewed record's).

    Every organ that has a lesion gets status ``lesion`` (its count dropped when it had another status);
    an organ whose number of lesions changed loses its stated count (the listed lesions are all). An
    organ left with no lesion is refused: only the reviewer can say whether it is normal now. A paired
    organ's per-side statuses follow its lesions: the sides they lie on become ``lesion``, and the
    per-side statuses are dropped when no side is ``lesion`` then (lesions without a side)
    (:func:`schemas.records.sides_with_lesions`).

    Raises:
        ReviewInputError: an organ that had lesions has none left (``organs`` must then be given).
    """

    def per_organ(items: list[Any]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lesion in items:
            organ = lesion.get("organ") if isinstance(lesion, dict) else None
            if isinstance(organ, str):
                counts[organ] = counts.get(organ, 0) + 1
        return counts

    now, then = per_organ(lesions), per_organ(before)
    emptied = sorted(organ for organ in then if organ not in now)
    if emptied:
        raise ReviewInputError(
            f"organs: {', '.join(emptied)} would have no lesion left; give its status in organs",
            [
                {"loc": ("organs",), "msg": f"{organ} has no lesion left; state its status"}
                for organ in emptied
            ],
        )
    out = [dict(o) if isinstance(o, dict) else o for o in organs]
    by_organ = {o.get("organ"): o for o in out if isinstance(o, dict)}
    for organ, n in now.items():
        finding = by_organ.get(organ)
        if finding is None:
            finding = by_organ[organ] = {"organ": organ, "status": "lesion", "count": None}
            out.append(finding)
        elif finding.get("status") != "lesion" or then.get(organ) != n:
            finding.update(status="lesion", count=None)
        if finding.get("left") is not None or finding.get("right") is not None:
            finding.update(
                _sides_json(finding, [x for x in lesions if isinstance(x, dict) and x.get("organ") == organ])
            )
    return out


def _sides_json(finding: dict[str, Any], lesions: list[dict[str, Any]]) -> dict[str, Any]:
    """``left`` / ``right`` of a JSON organ finding after its JSON lesions (see :func:`_organs_with_lesions`);
    values the record model will refuse are passed through for it to name."""
    try:
        left, right = (None if finding.get(k) is None else OrganStatus(finding[k]) for k in ("left", "right"))
        sides = [None if x.get("side") is None else Side(x["side"]) for x in lesions]
    except ValueError:
        return {}
    marked = sides_with_lesions(left, right, sides)
    if marked is None:
        return {"left": None, "right": None}
    return {
        "left": None if marked[0] is None else marked[0].value,
        "right": None if marked[1] is None else marked[1].value,
    }


def _as_json(item: OrganFinding | Lesion | Mapping[str, Any]) -> Any:
    if isinstance(item, OrganFinding | Lesion):
        return item.model_dump(mode="json")
    return dict(item) if isinstance(item, Mapping) else item


def _lesion_value(lesion: Lesion, name: str) -> Any:
    return getattr(lesion, name)


def changed_fields(before: ReportExtraction, after: ReportExtraction) -> tuple[str, ...]:
    """The fields (:data:`REVIEW_FIELDS`) whose values differ between an extraction and its review.

    Lesions are compared by position over the lesions both have; a different number of lesions is
    ``lesion_count``; ``organs`` compares the organ statuses, counts and per-side statuses.
    """
    changed: list[str] = []
    if before.status is not after.status:
        changed.append("status")
    if {f.organ: (f.status, f.count, f.left, f.right) for f in before.organs} != {
        f.organ: (f.status, f.count, f.left, f.right) for f in after.organs
    }:
        changed.append("organs")
    if len(before.lesions) != len(after.lesions):
        changed.append("lesion_count")
    pairs = list(zip(before.lesions, after.lesions, strict=False))
    for name in LESION_FIELDS:
        if any(_lesion_value(a, name) != _lesion_value(b, name) for a, b in pairs):
            changed.append(name)
    return tuple(changed)


def facts_signature(extraction: ReportExtraction) -> tuple[Any, ...]:
    """What two extractions must share to agree: status, organ findings, lesion facts (no evidence,
    no confidence)."""
    organs = tuple(
        sorted(
            (f.organ.value, f.status.value, str(f.count), str(f.left), str(f.right))
            for f in extraction.organs
        )
    )
    lesions = tuple(tuple(str(_lesion_value(x, name)) for name in LESION_FIELDS) for x in extraction.lesions)
    return extraction.status.value, organs, lesions


def size_missing_from_evidence(lesion: Lesion) -> bool:
    """Whether a measured lesion's diameters are absent from its evidence quote (in mm or in cm)."""
    if lesion.size is None or lesion.evidence is None:
        return False
    present = [float(n.replace(",", ".")) for n in _NUMBER.findall(lesion.evidence.quote)]
    return any(
        not any(abs(d - p) < 1e-6 or abs(d - 10 * p) < 1e-6 for p in present)
        for d in lesion.size.diameters_mm
    )


def review_reasons(
    extraction: ReportExtraction, *, disagreement: bool = False, low_confidence: float = LOW_CONFIDENCE
) -> tuple[ReviewReason, ...]:
    """Why ``extraction`` needs review (empty when nothing calls for it), most pressing first.

    Args:
        extraction: the record (usually a report's current extraction).
        disagreement: another extractor version / backend gave the same text different facts.
        low_confidence: lesions below this confidence count as ``low_confidence``.
    """
    found: set[ReviewReason] = set()
    if extraction.status is ExtractionStatus.FAILED:
        found.add(ReviewReason.FAILED)
    elif extraction.status is ExtractionStatus.INVALID:
        found.add(ReviewReason.INVALID)
    if disagreement:
        found.add(ReviewReason.DISAGREEMENT)
    kinds = {warning_kind(w) for w in extraction.warnings}
    if WarningKind.SIZE_NOT_IN_EVIDENCE in kinds or any(
        size_missing_from_evidence(x) for x in extraction.lesions
    ):
        found.add(ReviewReason.SIZE_NOT_IN_EVIDENCE)
    if WarningKind.UNALIGNED_EVIDENCE in kinds or any(
        x.evidence is None or x.evidence.alignment is AlignmentKind.UNALIGNED for x in extraction.lesions
    ):
        found.add(ReviewReason.UNALIGNED_EVIDENCE)
    if any(x.confidence < low_confidence for x in extraction.lesions):
        found.add(ReviewReason.LOW_CONFIDENCE)
    return tuple(r for r in ReviewReason if r in found)


def review_score(reasons: Sequence[ReviewReason], extraction: ReportExtraction) -> float:
    """Queue priority: the reasons' weights, plus up to 1 for the lowest lesion confidence's shortfall."""
    lowest = min((x.confidence for x in extraction.lesions), default=1.0)
    return sum(REASON_WEIGHTS[r] for r in reasons) + (1.0 - lowest)
