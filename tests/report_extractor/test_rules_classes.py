"""Failure classes of issue 13, each tested with sentences written for this file (not dev-set reports).

One parametrized test per class: the extractor must handle the class, not one example of it.
"""

from __future__ import annotations

import pytest

from report_extractor.rules import extract_report
from report_extractor.rules.sections import split_report
from schemas.llm import LLMLesion, LLMReport, to_millimetres
from schemas.vocabulary import Organ, Side


def _status(report: LLMReport) -> dict[Organ, str]:
    return {o.organ: o.status for o in report.organs}


def _lesions(report: LLMReport, organ: Organ) -> list[LLMLesion]:
    return [lesion for lesion in report.lesions if lesion.organ is organ]


def _count(report: LLMReport, organ: Organ) -> int | str | None:
    found = next((o for o in report.organs if o.organ is organ), None)
    if found is None or found.status != "lesion":
        return None
    return "multiple" if found.multiple else found.count


def _largest_mm(lesion: LLMLesion) -> float | None:
    return max(to_millimetres(lesion.diameters, lesion.unit)) if lesion.diameters else None


# ----------------------------------------------------------------------------------------------------
# Class 3: one finding per line without periods
# ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n_sentences"),
    [
        pytest.param("Cyst in the left kidney\nRight kidney normal", 2, id="two-notes"),
        pytest.param("Spleen small\nPancreas normal\nLiver cyst 1 cm", 3, id="three-notes"),
        pytest.param("A hypodense lesion is seen in the\nleft lobe of the liver.", 1, id="wrapped-on-the"),
        pytest.param("A hypodense lesion is seen,\nmeasuring 2 cm.", 1, id="wrapped-on-comma"),
        pytest.param("A 2 cm lesion is seen in\nsegment 7.", 1, id="wrapped-on-in"),
        pytest.param("The cyst measures 2 cm and\nis unchanged.", 1, id="wrapped-on-and"),
        pytest.param("There is a small cyst\nin the upper pole.", 1, id="next-line-lower-case"),
    ],
)
def test_line_breaks_end_notes_but_not_wrapped_sentences(text: str, n_sentences: int) -> None:
    assert len(split_report(text)) == n_sentences


@pytest.mark.parametrize(
    ("text", "organ", "side", "normal"),
    [
        pytest.param(
            "Simple cyst right kidney\nLeft kidney calculus", Organ.KIDNEY, Side.RIGHT, None, id="kid"
        ),
        pytest.param(
            "Left adrenal nodule, adenoma considered\nRight adrenal normal",
            Organ.ADRENAL_GLAND,
            Side.LEFT,
            None,
            id="adrenal",
        ),
        pytest.param(
            "Liver small cyst\nSpleen normal size", Organ.LIVER, None, Organ.SPLEEN, id="liver-spleen"
        ),
    ],
)
def test_side_and_organ_do_not_bleed_across_note_lines(
    text: str, organ: Organ, side: Side | None, normal: Organ | None
) -> None:
    report = extract_report(text)
    found = _lesions(report, organ)
    assert len(found) == 1
    assert found[0].side is side
    if normal is not None:
        assert _status(report)[normal] == "normal"
