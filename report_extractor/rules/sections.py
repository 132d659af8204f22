"""Split a report into sections (FINDINGS / IMPRESSION / history-like / organ headers) and sentences.

Only recognised headers split the text: section names (``FINDINGS:``, ``IMPRESSION:``, ``HISTORY:``,
...), headers naming an organ (``LIVER:``, ``Kidneys and ureters:``) and a list of common non-organ
headers (``LYMPH NODES:``, ``VASCULATURE:``). Anything else followed by a colon stays text, so a
sentence such as "Lesions: one in segment 7" keeps its words.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, NamedTuple

from report_extractor.rules.folding import caseless
from report_extractor.rules.lexicon import LESION_CUE_RE, organ_mentions
from schemas.vocabulary import Organ, Side


class SectionKind(StrEnum):
    """What a section is for extraction purposes."""

    FINDINGS = "findings"
    IMPRESSION = "impression"
    HISTORY = "history"  # indication, technique, comparison...: read only for resections


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence (or list item) of a section, with its span in the report text."""

    start: int
    end: int
    text: str
    section: SectionKind
    header_organs: tuple[Organ, ...]
    index: int
    foreign_header: bool = False
    """Under a header naming a site outside the organ vocabulary (``THYROID:``, ``LYMPH NODES:``,
    ``VASCULATURE:``): a lesion word without an organ word here inherits no earlier organ."""
    header_side: Side | None = None
    """The side a header names (``RIGHT KIDNEY:``, ``Left:`` under ``ADRENALS:``) until the next header."""


