"""Where a lesion is, as written in free text: liver segments, pancreas parts, kidney poles, sides, sites.

* :func:`parse_location` reads liver Couinaud segments (Arabic or Roman numerals, ``4a``/``IVb`` → 4,
  lists ``4/5`` and ``V and VI``, ranges ``6-7``, lobes and sections), pancreas parts, kidney poles,
  the side of paired organs and the site of organs without a sub-segment vocabulary (lung lobe, colon
  segment, bone level, adrenal limb: :mod:`~report_extractor.rules.parsing.organ_sites`) into one
  :class:`Location`.
* :func:`location_items` reads the single locations a list names, in text order ("segments 7 and 6"),
  to pair listed lesions with listed sites.

Pure Python; every regular expression is compiled once at import.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final, NamedTuple

from report_extractor.rules.folding import fold
from report_extractor.rules.parsing.organ_sites import SITE_ORGANS, read_site
from schemas.vocabulary import LIVER_LOBES, PAIRED_ORGANS, KidneyPole, Organ, PancreasPart, Side

__all__ = ["Location", "location_items", "parse_location"]

_I: Final = re.IGNORECASE

_ROMAN: Final[dict[str, int]] = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
    "xi": 11,
    "xii": 12,
}
# Longest-first so that "viii" is not read as "v" + "iii"; an optional a/b suffix (4a, IVb) is dropped.
_SEG_ITEM: Final[str] = (
    r"(?:viii|vii|vi|v|iv|ix|iii|ii|i|xii|xi|x|\d{1,2})(?:[ab])?(?![a-z0-9])"
    # a number followed by a unit or a decimal is a size, not a segment ("segment 7, 2.1 cm")
    r"(?!\s*(?:mm|cm)\b|\s*[x×]\s*\d|[.,]\d)"
)
_SEG_SEP: Final[str] = (
    r"(?:\s*(?:,\s*(?:and\s+|or\s+)?|/|-|–|—|&|\band\b|\bor\b|\bto\b|\bthrough\b|\bthru\b)\s*)"
)
_SEGMENTS_RE: Final = re.compile(
    r"\b(?:couinaud\s+|hepatic\s+|liver\s+)?(?:segments?|segs?\.?)\s*"
    rf"(?P<list>{_SEG_ITEM}(?:{_SEG_SEP}{_SEG_ITEM})*)",
    _I,
)
_SEG_TOKEN_RE: Final = re.compile(
    r"(?P<sep>-|–|—|\bto\b|\bthrough\b|\bthru\b)|(?P<item>\b(?:viii|vii|vi|v|iv|ix|iii|ii|i|xii|xi|x|\d{1,2}))",
    _I,
)
# "S7", "S4a": only when the caller says the text is about the liver (else "S1" may be a vertebra).
_S_SEGMENT_RE: Final = re.compile(r"\bS([1-9])[ab]?\b")


def _lobe_regex(name: str) -> str:
    words = name.split()
    if len(words) > 1 and words[-1] in ("lobe", "segment", "section"):
        head = r"\s+".join(re.escape(w) for w in words[:-1])
        return rf"{head}\s+(?:(?:hepatic|liver)\s+)?{re.escape(words[-1])}"
    return r"\s+".join(re.escape(w) for w in words)


_LOBE_NAMES: Final[tuple[str, ...]] = tuple(sorted(LIVER_LOBES, key=len, reverse=True))
_LOBES_RE: Final = re.compile(
    r"\b(?:" + "|".join(f"(?P<l{i}>{_lobe_regex(n)})" for i, n in enumerate(_LOBE_NAMES)) + r")\b", _I
)

_PANCREAS_RE: Final = re.compile(r"\b(head|uncinate(?:\s+process)?|neck|body|tail)\b", _I)
_PANCREAS_WORDS: Final[dict[str, PancreasPart]] = {
    "head": PancreasPart.HEAD,
    "uncinate": PancreasPart.UNCINATE,
    "neck": PancreasPart.NECK,
    "body": PancreasPart.BODY,
    "tail": PancreasPart.TAIL,
}

_POLE_WORD: Final[str] = r"(?:upper|superior|lower|inferior|mid|middle)"
_POLES_RE: Final = re.compile(
    rf"\b(?P<a>{_POLE_WORD})(?:\s*(?:-|/|,|and|or|&)\s*(?P<b>{_POLE_WORD}))?(?:\s+|-)?"
    r"(?:(?:left|right)\s+)?(?:(?:renal|kidney)\s+)?poles?\b"
    r"|\b(?P<inter>inter-?polar|mid-?pole|mid(?:dle)?[\s-](?:portion|kidney|third|region|segment|part))\b",
    _I,
)
_POLE_WORDS: Final[dict[str, KidneyPole]] = {
    "upper": KidneyPole.UPPER_POLE,
    "superior": KidneyPole.UPPER_POLE,
    "lower": KidneyPole.LOWER_POLE,
    "inferior": KidneyPole.LOWER_POLE,
    "mid": KidneyPole.INTERPOLAR,
    "middle": KidneyPole.INTERPOLAR,
}

_BILATERAL_RE: Final = re.compile(
    r"\b(?:bilateral(?:ly)?|both\s+(?:kidneys|adrenals?|adrenal\s+glands|lungs|breasts|sides|renal)"
    r"|left\s+and\s+right|right\s+and\s+left|double\s+(?:kidneys?|lungs?|adrenals?|breasts?))\b",
    _I,
)
_SIDE_RE: Final = re.compile(
    r"\b(left|right|lt|rt)\b\.?"
    # abbreviations, upper case only: "R kidney", "L renal cyst", "RLL nodule" (not quadrants: RLQ)
    r"|(?-i:(?<![\w/.-])([RL])(?=\s+[a-z]|(?:LL|UL|ML)\b))",
    _I,
)

_SIDED_LOBES: Final[dict[str | None, Side]] = {"lingula": Side.LEFT, "middle lobe": Side.RIGHT}


def _side_word(m: re.Match[str]) -> Side:
    """The side a :data:`_SIDE_RE` match names."""
    word = (m.group(1) or m.group(2)).lower()
    return Side.LEFT if word in ("left", "lt", "l") else Side.RIGHT


@dataclass(frozen=True, slots=True)
class Location:
    """Where a lesion lies, as read from text (empty tuples / ``None`` when not stated).

    Attributes:
        liver_segments: Couinaud segments 1-8, sorted, without duplicates.
        pancreas_parts: pancreas parts in :class:`PancreasPart` order (fine labels kept: neck, uncinate).
        kidney_poles: kidney poles in :class:`KidneyPole` order.
        side: side of a paired organ, ``None`` when not stated or the organ is not paired.
        site: canonical site of an organ without a sub-segment vocabulary ("lower lobe", "sigmoid",
            "L3"), ``None`` when not stated or the organ has none.
    """

    liver_segments: tuple[int, ...] = ()
    pancreas_parts: tuple[PancreasPart, ...] = ()
    kidney_poles: tuple[KidneyPole, ...] = ()
    side: Side | None = None
    site: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing about the location was found."""
        return not (self.liver_segments or self.pancreas_parts or self.kidney_poles or self.side or self.site)

    def filled_from(self, other: Location) -> Location:
        """This location with the fields it lacks taken from ``other`` (a restatement, a list label)."""
        return Location(
            liver_segments=self.liver_segments or other.liver_segments,
            pancreas_parts=self.pancreas_parts or other.pancreas_parts,
            kidney_poles=self.kidney_poles or other.kidney_poles,
            side=self.side or other.side,
            site=self.site or other.site,
        )


