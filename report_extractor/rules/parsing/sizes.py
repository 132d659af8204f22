"""How big a lesion is, as written in free text: measurements and size words, current or prior.

* :func:`parse_sizes` finds every measurement (``3.2 x 2.1 cm``, ``12 mm``, ``1,5 cm``, ``up to 1.4 cm``,
  ``<1 cm``, ``~2 cm``) and size word (``subcentimeter``, ``tiny``, ...), converts units to millimetres
  in code and tells current sizes from prior ones (``previously 2.1 cm, now 2.6 cm``, see
  :mod:`~report_extractor.rules.parsing.priors`); :func:`current_sizes` keeps the current ones and
  :func:`parse_size` is the strict one-size variant.
* :func:`format_size` writes a :class:`~schemas.records.Size` back as text that :func:`parse_size`
  reads to the same value.

Unit-less numbers (documented choice):

* a dimension chain without a unit (``measuring 2.3 x 1.8``) is kept, and so is a single number right
  after a measuring word (``measures 12``); their unit is inferred by :func:`schemas.records.infer_unit`
  (largest value >= 4 → mm, else cm) and :attr:`SizeMention.unit` stays ``None`` to say so;
* a unit-less number joined to a measured one by ``and`` / ``or`` / ``to`` / ``-`` borrows its unit
  (``2 and 3 cm`` → 20 mm and 30 mm; ``from 2.1 to 2.6 cm`` → a prior 21 mm and a current 26 mm);
  ``1-2 cm`` / ``1 to 2 cm`` / ``5 or 6 mm`` (not after ``from``) is one range, read as *up to* 20 mm;
* a number followed or preceded by a word of :mod:`~report_extractor.rules.parsing.numbers` ("40 HU",
  "segment 7") and any other bare number (``2 lesions``, dates, image numbers) is not a size.

Pure Python + pydantic; every regular expression is compiled once at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from report_extractor.rules.parsing.numbers import NOT_A_NUMBER_AFTER_RE, NOT_A_NUMBER_BEFORE_RE
from report_extractor.rules.parsing.priors import is_prior
from report_extractor.rules.parsing.qualifiers import QUALIFIER_TEXT, read_qualifier
from schemas.records import Qualifier, Size, SizeClass, infer_unit

__all__ = ["SizeMention", "current_sizes", "format_size", "parse_size", "parse_sizes"]

_I: Final = re.IGNORECASE

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
    r"^\s*(?:(?P<list>,\s*and|,\s*or|,|and|&)|(?P<range>to|through|or|-|–|—))\s*$", _I
)
_FROM_RE: Final = re.compile(r"\bfrom\s*$", _I)
_RANGE_FROM_RE: Final = re.compile(r"\b(?:rang\w*|vary\w*|measur\w*)\s+from\s*$", _I)
_MEASURE_CUE_RE: Final = re.compile(
    r"\b(?:measur(?:es|ing|ed|e)|size\s+of|diameter\s+of|sized|dimensions?\s+of)"
    r"(?:\s+(?:up\s+to|approximately|approx\.?|about|~|<|>))?\s*$",
    _I,
)

_PRIOR_LIST_JOIN_RE: Final = re.compile(r"\s*,?\s*(?:and|&)\s*", _I)
_SIZE_CLASS_RE: Final = re.compile(
    r"\b(?:(?P<sub>sub-?\s?centimet(?:er|re|ric)s?)|(?P<tiny>tiny)|(?P<massive>massive)"
    r"|(?P<tstc>too\s+small\s+to\s+(?:be\s+)?(?:accurately\s+|definitively\s+|reliably\s+|further\s+|fully\s+)?"
    r"(?:characteri[sz]ed?|characteri[sz]ation|measured?|evaluated?|assess(?:ed)?)|tstc))\b",
    _I,
)
_SIZE_CLASS_HINTS: Final[tuple[str, ...]] = ("centimet", "tiny", "massive", "small to", "tstc")
_DIGIT_RE: Final = re.compile(r"\d")
_SIZE_CLASSES: Final[dict[str, SizeClass]] = {
    "sub": SizeClass.SUBCENTIMETER,
    "tiny": SizeClass.TINY,
    "massive": SizeClass.MASSIVE,
    "tstc": SizeClass.TOO_SMALL_TO_CHARACTERIZE,
}


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


class _Found(NamedTuple):
    """A size found before it is checked for priors: span, size or size class, values, unit."""

    start: int
    end: int
    size: Size | None
    size_class: SizeClass | None
    values: tuple[float, ...]
    unit: str | None


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
        if conj is None or NOT_A_NUMBER_BEFORE_RE.search(text, max(0, left.start - 20), left.start):
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
    found: list[_Found] = []
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
        qualifier, start = read_qualifier(text, chain.start)
        size = Size(diameters_mm=mm, qualifier=range_qualifier or qualifier)
        shown = tuple(chain.values if range_qualifier is None else values)
        found.append(_Found(start, end, size, None, shown, chain.unit))
    lower = text.lower()
    has_class_word = any(hint in lower for hint in _SIZE_CLASS_HINTS)
    for m in _SIZE_CLASS_RE.finditer(text) if has_class_word else ():
        key = next(k for k, v in m.groupdict().items() if v)
        found.append(_Found(m.start(), m.end(), None, _SIZE_CLASSES[key], (), None))
    found.sort(key=lambda item: item.start)
    mentions: list[SizeMention] = []
    floor = 0
    for start, end, found_size, size_class, shown_values, unit in found:
        prior = is_prior(text, start, end, floor)
        if (
            not prior
            and mentions
            and mentions[-1].is_prior
            and _PRIOR_LIST_JOIN_RE.fullmatch(text, floor, start)
        ):
            prior = True  # "previously 1.0 cm and 0.8 cm": the prior cue covers the coordinated list
        mentions.append(
            SizeMention(
                size=found_size,
                size_class=size_class,
                start=start,
                end=end,
                raw=text[start:end],
                is_prior=prior,
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


def format_size(size: Size, unit: str = "mm") -> str:
    """Write a size as text that :func:`parse_size` reads back to the same value.

    >>> format_size(Size(diameters_mm=(32, 21), qualifier="<="), unit="cm")
    'up to 3.2 x 2.1 cm'

    Raises:
        ValueError: ``unit`` is not ``"mm"`` or ``"cm"``.
    """
    return f"{QUALIFIER_TEXT[size.qualifier]}{size.format(unit)} {unit}"
