"""Stage 5 of the rules extractor, grouping and counts: one sentence's lesion words and sizes of one
organ → :class:`~report_extractor.rules.findings.Finding` objects.

:func:`organ_group` makes one lesion per size when sizes are listed ("2 cm and 3 cm", "bilateral
nodules, 2.3 cm on the right and 1.6 cm on the left"), paired in order with locations listed before
them ("segments 6 and 7 measuring 2 and 3 cm"), else one (grouped) lesion with the largest size. Counts
come from the count phrase (numbers, number words, "multiple" / "several" / plural → multiple, "at
least N" → ``at_least``) or from listed liver segments; certainty from :func:`~report_extractor.rules.
cues.certainty`; location from :func:`~report_extractor.rules.parsing.parse_location`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from typing import Final

from report_extractor.rules.context import ANAPHORA_RE, ANOTHER_RE, SUMMARY_CUE_RE
from report_extractor.rules.counts import CountPhrase
from report_extractor.rules.cues import Cue, certainty
from report_extractor.rules.document import Document
from report_extractor.rules.findings import Finding, Span
from report_extractor.rules.lexicon import KIND_PRIORITY
from report_extractor.rules.lists import ANNOUNCED_LIST_RE
from report_extractor.rules.organs import subject_side
from report_extractor.rules.parsing import SizeMention, location_items, parse_location
from report_extractor.rules.sections import SectionKind, Sentence, clause_start
from report_extractor.rules.sites import (
    BILATERAL_WORDS_RE,
    CHUNK_BREAK_RE,
    largest_member_side,
    listed_sites,
    location_of,
    own_location,
    pair_locations,
    separately_sited,
)
from schemas.llm import MAX_QUOTE_CHARS
from schemas.records import Qualifier
from schemas.vocabulary import PAIRED_ORGANS, Organ, Side

__all__ = ["organ_group"]

_LIST_JOIN_RE: Final = re.compile(r"[^;]{0,40}?(?:\band\b|\bor\b|,)", re.IGNORECASE)
_LARGEST_RE: Final = re.compile(r"\b(?:largest|up\s+to|biggest|dominant|ranging)\b", re.IGNORECASE)
_LABEL_RE: Final = re.compile(r"[^:;.\n]{1,40}:\s*")
_SITE_PHRASE_RE: Final = re.compile(
    r"(?:the\s+)?(?:left|right)\s+(?:kidney|renal|adrenal(?:\s+gland)?|lung|breast)\s*,?\s*"
    r"(?:(?:upper|lower|mid|middle|inter)[\s-]*(?:pole|polar)|(?:upper|middle|lower)\s+lobe)\s*(?:[;.]|$)",
    re.IGNORECASE,
)
_EACH_RE: Final = re.compile(r"\beach\b", re.IGNORECASE)
_HEADER_LABEL_RE: Final = re.compile(r"[ \t]*(?:[-*•][ \t]*)?[^.:;\n]{1,60}:[ \t]*")
"""An organ header opening the sentence's line or sentence ("Sigmoid colon: ")."""
_FRONTED_SITE_RE: Final = re.compile(r"(?:in|within|at)\s+the\s+[^,;:.]{3,60},\s", re.IGNORECASE)
"""A sentence opening with the site ("In the left lateral segment of the liver, a 2.2 cm lesion")."""
_ONE_PER_SIDE: Final[frozenset[Organ]] = frozenset({Organ.ADRENAL_GLAND})
"""Paired organs where "bilateral X nodules" reads as one lesion per side (adrenal glands)."""


def _group_span(text: str, sent: Sentence, cues: list[Cue], sizes: list[SizeMention]) -> Span:
    """Text to read a group's location from: a little before its first word to the end of its clause."""
    first = min(c.start for c in cues)
    lo = max(clause_start(text, sent.start, first), first - 45)
    if lo > sent.start and _LABEL_RE.fullmatch(text, sent.start, lo):
        lo = sent.start  # a site label before a colon ("Lower pole: 2.5 cm mass", "segment 7: 1 cm cyst")
    last = max([c.end for c in cues] + [s.end for s in sizes])
    brk = re.search(r";|\.\s|,\s+(?=(?:the\s+)?(?:left|right|no|without)\b)", text[last : sent.end])
    if brk is not None and brk.group(0).startswith(",") and _SITE_PHRASE_RE.match(text, last + brk.end()):
        brk = re.search(r";|\.\s", text[last : sent.end])  # "1.5 cm cyst, left kidney upper pole"
    hi = last + brk.start() if brk else sent.end
    return Span(lo, hi)


def _chunk(text: str, sent: Sentence, sizes: list[SizeMention], i: int) -> Span:
    """The clause around the i-th of several listed sizes ("2 cm lesion in segment 7 and 3 cm ...")."""
    size = sizes[i]
    floor = sizes[i - 1].end if i > 0 else sent.start
    ceiling = sizes[i + 1].start if i + 1 < len(sizes) else sent.end
    lo = floor
    for m in CHUNK_BREAK_RE.finditer(text, floor, size.start):
        lo = m.end()
    m2 = CHUNK_BREAK_RE.search(text, size.end, ceiling)
    hi = m2.start() if m2 else ceiling
    return Span(lo, hi)


