"""Stages 2-5 run on one sentence: :func:`read_sentence` turns a sentence into findings and statuses.

Per sentence: lesion words (:mod:`~report_extractor.rules.cues`) get organs
(:mod:`~report_extractor.rules.organs`); a ``site: size`` list item with no lesion noun becomes a lesion
word of the organ its label names (:mod:`~report_extractor.rules.lists`); current sizes are anchored
(:mod:`~report_extractor.rules.anchoring`); per organ, the words and sizes become findings
(:mod:`~report_extractor.rules.grouping`). Organs mentioned without a lesion (a negated lesion,
"unremarkable", or only non-lesion findings) are described as normal. The :class:`ReadingContext`
(previous sentence's organ, inside a lesion list) carries over to the next sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from report_extractor.rules.anchoring import size_anchor
from report_extractor.rules.context import NEGATION_RE, NORMAL_RE
from report_extractor.rules.coreference import largest_member, restates_previous
from report_extractor.rules.cues import Cue, sentence_cues
from report_extractor.rules.document import Document
from report_extractor.rules.findings import Finding
from report_extractor.rules.grouping import organ_group
from report_extractor.rules.lexicon import OrganMention
from report_extractor.rules.lists import (
    RESPONSE_LINE_RE,
    SUM_LINE_RE,
    is_subsite_label,
    opens_counted_list,
    opens_lesion_list,
    site_label_end,
)
from report_extractor.rules.organs import (
    assign_organ,
    bone_level_finding,
    fold_diagnosis_cues,
    implied_organ,
    sentence_organs,
)
from report_extractor.rules.parsing import Location, SizeMention
from report_extractor.rules.sections import SectionKind, Sentence, clause_end, clause_start
from report_extractor.rules.sides import normal_sides
from report_extractor.rules.sites import location_of
from report_extractor.rules.tables import is_table_row
from schemas.records import LesionKind
from schemas.vocabulary import Organ, Side

__all__ = ["ReadingContext", "SentenceReading", "read_sentence"]


class ReadingContext(NamedTuple):
    """What one sentence's reading passes to the next (immutable; ``_replace`` makes the next one).

    Attributes:
        previous_organ: the organ the previous sentences were last about (lesion words without an
            organ word inherit it).
        in_list: inside a lesion list ("TARGET LESIONS:", "the largest are:").
        section: the previous sentence's section; a new section (IMPRESSION after FINDINGS) or a header
            naming a site outside the vocabulary starts with no organ to inherit.
        list_header: the organ header (organs, side) a counted list ("Two lesions:") was opened under;
            another organ header ends the list ("RIGHT KIDNEY: Two lesions: ...⏎LEFT KIDNEY: 11 cm.").
    """

    previous_organ: Organ | None = None
    in_list: bool = False
    section: SectionKind | None = None
    list_header: tuple[tuple[Organ, ...], Side | None] | None = None


@dataclass(slots=True)
class SentenceReading:
    """What a sentence says: its findings, organs it describes without lesion, and the next context.

    Attributes:
        findings: lesions (or groups) read from the sentence.
        normal: organs described without lesion.
        described: organs the sentence describes (with or without lesion).
        normal_sides: sides of paired organs described without lesion ("right kidney unremarkable").
        context: the context for the next sentence.
    """

    findings: list[Finding]
    context: ReadingContext
    normal: set[Organ] = field(default_factory=set)
    described: set[Organ] = field(default_factory=set)
    normal_sides: set[tuple[Organ, Side]] = field(default_factory=set)


class _SiteItem(NamedTuple):
    """A lesion word made for a ``site: size`` item, and the location its label gives (when the label was
    read as an organ header, so is not in the sentence: "- Left kidney, interpolar: 22 mm")."""

    cue: Cue
    label_location: Location


@dataclass(slots=True)
class _OrganBucket:
    """One organ's positive lesion words, anchored measurements and size words in a sentence."""

    cues: list[Cue] = field(default_factory=list)
    sizes: list[SizeMention] = field(default_factory=list)
    classes: list[SizeMention] = field(default_factory=list)


