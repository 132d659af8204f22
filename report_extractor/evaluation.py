"""Scoring extractions against the project's annotated evaluation set (EXTRACTION.md, "Measuring it").

Two halves:

* the gold set: :func:`load_evalset` reads ``evalset/reports.jsonl`` (reports written for the project,
  hand-labelled, conventions in ``evalset/README.md``) into :class:`EvalCase` objects, and
  :meth:`EvalCase.to_extraction` turns each label into a validated
  :class:`~schemas.records.ReportExtraction`;
* the metrics: :func:`score` compares predicted extractions with gold ones, report by report, and returns
  an :class:`EvalMetrics` (overall and per organ; :meth:`EvalMetrics.to_table` renders markdown).

Metric definitions (a report × organ pair is one organ of :class:`~schemas.vocabulary.Organ` in one
report; a missing prediction, or one whose status is not ``ok``, counts as "every organ not mentioned"):

* **organ status accuracy**: predicted status == gold status, over all pairs, and over the pairs whose
  gold status is not ``not_mentioned``;
* **lesion presence** precision / recall / F1: a pair is positive when its status is ``lesion``;
* **count exact match**, on pairs whose gold status is ``lesion``: the organ count (the organ's own
  count, else the sum of its lesions' counts, see :func:`organ_count`) must be equal in kind and value;
  ``multiple`` only matches ``multiple``;
* **largest diameter**, on pairs where gold has a measured lesion: predicted largest diameter within
  ±2 mm (inclusive) of the gold one;
* **largest-lesion location**, for liver, pancreas and kidney, on pairs whose gold largest lesion is
  located: the location sets of the gold and predicted largest lesions (liver: Couinaud segments;
  pancreas: mask parts head / body / tail, neck and uncinate → head; kidney: side, bilateral = {left,
  right}) must overlap; ``location_exact`` requires them to be equal;
* **lesion-level** precision / recall / F1: per report and organ, gold and predicted lesion entries are
  matched greedily (smallest diameter gap first); a pair is compatible when both are unsized or their
  largest diameters are within ±2 mm, and their locations overlap (or either is unlocated). A grouped
  entry ("multiple cysts up to 1.2 cm") is one entry.

Example:
    >>> cases = load_evalset()
    >>> gold = [case.to_extraction() for case in cases]
    >>> metrics = score(gold, gold)
    >>> metrics.presence.f1
    1.0
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Final, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_validator

from report_extractor.errors import InputError
from schemas.records import (
    Certainty,
    Count,
    CountKind,
    ExtractionStatus,
    Lesion,
    OrganFinding,
    OrganStatus,
    Provenance,
    ReportExtraction,
    Size,
    SizeClass,
    text_sha256,
)
from schemas.vocabulary import PAIRED_ORGANS, KidneyPole, Organ, PancreasPart, Side

EVALSET_PATH: Final[Path] = Path(__file__).resolve().parent / "evalset" / "reports.jsonl"
"""The packaged evaluation set (one JSON object per line)."""

DEVSET_PATH: Final[Path] = EVALSET_PATH.with_name("devset.jsonl")
"""The dev-set extension (issue 13): reports written independently of the rules, split by
:class:`EvalPart`. The whole dev set is :data:`EVALSET_PATH` (all tuning) plus this file."""

DEV_PATHS: Final[tuple[Path, ...]] = (EVALSET_PATH, DEVSET_PATH)
"""The files of the whole dev set, in id order."""

FINAL_PATH: Final[Path] = EVALSET_PATH.with_name("final.jsonl")
"""The final part (issue 13): reports written last, independently of the rules, every case
``part: final``; scored once, at the end of the issue. It is not in :data:`DEV_PATHS`, so ``all``
never scores it by accident; :func:`part_paths` picks it for ``final``."""

FINAL2_PATH: Final[Path] = EVALSET_PATH.with_name("final2.jsonl")
"""The second final part (issue 13), written after :data:`FINAL_PATH` had been scored and used for
fixing failure classes: untouched reports, every case ``part: final2``, scored once; like the final part
it is not in :data:`DEV_PATHS`, and :func:`part_paths` picks it for ``final2``."""

PART_FILES: Final[MappingProxyType[str, tuple[Path, ...]]] = MappingProxyType(
    {"final": (FINAL_PATH,), "final2": (FINAL2_PATH,)}
)
"""The bundled files of the parts kept out of the dev set; any other part reads :data:`DEV_PATHS`."""

DIAMETER_TOLERANCE_MM: Final[float] = 2.0
"""Largest diameters within this many millimetres (inclusive) count as equal."""

FOCUS_ORGANS: Final[tuple[Organ, ...]] = (Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY)
"""Organs that training uses; they get their own columns in :meth:`EvalMetrics.to_table`."""

LOCATED_ORGANS: Final[frozenset[Organ]] = frozenset(FOCUS_ORGANS)
"""Organs whose largest-lesion location is scored (the R-Super per-CT location columns)."""

GOLD_PROVENANCE: Final[Provenance] = Provenance(
    backend="gold", extractor_version="gold", created_at=datetime(2025, 1, 1, tzinfo=UTC)
)
"""Provenance stamped on gold records (fixed timestamp, so gold records are reproducible)."""

_EPS: Final[float] = 1e-9


# ----------------------------------------------------------------------------------------------------
# The gold set
# ----------------------------------------------------------------------------------------------------


class ReportStyle(StrEnum):
    """How an evaluation report is written."""

    TEMPLATED = "templated"
    NARRATIVE = "narrative"
    FOLLOWUP = "followup"
    ED = "ed"
    NORMAL = "normal"
    FINDINGS_ONLY = "findings_only"
    NOTES = "notes"
    RECIST = "recist"
    ADDENDUM = "addendum"


class EvalPart(StrEnum):
    """Which part of the dev set a case belongs to: tuned against, or held out until the end."""

    TUNING = "tuning"
    HELDOUT = "heldout"
    FINAL = "final"
    FINAL2 = "final2"


class PartChoice(StrEnum):
    """Which cases to score: every case, or one :class:`EvalPart`."""

    ALL = "all"
    TUNING = "tuning"
    HELDOUT = "heldout"
    FINAL = "final"
    FINAL2 = "final2"


def part_paths(part: PartChoice | str) -> tuple[Path, ...]:
    """The bundled files that hold ``part``: :data:`FINAL_PATH` for ``final``, :data:`FINAL2_PATH` for
    ``final2``, else :data:`DEV_PATHS`.

    So ``all`` means the whole dev set (tuning + held out), never a final part.
    """
    return PART_FILES.get(str(part), DEV_PATHS)


def select_part(cases: Iterable[EvalCase], part: PartChoice | str) -> list[EvalCase]:
    """The cases of ``part`` (``all`` keeps every case), in order.

    Raises:
        ValueError: ``part`` is not one of :class:`PartChoice`'s values.
    """
    try:
        choice = PartChoice(part)
    except ValueError as e:
        valid = ", ".join(p.value for p in PartChoice)
        raise ValueError(f"part: must be one of {valid}, got {part!r}.") from e
    if choice is PartChoice.ALL:
        return list(cases)
    return [case for case in cases if case.part.value == choice.value]


class _Gold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedOrgan(_Gold):
    """Gold status and count of one organ (organs not listed are ``not_mentioned``)."""

    organ: Organ
    status: OrganStatus
    count: Annotated[int, Field(ge=1)] | None = None
    count_kind: CountKind = CountKind.EXACT

    @model_validator(mode="after")
    def _count_matches_status(self) -> Self:
        if self.status is not OrganStatus.LESION:
            if self.count is not None:
                raise ValueError(f"{self.organ.value}: count must be null for status {self.status.value!r}")
        elif self.count_kind is CountKind.MULTIPLE and self.count is not None:
            raise ValueError(f"{self.organ.value}: count must be null when count_kind is 'multiple'")
        elif self.count_kind is not CountKind.MULTIPLE and self.count is None:
            raise ValueError(f"{self.organ.value}: a lesion organ needs a count (or count_kind 'multiple')")
        return self

    def to_finding(self) -> OrganFinding:
        """The record-model finding for this organ."""
        count = Count(kind=self.count_kind, value=self.count) if self.status is OrganStatus.LESION else None
        return OrganFinding(organ=self.organ, status=self.status, count=count)


class ExpectedLesion(_Gold):
    """One gold lesion entry (or one grouped entry), with its current size only."""

    organ: Organ
    side: Side | None = None
    liver_segments: list[int] = Field(default_factory=list)
    pancreas_parts: list[PancreasPart] = Field(default_factory=list)
    kidney_poles: list[KidneyPole] = Field(default_factory=list)
    diameters_mm: Annotated[list[float], Field(max_length=3)] = Field(default_factory=list)
    size_class: SizeClass | None = None
    count: Annotated[int, Field(ge=1)] | None = 1
    count_kind: CountKind = CountKind.EXACT
    certainty: Certainty = Certainty.DEFINITE

    @model_validator(mode="after")
    def _sorted_diameters(self) -> Self:
        if self.diameters_mm != sorted(self.diameters_mm, reverse=True):
            raise ValueError(f"diameters_mm: write them largest first, got {self.diameters_mm}")
        return self

    def to_lesion(self) -> Lesion:
        """The record-model lesion (raises pydantic's ``ValidationError`` on inconsistent labels)."""
        return Lesion(
            organ=self.organ,
            side=self.side,
            liver_segments=tuple(self.liver_segments),
            pancreas_parts=tuple(self.pancreas_parts),
            kidney_poles=tuple(self.kidney_poles),
            size=Size(diameters_mm=tuple(self.diameters_mm)) if self.diameters_mm else None,
            size_class=self.size_class,
            count=Count(kind=self.count_kind, value=self.count),
            certainty=self.certainty,
        )


class ExpectedExtraction(_Gold):
    """The gold answer for one report."""

    organs: list[ExpectedOrgan] = Field(default_factory=list)
    lesions: list[ExpectedLesion] = Field(default_factory=list)


class EvalCase(_Gold):
    """One report of the evaluation set with its hand-checked answer."""

    id: Annotated[str, Field(min_length=1, max_length=256)]
    style: ReportStyle
    part: EvalPart = EvalPart.TUNING
    text: Annotated[str, Field(min_length=1)]
    expected: ExpectedExtraction
    notes: str = ""

    def to_extraction(self) -> ReportExtraction:
        """The gold :class:`~schemas.records.ReportExtraction`, validated by the record model's rules.

        Raises:
            pydantic.ValidationError: when the label breaks a cross-field rule of the record model.
        """
        return ReportExtraction(
            report_id=self.id,
            text_sha256=text_sha256(self.text),
            organs=tuple(o.to_finding() for o in self.expected.organs),
            lesions=tuple(lesion.to_lesion() for lesion in self.expected.lesions),
            provenance=GOLD_PROVENANCE,
        )


def load_evalset(path: str | Path | None = None) -> list[EvalCase]:
    """Read an evaluation set (JSONL, one :class:`EvalCase` per line; blank lines are skipped).

    Every case is also converted with :meth:`EvalCase.to_extraction`, so a returned set is valid under
    the record model.

    Args:
        path: the JSONL file; ``None`` reads the packaged set (:data:`EVALSET_PATH`).

    Raises:
        InputError: naming the file and line of an unreadable, invalid or duplicate case.
    """
    file = EVALSET_PATH if path is None else Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"path: cannot read the evaluation set {str(file)!r}: {e}") from e
    cases: list[EvalCase] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{file}:{lineno}"
        try:
            case = EvalCase.model_validate(json.loads(line))
            case.to_extraction()
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: not valid JSON ({e.msg}); write one JSON object per line.") from e
        except ValidationError as e:
            raise InputError(f"{where}: invalid case: {e}") from e
        if case.id in seen:
            raise InputError(f"{where}: duplicate id {case.id!r}; ids must be unique.")
        seen.add(case.id)
        cases.append(case)
    return cases


