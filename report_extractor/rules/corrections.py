"""Addenda and corrections: text that changes an earlier finding instead of adding one.

An ADDENDUM (or a "Correction:" line) adds lesions ("a second 9 mm lesion", "was omitted from the
original report"), corrects one ("the renal cyst is in the RIGHT kidney, not the left", "should read
4.2 cm, not 3.2 cm", "the 2.2 cm metastasis is in segment 8 (not 4)", "is actually located in the
tail of the pancreas") or retracts one ("the 7 mm nodule is a vessel seen end-on", "corresponds to
focal fatty infiltration"). This module finds where the corrections start, blanks the replaced values
("not the left", "(not 4)", "not 3.2 cm") so that only the corrected ones are read, classifies a
correction sentence, and :func:`apply_corrections` applies each one to the earlier finding it refers to
(part of stage 6 of the rules extractor, after reading and before de-duplication).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Final

from report_extractor.rules.document import Document
from report_extractor.rules.findings import Finding
from report_extractor.rules.folding import caseless, fold
from report_extractor.rules.parsing import Location, SizeMention, parse_location
from report_extractor.rules.sections import SectionKind, Sentence
from schemas.vocabulary import PAIRED_ORGANS, Organ, Side

__all__ = [
    "RELOCATE_RE",
    "Corrected",
    "CorrectionKind",
    "apply_corrections",
    "blank_replaced_values",
    "correction_kind",
    "corrections_start",
]

_I: Final = re.IGNORECASE

_START_RE: Final = caseless(
    r"(?:^|(?<=[\n.;]))[ \t\-*]*(?:addend(?:um|a)|correction|corrected\s+report|amended\s+report)\b"
)
"""Matched against the folded text (:func:`~report_extractor.rules.folding.fold`)."""
_REPLACED_RE: Final = re.compile(
    r"\(\s*not\s+[^()\n]{1,40}\)"
    r"|\bnot\s+(?:the\s+|in\s+(?:the\s+)?|a\s+|an\s+)?(?:\d+(?:[.,]\d+)?\s*(?:x\s*\d+(?:[.,]\d+)?\s*)?(?:mm|cm)"
    r"|(?:left|right)(?:\s+(?:side|kidney|lobe|adrenal(?:\s+gland)?|lung))?"
    r"|segments?\s+[0-9IVX/]+|(?:upper|lower|mid)\s+pole|head|neck|body|tail|uncinate(?:\s+process)?"
    r"|multiple|(?:[a-z-]+\s+){0,2}(?:cyst|mass|nodule|lesion|tumou?r|metastasis))\b",
    _I,
)
_NEW_RE: Final = re.compile(
    r"\b(?:another|(?:second|third)(?!\s+(?:part|portion|segment|order)\b)|also|additional(?:ly)?|in\s+addition|new(?:ly)?|omitted|overlooked|missed"
    r"|not\s+(?:previously\s+)?(?:mentioned|described|reported|included|noted|dictated))\b",
    _I,
)
_RETRACT_RE: Final = re.compile(
    r"\b(?:is|are|was|were|represents?|corresponds?\s+to|reflects?|(?:is|are)\s+(?:actually|in\s+fact))\s+"
    r"(?:(?:a|an|the)\s+)?(?:[a-z-]+\s+){0,3}?"
    r"(?:artifacts?|artefacts?|pseudo-?lesions?|vessels?|vascular|perfusion\s+(?:anomal\w+|artifacts?|defects?)"
    r"|(?:focal\s+)?fat(?:ty\s+(?:infiltration|sparing))?|unopacified|bowel|duodenum|jejunum|diverticul\w+"
    r"|partial\s+volume|volume\s+averaging|normal\s+variant|(?:a\s+)?normal\s+\w+)\b"
    r"|\bshould\s+be\s+disregarded\b|\bwas\s+not\s+present\b|\bis\s+retracted\b",
    _I,
)
_NORMAL_RE: Final = re.compile(r"\b(?:normal|unremarkable|no\s+(?:lesion|mass|nodule|cyst)s?)\b", _I)
_NO_LESION_RE: Final = re.compile(
    r"\b(?:there\s+is|there\s+are)\s+no\s+(?:[a-z-]+\s+){0,2}?(?:lesions?|mass(?:es)?|nodules?|cysts?|tumou?rs?)\b",
    _I,
)
"""An addendum stating outright that an organ has no lesion ("there is no bladder mass"): it retracts the
organ's earlier lesions."""
_LARGEST_REF_RE: Final = re.compile(
    r"\b(?:the\s+)?(?:dominant|largest|larger|biggest|bigger|main|index)\b", _I
)
"""A correction naming the lesion by its rank ("the dominant mass is in segment VI")."""
_REFERS_RE: Final = re.compile(r"\b(?:the|this|that|these|those|correction|corrected|should\s+read)\b", _I)
RELOCATE_RE: Final = re.compile(
    r"\b(?:actually|in\s+fact|rather|instead)\s+(?:located|situated|lies|lying|arises|arising|is)\s+"
    r"(?:in|within|from|at)\b|\barises\s+from\b"
    r"|\b(?:is|are)\s+(?:centred|centered|based|located|situated)\s+(?:in|within|at|on)\b(?=[^;.]*\brather\s+than\b)",
    _I,
)
"""Wording that moves a lesion to another organ or site ("is actually located in the pancreatic tail")."""


