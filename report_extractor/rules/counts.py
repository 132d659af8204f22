"""Stage 2b of the rules extractor, counts: how many lesions a lesion phrase says there are.

:func:`read_count` reads the count phrase before a lesion word: a number ("2 lesions", "two cysts"),
"at least N", or a word for many ("multiple", "numerous", "several", "bilateral", ...). A number after a
label word ("segment 7 lesion", "Bosniak 2 cyst") or before a non-size unit ("60 HU") is no count: both
lists are the one list of :mod:`report_extractor.rules.parsing.numbers`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from report_extractor.rules.folding import fold
from report_extractor.rules.parsing.numbers import NOT_A_NUMBER_AFTER_RE, NOT_A_NUMBER_BEFORE_RE
from report_extractor.rules.sections import Sentence, clause_start

__all__ = ["COUNT_RE", "NUMBER_WORDS", "CountPhrase", "read_count", "read_count_after"]

_I: Final = re.IGNORECASE

NUMBER_WORDS: Final[dict[str, int]] = {
    "one": 1,
    "single": 1,
    "solitary": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "couple of": 2,
    "a pair of": 2,
    "both": 2,
}
COUNT_RE: Final = re.compile(
    r"(?:(?P<atleast>at\s+least|more\s+than|greater\s+than|over)\s+)?"
    r"(?:(?P<word>"
    + "|".join(sorted((re.escape(k) for k in NUMBER_WORDS), key=len, reverse=True))
    + r")|(?P<digit>(?<![\d.,/])\b\d{1,2}(?!\s*(?:mm|cm|x|×|by|\.\d|,\d|-|/))(?!"
    + NOT_A_NUMBER_AFTER_RE.pattern
    + r"))"
    r"|(?P<multiple>multiple|numerous|innumerable|several|many|countless|scattered|a\s+few|few|various|"
    r"multifocal|diffuse|bilateral|multiplicity\s+of|a\s+number\s+of|too\s+numerous\s+to\s+count))\b"
    r"(?P<gap>(?:\s+(?!(?:a|an|the|and|or|with|of|in|is|are|was|were|which|there|to|no)\b)[^\s;:]*[^\s;:,])"
    r"{0,5}?)\s+$",
    _I,
)
# fmt: off
_COUNT_HINT_WORDS: Final[frozenset[str]] = frozenset((
    "one", "single", "solitary", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "couple", "pair", "both", "multiple", "numerous", "innumerable", "several", "many",
    "countless", "scattered", "few", "various", "multifocal", "diffuse", "bilateral", "multiplicity",
    "number", "too", "least",
))
# fmt: on
"""Cheap pre-filter for ``COUNT_RE``: a window without a digit or one of these words has no count."""
_DIGIT_RE: Final = re.compile(r"\d")
_HYPHEN_PREFIX_RE: Final = re.compile(r"\b[A-Za-z]+-$")


@dataclass(frozen=True, slots=True)
class CountPhrase:
    """A count written before a lesion word.

    Attributes:
        start: where the count phrase starts ("at least three additional ...").
        value: the number (``None`` for a word for many).
        multiple: a word for many ("multiple", "several", "bilateral", ...).
        at_least: "at least" / "more than" before the number.
        bilateral: the word was "bilateral" (two or more, one per side).
    """

    start: int
    value: int | None = None
    multiple: bool = False
    at_least: bool = False
    bilateral: bool = False


_COUNT_AFTER_RE: Final = re.compile(
    r"[^;.()\n]{0,40}?\(\s*(?:n\s*=\s*)?(?P<atleast>at\s+least\s+|more\s+than\s+|>\s*)?"
    r"(?:(?P<word>"
    + "|".join(k for k in NUMBER_WORDS if " " not in k and k not in ("single", "solitary", "both"))
    + r")|(?P<digit>\d{1,2}))(?:\s+in\s+(?:total|number))?\s*\)",
    _I,
)


def read_count_after(text: str, sent: Sentence, cue_end: int) -> CountPhrase | None:
    """A count in brackets after a plural lesion word ("the metastases are stable in number (at least
    six)", "renal cysts (n = 3)"), or ``None``."""
    m = _COUNT_AFTER_RE.match(text, cue_end, sent.end)
    if m is None:
        return None
    word = m.group("word")
    value = NUMBER_WORDS[fold(word)] if word else int(m.group("digit"))
    if value <= 1:
        return None
    return CountPhrase(
        start=m.start("word") if word else m.start("digit"), value=value, at_least=bool(m.group("atleast"))
    )


def _count_end(m: re.Match[str]) -> int:
    """End of the count word of a :data:`COUNT_RE` match ("at least five" → after "five")."""
    return max(m.end(g) for g in ("word", "digit", "multiple"))


def read_count(text: str, sent: Sentence, cue_start: int) -> CountPhrase | None:
    """The count phrase before the lesion word at ``cue_start`` in its clause (≤ 80 characters back),
    or ``None`` when there is none (or the number is a label, or zero)."""
    prefix = _HYPHEN_PREFIX_RE.search(text, max(sent.start, cue_start - 20), cue_start)
    if prefix is not None:
        cue_start = prefix.start()  # "three non-enhancing lesions": the count is before "non-"
    lo = max(clause_start(text, sent.start, cue_start), cue_start - 80)
    window = text[lo:cue_start]
    if not _DIGIT_RE.search(window) and _COUNT_HINT_WORDS.isdisjoint(window.lower().split()):
        return None
    m = COUNT_RE.search(text, lo, cue_start)
    if m is None:
        return None
    pos = _count_end(m)
    while (nearer := COUNT_RE.search(text, pos, cue_start)) is not None:
        pos = nearer.start() + 1
        if text[nearer.start() - 1].isalnum():
            continue  # "one" inside "bone"
        m, pos = nearer, _count_end(nearer)  # the count nearest the noun wins ("both kidneys multiple cysts")
    if m.group("digit") and NOT_A_NUMBER_BEFORE_RE.search(
        text, max(0, m.start("digit") - 12), m.start("digit")
    ):
        return None
    if m.group("multiple"):
        return CountPhrase(
            start=m.start(), multiple=True, bilateral=m.group("multiple").lower() == "bilateral"
        )
    word = m.group("word")
    value = NUMBER_WORDS[" ".join(fold(word).split())] if word else int(m.group("digit"))
    if value <= 0:
        return None
    return CountPhrase(start=m.start(), value=value, at_least=bool(m.group("atleast")))