def load_devset(paths: Sequence[str | Path] = DEV_PATHS) -> list[EvalCase]:
    """Read several evaluation files as one set (by default the whole dev set, :data:`DEV_PATHS`).

    Raises:
        InputError: a file is unreadable or invalid, or an id occurs in two files.
    """
    cases: list[EvalCase] = []
    seen: dict[str, Path] = {}
    for path in paths:
        for case in load_evalset(path):
            if case.id in seen:
                raise InputError(
                    f"{path}: id {case.id!r} is also in {seen[case.id]}; ids must be unique across files."
                )
            seen[case.id] = Path(path)
            cases.append(case)
    return cases


def gold_extractions(cases: Iterable[EvalCase]) -> list[ReportExtraction]:
    """The gold records of ``cases``, in order."""
    return [case.to_extraction() for case in cases]


# ----------------------------------------------------------------------------------------------------
# Metric containers
# ----------------------------------------------------------------------------------------------------


class Ratio(BaseModel):
    """``correct`` out of ``total``; ``value`` is null when nothing was scored."""

    correct: int = 0
    total: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        """``correct / total``, or ``None`` when ``total`` is 0."""
        return self.correct / self.total if self.total else None

    def add(self, ok: bool) -> None:
        """Count one scored item."""
        self.total += 1
        self.correct += int(ok)

    def __iadd__(self, other: Ratio) -> Self:
        self.correct += other.correct
        self.total += other.total
        return self