class CorrectionKind(StrEnum):
    """What a sentence after the start of the corrections does to earlier findings."""

    NEW = "new"  # adds findings ("a second nodule", "was omitted")
    UPDATE = "update"  # corrects side, site, size or organ of an earlier lesion
    RETRACT = "retract"  # says an earlier lesion is no lesion


def corrections_start(text: str) -> int | None:
    """Where the first ADDENDUM / Correction begins in ``text``, or None when there is none."""
    m = _START_RE.search(fold(text))
    return m.start() if m else None


def blank_replaced_values(text: str, start: int) -> str:
    """``text`` with replaced values after ``start`` blanked by spaces (same length, same offsets).

    "in the RIGHT kidney, not the left" keeps "RIGHT kidney"; "segment 8 (not 4)" keeps "segment 8";
    "should read 4.2 cm, not 3.2 cm" keeps 4.2 cm.
    """
    head, tail = text[:start], text[start:]
    return head + _REPLACED_RE.sub(lambda m: " " * len(m.group(0)), tail)


def correction_kind(sentence: str) -> CorrectionKind:
    """Classify a sentence that follows the start of the corrections."""
    if _RETRACT_RE.search(sentence) and not _NEW_RE.search(sentence):
        return CorrectionKind.RETRACT
    if _NEW_RE.search(sentence) or not _REFERS_RE.search(sentence):
        return CorrectionKind.NEW
    return CorrectionKind.UPDATE


@dataclass(slots=True)
class Corrected:
    """The findings after the corrections, and the organs the corrections left without lesion.

    Attributes:
        findings: the findings, corrected; retracted ones and the correction sentences' own removed.
        normal: organs left without lesion (a retracted lesion, a lesion moved to another organ).
        described: organs a retraction described as without lesion.
    """

    findings: list[Finding]
    normal: set[Organ] = field(default_factory=set)
    described: set[Organ] = field(default_factory=set)


def _largest_of(mention: SizeMention | None) -> float | None:
    return max(mention.size.diameters_mm) if mention is not None and mention.size is not None else None


def _overlaps(a: Location, b: Location) -> bool:
    """Whether two locations share a segment, part, pole or (left/right) side."""
    return bool(
        set(a.liver_segments) & set(b.liver_segments)
        or set(a.pancreas_parts) & set(b.pancreas_parts)
        or set(a.kidney_poles) & set(b.kidney_poles)
        or (a.side is not None and a.side is b.side and a.side in (Side.LEFT, Side.RIGHT))
    )


def _referenced(
    doc: Document, sent: Sentence, here: list[Finding], earlier: list[Finding], numbers: set[float]
) -> Finding | None:
    """The earlier lesion a correction sentence refers to: by a size it repeats, else by organ and site."""
    by_size = [les for les in earlier if _largest_of(les.size) in numbers]
    if by_size:
        return by_size[0]
    if len(earlier) == 1 and RELOCATE_RE.search(doc.text, sent.start, sent.end):
        return earlier[0]  # "the mass actually arises from the gallbladder": names the new organ only
    organs = {les.organ for les in here} | {o.organ for o in doc.organs_between(sent.start, sent.end)}
    candidates = [les for les in earlier if les.organ in organs]
    measured = [les for les in candidates if les.size is not None]
    where = parse_location(sent.text)
    located = [les for les in candidates if _overlaps(les.location, where)]
    if len(located) == 1:
        return located[0]
    if not located and len(measured) > 1:
        if _LARGEST_REF_RE.search(sent.text):  # "the dominant mass is in segment VI"
            return max(measured, key=lambda les: _largest_of(les.size) or 0.0)
        kinds = {les.kind for les in here}
        same_kind = [les for les in measured if les.kind in kinds]
        if len(same_kind) == 1:
            return same_kind[0]  # "the satellite nodule lies in segment VII": named by its noun
    if len(candidates) == 1:
        return candidates[0]
    # one lesion told twice (FINDINGS and IMPRESSION): the first telling, the others restate it
    if len(measured) == 1 and all(_compatible_sides(les, measured[0]) for les in candidates):
        return measured[0]
    return None


def _compatible_sides(a: Finding, b: Finding) -> bool:
    return a.location.side is None or b.location.side is None or a.location.side is b.location.side