def _segment_number(token: str) -> int:
    token = token.lower()
    return _ROMAN[token] if token in _ROMAN else int(token)


def _check_segment(value: int) -> int:
    if not 1 <= value <= 8:
        raise ValueError(f"liver_segments: Couinaud segments are 1-8, got {value}")
    return value


def _segments_from_list(text: str) -> set[int]:
    """Read one matched segment list ("4/5", "6-7", "V and VI", "II, III") into segment numbers."""
    found: set[int] = set()
    previous: int | None = None
    pending_range = False
    for m in _SEG_TOKEN_RE.finditer(text):
        if m.group("sep"):
            pending_range = previous is not None
            continue
        value = _check_segment(_segment_number(m.group("item")))
        if pending_range and previous is not None:
            low, high = sorted((previous, value))
            found.update(range(low, high + 1))
        found.add(value)
        previous = value
        pending_range = False
    return found


class _Span(NamedTuple):
    start: int
    end: int


class _LiverRead(NamedTuple):
    """Segments read from a text and the spans of its lobe phrases."""

    segments: tuple[int, ...]
    lobe_spans: list[_Span]


def _liver_segments(text: str, *, allow_s_prefix: bool) -> _LiverRead:
    """Numbered segments take precedence over lobe names ("segment 7 of the right lobe" → 7).

    Returns the segments and the character spans of matched lobe phrases (so that "left lobe" does not
    also read as a side).
    """
    numbered: set[int] = set()
    for m in _SEGMENTS_RE.finditer(text):
        numbered |= _segments_from_list(m.group("list"))
    if allow_s_prefix:
        for m in _S_SEGMENT_RE.finditer(text):
            numbered.add(_check_segment(int(m.group(1))))
    lobes: set[int] = set()
    spans: list[_Span] = []
    for m in _LOBES_RE.finditer(text):
        name = _LOBE_NAMES[int(next(k for k, v in m.groupdict().items() if v)[1:])]
        lobes.update(LIVER_LOBES[name])
        spans.append(_Span(m.start(), m.end()))
    return _LiverRead(tuple(sorted(numbered or lobes)), spans)