_HEADER_RE: Final = re.compile(
    r"(?:^|(?<=[.;!?])|(?<=[.;!?]\s))[ \t\-•*]*(?P<h>[A-Za-z][A-Za-z /&,'()-]{0,48}?)[ \t]*:(?![0-9/])",
    re.MULTILINE,
)
_IMPRESSION_HEADERS: Final = re.compile(
    r"^(?:impressions?|conclusions?|summary|assessment|opinion|diagnos[ie]s|final\s+impression)$", re.I
)
_FINDINGS_HEADERS: Final = re.compile(
    r"^(?:findings?|addend(?:um|a)|results?|report|body|abdomen(?:\s+and\s+pelvis)?|pelvis|abdomen/pelvis|ct\s+abdomen.*|"
    r"lymph\s+nodes?|nodes|lymphatics|vascula\w*|vessels|peritoneum|peritoneal\s+cavity|retroperitoneum|"
    r"mesentery|bowel|gi\s+tract|gastrointestinal(?:\s+tract)?|lower\s+chest|lung\s+bases|chest|"
    r"abdominal\s+wall|soft\s+tissues?|musculoskeletal|osseous\s+structures|bones?|other|others|"
    r"miscellaneous|reproductive(?:\s+organs)?|pelvic\s+organs|urinary\s+tract|biliary(?:\s+tree)?|"
    r"hepatobiliary|genitourinary|gu|adrenals?|kidneys?(?:\s+and\s+ureters)?|ureters|ascites)$",
    re.I,
)
_FOREIGN_HEADERS: Final = re.compile(
    r"^(?:lymph\s+nodes?|nodes|lymphatics|vascula\w*|vessels|peritoneum|peritoneal\s+cavity|retroperitoneum|"
    r"mesentery|abdominal\s+wall|body\s+wall|soft\s+tissues?|muscles?|musculature|thyroid(?:\s+gland)?|neck|"
    r"thorax|mediastinum|heart|pericardium|pleura|ascites|pelvis|adnexa|ovar(?:y|ies))$",
    re.I,
)
"""Headers naming a site outside the organ vocabulary: findings, but no organ to inherit."""
_HISTORY_HEADERS: Final = re.compile(
    r"^(?:(?:clinical\s+)?history|indications?|clinical(?:\s+(?:information|indication|data|notes?))?|"
    r"reason(?:\s+for\s+(?:exam|study|examination))?|techniques?|comparisons?|procedures?|exam(?:ination)?|"
    r"study|protocol|contrast|dose|dlp|ctdi\w*|medications?|allergies|priors?|type\s+of\s+exam|"
    r"dictated\s+by|signed\s+by|electronically\s+signed.*|radiation\s+dose.*)$",
    re.I,
)
_SIDE_HEADER_RE: Final = re.compile(r"^(?:the\s+)?(?:right|left|rt|lt)(?:\s+side)?$", re.I)
"""A header naming only a side ("Left:", "RIGHT SIDE:"): it keeps the enclosing organ header's organs."""
_SIDE_WORD_RE: Final = re.compile(r"\b(right|left|rt|lt)\b", re.I)
_NOT_HEADER_WORDS: Final[frozenset[str]] = frozenset(
    {"the", "a", "an", "is", "are", "was", "were", "with", "there", "note", "noted", "which", "has", "no"}
)
_SPLIT_RE: Final = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[•*-])|;\s+|\n")
_ABBREVIATIONS: Final[frozenset[str]] = frozenset(
    {"approx", "vs", "e.g", "i.e", "dr", "no", "st", "cf", "ca", "fig", "mr", "mrs", "ms", "incl", "est"}
)
_ABBREVIATION_END_RE: Final = re.compile(r"([A-Za-z.]+)\.$")
_ITEM_NUMBER_RE: Final = re.compile(r"[ \t(]*\d{1,2}\.")
_BULLET_RE: Final = re.compile(r"^(?:[-•*]+\s*|\(?\d{1,2}[.)]\s+|[a-z][.)]\s+)")
_LINE_CONTINUES_RE: Final = re.compile(
    r"(?:,|\b(?:and|or|of|with|without|in|at|on|the|a|an|to|by|from|for|measuring|measures|is|are|was"
    r"|were|but|which|that|than|versus|vs)|[-–/x×])$",
    re.IGNORECASE,
)
_JOIN_TAIL_CHARS: Final[int] = 12
"""Longest line end :data:`_LINE_CONTINUES_RE` can match ("measuring" and the character before it): the
end-anchored pattern is tried on the line's last characters only."""
_NEXT_LINE_CONTINUES_RE: Final = re.compile(r"\s*[a-z(]")
_WRAPPED_LINE_MIN_CHARS: Final[int] = 50
"""A line this long followed by a lower-case line is hard-wrapped prose; a shorter one is a note line
unless the next line opens with a joining word (:data:`_NEXT_LINE_JOINS_RE`)."""
_NEXT_LINE_JOINS_RE: Final = re.compile(
    r"\s*(?:\(|(?:in|within|into|of|at|on|with|without|and|or|but|measuring|measures|which|that|to|from|by|for"
    r"|the|a|an|is|are|was|were|has|have|extending|involving|consistent|compatible|likely|probably"
    r"|suggest\w*|abutting|adjacent|near|along|up|than)\b)",
)
_CLAUSE_BREAK_RE: Final = re.compile(r"[;:(]|,\s|\.\s")
_CLAUSE_END_RE: Final = caseless(r";|,\s|\.\s|\bbut\b|\bwhile\b|\bwhereas\b")
"""Where a clause after an organ word ends; searched on the folded (lower-case) text."""


class _HeaderKind(NamedTuple):
    """What a header starts: a section kind (``None``: an organ header keeps the kind) and organs."""

    section: SectionKind | None
    organs: tuple[Organ, ...]
    foreign: bool = False
    side: Side | None = None
    side_only: bool = False  # "Left:" keeps the enclosing organ header's organs


class _Header(NamedTuple):
    start: int
    end: int
    kind: _HeaderKind


class _Body(NamedTuple):
    """The text under one header."""

    start: int
    end: int
    section: SectionKind
    organs: tuple[Organ, ...]
    foreign: bool = False
    side: Side | None = None


