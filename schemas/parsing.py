"""Deterministic parsers for the two things reports write in free text: where a lesion is, how big it is.

* :func:`parse_location` reads liver Couinaud segments (Arabic or Roman numerals, ``4a``/``IVb`` → 4,
  lists ``4/5`` and ``V and VI``, ranges ``6-7``, lobes and sections), pancreas parts, kidney poles and
  the side of paired organs.
* :func:`parse_sizes` finds every measurement (``3.2 x 2.1 cm``, ``12 mm``, ``1,5 cm``, ``up to 1.4 cm``,
  ``<1 cm``, ``~2 cm``) and size word (``subcentimeter``, ``tiny``, ...), converts units to millimetres
  in code and tells current sizes from prior ones (``previously 2.1 cm, now 2.6 cm``);
  :func:`current_sizes` keeps the current ones and :func:`parse_size` is the strict one-size variant.
* :func:`format_size` writes a :class:`~schemas.records.Size` back as text that :func:`parse_size`
  reads to the same value.

Unit-less numbers (documented choice):

* a dimension chain without a unit (``measuring 2.3 x 1.8``) is kept, and so is a single number right
  after a measuring word (``measures 12``); their unit is inferred by :func:`schemas.records.infer_unit`
  (largest value >= 4 → mm, else cm) and :attr:`SizeMention.unit` stays ``None`` to say so;
* a unit-less number joined to a measured one by ``and`` / ``or`` / ``to`` / ``-`` borrows its unit
  (``2 and 3 cm`` → 20 mm and 30 mm; ``from 2.1 to 2.6 cm`` → a prior 21 mm and a current 26 mm);
  ``1-2 cm`` / ``1 to 2 cm`` (not after ``from``) is one range, read as *up to* 20 mm;
* any other bare number (``segment 7``, ``2 lesions``, dates, image numbers) is not a size.

Pure Python + pydantic; every regular expression is compiled once at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from schemas.records import Qualifier, Size, SizeClass, infer_unit
from schemas.vocabulary import LIVER_LOBES, PAIRED_ORGANS, KidneyPole, Organ, PancreasPart, Side

__all__ = [
    "NOT_A_NUMBER_AFTER_RE",
    "NOT_A_NUMBER_BEFORE_RE",
    "Location",
    "SizeMention",
    "current_sizes",
    "format_size",
    "location_items",
    "parse_location",
    "parse_size",
    "parse_sizes",
]

_I: Final = re.IGNORECASE

# ----------------------------------------------------------------------------------------------------
# Location
# ----------------------------------------------------------------------------------------------------

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
    r"|\b(?P<inter>inter-?polar|mid-?pole|mid(?:dle)?[\s-](?:portion|kidney|third|region|segment))\b",
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
    r"|left\s+and\s+right|right\s+and\s+left)\b",
    _I,
)
_SIDE_RE: Final = re.compile(
    r"\b(left|right|lt|rt)\b\.?"
    # abbreviations, upper case only: "R kidney", "L renal cyst", "RLL nodule" (not quadrants: RLQ)
    r"|(?-i:(?<![\w/.-])([RL])(?=\s+[a-z]|(?:LL|UL|ML)\b))",
    _I,
)


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
    """

    liver_segments: tuple[int, ...] = ()
    pancreas_parts: tuple[PancreasPart, ...] = ()
    kidney_poles: tuple[KidneyPole, ...] = ()
    side: Side | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing about the location was found."""
        return not (self.liver_segments or self.pancreas_parts or self.kidney_poles or self.side)


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


def _liver_segments(text: str, *, allow_s_prefix: bool) -> tuple[tuple[int, ...], list[tuple[int, int]]]:
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
    spans: list[tuple[int, int]] = []
    for m in _LOBES_RE.finditer(text):
        name = _LOBE_NAMES[int(next(k for k, v in m.groupdict().items() if v)[1:])]
        lobes.update(LIVER_LOBES[name])
        spans.append(m.span())
    return tuple(sorted(numbered or lobes)), spans


def _pancreas_parts(text: str) -> tuple[PancreasPart, ...]:
    parts = {_PANCREAS_WORDS[m.group(1).split()[0].lower()] for m in _PANCREAS_RE.finditer(text)}
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
                poles.add(_POLE_WORDS[word.lower()])
    return tuple(p for p in KidneyPole if p in poles)


def _side(text: str, skip: list[tuple[int, int]]) -> Side | None:
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
    parts; kidney → poles and side; other paired organs → side); with ``organ=None`` every field is
    read (the caller then decides which applies). Numbered liver segments take precedence over lobe
    names; lobe names map through :data:`schemas.vocabulary.LIVER_LOBES` (right lobe → 5-8, left lobe
    → 2-4, caudate → 1, left lateral segment → 2-3, dome → 7-8). Both sides, "bilateral" and "both
    kidneys" give :attr:`Side.BILATERAL`.

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
    want_all = organ is None
    segments: tuple[int, ...] = ()
    lobe_spans: list[tuple[int, int]] = []
    if want_all or organ is Organ.LIVER:
        segments, lobe_spans = _liver_segments(text, allow_s_prefix=organ is Organ.LIVER)
    parts = _pancreas_parts(text) if want_all or organ is Organ.PANCREAS else ()
    poles = _kidney_poles(text) if want_all or organ is Organ.KIDNEY else ()
    side = _side(text, lobe_spans) if want_all or organ in PAIRED_ORGANS else None
    return Location(liver_segments=segments, pancreas_parts=parts, kidney_poles=poles, side=side)


def _ordered_segments(text: str) -> list[int]:
    """Numbered Couinaud segments in text order ("segments 7 and 6" → [7, 6]; ranges expand)."""
    found: list[int] = []
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
        parts = [_PANCREAS_WORDS[m.group(1).split()[0].lower()] for m in _PANCREAS_RE.finditer(text)]
        return [Location(pancreas_parts=(p,)) for p in dict.fromkeys(parts)]
    if organ is Organ.KIDNEY:
        poles: list[KidneyPole] = []
        for m in _POLES_RE.finditer(text):
            if m.group("inter"):
                poles.append(KidneyPole.INTERPOLAR)
                continue
            poles.extend(_POLE_WORDS[m.group(k).lower()] for k in ("a", "b") if m.group(k))
        if poles:
            return [Location(kidney_poles=(p,)) for p in dict.fromkeys(poles)]
    if organ in PAIRED_ORGANS:
        sides = [_side_word(m) for m in _SIDE_RE.finditer(text)]
        return [Location(side=s) for s in dict.fromkeys(sides)]
    return []


# ----------------------------------------------------------------------------------------------------
# Sizes
# ----------------------------------------------------------------------------------------------------

_NUM: Final[str] = r"(?:\d+(?:[.,]\d+)?|\.\d+)"
_UNIT: Final[str] = r"(?:mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)(?![\w²³])(?!\s*hg\b)"
_DIM: Final[str] = rf"{_NUM}(?:\s*-?\s*{_UNIT})?"
_BY: Final[str] = r"\s*(?:x|×|\*|by)\s*"
_CHAIN_RE: Final = re.compile(
    rf"(?<![\w.,/:]){_DIM}(?:{_BY}{_DIM}){{0,2}}(?![\w/:]|[.,]\d)",
    _I,
)
_DIM_RE: Final = re.compile(rf"({_NUM})(?:\s*-?\s*({_UNIT}))?", _I)
_CONJ_RE: Final = re.compile(
    r"^\s*(?:(?P<list>,\s*and|,\s*or|,|and|or|&)|(?P<range>to|through|-|–|—))\s*$", _I
)
_FROM_RE: Final = re.compile(r"\bfrom\s*$", _I)
_RANGE_FROM_RE: Final = re.compile(r"\b(?:rang\w*|vary\w*|measur\w*)\s+from\s*$", _I)
NOT_A_NUMBER_BEFORE_RE: Final = re.compile(
    r"(?:\b(?:segments?|segs?|levels?|series|images?|img|im|se|no|grade|bosniak|category|type|stage"
    r"|li-?rads|pi-?rads|ti-?rads|lr|t|l|s|c|d)\.?|#)\s*$",
    _I,
)
"""The one list of words after which a number is a label, neither a size nor a lesion count
("segment 7", "Bosniak 2", "LI-RADS 4", "L3", "image 45"); search it on the text before the number."""
NOT_A_NUMBER_AFTER_RE: Final = re.compile(
    r"\s*(?:hu\b|hounsfield|%|percent\b|ml\b|cc\b|mg\b|mmhg\b|bpm\b|years?\b|yrs?\b|months?\b"
    r"|weeks?\b|days?\b|hours?\b|(?:\w+\s+)?(?:size\s+)?(?:criteri(?:on|a)|threshold|cut-?off)\b"
    r"|(?:away\s+)?from\s+(?:the\s+)?(?:anal\s+verge|anus|anorectal|dentate|ileocecal|gastroesophageal|ge\b"
    r"|gej\b|pylorus|carina|incisors?|skin))",
    _I,
)
"""The one list of words after which a number is neither a size nor a lesion count: attenuation
("40 HU"), percentages, volumes, ages and durations, thresholds ("the 4 cm size criterion") and
distances from a landmark ("10 cm from the anal verge"); match it at the end of the number."""
_NOT_A_SIZE_BEFORE_RE: Final = NOT_A_NUMBER_BEFORE_RE
_MEASURE_CUE_RE: Final = re.compile(
    r"\b(?:measur(?:es|ing|ed|e)|size\s+of|diameter\s+of|sized|dimensions?\s+of)"
    r"(?:\s+(?:up\s+to|approximately|approx\.?|about|~|<|>))?\s*$",
    _I,
)

_SIZE_CLASS_RE: Final = re.compile(
    r"\b(?:(?P<sub>sub-?\s?centimet(?:er|re|ric)s?)|(?P<tiny>tiny)|(?P<massive>massive)"
    r"|(?P<tstc>too\s+small\s+to\s+(?:be\s+)?(?:accurately\s+|definitively\s+|reliably\s+|further\s+|fully\s+)?"
    r"(?:characteri[sz]ed?|characteri[sz]ation|measured?|evaluated?|assess(?:ed)?)|tstc))\b",
    _I,
)
_SIZE_CLASS_HINTS: Final[tuple[str, ...]] = ("centimet", "tiny", "massive", "small to", "tstc")
_DIGIT_RE: Final = re.compile(r"\d")
_PRIOR_HINT_RE: Final = re.compile(
    r"previous|prior|former|earlier|baseline|nadir|before|compar|was|were|from|last", _I
)
_SIZE_CLASSES: Final[dict[str, SizeClass]] = {
    "sub": SizeClass.SUBCENTIMETER,
    "tiny": SizeClass.TINY,
    "massive": SizeClass.MASSIVE,
    "tstc": SizeClass.TOO_SMALL_TO_CHARACTERIZE,
}

# Prior vs current: the last cue before a mention (within its clause) decides; ties go to "prior".
_PRIOR_CUE_RE: Final = re.compile(
    r"\b(?:previously(?!\s+(?:seen|noted|described|identified|demonstrated|mentioned|reported|visualized"
    r"|characterized|known)\b)(?:\s+(?:measur\w+|was|were|at|of|noted\s+at|seen\s+at|described\s+as))?"
    r"|prior(?:\s+(?:exam\w*|study|ct|mri?|scan|imaging))?(?:\s+(?:measur\w+|of))?|formerly|earlier"
    r"|baseline|nadir|previous|before|compared\s+(?:to|with)|in\s+comparison\s+(?:to|with)|(?:last|previous)\s+"
    r"(?:exam\w*|study|ct|mri?|scan|imaging)|(?:was|were)(?:\s+(?:measur\w+|approximately|about|up\s+to))*"
    r"|(?<!ranging\s)(?<!range\s)(?<!ranges\s)(?<!varying\s)(?<!measuring\s)from)\s*(?:~\s*)?$",
    _I,
)
_PRIOR_WORD_RE: Final = re.compile(
    r"\b(?:previously(?!\s+(?:seen|noted|described|identified|demonstrated|mentioned|reported|visualized"
    r"|characterized|known)\b)|formerly|baseline|nadir|compared\s+(?:to|with)|in\s+comparison\s+(?:to|with)"
    r"|(?:last|previous|prior)\s+(?:exam\w*|study|ct|mri?|scan|imaging))\b",
    _I,
)
_CURRENT_CUE_RE: Final = re.compile(
    r"\b(?:now|currently|presently|today|new|is|are|measures|measure|measuring|to|at|currently\s+measur\w+)\b",
    _I,
)
_TRAILING_PRIOR_RE: Final = re.compile(
    r"\s*(?:previously|prior|before|earlier|formerly|on\s+(?:the\s+)?(?:prior|previous|last|comparison"
    r"|baseline)\b|at\s+baseline|in\s+(?:19|20)\d\d)(?!\s+(?:\w+\s+){0,2}\d)",
    _I,
)
_CLAUSE_BREAK_RE: Final = re.compile(r"(?:[;:(\[]|[.,](?=\s)|\n)")


@dataclass(frozen=True, slots=True)
class SizeMention:
    """One size written in a text: a measurement or a size word, where it is, and whether it is prior.

    Attributes:
        size: the measurement in millimetres (``None`` for a size word).
        size_class: the size word's class (``None`` for a measurement).
        start: offset of the first character (qualifier included) in the parsed text.
        end: offset one past the last character.
        raw: ``text[start:end]``.
        is_prior: True for a size from an earlier exam ("previously 2.1 cm", "increased from 2.1 ...").
        values: the numbers as written (decimal comma read as a point), in text order.
        unit: ``"mm"`` or ``"cm"`` as written; ``None`` when inferred for unit-less numbers. Numbers
            written in mixed units ("1.2 cm x 8 mm") are converted: :attr:`values` in mm, unit ``"mm"``.
    """

    size: Size | None
    size_class: SizeClass | None
    start: int
    end: int
    raw: str
    is_prior: bool = False
    values: tuple[float, ...] = field(default=())
    unit: str | None = None


@dataclass(slots=True)
class _Chain:
    start: int
    end: int
    values: list[float]
    units: list[str | None]
    unit: str | None = None  # resolved unit for all values ("mm" / "cm"), or None
    keep: bool = False
    range_with_next: bool = False
    absorbed: bool = False
    blocked: bool = False  # followed by a non-size unit or phrase ("40 HU", "10 cm from the anal verge")


def _unit_name(raw: str) -> str:
    return "mm" if raw.lower().startswith("m") else "cm"


def _to_float(raw: str) -> float:
    return float(raw.replace(",", "."))


def _scan_chains(text: str) -> list[_Chain]:
    chains: list[_Chain] = []
    for m in _CHAIN_RE.finditer(text):
        values: list[float] = []
        units: list[str | None] = []
        for d in _DIM_RE.finditer(m.group(0)):
            values.append(_to_float(d.group(1)))
            units.append(_unit_name(d.group(2)) if d.group(2) else None)
        blocked = NOT_A_NUMBER_AFTER_RE.match(text, m.end()) is not None
        chains.append(_Chain(start=m.start(), end=m.end(), values=values, units=units, blocked=blocked))
    return chains


def _resolve_chains(text: str, chains: list[_Chain]) -> None:
    """Give every chain its unit (written, borrowed or inferred) and decide which are sizes."""
    for chain in chains:
        written = [u for u in chain.units if u is not None]
        if written and not chain.blocked:
            chain.keep = True
            if len(set(written)) == 1:
                chain.unit = written[-1]
            else:  # mixed units: convert each number with the next unit to its right
                unit: str | None = written[-1]
                converted: list[float] = []
                for v, u in zip(reversed(chain.values), reversed(chain.units), strict=True):
                    unit = u or unit
                    converted.append(v * 10 if unit == "cm" else v)
                chain.values = converted[::-1]
                chain.units = ["mm"] * len(converted)
                chain.unit = "mm"
    # Borrow units right-to-left: "2, 3 and 4 cm", "2 and 3 cm", "from 2.1 to 2.6 cm", "1-2 cm".
    for i in range(len(chains) - 2, -1, -1):
        left, right = chains[i], chains[i + 1]
        if any(u is not None for u in left.units) or not right.keep or left.blocked:
            continue
        conj = _CONJ_RE.match(text[left.end : right.start])
        if conj is None or _NOT_A_SIZE_BEFORE_RE.search(text, max(0, left.start - 20), left.start):
            continue
        right_borrowed = all(u is None for u in right.units)
        if conj.group("list") and conj.group("list").strip() == "," and not right_borrowed:
            continue
        left.keep = True
        left.unit = right.unit
        if conj.group("range"):
            before = text[max(0, left.start - 40) : left.start]
            if not (_FROM_RE.search(before) and not _RANGE_FROM_RE.search(before)):
                left.range_with_next = len(left.values) == 1 and len(right.values) == 1
    for chain in chains:
        if chain.keep or chain.blocked:
            continue
        if len(chain.values) > 1 or _MEASURE_CUE_RE.search(text[max(0, chain.start - 40) : chain.start]):
            chain.keep = True
            chain.unit = None  # inferred at conversion


def _millimetres(values: list[float], unit: str | None) -> tuple[float, ...] | None:
    if not values or any(v <= 0 for v in values):
        return None
    scale = 10.0 if (unit or infer_unit(values)) == "cm" else 1.0
    mm = tuple(round(v * scale, 3) for v in values)
    return None if max(mm) > 10_000 else mm


_QUALIFIER_SYMBOLS: Final[tuple[tuple[str, Qualifier], ...]] = (
    ("<=", Qualifier.UP_TO),
    ("=<", Qualifier.UP_TO),
    ("≤", Qualifier.UP_TO),
    (">=", Qualifier.GREATER_THAN),
    ("≥", Qualifier.GREATER_THAN),
    ("<", Qualifier.LESS_THAN),
    (">", Qualifier.GREATER_THAN),
    ("~", Qualifier.APPROXIMATE),
    ("≈", Qualifier.APPROXIMATE),
)
_QUALIFIER_PHRASES: Final[dict[str, Qualifier]] = {
    "up to": Qualifier.UP_TO,
    "as large as": Qualifier.UP_TO,
    "no more than": Qualifier.UP_TO,
    "no larger than": Qualifier.UP_TO,
    "no greater than": Qualifier.UP_TO,
    "not exceeding": Qualifier.UP_TO,
    "less than": Qualifier.LESS_THAN,
    "smaller than": Qualifier.LESS_THAN,
    "under": Qualifier.LESS_THAN,
    "below": Qualifier.LESS_THAN,
    "greater than": Qualifier.GREATER_THAN,
    "larger than": Qualifier.GREATER_THAN,
    "more than": Qualifier.GREATER_THAN,
    "over": Qualifier.GREATER_THAN,
    "exceeding": Qualifier.GREATER_THAN,
    "at least": Qualifier.GREATER_THAN,
    "approximately": Qualifier.APPROXIMATE,
    "approx.": Qualifier.APPROXIMATE,
    "approx": Qualifier.APPROXIMATE,
    "about": Qualifier.APPROXIMATE,
    "around": Qualifier.APPROXIMATE,
    "roughly": Qualifier.APPROXIMATE,
    "nearly": Qualifier.APPROXIMATE,
    "almost": Qualifier.APPROXIMATE,
    "circa": Qualifier.APPROXIMATE,
    "ca.": Qualifier.APPROXIMATE,
}


def _qualifier(text: str, start: int) -> tuple[Qualifier, int]:
    """The qualifier written right before a measurement, and where it starts (``start`` if none).

    Looks only at the last symbol or the last one to three words (no regex scan: this runs once per
    measurement on 100,000-report batches).
    """
    window = text[max(0, start - 30) : start]
    tail = window.rstrip()
    offset = start - len(window)
    for symbol, qualifier in _QUALIFIER_SYMBOLS:
        if tail.endswith(symbol):
            return qualifier, offset + len(tail) - len(symbol)
    words = [w.lstrip("([{,;:") for w in tail.split()]
    for n in (3, 2, 1):
        if len(words) < n:
            continue
        phrase_qualifier = _QUALIFIER_PHRASES.get(" ".join(words[-n:]).lower())
        if phrase_qualifier is not None:
            return phrase_qualifier, offset + _phrase_start(tail, words, n)
    return Qualifier.EQUAL, start


def _phrase_start(tail: str, words: list[str], n: int) -> int:
    pos = len(tail)
    for word in reversed(words[-n:]):
        pos = tail.rfind(word, 0, pos)
    return pos


def _is_prior(text: str, start: int, end: int, floor: int) -> bool:
    """Whether the mention at ``text[start:end]`` is a prior size.

    ``floor`` is where the previous mention ended: cues before it belong to that mention.
    """
    lo = max(floor, start - 80)
    window = text[lo:start]
    breaks = list(_CLAUSE_BREAK_RE.finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    trailing = _TRAILING_PRIOR_RE.match(text, end, min(len(text), end + 40)) is not None
    if not _PRIOR_HINT_RE.search(window):
        return trailing and _CURRENT_CUE_RE.search(window) is None
    prior_end = -1
    m = _PRIOR_CUE_RE.search(window)
    if m is not None:
        prior_end = m.end()
    for pm in _PRIOR_WORD_RE.finditer(window):
        prior_end = max(prior_end, pm.end())
    current_end = max((cm.end() for cm in _CURRENT_CUE_RE.finditer(window)), default=-1)
    if prior_end >= 0 and prior_end >= current_end:
        return True
    if current_end >= 0:
        return False
    return trailing


def parse_sizes(text: str) -> list[SizeMention]:
    """Every size mention in ``text``, in text order.

    Measurements become :class:`~schemas.records.Size` in millimetres (cm x 10, decimal commas read
    as points, ``x`` / ``×`` / ``*`` / ``by`` between diameters, a qualifier from ``up to`` / ``<`` /
    ``less than`` / ``>`` / ``approximately`` / ``~`` in front); size words (subcentimeter, tiny, too
    small to characterize, massive) become a :class:`~schemas.records.SizeClass`. ``"2 cm and 3 cm"``
    is two mentions. Each mention says whether it is a prior size (see :func:`current_sizes`).
    Unit-less numbers follow the rules in the module docstring.

    >>> [m.size.diameters_mm for m in parse_sizes("3.2 x 2.1 cm (previously 1,5 cm)")]
    [(32.0, 21.0), (15.0,)]
    >>> [m.is_prior for m in parse_sizes("3.2 x 2.1 cm (previously 1,5 cm)")]
    [False, True]

    Raises:
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    chains = _scan_chains(text) if _DIGIT_RE.search(text) else []
    _resolve_chains(text, chains)
    found: list[tuple[int, int, Size | None, SizeClass | None, tuple[float, ...], str | None]] = []
    size: Size | None
    i = 0
    while i < len(chains):
        chain = chains[i]
        i += 1
        if not chain.keep:
            continue
        end = chain.end
        values = chain.values
        range_qualifier = None
        if chain.range_with_next and i < len(chains):
            right = chains[i]
            i += 1
            end = right.end
            values = [max(chain.values[0], right.values[0])]
            range_qualifier = Qualifier.UP_TO
        mm = _millimetres(values, chain.unit)
        if mm is None:
            continue
        qualifier, start = _qualifier(text, chain.start)
        size = Size(diameters_mm=mm, qualifier=range_qualifier or qualifier)
        shown = tuple(chain.values if range_qualifier is None else values)
        found.append((start, end, size, None, shown, chain.unit))
    lower = text.lower()
    has_class_word = any(hint in lower for hint in _SIZE_CLASS_HINTS)
    for m in _SIZE_CLASS_RE.finditer(text) if has_class_word else ():
        key = next(k for k, v in m.groupdict().items() if v)
        found.append((m.start(), m.end(), None, _SIZE_CLASSES[key], (), None))
    found.sort(key=lambda item: item[0])
    mentions: list[SizeMention] = []
    floor = 0
    for start, end, found_size, size_class, shown_values, unit in found:
        mentions.append(
            SizeMention(
                size=found_size,
                size_class=size_class,
                start=start,
                end=end,
                raw=text[start:end],
                is_prior=_is_prior(text, start, end, floor),
                values=shown_values,
                unit=unit,
            )
        )
        floor = end
    return mentions