def _quote(text: str, sent: Sentence, lo: int, hi: int) -> Span:
    """A verbatim span ≤ MAX_QUOTE_CHARS: the sentence, else a window around ``lo:hi``."""
    if sent.end - sent.start <= MAX_QUOTE_CHARS:
        return Span(sent.start, sent.end)
    if hi - lo > MAX_QUOTE_CHARS:
        hi = lo + MAX_QUOTE_CHARS
    spare = MAX_QUOTE_CHARS - (hi - lo)
    start = max(sent.start, lo - spare // 2)
    end = min(sent.end, start + MAX_QUOTE_CHARS)
    start = max(sent.start, end - MAX_QUOTE_CHARS)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def _split_at_another(cues: list[Cue], text: str) -> int:
    """Index of the first cue after the first one counted as "another" group ("at least three additional
    cysts"), 0 when the cues form one group."""
    for k, cue in enumerate(cues):
        if k and cue.counted is not None and ANOTHER_RE.search(text, cue.counted.start, cue.start):
            return k
    return 0


def organ_group(
    doc: Document,
    sent: Sentence,
    organ: Organ,
    cues: list[Cue],
    sizes: list[SizeMention],
    classes: list[SizeMention],
    floor: int = -1,
) -> list[Finding]:
    """The findings of one organ in one sentence.

    Args:
        doc: the report.
        sent: the sentence.
        organ: the organ.
        cues: the organ's positive lesion words in the sentence (at least one).
        sizes: the current measurements anchored to them.
        classes: the size words (subcentimeter, tiny, ...) near them.
        floor: where the group's text starts at the earliest (after an earlier group of the sentence).
    """
    text = doc.text
    k = _split_at_another(cues, text)
    if k:
        # "1.8 cm cyst in the tail and at least three additional cysts": two groups, counted apart
        counted_k = cues[k].counted
        cut = counted_k.start if counted_k is not None else cues[k].start
        return organ_group(
            doc,
            sent,
            organ,
            cues[:k],
            [s for s in sizes if s.start < cut],
            [s for s in classes if s.start < cut],
        ) + organ_group(
            doc,
            sent,
            organ,
            cues[k:],
            [s for s in sizes if s.start >= cut],
            [s for s in classes if s.start >= cut],
            floor=cut,
        )
    first = cues[0]
    group_certainty = certainty(doc.folded, sent, first)
    kind = min((c.kind for c in cues), key=KIND_PRIORITY.index)
    counted: CountPhrase | None = next((c.counted for c in cues if c.counted is not None), None)
    plural = any(c.plural for c in cues)
    singular_cues = [c for c in cues if not c.plural and c.counted is None]
    anaphoric = ANAPHORA_RE.match(sent.text) is not None
    another_word = ANOTHER_RE.search(text, max(sent.start, first.start - 40), first.start)
    # "New bilateral pulmonary nodules" in the IMPRESSION restates the new nodules of the FINDINGS
    another = another_word is not None and not (
        sent.section is SectionKind.IMPRESSION and another_word.group(0).lower() == "new"
    )
    g_lo, g_hi = _group_span(text, sent, cues, sizes)
    g_lo = max(g_lo, floor)
    group_span = Span(g_lo, g_hi)
    mal_text = text[g_lo:g_hi]
    summary_cue = anaphoric or SUMMARY_CUE_RE.search(doc.folded, sent.start, sent.end) is not None
    sizes_mm = tuple(s.size.largest_mm for s in sizes if s.size is not None)

    def make(
        size: SizeMention | None, lo: int, hi: int, count: int | None, multiple: bool, loc_span: Span
    ) -> Finding:
        loc = own_location(doc, *loc_span, organ)
        if loc.is_empty and loc_span != group_span:
            loc = own_location(doc, g_lo, g_hi, organ)
        if loc.side is Side.BILATERAL and loc_span != group_span:
            stripped = BILATERAL_WORDS_RE.sub(" ", text[loc_span.start : loc_span.end])
            try:
                alt = parse_location(stripped, organ)
                if alt.side in (Side.LEFT, Side.RIGHT):
                    loc = alt
            except ValueError:
                pass
        if loc.side is None and organ in PAIRED_ORGANS:
            side = subject_side(doc, sent, organ, first.start)
            if side is None and (not sent.header_organs or organ in sent.header_organs):
                side = sent.header_side  # "RIGHT KIDNEY:", "Left:" under "ADRENALS:"
            if side is not None:
                loc = replace(loc, side=side)
        fronted = _FRONTED_SITE_RE.match(text, sent.start, first.start)
        if fronted is not None:
            loc = loc.filled_from(location_of(text, sent.start, fronted.end(), organ))
        if organ in sent.header_organs:
            line = max(text.rfind(c, 0, sent.start) for c in ".\n") + 1
            if line < sent.start and _HEADER_LABEL_RE.fullmatch(text, line, sent.start):
                loc = loc.filled_from(location_of(text, line, sent.start, organ))
        return Finding(
            organ=organ,
            location=loc,
            count=count,
            multiple=multiple,
            certainty=group_certainty,
            kind=kind,
            malignancy_text=mal_text,
            size=size,
            size_class=None if size is not None else (classes[0].size_class if classes else None),
            quote=_quote(text, sent, lo, hi),
            section=sent.section,
            anaphoric=anaphoric,
            another=another,
            summary_cue=summary_cue,
            sizes_mm=sizes_mm,
            sentence=sent.index,
            announces=ANNOUNCED_LIST_RE.search(sent.text) is not None
            or ":" in text[first.end : sent.end],  # "2 lesions: segment V 1.2 cm; ..." announces inline
        )

    individual = False
    if len(sizes) >= 2:
        listed = all(_LIST_JOIN_RE.match(text, a.end, b.start) for a, b in itertools.pairwise(sizes))
        exact = counted is not None and not counted.multiple and counted.value == len(sizes)
        # "bilateral adrenal nodules, 2.3 cm on the right and 1.6 cm on the left": one lesion per size
        sided = counted is not None and counted.bilateral and listed
        unnumbered = counted is None and (not plural or listed or len(singular_cues) >= len(sizes))
        individual = exact or sided or unnumbered
    span_lo = min([c.start for c in cues] + [s.start for s in sizes])
    span_hi = max([c.end for c in cues] + [s.end for s in sizes])
    if (
        len(sizes) == 1
        and counted is not None
        and counted.value is not None
        and counted.value >= 2
        and _EACH_RE.search(text, g_lo, g_hi)
    ):
        try:
            items = location_items(text[g_lo:g_hi], organ)
        except ValueError:
            items = []
        if len(items) == counted.value:  # "two hypodensities (segs 2 and 3), each 5 mm"
            out = [make(sizes[0], span_lo, span_hi, 1, False, group_span) for _ in items]
            pair_locations(text, g_lo, g_hi, g_hi, organ, location_of(text, g_lo, g_hi, organ), out)
            return out
    if not sizes and counted is None and not plural:
        apart = separately_sited(doc, sent, organ, [c for c in cues if not c.diagnosis])
        if apart:  # "Liver S2 small cyst, S6 small cyst": one lesion per sited lesion word
            return [make(None, lo, hi, 1, False, Span(lo, hi)) for lo, hi in apart]
    if individual:
        out = []
        for i, size in enumerate(sizes):
            lo, hi = _chunk(text, sent, sizes, i)
            if location_of(text, lo, hi, organ).is_empty:
                # "... and a second one, 1.1 cm, in segment 6": the site follows the size's own clause
                ceiling = sizes[i + 1].start if i + 1 < len(sizes) else min(sent.end, g_hi)
                if not location_of(text, hi, ceiling, organ).is_empty:
                    hi = ceiling
            out.append(make(size, min(lo, size.start), max(hi, size.end), 1, False, Span(lo, hi)))
        pair_locations(text, g_lo, sizes[0].start, g_hi, organ, location_of(text, g_lo, g_hi, organ), out)
        return out
    largest = max(sizes, key=lambda s: s.size.largest_mm if s.size else 0.0) if sizes else None
    sites = listed_sites(text, g_lo, g_hi, organ) if plural and counted is None else 0
    if counted is not None and counted.bilateral and organ in _ONE_PER_SIDE:
        count, multiple = 2, False  # "bilateral adrenal nodules": one per gland
    elif counted is not None and counted.multiple:
        count, multiple = None, True
    elif sites >= 2:
        count, multiple = sites, False  # "hypodensities in segments 5 and 8": one per listed site
    elif counted is not None and counted.value is not None:
        count, multiple = counted.value, False
    elif plural:
        count, multiple = None, True
    else:
        count, multiple = 1, False
    lesion = make(largest, span_lo, span_hi, count, multiple, group_span)
    lesion.at_least = counted is not None and counted.at_least and not multiple
    lesion.plural = plural and (counted is None or counted.multiple)
    lesion.multiple_word = counted is not None and counted.multiple and not counted.bilateral
    grouped = multiple or (count or 1) > 1
    if (
        grouped
        and largest is not None
        and largest.size is not None
        and largest.size.qualifier is Qualifier.EQUAL
        and _LARGEST_RE.search(text, sent.start, sent.end)
    ):
        lesion.qualifier = Qualifier.UP_TO
    if grouped and largest is not None and lesion.location.side is Side.BILATERAL:
        side = largest_member_side(text, sent, largest)
        if side is not None:  # "bilateral renal cysts, the largest on the left measuring 3.4 cm"
            lesion.location = replace(lesion.location, side=side)
    return [lesion]
