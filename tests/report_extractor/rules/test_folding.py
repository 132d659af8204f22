"""Offset-keeping case folding: a :func:`caseless` pattern on folded text matches as ``IGNORECASE`` does."""

from __future__ import annotations

import re
import string

import pytest

from report_extractor.rules import extract_report
from report_extractor.rules.folding import caseless, fold


def test_fold_maps_exactly_the_characters_ignorecase_equates_with_ascii_letters() -> None:
    """Over all of Unicode: a character folds to a lower-case ASCII letter iff ``re.IGNORECASE`` matches
    it with that letter; every other character is left alone."""
    any_letter = re.compile("[a-z]", re.IGNORECASE)
    for code in range(0x110000):
        char = chr(code)
        folded = fold(char)
        assert len(folded) == 1
        if any_letter.fullmatch(char):
            (letter,) = [c for c in string.ascii_lowercase if re.fullmatch(c, char, re.IGNORECASE)]
            assert folded == letter, hex(code)
        else:
            assert folded == char, hex(code)


def test_fold_keeps_length_and_offsets_of_non_ascii_text() -> None:
    text = "İstanbul ſtatus \u212aelvin, Ärger: 2 cm"
    assert len(fold(text)) == len(text)
    assert fold(text) == "istanbul status kelvin, Ärger: 2 cm"
    assert fold("LIVER: 2 CM") == "liver: 2 cm"


@pytest.mark.parametrize(
    "source",
    [r"\b(?:no|without|free\s+of)\b", r"hist|h/o|s/p", r"[^;]{0,20}?\bmay\s+be\b", r"[a-z]{2,}\d"],
)
@pytest.mark.parametrize(
    "text",
    ["No mass. Without a cyst.", "H/O HCC, s/p resection", "İt may be ſmall; it MAY BE", "Kx9 ab1 ÄB2"],
)
def test_caseless_on_folded_text_finds_what_ignorecase_finds(source: str, text: str) -> None:
    expected = [m.span() for m in re.finditer(source, text, re.IGNORECASE)]
    assert [m.span() for m in caseless(source).finditer(fold(text))] == expected


@pytest.mark.parametrize(
    "source",
    [
        r"[A-Z]",
        r"(?i:x)",
        r"(a)\1",
        r"[ -_]",
        r"[\x41-z]",
        "µ",
        r"(?-i:\bR\b)",
        r"\x41bc",
        r"\u0061",
        r"\U00000131",
    ],
)
def test_caseless_refuses_patterns_it_cannot_keep_equivalent(source: str) -> None:
    with pytest.raises(ValueError, match="caseless"):
        caseless(source)


def test_caseless_refuses_ignorecase_flag() -> None:
    with pytest.raises(ValueError, match="caseless"):
        caseless("abc", re.IGNORECASE)


def test_caseless_accepts_escapes_of_uncased_characters() -> None:
    assert caseless(r"a\xa0b\u2009c").search(fold("A\xa0B\u2009C")) is not None


@pytest.mark.parametrize(
    "text",
    [
        "PANCREAS: 2 cm cyst in the ta{c}l.",
        "KIDNEYS: 2 cm cyst in the m{c}d pole of the left kidney.",
    ],
)
@pytest.mark.parametrize("dotted", ["İ", "ı", "I"])
def test_words_that_ignorecase_matches_are_read_like_their_ascii_spelling(text: str, dotted: str) -> None:
    # re.IGNORECASE matches İ and ı with "i"; a dict lookup keyed by str.lower() raised KeyError
    def facts(source: str) -> list[dict[str, object]]:
        return [lesion.model_dump(exclude={"quote"}) for lesion in extract_report(source).lesions]

    odd = facts(text.format(c=dotted))
    assert odd  # read, not crashed
    assert odd == facts(text.format(c="i"))