class PRF(BaseModel):
    """True / false positives and false negatives, with precision, recall and F1 (null if undefined)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def precision(self) -> float | None:
        """``tp / (tp + fp)``, or ``None`` when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def recall(self) -> float | None:
        """``tp / (tp + fn)``, or ``None`` when gold has no positives."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def f1(self) -> float | None:
        """``2 tp / (2 tp + fp + fn)``, or ``None`` when there is nothing to score."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None

    def __iadd__(self, other: PRF) -> Self:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        return self


class OrganMetrics(BaseModel):
    """All metrics restricted to one organ (or summed over organs)."""

    status: Ratio = Field(default_factory=Ratio)
    status_mentioned: Ratio = Field(default_factory=Ratio)
    presence: PRF = Field(default_factory=PRF)
    count: Ratio = Field(default_factory=Ratio)
    largest_diameter: Ratio = Field(default_factory=Ratio)
    location: Ratio = Field(default_factory=Ratio)
    location_exact: Ratio = Field(default_factory=Ratio)
    lesions: PRF = Field(default_factory=PRF)

    def __iadd__(self, other: OrganMetrics) -> Self:
        for name in type(self).model_fields:
            part = getattr(self, name)
            part += getattr(other, name)
        return self


class Throughput(BaseModel):
    """Speed and token use of the predictions (null when the provenance does not say)."""

    n_reports: int = 0
    wall_time_s: float | None = None
    reports_per_s: float | None = None
    prompt_tokens_per_report: float | None = None
    cached_tokens_per_report: float | None = None
    completion_tokens_per_report: float | None = None