def _header_side(clean: str) -> Side | None:
    """The one side a header names ("RIGHT KIDNEY" → right), None for none or both."""
    sides = {
        Side.LEFT if m.group(1).lower() in ("left", "lt") else Side.RIGHT
        for m in _SIDE_WORD_RE.finditer(clean)
    }
    return sides.pop() if len(sides) == 1 else None


@functools.lru_cache(maxsize=4096)
def _header_kind(name: str) -> _HeaderKind | None:
    """Classify a candidate header; ``None`` when it is not a header (cached: reports repeat the same
    headers)."""
    clean = " ".join(name.split())
    words = clean.lower().split()
    if not clean or len(words) > 5 or LESION_CUE_RE.search(clean) or _NOT_HEADER_WORDS.intersection(words):
        return None
    if _IMPRESSION_HEADERS.match(clean):
        return _HeaderKind(SectionKind.IMPRESSION, ())
    if _HISTORY_HEADERS.match(clean):
        return _HeaderKind(SectionKind.HISTORY, ())
    if _SIDE_HEADER_RE.match(clean):
        return _HeaderKind(None, (), side=_header_side(clean), side_only=True)
    organs = tuple(dict.fromkeys(organ for _, _, organ in organ_mentions(clean)))
    if organs:
        return _HeaderKind(None, organs, side=_header_side(clean))  # keeps the current section kind
    if _FOREIGN_HEADERS.match(clean):
        return _HeaderKind(SectionKind.FINDINGS, (), foreign=True)
    if _FINDINGS_HEADERS.match(clean):
        return _HeaderKind(SectionKind.FINDINGS, ())
    return None


def _rstrip_end(text: str, start: int, end: int) -> int:
    """Where ``text[start:end].rstrip()`` ends, in ``text``."""
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _split_points(text: str, start: int, end: int) -> list[int]:
    points: list[int] = []
    for m in _SPLIT_RE.finditer(text, start, end):
        token = m.group(0)
        if token == "\n":
            # A line break ends the sentence (findings notes put one finding per line, without a
            # period) unless the line is visibly hard-wrapped: it ends with a comma or a joining word,
            # or the next line goes on in lower case. ``line``: the last non-blank line before the
            # break, trailing whitespace removed (read in place: no copy of the text before it).
            before_end = _rstrip_end(text, start, m.start())
            line = text[max(start, text.rfind("\n", start, before_end) + 1) : before_end]
            wrapped = _NEXT_LINE_CONTINUES_RE.match(text, m.end(), end) is not None and (
                len(line) >= _WRAPPED_LINE_MIN_CHARS
                or _NEXT_LINE_JOINS_RE.match(text, m.end(), end) is not None
            )
            if line and (_LINE_CONTINUES_RE.search(line, max(0, len(line) - _JOIN_TAIL_CHARS)) or wrapped):
                continue
        elif token[0] not in ";":
            word = _ABBREVIATION_END_RE.search(text[max(start, m.start() - 12) : m.start()])
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
            line_start = max(start, text.rfind("\n", 0, m.start()) + 1)
            if _ITEM_NUMBER_RE.fullmatch(text, line_start, m.start()):
                continue  # "1. Segment 5: 31 mm": the number of a list item, not a sentence
        points.append(m.end())
    return points


def _end_history_at_line_end(text: str, bodies: list[_Body]) -> list[_Body]:
    """A history-like section (comparison, indication, technique) holds its first line of text only.

    Reports often go on with the findings on the next line without a FINDINGS header ("Comparison:
    2023.⏎The right adrenal nodule measures ..."); those lines are findings, not history.
    """
    out: list[_Body] = []
    for body in bodies:
        start, end, kind = body.start, body.end, body.section
        if kind is not SectionKind.HISTORY:
            out.append(body)
            continue
        content = start
        while content < end and text[content].isspace():
            content += 1
        newline = text.find("\n", content, end)
        if newline < 0:
            out.append(body)
            continue
        out.append(body._replace(end=newline))
        out.append(_Body(newline, end, SectionKind.FINDINGS, ()))
    return out


