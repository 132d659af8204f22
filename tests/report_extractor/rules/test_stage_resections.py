"""Resections (:mod:`report_extractor.rules.resections`): organs gone, completely or with a remnant."""

from __future__ import annotations

import pytest

from report_extractor.rules.resections import read_resections
from report_extractor.rules.sections import split_report
from schemas.vocabulary import Organ


@pytest.mark.parametrize(
    ("text", "complete", "remnant"),
    [
        pytest.param("Status post cholecystectomy.", {Organ.GALLBLADDER}, set(), id="cholecystectomy"),
        pytest.param("History: Whipple procedure.", set(), {Organ.PANCREAS}, id="whipple-in-history"),
        pytest.param("Left nephrectomy.", set(), {Organ.KIDNEY}, id="unilateral-nephrectomy"),
        pytest.param("GALLBLADDER: Surgically absent.", {Organ.GALLBLADDER}, set(), id="header-absent"),
        pytest.param("The liver is normal.", set(), set(), id="none"),
    ],
)
def test_read_resections(text: str, complete: set[Organ], remnant: set[Organ]) -> None:
    found = read_resections(text, split_report(text))
    assert (set(found.complete), set(found.remnant)) == (complete, remnant)


def test_by_sentence_names_the_sentence() -> None:
    text = "Liver normal. Status post splenectomy."
    found = read_resections(text, split_report(text))
    assert found.by_sentence == {1: frozenset({Organ.SPLEEN})}


def test_bilateral_nephrectomy_is_complete() -> None:
    text = "Bilateral nephrectomies."
    assert Organ.KIDNEY in read_resections(text, split_report(text)).complete