class EvalMetrics(BaseModel):
    """The scores of one backend on one gold set: micro-averaged over organs, and per organ."""

    n_reports: int
    n_missing: int
    n_failed: int
    n_extra: int
    overall: OrganMetrics
    per_organ: dict[Organ, OrganMetrics]
    throughput: Throughput

    @property
    def organ_status_accuracy(self) -> float | None:
        """Organ-status accuracy over every organ of the vocabulary × report."""
        return self.overall.status.value

    @property
    def organ_status_accuracy_mentioned(self) -> float | None:
        """Organ-status accuracy over the organs gold does mention."""
        return self.overall.status_mentioned.value

    @property
    def presence(self) -> PRF:
        """Micro-averaged lesion presence (report × organ)."""
        return self.overall.presence

    @property
    def lesions(self) -> PRF:
        """Micro-averaged lesion-level matching."""
        return self.overall.lesions

    def to_table(self, organs: Sequence[Organ] = FOCUS_ORGANS) -> str:
        """A markdown table: one row per metric, columns "all organs" then ``organs``."""
        columns = [self.overall, *(self.per_organ[o] for o in organs)]
        header = "| metric | all organs | " + " | ".join(o.value for o in organs) + " |"
        rows = [header, "|---" * (len(columns) + 1) + "|"]

        def ratio_row(label: str, name: str) -> str:
            cells = [_fmt_ratio(getattr(c, name)) for c in columns]
            return f"| {label} | " + " | ".join(cells) + " |"

        def prf_row(label: str, name: str, attr: str) -> str:
            cells = [_fmt_prf(getattr(c, name), attr) for c in columns]
            return f"| {label} | " + " | ".join(cells) + " |"

        rows += [
            ratio_row("organ status accuracy (all organs)", "status"),
            ratio_row("organ status accuracy (mentioned in gold)", "status_mentioned"),
            prf_row("lesion presence precision", "presence", "precision"),
            prf_row("lesion presence recall", "presence", "recall"),
            prf_row("lesion presence F1", "presence", "f1"),
            ratio_row("count exact match", "count"),
            ratio_row("largest diameter within ±2 mm", "largest_diameter"),
            ratio_row("largest-lesion location (overlap)", "location"),
            ratio_row("largest-lesion location (exact)", "location_exact"),
            prf_row("lesion-level precision", "lesions", "precision"),
            prf_row("lesion-level recall", "lesions", "recall"),
            prf_row("lesion-level F1", "lesions", "f1"),
        ]
        t = self.throughput
        rows += [
            "",
            f"Reports: {self.n_reports} (missing predictions: {self.n_missing}, failed: {self.n_failed}, "
            f"predictions without gold: {self.n_extra}).",
            f"Throughput: {_fmt_float(t.reports_per_s, 2)} reports/s; tokens per report: "
            f"prompt {_fmt_float(t.prompt_tokens_per_report, 1)}, "
            f"cached {_fmt_float(t.cached_tokens_per_report, 1)}, "
            f"output {_fmt_float(t.completion_tokens_per_report, 1)}.",
        ]
        return "\n".join(rows)


