"""Where a finding is, read for one organ: the location of a text span (other paired organs' side words
left out), listed locations paired with listed lesions, listed sites that count lesions, a bilateral
group's largest member's side, and lesion words of one organ that each name their own site.

Helpers of stage 5 (:mod:`~report_extractor.rules.grouping`) on top of the text parsers of
:mod:`~report_extractor.rules.parsing`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from report_extractor.rules.cues import Cue
from report_extractor.rules.document import Document
from report_extractor.rules.findings import Finding, Span
from report_extractor.rules.lexicon import organ_mentions
from report_extractor.rules.parsing import Location, SizeMention, location_items, parse_location
from report_extractor.rules.sections import Sentence
from schemas.vocabulary import PAIRED_ORGANS, Organ, Side

__all__ = [
    "BILATERAL_WORDS_RE",
    "CHUNK_BREAK_RE",
    "largest_member_side",
    "listed_sites",
    "location_of",
    "own_location",
    "pair_locations",
    "separately_sited",
]

CHUNK_BREAK_RE: Final = re.compile(r",\s|;|\band\b|\bwhile\b|\bwhereas\b|\bwith\b", re.IGNORECASE)
BILATERAL_WORDS_RE: Final = re.compile(
    r"\b(?:bilateral(?:ly)?|both\s+(?:kidneys|adrenals?|adrenal\s+glands|lungs|breasts|sides)"
    r"|double\s+(?:kidneys?|lungs?|adrenals?|breasts?))\b",
    re.IGNORECASE,
)
_RESPECTIVELY_RE: Final = re.compile(r"\brespectively\b", re.IGNORECASE)
_MEMBER_CLAUSE_BREAK_RE: Final = re.compile(r"[,;]|\.\s")
_VERTEBRAL_LEVEL_RE: Final = re.compile(r"\b(?:C[1-7]|T(?:1[0-2]|[1-9])|L[1-5]|S[1-5])\b")
_GENERIC_BONE_WORDS: Final[frozenset[str]] = frozenset(
    {"bone", "bones", "bony", "osseous", "skeletal", "skeleton", "musculoskeletal"}
)
_SITE_LIST_RE: Final = re.compile(r"\b(?:and|,)\s", re.IGNORECASE)
_SIDE_BEFORE_OTHER_RE: Final = re.compile(
    r"\b(?:left|right|lt|rt|bilateral(?:ly)?|both)\s+(?:[a-z-]+\s+)?$|(?-i:\b[RL]\s+)$", re.IGNORECASE
)


def location_of(text: str, lo: int, hi: int, organ: Organ) -> Location:
    """Location of ``text[lo:hi]`` for ``organ``; an impossible segment ("segment 9") reads as unknown."""
    try:
        return parse_location(text[lo:hi], organ)
    except ValueError:
        return Location()


def own_location(doc: Document, lo: int, hi: int, organ: Organ) -> Location:
    """Location of ``doc.text[lo:hi]`` for ``organ``, the side words of other paired organs' phrases left
    out ("right lower lobe mass with bilateral adrenal nodules" → the mass is on the right)."""
    others = [o for o in doc.organs_between(lo, hi) if o.organ is not organ] if organ in PAIRED_ORGANS else []
    if not others:
        return location_of(doc.text, lo, hi, organ)
    chars = list(doc.text[lo:hi])
    for other in others:
        m = _SIDE_BEFORE_OTHER_RE.search(doc.text, max(lo, other.start - 25), other.start)
        for i in range((m.start() if m else other.start) - lo, min(other.end, hi) - lo):
            chars[i] = " "
    try:
        return parse_location("".join(chars), organ)
    except ValueError:
        return Location()


def pair_locations(
    text: str, g_lo: int, first_size: int, g_hi: int, organ: Organ, group: Location, out: list[Finding]
) -> None:
    """Pair listed lesions with locations listed before the sizes (or after them, with "respectively"),
    in order, when the counts match.

    "Two lesions in segments 6 and 7 measuring 2 and 3 cm" → segment 6 (2 cm), segment 7 (3 cm); a
    lesion whose own clause names no side inherits the group's single side ("... in the right kidney
    measuring 1.2 cm (upper pole) and 0.8 cm (lower pole)").
    """
    try:
        items = location_items(text[g_lo:first_size], organ)
        after = location_items(text[first_size:g_hi], organ)
    except ValueError:
        items, after = [], []
    if len(items) != len(out) and len(after) == len(out) and _RESPECTIVELY_RE.search(text, first_size, g_hi):
        items, after = after, []  # "measuring 2 cm and 3 cm, located in segments 5 and 8 respectively"
    if len(items) == len(out) >= 2 and not (after and len(items) == len(out)):
        for les, item in zip(out, items, strict=True):
            if item.liver_segments:
                les.location = replace(les.location, liver_segments=item.liver_segments)
            elif item.pancreas_parts:
                les.location = replace(les.location, pancreas_parts=item.pancreas_parts)
            elif item.kidney_poles:
                les.location = replace(les.location, kidney_poles=item.kidney_poles)
            else:
                les.location = replace(les.location, side=item.side)
    if organ in PAIRED_ORGANS and group.side in (Side.LEFT, Side.RIGHT):
        for les in out:
            if les.location.side is None:
                les.location = replace(les.location, side=group.side)


def listed_sites(text: str, lo: int, hi: int, organ: Organ) -> int:
    """How many sites a plural lesion phrase lists: numbered liver segments ("in segments 5 and 8" → 2),
    vertebral levels and named bones ("lytic foci in T11 and L2", "in T8 and the right iliac bone").

    Parts, poles and sides are not counted ("cysts in both kidneys" stays a group of unknown size).
    """
    if organ is Organ.BONE:
        if not _SITE_LIST_RE.search(text, lo, hi):
            return 0
        levels = set(_VERTEBRAL_LEVEL_RE.findall(text, lo, hi))
        bones = [
            o
            for o in organ_mentions(text, lo, hi)
            if o.organ is Organ.BONE and text[o.start : o.end].lower() not in _GENERIC_BONE_WORDS
        ]
        return len(levels) + len(bones)
    if organ is not Organ.LIVER:
        return 0  # numbered segments are sites; "cysts in the body and tail" may be many
    try:
        items = location_items(text[lo:hi], organ)
    except ValueError:
        return 0
    return len([item for item in items if item.side is None])


def separately_sited(doc: Document, sent: Sentence, organ: Organ, cues: list[Cue]) -> list[Span]:
    """The clauses of two or more unmeasured singular lesion words of one organ when each names its own
    site, different from the others' ("S2 small cyst, S6 small cyst"); ``[]`` otherwise."""
    if len(cues) < 2:
        return []
    spans: list[Span] = []
    for i, cue in enumerate(cues):
        lo = cues[i - 1].end if i else sent.start
        hi = cues[i + 1].start if i + 1 < len(cues) else sent.end
        m = CHUNK_BREAK_RE.search(doc.text, cue.end, hi)
        lo = max([lo] + [b.end() for b in CHUNK_BREAK_RE.finditer(doc.text, lo, cue.start)])
        spans.append(Span(lo, m.start() if m else hi))
    sites = [own_location(doc, s.start, s.end, organ) for s in spans]
    keys = [(loc.liver_segments, loc.pancreas_parts, loc.kidney_poles, loc.side, loc.site) for loc in sites]
    if any(loc.is_empty for loc in sites) or len(set(keys)) < len(keys):
        return []
    return spans


def largest_member_side(text: str, sent: Sentence, largest: SizeMention) -> Side | None:
    """The one side named in the clause of a bilateral group's largest size, or None."""
    lo = sent.start
    for m in _MEMBER_CLAUSE_BREAK_RE.finditer(text, sent.start, largest.start):
        lo = m.end()
    m2 = _MEMBER_CLAUSE_BREAK_RE.search(text, largest.end, sent.end)
    hi = m2.start() if m2 else sent.end
    if BILATERAL_WORDS_RE.search(text, lo, hi):
        return None
    side = location_of(text, lo, hi, Organ.KIDNEY).side
    return side if side in (Side.LEFT, Side.RIGHT) else None