def _site_item(
    doc: Document,
    sent: Sentence,
    cues: list[Cue],
    organs: list[OrganMention],
    sizes: list[SizeMention],
    context: ReadingContext,
) -> _SiteItem | None:
    """A lesion for a ``site: size`` list item with no lesion noun ("Liver, segment 7: 34 mm")."""
    measured = [m for m in sizes if m.size is not None]
    if not measured or any(not c.negated for c in cues):
        return None
    first = min(measured, key=lambda m: m.start)
    in_list = context.in_list or is_table_row(sent.text)
    label_start = sent.start
    header_organ = sent.header_organs[0] if sent.header_organs else None
    if header_organ is None and sent.header_side is not None:
        header_organ = context.previous_organ  # "Lung⏎- Left: 11 mm": a side label under an organ line
    if not doc.text[sent.start : first.start].strip() and header_organ is not None:
        # the label was read as a header ("- Right adrenal: 23 mm", "right middle lobe: 14 mm"): start
        # the item at its line; outside a lesion list only a sub-site label makes it an item
        line_start = doc.text.rfind("\n", 0, sent.start) + 1
        if in_list or is_subsite_label(doc.text[line_start : sent.start]):
            label_start = line_start
    label_end = site_label_end(doc.text, label_start, first.start, in_list=in_list)
    if label_end is None:
        return None
    if label_start < sent.start and header_organ is not None:
        organ_here = header_organ
        label = location_of(doc.text, label_start, sent.start, organ_here)
        cue = Cue(start=sent.start, end=sent.start, kind=LesionKind.LESION, plural=False, negated=False)
        cue.organ = organ_here
        return _SiteItem(cue, label)
    in_label = [o.organ for o in organs if o.start < label_end]
    if in_label:
        organ: Organ | None = in_label[0]
    elif sent.header_organs:
        organ = sent.header_organs[0]
    else:
        organ = implied_organ(doc.text, label_start, label_end) or context.previous_organ
    if organ is None:
        return None
    cue = Cue(
        start=sent.start, end=sent.start, kind=LesionKind.LESION, plural=False, negated=False, organ=organ
    )
    return _SiteItem(cue, Location())


def _described_normal(
    doc: Document, sent: Sentence, organ: Organ, organs: list[OrganMention], any_positive: bool
) -> bool:
    """Whether an organ mentioned in a sentence without a lesion of its own is described as normal.

    In a sentence with lesions of other organs, the organ's own clause must say so ("unremarkable",
    "no ..."); otherwise being mentioned is enough.
    """
    if not any_positive:
        return True
    text = doc.text
    for o_start, o_end, _ in (o for o in organs if o.organ is organ):
        lo = clause_start(text, sent.start, o_start)
        hi = clause_end(doc.folded, o_end, sent.end)
        if NORMAL_RE.search(doc.folded, lo, hi) or NEGATION_RE.search(doc.folded, lo, hi):
            return True
    return False