def _fmt_float(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _fmt_ratio(ratio: Ratio) -> str:
    return f"{_fmt_float(ratio.value, 3)} ({ratio.correct}/{ratio.total})"


def _fmt_prf(prf: PRF, attr: str) -> str:
    value: float | None = getattr(prf, attr)
    if attr == "f1":
        return f"{_fmt_float(value, 3)} (tp {prf.tp}, fp {prf.fp}, fn {prf.fn})"
    return _fmt_float(value, 3)


# ----------------------------------------------------------------------------------------------------
# Scoring
# ----------------------------------------------------------------------------------------------------


def organ_count(extraction: ReportExtraction | None, organ: Organ) -> Count | None:
    """The lesion count of ``organ``: its finding's count, else the sum of its lesions' counts.

    Summing: any ``multiple`` lesion makes the total ``multiple``; otherwise any ``at_least`` makes it
    ``at_least`` the sum; otherwise it is exact. ``None`` when the organ has no lesion.
    """
    if extraction is None:
        return None
    finding = extraction.finding(organ)
    lesions = extraction.lesions_of(organ)
    if finding.status is not OrganStatus.LESION and not lesions:
        return None
    if finding.count is not None:
        return finding.count
    if not lesions:
        return None
    counts = [lesion.count for lesion in lesions]
    if any(c.kind is CountKind.MULTIPLE for c in counts):
        return Count(kind=CountKind.MULTIPLE, value=None)
    kind = CountKind.AT_LEAST if any(c.kind is CountKind.AT_LEAST for c in counts) else CountKind.EXACT
    return Count(kind=kind, value=sum(c.value or 0 for c in counts))


def lesion_location(lesion: Lesion) -> frozenset[str]:
    """The lesion's location as a set of labels (empty when unknown).

    Liver: Couinaud segments (``"1"`` … ``"8"``); pancreas: mask parts (neck and uncinate → head);
    paired organs: ``{"left"}``, ``{"right"}``, both for bilateral.
    """
    if lesion.organ is Organ.LIVER:
        return frozenset(str(s) for s in lesion.liver_segments)
    if lesion.organ is Organ.PANCREAS:
        return frozenset(p.mask_part.value for p in lesion.pancreas_parts)
    if lesion.organ in PAIRED_ORGANS:
        if lesion.side is Side.BILATERAL:
            return frozenset({Side.LEFT.value, Side.RIGHT.value})
        if lesion.side in (Side.LEFT, Side.RIGHT):
            return frozenset({lesion.side.value})
    return frozenset()


def _largest_mm(lesion: Lesion) -> float | None:
    return lesion.size.largest_mm if lesion.size is not None else None


def largest_lesion(lesions: Sequence[Lesion]) -> Lesion | None:
    """The lesion with the largest diameter (unsized ones rank last; ties keep report order)."""
    best: Lesion | None = None
    for lesion in lesions:
        if best is None or (_largest_mm(lesion) or -1.0) > (_largest_mm(best) or -1.0):
            best = lesion
    return best


def _pair_cost(gold: Lesion, pred: Lesion) -> float | None:
    """Diameter gap of a compatible gold / predicted lesion pair, or ``None`` when incompatible."""
    g_mm, p_mm = _largest_mm(gold), _largest_mm(pred)
    if (g_mm is None) != (p_mm is None):
        return None
    cost = 0.0 if g_mm is None or p_mm is None else abs(g_mm - p_mm)
    if cost > DIAMETER_TOLERANCE_MM + _EPS:
        return None
    g_loc, p_loc = lesion_location(gold), lesion_location(pred)
    if g_loc and p_loc and not g_loc & p_loc:
        return None
    return cost


def match_lesions(gold: Sequence[Lesion], predicted: Sequence[Lesion]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of lesion entries of one organ (smallest diameter gap first).

    Returns:
        ``(gold_index, predicted_index)`` pairs.
    """
    candidates = sorted(
        (cost, i, j)
        for i, g in enumerate(gold)
        for j, p in enumerate(predicted)
        if (cost := _pair_cost(g, p)) is not None
    )
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, i, j in candidates:
        if i not in used_gold and j not in used_pred:
            used_gold.add(i)
            used_pred.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def _score_organ(gold: ReportExtraction, pred: ReportExtraction | None, organ: Organ) -> OrganMetrics:
    """Metrics of one report × organ pair (``pred`` ``None`` = nothing predicted)."""
    m = OrganMetrics()
    g_status = gold.finding(organ).status
    p_status = pred.finding(organ).status if pred is not None else OrganStatus.NOT_MENTIONED
    g_lesions = gold.lesions_of(organ)
    p_lesions = pred.lesions_of(organ) if pred is not None else ()

    m.status.add(g_status is p_status)
    if g_status is not OrganStatus.NOT_MENTIONED:
        m.status_mentioned.add(g_status is p_status)

    g_pos, p_pos = g_status is OrganStatus.LESION, p_status is OrganStatus.LESION
    m.presence = PRF(tp=int(g_pos and p_pos), fp=int(p_pos and not g_pos), fn=int(g_pos and not p_pos))

    if g_pos:
        p_count = organ_count(pred, organ)
        m.count.add(p_count is not None and p_count == organ_count(gold, organ))

    g_sizes = [mm for lesion in g_lesions if (mm := _largest_mm(lesion)) is not None]
    if g_sizes:
        p_sizes = [mm for lesion in p_lesions if (mm := _largest_mm(lesion)) is not None]
        m.largest_diameter.add(
            bool(p_sizes) and abs(max(p_sizes) - max(g_sizes)) <= DIAMETER_TOLERANCE_MM + _EPS
        )

    g_big = largest_lesion(g_lesions)
    if organ in LOCATED_ORGANS and g_big is not None and (g_loc := lesion_location(g_big)):
        p_big = largest_lesion(p_lesions)
        p_loc = lesion_location(p_big) if p_big is not None else frozenset()
        m.location.add(bool(g_loc & p_loc))
        m.location_exact.add(g_loc == p_loc)

    matched = len(match_lesions(g_lesions, p_lesions))
    m.lesions = PRF(tp=matched, fp=len(p_lesions) - matched, fn=len(g_lesions) - matched)
    return m


def _index(records: Sequence[ReportExtraction], name: str) -> dict[str, ReportExtraction]:
    by_id: dict[str, ReportExtraction] = {}
    for record in records:
        if record.report_id in by_id:
            raise InputError(
                f"{name}: report_id {record.report_id!r} occurs twice; pass one record per report."
            )
        by_id[record.report_id] = record
    return by_id


def _mean(values: Sequence[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _throughput(predicted: Sequence[ReportExtraction], wall_time_s: float | None) -> Throughput:
    durations = [p.provenance.duration_s for p in predicted]
    if wall_time_s is None and predicted and all(d is not None for d in durations):
        wall_time_s = sum(d or 0.0 for d in durations)
    return Throughput(
        n_reports=len(predicted),
        wall_time_s=wall_time_s,
        reports_per_s=len(predicted) / wall_time_s if wall_time_s else None,
        prompt_tokens_per_report=_mean([p.provenance.prompt_tokens for p in predicted]),
        cached_tokens_per_report=_mean([p.provenance.cached_tokens for p in predicted]),
        completion_tokens_per_report=_mean([p.provenance.completion_tokens for p in predicted]),
    )


def score(
    gold: Sequence[ReportExtraction],
    predicted: Sequence[ReportExtraction],
    *,
    wall_time_s: float | None = None,
) -> EvalMetrics:
    """Score predicted extractions against gold ones (paired by ``report_id``).

    Args:
        gold: one gold record per report (e.g. :func:`gold_extractions` of :func:`load_evalset`).
        predicted: the backend's records; a gold report without a prediction, or with a prediction whose
            status is not ``ok``, counts as "every organ not mentioned". Predictions without gold are
            ignored (counted in ``n_extra``).
        wall_time_s: wall-clock seconds the backend took for ``predicted``; when ``None`` the sum of the
            records' ``provenance.duration_s`` is used (if every record has one), which understates the
            throughput of a concurrent backend.

    Raises:
        InputError: a ``report_id`` occurs twice in ``gold`` or in ``predicted``.
        ValueError: ``wall_time_s`` is not positive.
    """
    if wall_time_s is not None and not wall_time_s > 0:
        raise ValueError(f"wall_time_s: must be > 0 seconds, got {wall_time_s}.")
    gold_by_id = _index(gold, "gold")
    pred_by_id = _index(predicted, "predicted")
    per_organ = {organ: OrganMetrics() for organ in Organ}
    n_missing = n_failed = 0
    for report_id, g in gold_by_id.items():
        p = pred_by_id.get(report_id)
        if p is None:
            n_missing += 1
        elif p.status is not ExtractionStatus.OK:
            n_failed += 1
            p = None
        for organ in Organ:
            per_organ[organ] += _score_organ(g, p, organ)
    overall = OrganMetrics()
    for metrics in per_organ.values():
        overall += metrics
    return EvalMetrics(
        n_reports=len(gold_by_id),
        n_missing=n_missing,
        n_failed=n_failed,
        n_extra=sum(1 for report_id in pred_by_id if report_id not in gold_by_id),
        overall=overall,
        per_organ=per_organ,
        throughput=_throughput([p for p in predicted if p.report_id in gold_by_id], wall_time_s),
    )


def score_by_style(
    cases: Sequence[EvalCase], predicted: Sequence[ReportExtraction]
) -> dict[ReportStyle, EvalMetrics]:
    """:func:`score` restricted to each :class:`ReportStyle` present in ``cases`` (in enum order).

    Predictions of reports outside a style are ignored for that style; throughput is not computed.
    """
    by_id = {p.report_id: p for p in predicted}
    out: dict[ReportStyle, EvalMetrics] = {}
    for style in ReportStyle:
        own = [case for case in cases if case.style is style]
        if own:
            preds = [by_id[case.id] for case in own if case.id in by_id]
            out[style] = score(gold_extractions(own), preds)
    return out


def style_table(by_style: dict[ReportStyle, EvalMetrics]) -> str:
    """A markdown table with one row per style: reports and the headline metrics (all organs)."""
    rows = [
        "| style | reports | presence F1 | count | largest ±2 mm | location | lesion F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for style, m in by_style.items():
        o = m.overall
        cells = [
            _fmt_float(o.presence.f1, 3),
            _fmt_ratio(o.count),
            _fmt_ratio(o.largest_diameter),
            _fmt_ratio(o.location),
            _fmt_float(o.lesions.f1, 3),
        ]
        rows.append(f"| {style.value} | {m.n_reports} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
