"""Case folding that keeps every offset, so that case-insensitive patterns can run case-sensitively.

``re.IGNORECASE`` compares each letter through the Unicode case tables, which makes the word lists of
the rules (triggers, hints, distractors) 3-7 times slower to search than the same lists matched
case-sensitively. A pattern built with :func:`caseless` is matched against :func:`fold` of the text
instead: its letters must all be lower-case ASCII, and then matching it on ``fold(text)`` finds exactly
what matching it with ``re.IGNORECASE`` on ``text`` finds, at the same offsets.

Why that holds: under ``re.IGNORECASE`` a lower-case ASCII letter matches exactly itself, its upper-case
form and four other characters (dotted and dotless I, long S, the Kelvin sign; a test checks this
against :mod:`re` over all of Unicode). :func:`fold` maps each of those characters, one for one, to the
letter it matches and leaves every other character alone, so each character keeps its class (``\\w``,
``\\s``, digits) and its offset.
"""

from __future__ import annotations

import re
import string
from typing import Final

__all__ = ["caseless", "fold"]

_FOLD_TABLE: Final[dict[int, str]] = {
    **{ord(upper): upper.lower() for upper in string.ascii_uppercase},
    0x130: "i",  # LATIN CAPITAL LETTER I WITH DOT ABOVE
    0x131: "i",  # LATIN SMALL LETTER DOTLESS I
    0x17F: "s",  # LATIN SMALL LETTER LONG S
    0x212A: "k",  # KELVIN SIGN
}
"""Every character ``re.IGNORECASE`` matches with a lower-case ASCII letter, other than the letter."""


def fold(text: str) -> str:
    """``text`` with every character that ``re.IGNORECASE`` equates with a lower-case ASCII letter
    replaced by that letter; same length, same offsets."""
    return text.lower() if text.isascii() else text.translate(_FOLD_TABLE)


def caseless(source: str, flags: int = 0) -> re.Pattern[str]:
    """Compile ``source`` to be matched case-sensitively against :func:`fold` of a text, which gives the
    matches ``re.compile(source, flags | re.IGNORECASE)`` gives on the text itself.

    Raises:
        ValueError: ``source`` has a letter that is not lower-case ASCII (outside escapes and group
            names), an inline flag or a backreference, or ``flags`` hold ``IGNORECASE``, ``ASCII`` or
            ``VERBOSE``: for those the equivalence is not guaranteed.
    """
    if flags & (re.IGNORECASE | re.ASCII | re.VERBOSE):
        raise ValueError("caseless: IGNORECASE, ASCII and VERBOSE flags are not supported")
    problem = _unsupported(source)
    if problem is not None:
        raise ValueError(f"caseless: {problem} in pattern {source[:60]!r}")
    return re.compile(source, flags)


_HEX_ESCAPE_WIDTH: Final[dict[str, int]] = {"x": 2, "u": 4, "U": 8}
"""Hex digits after ``\\x``, ``\\u`` and ``\\U`` in a pattern (the character they escape is checked too)."""


def _unsupported(source: str) -> str | None:
    """What in ``source`` breaks the equivalence of :func:`caseless`, or None."""
    i = 0
    class_start = -1  # index of the first member of the character class being read; -1: outside one
    previous = ""  # the class member just read ("\\" for an escape: a range from it is refused)
    while i < len(source):
        char = source[i]
        if class_start < 0 and source.startswith("(?P<", i):
            i = source.index(">", i) + 1
            continue
        if class_start < 0 and source.startswith(_INLINE_FLAGS, i):
            return f"inline flag or named backreference at {i}"
        if char == "\\":
            escaped = source[i + 1 : i + 2]
            if escaped.isdigit() or escaped == "N":
                return f"backreference or named character at {i}"
            width = _HEX_ESCAPE_WIDTH.get(escaped, 0)
            if width:
                code = source[i + 2 : i + 2 + width]
                if len(code) == width and all(c in string.hexdigits for c in code):
                    letter = chr(int(code, 16))
                    if letter.lower() != letter or letter.upper() != letter:
                        return f"escaped cased character {letter!r} at {i}"
                i, previous = i + 2 + width, "\\"
                continue
            i, previous = i + 2, "\\"
            continue
        if char.lower() != char or (not char.isascii() and char.upper() != char):
            return f"cased character {char!r} at {i}"
        if class_start < 0:
            if char == "[":
                class_start = i + 2 if source[i + 1 : i + 2] == "^" else i + 1
                i, previous = class_start, ""
                continue
        elif char == "]" and i > class_start:
            class_start = -1
        elif (
            char == "-"
            and previous
            and source[i + 1 : i + 2] not in ("]", "")
            and not _safe_range(previous, source[i + 1])
        ):
            return f"character range at {i}"
        previous = char
        i += 1
    return None


_INLINE_FLAGS: Final[tuple[str, ...]] = ("(?P=", "(?i", "(?-", "(?a", "(?L", "(?u", "(?m", "(?s", "(?x")


def _safe_range(low: str, high: str) -> bool:
    """Whether a class range matches the same characters on folded text as with ``IGNORECASE``: one
    within ``a``-``z``, or one holding no letter at all."""
    if "\\" in (low, high):
        return False
    if "a" <= low <= high <= "z":
        return True
    return not any(_cased_or_letter(chr(c)) for c in range(ord(low), ord(high) + 1))


def _cased_or_letter(char: str) -> bool:
    return char.isalpha() or char.lower() != char or char.upper() != char
