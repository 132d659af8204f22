"""Stage 3 (:mod:`report_extractor.rules.organs`): which organ and side each lesion word is about."""

from __future__ import annotations

import pytest

from report_extractor.rules.cues import sentence_cues
from report_extractor.rules.document import read_document
from report_extractor.rules.organs import (
    assign_organ,
    fold_diagnosis_cues,
    implied_organ,
    sentence_organs,
    subject_side,
)
from schemas.vocabulary import Organ, Side


def _organs(text: str, previous: Organ | None = None) -> list[Organ | None]:
    doc = read_document(text)
    out: list[Organ | None] = []
    for sent in doc.sentences:
        organs = sentence_organs(doc, sent)
        cues = sentence_cues(doc, sent)
        starts = [c.start for c in cues]
        out.extend(assign_organ(doc.text, sent, c, organs, starts, previous) for c in cues)
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Left renal cyst.", [Organ.KIDNEY], id="adjective-before"),
        pytest.param("A mass in the pancreatic head.", [Organ.PANCREAS], id="locative-after"),
        pytest.param("Cyst right kidney", [Organ.KIDNEY], id="note-without-preposition"),
        pytest.param("A hypodense nodule abutting the duodenum.", [None], id="relational-not-linked"),
        pytest.param("A 2 cm lesion in segment 6.", [Organ.LIVER], id="implied-by-segment"),
        pytest.param("LIVER: 2 cm cyst.", [Organ.LIVER], id="header"),
    ],
)
def test_assign_organ(text: str, expected: list[Organ | None]) -> None:
    assert _organs(text) == expected


def test_previous_organ_is_the_last_resort() -> None:
    assert _organs("A small cyst.", previous=Organ.SPLEEN) == [Organ.SPLEEN]


def test_organ_words_in_history_context_are_left_out() -> None:
    doc = read_document("Status post left nephrectomy, a 2 cm liver cyst.")
    assert [o.organ for o in sentence_organs(doc, doc.sentences[0])] == [Organ.LIVER]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("in segment VII", Organ.LIVER, id="segment"),
        pytest.param("uncinate process", Organ.PANCREAS, id="uncinate"),
        pytest.param("lower pole", Organ.KIDNEY, id="pole"),
        pytest.param("in the pelvis", None, id="none"),
    ],
)
def test_implied_organ(text: str, expected: Organ | None) -> None:
    assert implied_organ(text, 0, len(text)) is expected


def test_diagnosis_noun_folds_into_the_described_lesion() -> None:
    text = "Oval hypodense area in the left kidney, suggestive of two simple cysts."
    doc = read_document(text)
    sent = doc.sentences[0]
    cues = sentence_cues(doc, sent)
    organs = sentence_organs(doc, sent)
    for c in cues:
        c.organ = assign_organ(text, sent, c, organs, [x.start for x in cues], None)
    fold_diagnosis_cues(text, cues)
    diagnosis = cues[-1]
    assert (diagnosis.organ, diagnosis.plural, diagnosis.counted) == (Organ.KIDNEY, False, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("The left kidney measures 10 cm and contains a cyst.", Side.LEFT, id="left"),
        pytest.param("The right adrenal gland contains a nodule.", Side.RIGHT, id="right"),
        pytest.param("The kidney contains a cyst.", None, id="unsided"),
    ],
)
def test_subject_side(text: str, expected: Side | None) -> None:
    doc = read_document(text)
    sent = doc.sentences[0]
    organ = doc.organ_words[0].organ
    assert subject_side(doc, sent, organ, doc.cue_starts[0]) is expected