def _restatements(target: Finding, findings: list[Finding]) -> list[Finding]:
    """Later unmeasured tellings of ``target`` (the IMPRESSION's "Left adrenal nodule."): same organ,
    compatible side, and no location of their own that ``target`` lacks."""
    return [
        les
        for les in findings
        if les is not target
        and les.organ is target.organ
        and les.size is None
        and les.sentence > target.sentence
        and not les.in_addendum
        and _compatible_sides(les, target)
        and (les.location.is_empty or _overlaps(les.location, target.location))
    ]


def _retract(target: Finding, out: Corrected) -> None:
    """Remove a retracted lesion and its restatements; a counted restatement ("two liver lesions") loses
    one member instead."""
    for other in _restatements(target, out.findings):
        if other.count is not None and other.count > 1 and not other.multiple:
            other.count -= 1
        else:
            out.findings.remove(other)
    out.findings.remove(target)
    if not any(les.organ is target.organ for les in out.findings):
        out.normal.add(target.organ)
        out.described.add(target.organ)


def _update(doc: Document, sent: Sentence, target: Finding, here: list[Finding], out: Corrected) -> None:
    """Apply a correction sentence to the lesion it refers to (organ, side, site, size)."""
    moved = RELOCATE_RE.search(doc.text, sent.start, sent.end)
    if moved is not None:
        after = [o for o in doc.organ_words if moved.end() <= o.start < sent.end]
        if after and after[0].organ is not target.organ:
            old = target.organ
            for other in _restatements(target, out.findings):  # the IMPRESSION's telling moves too
                out.findings.remove(other)
            target.organ = after[0].organ
            target.location = parse_location(doc.text[moved.end() : sent.end], target.organ)
            if not any(les.organ is old for les in out.findings):
                out.normal.add(old)
            return
    source = next((les for les in here if les.organ is target.organ), None)
    new = source.location if source is not None else parse_location(sent.text, target.organ)
    loc = target.location
    if new.side in (Side.LEFT, Side.RIGHT) and target.organ in PAIRED_ORGANS:
        loc = replace(loc, side=new.side)
        for other in out.findings:  # unmeasured restatements of the lesion (the IMPRESSION) move with it
            restates = other is not target and other.organ is target.organ and other.size is None
            if restates and other.location.side is target.location.side:
                other.location = replace(other.location, side=new.side)
    if new.liver_segments:
        loc = replace(loc, liver_segments=new.liver_segments)
    if new.pancreas_parts:
        loc = replace(loc, pancreas_parts=new.pancreas_parts)
    if new.kidney_poles:
        loc = replace(loc, kidney_poles=new.kidney_poles)
    target.location = loc
    if source is not None and source.size is not None:
        target.size, target.sizes_mm = source.size, source.sizes_mm
        target.quote = source.quote


def apply_corrections(
    doc: Document, findings: list[Finding], start: int, original: list[SizeMention]
) -> Corrected:
    """Apply the sentences from ``start`` (an ADDENDUM or correction) to the findings read before them.

    A sentence that adds findings ("a second 9 mm lesion") keeps its own; one that corrects or retracts
    an earlier finding (found by a size it repeats, else by organ and site) changes or removes that
    finding and adds none, except a counted list that replaces a group of unknown count ("there are
    three metastases, not multiple: ...").

    Args:
        doc: the report as read (replaced values blanked).
        findings: every finding read, in order.
        start: where the corrections start (:func:`corrections_start`).
        original: the size mentions of the original text (replaced values included), to find the
            finding a correction refers to by its old size.
    """
    out = Corrected(findings=list(findings))
    for sent in doc.sentences:
        if sent.start < start or sent.section is SectionKind.HISTORY:
            continue
        kind = correction_kind(sent.text)
        earlier = [les for les in out.findings if 0 <= les.sentence < sent.index]
        if not earlier:
            continue
        if _NO_LESION_RE.search(sent.text) and not any(les.sentence == sent.index for les in out.findings):
            named = {o.organ for o in doc.organs_between(sent.start, sent.end)}
            for gone in [les for les in earlier if les.organ in named]:
                if gone in out.findings:
                    _retract(gone, out)  # "there is no bladder mass": the earlier one is retracted
            continue
        if kind is CorrectionKind.NEW:
            continue
        here = [les for les in out.findings if les.sentence == sent.index]
        if not here and _NORMAL_RE.search(sent.text):
            continue  # "the left adrenal gland is normal": says where the lesion is not
        numbers = {
            mm for m in original if sent.start <= m.start < sent.end and (mm := _largest_of(m)) is not None
        }
        target = _referenced(doc, sent, here, earlier, numbers)
        if target is None:
            continue
        recount = [les for les in here if les.organ is target.organ and les.announces and not les.multiple]
        if target.multiple and recount:
            # "there are three hepatic metastases, not multiple: segment 8, 3.6 cm; ...": the counted
            # list replaces the group
            out.findings.remove(target)
            continue
        out.findings = [les for les in out.findings if les.sentence != sent.index]
        if kind is CorrectionKind.RETRACT:
            _retract(target, out)
            continue
        _update(doc, sent, target, here, out)
    return out
