"""Size qualifiers: the symbol or phrase written before a measurement (``up to``, ``<``, ``~``, ...).

:func:`read_qualifier` finds it before a measurement; :data:`QUALIFIER_TEXT` writes one back.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from schemas.records import Qualifier

__all__ = ["QUALIFIER_TEXT", "QualifierAt", "read_qualifier"]

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


class QualifierAt(NamedTuple):
    """A qualifier and where it starts in the text."""

    qualifier: Qualifier
    start: int


def read_qualifier(text: str, start: int) -> QualifierAt:
    """The qualifier written right before a measurement, and where it starts (``start`` if none).

    Looks only at the last symbol or the last one to three words (no regex scan: this runs once per
    measurement on 100,000-report batches).
    """
    window = text[max(0, start - 30) : start]
    tail = window.rstrip()
    offset = start - len(window)
    for symbol, qualifier in _QUALIFIER_SYMBOLS:
        if tail.endswith(symbol):
            return QualifierAt(qualifier, offset + len(tail) - len(symbol))
    words = [w.lstrip("([{,;:") for w in tail.split()]
    for n in (3, 2, 1):
        if len(words) < n:
            continue
        phrase_qualifier = _QUALIFIER_PHRASES.get(" ".join(words[-n:]).lower())
        if phrase_qualifier is not None:
            return QualifierAt(phrase_qualifier, offset + _phrase_start(tail, words, n))
    return QualifierAt(Qualifier.EQUAL, start)


def _phrase_start(tail: str, words: list[str], n: int) -> int:
    pos = len(tail)
    for word in reversed(words[-n:]):
        pos = tail.rfind(word, 0, pos)
    return pos


QUALIFIER_TEXT: Final[dict[Qualifier, str]] = {
    Qualifier.EQUAL: "",
    Qualifier.UP_TO: "up to ",
    Qualifier.LESS_THAN: "<",
    Qualifier.GREATER_THAN: ">",
    Qualifier.APPROXIMATE: "~",
}
