"""The tumor record model: what one report says about lesions, organ by organ.

Pure pydantic v2. Cross-field rules (EXTRACTION.md) are enforced by validators, so a
:class:`ReportExtraction` that exists is consistent:

* an organ with status ``lesion`` has lesions or a count > 0; a ``normal`` / ``absent`` organ has none;
* side only on paired organs; liver segments only on the liver, pancreas parts only on the pancreas,
  kidney poles only on the kidney; ``site`` is short free text (no control characters);
* per-side statuses (``left`` / ``right``) only on paired organs, agreeing with the organ status
  (:func:`combine_side_statuses`), and no lesion on a side whose status is ``normal`` or ``absent``;
* diameters are positive and sorted (largest first); sizes above 300 mm are kept but flagged.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.vocabulary import PAIRED_ORGANS, KidneyPole, Organ, PancreasPart, Side

SCHEMA_VERSION: Final[str] = "1.1"
"""Version of this record model; stored with every extraction.

1.1 added ``OrganFinding.left`` / ``right`` (per-side status of paired organs) and ``Lesion.site``; both
are optional, so 1.0 records validate unchanged."""

SITE_MAX_CHARS: Final[int] = 80
"""Longest ``Lesion.site`` (characters, after stripping)."""

IMPLAUSIBLE_DIAMETER_MM: Final[float] = 300.0
"""Lesion diameters above this (30 cm) are flagged as implausible (kept, with a warning)."""


UNITLESS_MM_MIN: Final[float] = 4.0
"""A unit-less size whose largest value is at least this is read as mm, else as cm."""


def infer_unit(values: Sequence[float]) -> str:
    """Unit of a size written without one: ``"mm"`` when its largest value is >= 4, else ``"cm"``.

    Radiology habit: "lesion measuring 2.3" means cm, "lesion measuring 12" means mm.
    """
    return "mm" if max(values) >= UNITLESS_MM_MIN else "cm"


class Qualifier(StrEnum):
    """How a measured size relates to the true size."""

    EQUAL = "="
    LESS_THAN = "<"
    GREATER_THAN = ">"
    APPROXIMATE = "~"
    UP_TO = "<="


class SizeClass(StrEnum):
    """A size stated in words instead of numbers."""

    TINY = "tiny"
    SUBCENTIMETER = "subcentimeter"
    TOO_SMALL_TO_CHARACTERIZE = "too_small_to_characterize"
    MASSIVE = "massive"


class Certainty(StrEnum):
    """How sure the report is that the lesion exists ("suspicious for", "cannot exclude", ...)."""

    DEFINITE = "definite"
    PROBABLE = "probable"
    POSSIBLE = "possible"


class LesionKind(StrEnum):
    """What the report calls the lesion."""

    LESION = "lesion"
    MASS = "mass"
    TUMOR = "tumor"
    NODULE = "nodule"
    CYST = "cyst"
    METASTASIS = "metastasis"
    HEMANGIOMA = "hemangioma"
    HYPODENSITY = "hypodensity"
    HYPERDENSITY = "hyperdensity"
    OTHER = "other"


class Malignancy(StrEnum):
    """Malignancy class, only when the report states it."""

    BENIGN = "benign"
    MALIGNANT = "malignant"
    INDETERMINATE = "indeterminate"
    UNKNOWN = "unknown"


class OrganStatus(StrEnum):
    """Lesion status of one organ in one report."""

    LESION = "lesion"
    NORMAL = "normal"
    NOT_MENTIONED = "not_mentioned"
    ABSENT = "absent"


_SIDE_PRECEDENCE: Final[tuple[OrganStatus, ...]] = (
    OrganStatus.LESION,
    OrganStatus.NORMAL,
    OrganStatus.ABSENT,
)


def combine_side_statuses(left: OrganStatus | None, right: OrganStatus | None) -> OrganStatus:
    """The organ-level status of a paired organ whose sides have these statuses.

    An unset side (None) counts as ``not_mentioned``. The first of ``lesion`` > ``normal`` > ``absent``
    that either side has wins, else ``not_mentioned``:

    * any side ``lesion`` → ``lesion``;
    * otherwise any side ``normal`` → ``normal`` (left nephrectomy + normal right kidney → ``normal``:
      the kidney tissue that is left has no lesion);
    * otherwise any side ``absent`` → ``absent`` (both resected, or one resected and the other not
      described: "status post left nephrectomy" alone stays ``absent`` as it was before sides existed);
    * otherwise ``not_mentioned``.

    >>> combine_side_statuses(OrganStatus.ABSENT, OrganStatus.NORMAL)
    <OrganStatus.NORMAL: 'normal'>
    """
    present = {left, right}
    for status in _SIDE_PRECEDENCE:
        if status in present:
            return status
    return OrganStatus.NOT_MENTIONED


def sides_with_lesions(
    left: OrganStatus | None, right: OrganStatus | None, lesion_sides: Iterable[Side | None]
) -> tuple[OrganStatus | None, OrganStatus | None] | None:
    """Per-side statuses after marking the sides the lesions lie on (left, right, bilateral) ``lesion``.

    Returns None when, after marking, no side is ``lesion`` (every lesion has no side or side
    ``unknown``): the per-side statuses then cannot agree with an organ that has lesions and should be
    dropped. Used to reconcile a model's or a reviewer's sides with the lesions (a lesion outweighs
    a side's ``normal`` / ``absent``).
    """
    on = {
        s for side in lesion_sides for s in ((Side.LEFT, Side.RIGHT) if side is Side.BILATERAL else (side,))
    }
    if Side.LEFT in on:
        left = OrganStatus.LESION
    if Side.RIGHT in on:
        right = OrganStatus.LESION
    if OrganStatus.LESION not in (left, right):
        return None
    return left, right


class CountKind(StrEnum):
    """How a lesion count is stated: a number, a lower bound, or "multiple" without a number."""

    EXACT = "exact"
    AT_LEAST = "at_least"
    MULTIPLE = "multiple"


class ExtractionStatus(StrEnum):
    """Outcome of extracting one report."""

    OK = "ok"
    INVALID = "invalid"
    FAILED = "failed"


class AlignmentKind(StrEnum):
    """How an evidence quote was found in the report text."""

    EXACT = "exact"
    FUZZY = "fuzzy"
    UNALIGNED = "unaligned"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Count(_Model):
    """A lesion count: ``exact`` n, ``at_least`` n, or ``multiple`` (no number; never read as 1)."""

    kind: CountKind = CountKind.EXACT
    value: Annotated[int, Field(ge=0, le=10_000)] | None = 1

    @model_validator(mode="after")
    def _value_matches_kind(self) -> Self:
        if self.kind is CountKind.MULTIPLE and self.value is not None:
            raise ValueError("count.value: must be null when count.kind is 'multiple'")
        if self.kind is not CountKind.MULTIPLE and self.value is None:
            raise ValueError(f"count.value: required when count.kind is {self.kind.value!r}")
        return self

    @property
    def minimum(self) -> int:
        """The smallest number of lesions this count allows (``multiple`` means at least 2)."""
        return 2 if self.value is None else self.value

    def __str__(self) -> str:
        if self.kind is CountKind.MULTIPLE:
            return "multiple"
        return f">={self.value}" if self.kind is CountKind.AT_LEAST else str(self.value)


class Size(_Model):
    """Lesion diameters in millimetres, largest first, with how the report qualified them."""

    diameters_mm: Annotated[tuple[float, ...], Field(min_length=1, max_length=3)]
    qualifier: Qualifier = Qualifier.EQUAL

    @field_validator("diameters_mm")
    @classmethod
    def _positive_sorted(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        for d in value:
            if not d > 0:
                raise ValueError(f"diameters_mm: every diameter must be > 0 mm, got {d}")
        return tuple(sorted((round(float(d), 3) for d in value), reverse=True))

    @property
    def largest_mm(self) -> float:
        """The largest diameter (mm)."""
        return self.diameters_mm[0]

    def format(self, unit: str = "mm") -> str:
        """Format as R-Super does: ``"a"``, ``"a x b"`` or ``"a x b x c"`` (in ``unit``: mm or cm)."""
        if unit not in ("mm", "cm"):
            raise ValueError(f"unit: must be 'mm' or 'cm', got {unit!r}")
        scale = 1.0 if unit == "mm" else 0.1
        return " x ".join(_fmt_number(d * scale) for d in self.diameters_mm)


def _fmt_number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text else "0"


class Evidence(_Model):
    """The verbatim quote a fact rests on, and where it lies in the report text.

    ``start``/``end`` are Python string offsets into the report text (``text[start:end]``);
    both are null when the quote could not be aligned.
    """

    quote: Annotated[str, Field(max_length=2_000)]
    start: Annotated[int, Field(ge=0)] | None = None
    end: Annotated[int, Field(ge=0)] | None = None
    alignment: AlignmentKind = AlignmentKind.UNALIGNED

    @model_validator(mode="after")
    def _span_consistent(self) -> Self:
        if (self.start is None) != (self.end is None):
            raise ValueError("evidence: start and end must both be set or both be null")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"evidence.end: must be >= start ({self.start}), got {self.end}")
        if self.start is None and self.alignment is not AlignmentKind.UNALIGNED:
            raise ValueError("evidence.alignment: an aligned quote needs start and end")
        return self


def clean_site(text: str | None) -> str | None:
    """``text`` made a valid ``Lesion.site``: control characters become spaces, runs of whitespace one
    space, cut to :data:`SITE_MAX_CHARS` (at a word boundary when there is one); None when empty.

    For producers of free text (a model's answer, an imported CSV cell) that should keep a site rather
    than lose the lesion over its spelling.
    """
    if text is None:
        return None
    spaced = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    words = " ".join(spaced.split())
    if len(words) > SITE_MAX_CHARS:
        cut = words[: SITE_MAX_CHARS + 1]
        words = cut.rsplit(" ", 1)[0] if " " in cut else cut[:SITE_MAX_CHARS]
    return words or None


class Lesion(_Model):
    """One lesion (or one group: "multiple hepatic cysts up to 1.2 cm") described by the report.

    ``side``, ``liver_segments``, ``pancreas_parts`` and ``kidney_poles`` are the location vocabularies;
    ``site`` is short free text for a location they cannot express (lung lobe, colon segment, vertebral
    level, adrenal limb, ...), any organ, at most :data:`SITE_MAX_CHARS` characters, stripped, without
    control characters. The location is kept whatever the size (an unmeasured lesion keeps it too).
    """

    organ: Organ
    side: Side | None = None
    liver_segments: tuple[int, ...] = ()
    pancreas_parts: tuple[PancreasPart, ...] = ()
    kidney_poles: tuple[KidneyPole, ...] = ()
    size: Size | None = None
    size_class: SizeClass | None = None
    count: Count = Count()
    certainty: Certainty = Certainty.DEFINITE
    kind: LesionKind = LesionKind.LESION
    malignancy: Malignancy = Malignancy.UNKNOWN
    site: str | None = None
    evidence: Evidence | None = None
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0

    @field_validator("site")
    @classmethod
    def _clean_site(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if any(unicodedata.category(ch).startswith("C") for ch in text):
            raise ValueError(f"site: control or format characters are not allowed, got {text!r}")
        if len(text) > SITE_MAX_CHARS:
            raise ValueError(f"site: at most {SITE_MAX_CHARS} characters, got {len(text)}")
        return text or None

    @field_validator("liver_segments")
    @classmethod
    def _valid_segments(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for seg in value:
            if seg not in range(1, 9):
                raise ValueError(f"liver_segments: Couinaud segments are 1-8, got {seg}")
        return tuple(sorted(set(value)))

    @field_validator("pancreas_parts", "kidney_poles")
    @classmethod
    def _dedupe(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _location_matches_organ(self) -> Self:
        if self.side is not None and self.organ not in PAIRED_ORGANS:
            raise ValueError(f"side: only paired organs have a side; {self.organ.value} is not paired")
        if self.liver_segments and self.organ is not Organ.LIVER:
            raise ValueError(f"liver_segments: only liver lesions have them, not {self.organ.value}")
        if self.pancreas_parts and self.organ is not Organ.PANCREAS:
            raise ValueError(f"pancreas_parts: only pancreas lesions have them, not {self.organ.value}")
        if self.kidney_poles and self.organ is not Organ.KIDNEY:
            raise ValueError(f"kidney_poles: only kidney lesions have them, not {self.organ.value}")
        if self.size is not None and self.size_class is not None:
            raise ValueError("size_class: give either a measured size or a size class, not both")
        return self

    @property
    def is_located(self) -> bool:
        """True when the lesion's sub-segment is known (kidney: its side)."""
        if self.organ is Organ.LIVER:
            return bool(self.liver_segments)
        if self.organ is Organ.PANCREAS:
            return bool(self.pancreas_parts)
        if self.organ in PAIRED_ORGANS:
            return self.side in (Side.LEFT, Side.RIGHT)
        return True

    @property
    def is_group(self) -> bool:
        """True for a grouped description ("multiple cysts", "two lesions") rather than one lesion."""
        return self.count.kind is not CountKind.EXACT or self.count.minimum != 1


class OrganFinding(_Model):
    """Lesion status and count of one organ, and for paired organs optionally the status of each side.

    ``status`` is the organ-level answer every consumer reads. ``left`` / ``right`` (paired organs only:
    kidney, adrenal gland, lung, breast) say what the report says about each side when it says more
    than the organ-level status can: "status post left nephrectomy, the right kidney is normal" is
    ``status="normal", left="absent", right="normal"``. An unset side is not stated (``not_mentioned``
    is stored as unset). When a side is set, ``status`` must equal :func:`combine_side_statuses` of the
    two sides; the record also refuses a lesion on a side whose status is ``normal`` or ``absent``.
    """

    organ: Organ
    status: OrganStatus
    count: Count | None = None
    left: OrganStatus | None = None
    right: OrganStatus | None = None

    @field_validator("left", "right")
    @classmethod
    def _unset_not_mentioned(cls, value: OrganStatus | None) -> OrganStatus | None:
        return None if value is OrganStatus.NOT_MENTIONED else value

    @model_validator(mode="after")
    def _sides_match_status(self) -> Self:
        if self.left is None and self.right is None:
            return self
        where = f"organs[{self.organ.value}]"
        if self.organ not in PAIRED_ORGANS:
            side = "left" if self.left is not None else "right"
            raise ValueError(
                f"{where}.{side}: only paired organs have per-side statuses; {self.organ.value} is not paired"
            )
        expected = combine_side_statuses(self.left, self.right)
        if self.status is not expected:
            sides = f"left {_side_text(self.left)}, right {_side_text(self.right)}"
            raise ValueError(
                f"{where}.status: its sides ({sides}) give {expected.value!r}, got {self.status.value!r}"
            )
        return self

    @property
    def has_sides(self) -> bool:
        """True when at least one side's status is stated."""
        return self.left is not None or self.right is not None

    def side_status(self, side: Side) -> OrganStatus | None:
        """The stated status of ``side`` (left / right; None when not stated or another side)."""
        return self.left if side is Side.LEFT else self.right if side is Side.RIGHT else None

    @model_validator(mode="after")
    def _count_matches_status(self) -> Self:
        if self.status is OrganStatus.LESION:
            if self.count is not None and self.count.kind is CountKind.EXACT and self.count.value == 0:
                raise ValueError(f"organs[{self.organ.value}].count: status 'lesion' needs a count > 0")
        elif self.count is not None and self.count.minimum > 0:
            raise ValueError(
                f"organs[{self.organ.value}].count: status {self.status.value!r} cannot have lesions"
            )
        return self


def _side_text(status: OrganStatus | None) -> str:
    return "unset" if status is None else repr(status.value)


class Provenance(_Model):
    """Where an extraction came from: backend, model, versions, decoding, timings and token counts."""

    backend: str
    model: str | None = None
    extractor_version: str
    prompt_version: str | None = None
    schema_version: str = SCHEMA_VERSION
    decoding: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    duration_s: Annotated[float, Field(ge=0)] | None = None
    prompt_tokens: Annotated[int, Field(ge=0)] | None = None
    cached_tokens: Annotated[int, Field(ge=0)] | None = None
    completion_tokens: Annotated[int, Field(ge=0)] | None = None
    attempts: Annotated[int, Field(ge=1)] = 1


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of the report text as UTF-8: the key that ties a record to the exact text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_NO_LESION_SIDE: Final[frozenset[OrganStatus]] = frozenset({OrganStatus.NORMAL, OrganStatus.ABSENT})


def _check_lesion_side(i: int, lesion: Lesion, owner: OrganFinding) -> None:
    """Refuse a lesion whose side (left, right or both for bilateral) is ``normal`` or ``absent``."""
    if lesion.side is None:
        return
    sides = (Side.LEFT, Side.RIGHT) if lesion.side is Side.BILATERAL else (lesion.side,)
    for side in sides:
        status = owner.side_status(side)
        if status is not None and status in _NO_LESION_SIDE:
            raise ValueError(
                f"lesions[{i}].side: a {lesion.side.value} {lesion.organ.value} lesion, but "
                f"organs[{owner.organ.value}].{side.value} is {status.value!r}"
            )


class ReportExtraction(_Model):
    """Everything extracted from one report, validated for internal consistency.

    ``organs`` lists the organs the report speaks about; an organ missing from it is ``not_mentioned``
    (see :meth:`finding`). Lesions of an organ imply that organ's status is ``lesion``.
    """

    report_id: Annotated[str, Field(min_length=1, max_length=256)]
    text_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    status: ExtractionStatus = ExtractionStatus.OK
    error: str | None = None
    organs: tuple[OrganFinding, ...] = ()
    lesions: tuple[Lesion, ...] = ()
    provenance: Provenance
    warnings: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: set[Organ] = set()
        for finding in self.organs:
            if finding.organ in seen:
                raise ValueError(f"organs: {finding.organ.value} is listed twice")
            seen.add(finding.organ)
        by_organ = {f.organ: f for f in self.organs}
        for i, lesion in enumerate(self.lesions):
            owner = by_organ.get(lesion.organ)
            if owner is None or owner.status is not OrganStatus.LESION:
                status = "not_mentioned" if owner is None else owner.status.value
                raise ValueError(
                    f"lesions[{i}].organ: {lesion.organ.value} has a lesion but its status is {status!r}"
                )
            _check_lesion_side(i, lesion, owner)
        for finding in self.organs:
            has_lesions = any(lesion.organ is finding.organ for lesion in self.lesions)
            no_count = finding.count is None or finding.count.minimum == 0
            if finding.status is OrganStatus.LESION and not has_lesions and no_count:
                raise ValueError(
                    f"organs[{finding.organ.value}]: status 'lesion' needs lesions or a count > 0"
                )
        if self.status is not ExtractionStatus.OK and not self.error:
            raise ValueError(f"error: a {self.status.value!r} extraction must say why")
        return self

    @model_validator(mode="after")
    def _flag_implausible(self) -> Self:
        flags = [
            f"lesions[{i}].size: {lesion.size.largest_mm:g} mm exceeds {IMPLAUSIBLE_DIAMETER_MM:g} mm"
            for i, lesion in enumerate(self.lesions)
            if lesion.size is not None and lesion.size.largest_mm > IMPLAUSIBLE_DIAMETER_MM
        ]
        new = [f for f in flags if f not in self.warnings]
        if new:
            object.__setattr__(self, "warnings", (*self.warnings, *new))
        return self

    def side_status(self, organ: Organ, side: Side) -> OrganStatus:
        """The status of one side of a paired organ: the organ status when the organ has no per-side
        statuses, else the side's own (``not_mentioned`` for a side left unset next to a stated one)."""
        finding = self.finding(organ)
        if not finding.has_sides:
            return finding.status
        return finding.side_status(side) or OrganStatus.NOT_MENTIONED

    def finding(self, organ: Organ) -> OrganFinding:
        """The finding for ``organ`` (``not_mentioned`` when the report does not speak of it)."""
        for f in self.organs:
            if f.organ is organ:
                return f
        return OrganFinding(organ=organ, status=OrganStatus.NOT_MENTIONED)

    def lesions_of(self, organ: Organ) -> tuple[Lesion, ...]:
        """The lesions of one organ, in report order."""
        return tuple(lesion for lesion in self.lesions if lesion.organ is organ)