def read_sentence(
    doc: Document,
    sent: Sentence,
    context: ReadingContext,
    findings: list[Finding],
    resected_here: frozenset[Organ],
) -> SentenceReading:
    """Read one sentence of ``doc``.

    Args:
        doc: the report.
        sent: the sentence (not a history-like one).
        context: what the previous sentences pass on.
        findings: the findings of the previous sentences; the last one may take the size of its
            "largest" member stated in this sentence (changed in place).
        resected_here: organs this sentence says are resected (their lesion words without a size are
            about the resection, not a lesion).
    """
    text = doc.text
    if sent.section is not context.section or sent.foreign_header:
        context = context._replace(previous_organ=None, section=sent.section)
    if SUM_LINE_RE.match(sent.text) or RESPONSE_LINE_RE.match(sent.text):
        return SentenceReading([], context)
    header = (sent.header_organs, sent.header_side)
    if context.list_header is not None and sent.header_organs and header != context.list_header:
        context = context._replace(in_list=False, list_header=None)
    if sent.section is SectionKind.IMPRESSION:
        context = context._replace(in_list=False, list_header=None)
    elif opens_counted_list(sent.text) and sent.header_organs:
        context = context._replace(in_list=True, list_header=header)
    elif opens_lesion_list(sent.text):
        context = context._replace(in_list=True, list_header=None)
    if largest_member(doc, sent, findings):
        return SentenceReading([], context)
    organs = sentence_organs(doc, sent)
    cues = sentence_cues(doc, sent)
    cue_starts = [c.start for c in cues if not c.part]  # a part ("mural nodule") separates no lesions
    sent_sizes = doc.current_sizes(sent)
    measured = any(m.size is not None for m in sent_sizes)
    for cue in cues:
        cue.organ = assign_organ(
            text, sent, cue, organs, cue_starts, context.previous_organ, measured=measured
        )
    fold_diagnosis_cues(text, cues)
    site = _site_item(doc, sent, cues, organs, sent_sizes, context)
    if site is not None:
        cues.append(site.cue)
    if restates_previous(doc, sent, cues, organs, sent_sizes, context.previous_organ, findings):
        cues = [c for c in cues if c.negated]
    positive = [c for c in cues if not c.negated and c.organ is not None]
    by_organ: dict[Organ, _OrganBucket] = {}
    for cue in positive:
        if cue.organ is not None:
            by_organ.setdefault(cue.organ, _OrganBucket()).cues.append(cue)
    all_cues = [c for c in cues if c.negated or c.organ is not None]
    for size in sent_sizes:
        if size.size is None:
            if positive:
                near = min(positive, key=lambda c: min(abs(c.start - size.end), abs(size.start - c.end)))
                if near.organ is not None:
                    by_organ[near.organ].classes.append(size)
            continue
        anchor = size_anchor(doc, sent, size, all_cues, organs, sent_sizes)
        if anchor is not None and anchor.organ is not None:
            by_organ[anchor.organ].sizes.append(size)
    reading = SentenceReading([], context)
    for organ, bucket in by_organ.items():
        if organ in resected_here and not bucket.sizes:
            continue
        group = organ_group(doc, sent, organ, bucket.cues, bucket.sizes, bucket.classes)
        if site is not None and not site.label_location.is_empty:
            for les in group:
                les.location = les.location.filled_from(site.label_location)
        reading.findings.extend(group)
    # organs described without lesion
    mentioned = {o.organ for o in organs}
    if sent.header_organs and (not organs or not (positive or mentioned & set(sent.header_organs))):
        # "PROSTATE: Enlarged, with a median lobe indenting the bladder base": the header's organ too
        # ("BOWEL: sigmoid diverticulosis" names its own part of the header's organs)
        mentioned |= set(sent.header_organs)
    mentioned |= {c.organ for c in cues if c.negated and c.organ is not None}
    if bone_level_finding(doc, sent.start, sent.end):
        mentioned.add(Organ.BONE)  # "Acute Chance fx of L1": a vertebra described without lesion
    positive_organs = set(by_organ)
    for organ in mentioned - positive_organs:
        if organ in resected_here or not _described_normal(doc, sent, organ, organs, bool(positive)):
            continue
        reading.normal.add(organ)
        reading.described.add(organ)
    reading.described |= positive_organs
    reading.normal_sides = normal_sides(
        doc, sent, [o for o in organs if o.organ not in resected_here], reading.normal, positive_organs
    )
    if positive_organs:
        reading.context = context._replace(previous_organ=positive[-1].organ)
    elif organs:
        reading.context = context._replace(previous_organ=organs[0].organ)
    elif sent.header_organs:
        reading.context = context._replace(previous_organ=sent.header_organs[0])
    return reading