def _header_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of :data:`_HEADER_RE` in ``text``, in order.

    A header never spans a line break and always holds a colon, so only the lines with a colon are
    scanned (the pattern's look-behind and ``^`` still see the text before each line).
    """
    colon = text.find(":")
    while colon >= 0:
        line_start = text.rfind("\n", 0, colon) + 1
        line_end = text.find("\n", colon)
        if line_end < 0:
            line_end = len(text)
        yield from _HEADER_RE.finditer(text, line_start, line_end)
        colon = text.find(":", line_end)


def split_report(text: str) -> list[Sentence]:
    """Sections and sentences of ``text``, in order, each with its character span.

    Text before any header is FINDINGS (Merlin-style reports keep only the findings). An organ header
    (``LIVER:``) sets :attr:`Sentence.header_organs` until the next header; a history-like header
    (indication, technique, comparison) makes the following sentences :attr:`SectionKind.HISTORY`.
    """
    headers: list[_Header] = []
    for m in _header_matches(text):
        classified = _header_kind(m.group("h"))
        if classified is not None:
            headers.append(_Header(m.start("h"), m.end(), classified))
    bodies: list[_Body] = []
    section = SectionKind.FINDINGS
    organs: tuple[Organ, ...] = ()
    foreign = False
    side: Side | None = None
    cursor = 0
    for header in headers:
        bodies.append(_Body(cursor, header.start, section, organs, foreign, side))
        foreign, side = header.kind.foreign, header.kind.side
        if header.kind.section is not None:
            section, organs = header.kind.section, ()
        else:
            if section is SectionKind.HISTORY:
                section = SectionKind.FINDINGS
            if not header.kind.side_only:
                organs = header.kind.organs
        cursor = header.end
    bodies.append(_Body(cursor, len(text), section, organs, foreign, side))
    bodies = _end_history_at_line_end(text, bodies)
    sentences: list[Sentence] = []
    for b_start, b_end, kind, h_organs, foreign_body, h_side in bodies:
        if b_end <= b_start:
            continue
        bounds = [b_start, *_split_points(text, b_start, b_end), b_end]
        for s, e in itertools.pairwise(bounds):
            chunk = text[s:e]
            stripped = chunk.strip(" \t\r\n;")
            if not stripped:
                continue
            offset = s + chunk.index(stripped)
            bullet = _BULLET_RE.match(stripped)
            if bullet:
                offset += bullet.end()
                stripped = stripped[bullet.end() :]
            if not stripped.strip():
                continue
            sentences.append(
                Sentence(
                    start=offset,
                    end=offset + len(stripped),
                    text=stripped,
                    section=kind,
                    header_organs=h_organs,
                    index=len(sentences),
                    foreign_header=foreign_body,
                    header_side=h_side,
                )
            )
    return sentences


def clause_start(text: str, lo: int, pos: int) -> int:
    """Where the clause holding ``pos`` starts (after the last ``;`` / ``:`` / ``(`` / ``, `` / ``. ``
    in ``text[lo:pos]``), ``lo`` when there is no break."""
    last = lo
    for m in _CLAUSE_BREAK_RE.finditer(text, lo, pos):
        last = m.end()
    return last


def clause_end(folded: str, pos: int, hi: int) -> int:
    """Where the clause running from ``pos`` ends (before the first ``;`` / ``, `` / ``. `` / "but" /
    "while" / "whereas" in ``folded[pos:hi]``), ``hi`` when there is no break. ``folded`` is the
    report's folded text (:attr:`Document.folded`), so the words match in any case."""
    m = _CLAUSE_END_RE.search(folded, pos, hi)
    return m.start() if m else hi