def _pancreas_parts(text: str) -> tuple[PancreasPart, ...]:
    parts = {_PANCREAS_WORDS[fold(m.group(1).split()[0])] for m in _PANCREAS_RE.finditer(text)}
    return tuple(p for p in PancreasPart if p in parts)


def _kidney_poles(text: str) -> tuple[KidneyPole, ...]:
    poles: set[KidneyPole] = set()
    for m in _POLES_RE.finditer(text):
        if m.group("inter"):
            poles.add(KidneyPole.INTERPOLAR)
            continue
        for key in ("a", "b"):
            word = m.group(key)
            if word:
                poles.add(_POLE_WORDS[fold(word)])
    return tuple(p for p in KidneyPole if p in poles)


def _side(text: str, skip: list[_Span]) -> Side | None:
    if _BILATERAL_RE.search(text):
        return Side.BILATERAL
    sides: set[Side] = set()
    for m in _SIDE_RE.finditer(text):
        if any(a <= m.start() < b for a, b in skip):
            continue
        sides.add(_side_word(m))
    if len(sides) == 2:
        return Side.BILATERAL
    return sides.pop() if sides else None


def parse_location(text: str, organ: Organ | None = None) -> Location:
    """Read a lesion's location from text.

    With ``organ`` given, only the fields that apply to it are read (liver → segments; pancreas →
    parts; kidney → poles and side; other paired organs → side; lung, colon, bone, adrenal gland →
    site); with ``organ=None`` every field but the site is read (the caller then decides which
    applies). Numbered liver segments take precedence over lobe names; lobe names map through
    :data:`schemas.vocabulary.LIVER_LOBES` (right lobe → 5-8, left lobe → 2-4, caudate → 1, left
    lateral segment → 2-3, dome → 7-8). Both sides, "bilateral" and "both kidneys" give
    :attr:`Side.BILATERAL`; a lung site without a written side gives the side it implies (lingula →
    left, middle lobe → right).

    >>> parse_location("segments 6-7").liver_segments
    (6, 7)
    >>> loc = parse_location("left lower pole", Organ.KIDNEY)
    >>> loc.kidney_poles, loc.side
    ((<KidneyPole.LOWER_POLE: 'lower_pole'>,), <Side.LEFT: 'left'>)

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: a segment outside Couinaud 1-8 ("liver_segments: Couinaud segments are 1-8, got 9").
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    return _parse_location(text, organ)


@functools.lru_cache(maxsize=1024)
def _parse_location(text: str, organ: Organ | None) -> Location:
    """:func:`parse_location` of a checked ``text``.

    Cached (small: the repeats are mostly within one report, where a group's span is read for each of
    its findings; a larger cache would mostly keep old report text).
    """
    want_all = organ is None
    segments: tuple[int, ...] = ()
    lobe_spans: list[_Span] = []
    if want_all or organ is Organ.LIVER:
        segments, lobe_spans = _liver_segments(text, allow_s_prefix=organ is Organ.LIVER)
    parts = _pancreas_parts(text) if want_all or organ is Organ.PANCREAS else ()
    poles = _kidney_poles(text) if want_all or organ is Organ.KIDNEY else ()
    side = _side(text, lobe_spans) if want_all or organ in PAIRED_ORGANS else None
    site = read_site(text, organ) if organ in SITE_ORGANS else None
    if organ is Organ.LUNG and side is None and site in _SIDED_LOBES:
        side = _SIDED_LOBES[site]  # only the left lung has a lingula, only the right a middle lobe
    return Location(liver_segments=segments, pancreas_parts=parts, kidney_poles=poles, side=side, site=site)


def _ordered_segments(text: str) -> list[int]:
    """Numbered Couinaud segments in text order ("segments 7 and 6" → [7, 6]; ranges expand; "S4 and
    S5" → [4, 5] when no segment word is written)."""
    found: list[int] = []
    if not _SEGMENTS_RE.search(text):
        return list(dict.fromkeys(_check_segment(int(m.group(1))) for m in _S_SEGMENT_RE.finditer(text)))
    for m in _SEGMENTS_RE.finditer(text):
        previous: int | None = None
        pending_range = False
        for t in _SEG_TOKEN_RE.finditer(m.group("list")):
            if t.group("sep"):
                pending_range = previous is not None
                continue
            value = _check_segment(_segment_number(t.group("item")))
            if pending_range and previous is not None:
                step = 1 if value >= previous else -1
                found.extend(range(previous + step, value, step))
            found.append(value)
            previous = value
            pending_range = False
    return list(dict.fromkeys(found))


def location_items(text: str, organ: Organ) -> list[Location]:
    """The single locations ``text`` names for ``organ``, one per item, in text order.

    Used to pair listed lesions with listed locations ("two lesions in segments 6 and 7 measuring 2
    and 3 cm" → segment 6, segment 7). Only the organ's most specific dimension is itemised: liver →
    numbered segments; pancreas → parts; kidney → poles, else sides; other paired organs → sides.
    Repeated items are kept once; an empty list means nothing to pair.

    >>> [loc.liver_segments for loc in location_items("segments 7 and 6", Organ.LIVER)]
    [(7,), (6,)]
    >>> [loc.side for loc in location_items("on the right and on the left", Organ.ADRENAL_GLAND)]
    [<Side.RIGHT: 'right'>, <Side.LEFT: 'left'>]

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: a segment outside Couinaud 1-8.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    if organ is Organ.LIVER:
        return [Location(liver_segments=(s,)) for s in _ordered_segments(text)]
    if organ is Organ.PANCREAS:
        parts = [_PANCREAS_WORDS[fold(m.group(1).split()[0])] for m in _PANCREAS_RE.finditer(text)]
        return [Location(pancreas_parts=(p,)) for p in dict.fromkeys(parts)]
    if organ is Organ.KIDNEY:
        poles: list[KidneyPole] = []
        for m in _POLES_RE.finditer(text):
            if m.group("inter"):
                poles.append(KidneyPole.INTERPOLAR)
                continue
            poles.extend(_POLE_WORDS[fold(m.group(k))] for k in ("a", "b") if m.group(k))
        if poles:
            return [Location(kidney_poles=(p,)) for p in dict.fromkeys(poles)]
    if organ in PAIRED_ORGANS:
        sides = [_side_word(m) for m in _SIDE_RE.finditer(text)]
        return [Location(side=s) for s in dict.fromkeys(sides)]
    return []
