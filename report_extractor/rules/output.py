"""Stage 7 of the rules extractor, records: findings and organ statuses → :class:`schemas.llm.LLMReport`.

The rules answer in the same structure an LLM backend does, so the shared post-processing (evidence
alignment, number verification, unit conversion) applies unchanged. Organ statuses: ``lesion`` if it
has lesions; ``absent`` after a complete resection, or a partial one whose remnant is not described;
``normal`` when described without lesion. Paired organs get per-side statuses (``left`` / ``right``)
when the report speaks of a side (:func:`~report_extractor.rules.sides.organ_sides`); the organ status
then equals :func:`schemas.records.combine_side_statuses` of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from report_extractor.rules.findings import Finding
from report_extractor.rules.lexicon import malignancy
from report_extractor.rules.sides import organ_sides
from schemas.llm import MAX_LESIONS, LLMLesion, LLMOrgan, LLMReport, LLMSideStatus, LLMUnit
from schemas.records import OrganStatus, Qualifier
from schemas.vocabulary import PAIRED_ORGANS, Organ, Side

__all__ = ["OrganStates", "to_llm_lesion", "to_report"]


@dataclass(frozen=True, slots=True)
class OrganStates:
    """What the report says about organs besides their lesions.

    Attributes:
        complete: organs completely resected.
        remnant: organs partly resected.
        described: organs the report describes.
        normal: organs described without lesion.
        removed_sides: sides of paired organs a resection removed.
        normal_sides: sides of paired organs described without lesion.
    """

    complete: frozenset[Organ]
    remnant: frozenset[Organ]
    described: frozenset[Organ]
    normal: frozenset[Organ]
    removed_sides: dict[Organ, frozenset[Side]] = field(default_factory=dict)
    normal_sides: dict[Organ, frozenset[Side]] = field(default_factory=dict)


def to_llm_lesion(text: str, lesion: Finding) -> LLMLesion:
    """One finding as the LLM-facing lesion: diameters as written with their unit (a unit-less size in
    mm, converted in code), the quote cut from ``text``."""
    organ = lesion.organ
    loc = lesion.location
    diameters: list[float] = []
    unit: LLMUnit | None = None
    qualifier = Qualifier.EQUAL
    if lesion.size is not None and lesion.size.size is not None:
        mention = lesion.size
        size = mention.size
        if size is not None:
            if mention.unit is not None:
                diameters = list(mention.values)
                unit = LLMUnit(mention.unit)
            else:  # unit inferred by the parser: state it in mm (converted in code)
                diameters = list(size.diameters_mm)
                unit = LLMUnit.MM
            qualifier = size.qualifier
    if lesion.qualifier is not None and diameters:
        qualifier = lesion.qualifier
    side = None
    if organ in PAIRED_ORGANS:
        side = loc.side or Side.UNKNOWN
    return LLMLesion(
        organ=organ,
        side=side,
        segments=list(loc.liver_segments) if organ is Organ.LIVER else [],
        pancreas_parts=list(loc.pancreas_parts) if organ is Organ.PANCREAS else [],
        kidney_poles=list(loc.kidney_poles) if organ is Organ.KIDNEY else [],
        diameters=diameters,
        unit=unit,
        qualifier=qualifier,
        size_class=None if diameters else lesion.size_class,
        count=None if lesion.multiple else min(max(lesion.count or 1, 1), 99),
        at_least=lesion.at_least and not lesion.multiple,
        multiple=lesion.multiple,
        certainty=lesion.certainty,
        kind=lesion.kind,
        malignancy=malignancy(lesion.malignancy_text),
        site=loc.site,
        quote=text[lesion.quote.start : lesion.quote.end],
    )


def to_report(text: str, findings: list[Finding], states: OrganStates) -> LLMReport:
    """The answer: organ statuses and lesions (in text order, at most :data:`~schemas.llm.MAX_LESIONS`).

    Args:
        text: the original report text (quotes are cut from it).
        findings: the de-duplicated findings, resected organs' removed.
        states: resections and organs described.
    """
    lesions = sorted(findings, key=lambda lesion: lesion.quote.start)[:MAX_LESIONS]
    with_lesions = {lesion.organ for lesion in lesions}
    out_organs: list[LLMOrgan] = []
    for organ in Organ:
        if organ in with_lesions:
            own = [lesion for lesion in lesions if lesion.organ is organ]
            multiple = any(lesion.multiple for lesion in own)
            count = None if multiple else min(sum(lesion.count or 1 for lesion in own), 99)
            at_least = not multiple and any(lesion.at_least for lesion in own)
            out_organs.append(
                LLMOrgan(organ=organ, status="lesion", count=count, at_least=at_least, multiple=multiple)
            )
        elif organ in states.complete or (organ in states.remnant and organ not in states.described):
            out_organs.append(LLMOrgan(organ=organ, status="absent"))
        elif organ in states.normal:
            out_organs.append(LLMOrgan(organ=organ, status="normal"))
    out_lesions = [to_llm_lesion(text, lesion) for lesion in lesions]
    return LLMReport(organs=_with_sides(out_organs, out_lesions, states), lesions=out_lesions)


def _side_status(status: OrganStatus | None) -> LLMSideStatus | None:
    if status is OrganStatus.LESION:
        return "lesion"
    if status is OrganStatus.NORMAL:
        return "normal"
    return "absent" if status is OrganStatus.ABSENT else None


def _with_sides(organs: list[LLMOrgan], lesions: list[LLMLesion], states: OrganStates) -> list[LLMOrgan]:
    """``organs`` with the per-side statuses of the paired organs whose sides the report speaks of."""
    out: list[LLMOrgan] = []
    for entry in organs:
        if entry.organ in PAIRED_ORGANS:
            left, right = organ_sides(
                OrganStatus(entry.status),
                (lesion.side for lesion in lesions if lesion.organ is entry.organ),
                states.removed_sides.get(entry.organ, frozenset()),
                states.normal_sides.get(entry.organ, frozenset()),
            )
            entry = entry.model_copy(update={"left": _side_status(left), "right": _side_status(right)})
        out.append(entry)
    return out