def current_sizes(text: str) -> list[SizeMention]:
    """The size mentions of ``text`` that are not prior sizes, in text order.

    >>> [m.size.largest_mm for m in current_sizes("increased from 2.1 to 2.6 cm")]
    [26.0]
    >>> [m.size.largest_mm for m in current_sizes("previously 2.1 cm, now 2.6 cm")]
    [26.0]
    """
    return [m for m in parse_sizes(text) if not m.is_prior]


def _excerpt(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_size(text: str) -> Size:
    """The one current measurement in ``text`` (strict variant of :func:`parse_sizes`).

    >>> parse_size("up to 1,4 cm")
    Size(diameters_mm=(14.0,), qualifier=<Qualifier.UP_TO: '<='>)

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: ``"size: no measurement found in '...'"`` when there is none, or
            ``"size: 2 current measurements in '...'; expected one"`` when it is ambiguous.
    """
    measured = [m for m in current_sizes(text) if m.size is not None]
    if not measured:
        raise ValueError(f"size: no measurement found in {_excerpt(text)!r}")
    if len(measured) > 1:
        raise ValueError(
            f"size: {len(measured)} current measurements in {_excerpt(text)!r}; expected one "
            f"(use parse_sizes() to read several)"
        )
    size = measured[0].size
    if size is None:  # pragma: no cover - filtered above
        raise ValueError(f"size: no measurement found in {_excerpt(text)!r}")
    return size


_QUALIFIER_TEXT: Final[dict[Qualifier, str]] = {
    Qualifier.EQUAL: "",
    Qualifier.UP_TO: "up to ",
    Qualifier.LESS_THAN: "<",
    Qualifier.GREATER_THAN: ">",
    Qualifier.APPROXIMATE: "~",
}


def format_size(size: Size, unit: str = "mm") -> str:
    """Write a size as text that :func:`parse_size` reads back to the same value.

    >>> format_size(Size(diameters_mm=(32, 21), qualifier="<="), unit="cm")
    'up to 3.2 x 2.1 cm'

    Raises:
        ValueError: ``unit`` is not ``"mm"`` or ``"cm"``.
    """
    return f"{_QUALIFIER_TEXT[size.qualifier]}{size.format(unit)} {unit}"
