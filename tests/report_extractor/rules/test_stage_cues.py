"""Stage 2 (:mod:`report_extractor.rules.cues`, :mod:`report_extractor.rules.counts`): lesion words,
negation, hedging and count phrases."""

from __future__ import annotations

import pytest

from report_extractor.rules.counts import read_count
from report_extractor.rules.cues import certainty, sentence_cues
from report_extractor.rules.document import read_document
from schemas.records import Certainty, LesionKind


def _cues(text: str) -> list[tuple[str, bool]]:
    doc = read_document(text)
    return [(text[c.start : c.end], c.negated) for s in doc.sentences for c in sentence_cues(doc, s)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("A 2 cm cyst in the liver.", [("cyst", False)], id="positive"),
        pytest.param("No focal hepatic lesion.", [("lesion", True)], id="no-before"),
        pytest.param("Without evidence of a renal mass.", [("mass", True)], id="without"),
        pytest.param("The previously seen nodule is no longer seen.", [("nodule", True)], id="post-negation"),
        pytest.param("The adrenal adenoma has resolved.", [("adenoma", True)], id="resolved"),
        pytest.param(
            "Hypodensity near the falciform ligament, likely focal fat.",
            [("Hypodensity", True)],
            id="explained",
        ),
        pytest.param(
            "No ascites, but a 3 cm splenic mass is seen.", [("mass", False)], id="scope-ends-at-but"
        ),
        pytest.param("History of renal cell carcinoma. Kidneys normal.", [], id="history-context"),
        pytest.param("Mesenteric mass of 3 cm.", [], id="foreign-site"),
        pytest.param("TARGET LESIONS: liver 2 cm.", [], id="recist-category"),
    ],
)
def test_sentence_cues_and_negation(text: str, expected: list[tuple[str, bool]]) -> None:
    assert _cues(text) == expected


@pytest.mark.parametrize(
    ("text", "value", "multiple", "at_least"),
    [
        pytest.param("Three hepatic cysts.", 3, False, False, id="word"),
        pytest.param("2 renal cysts.", 2, False, False, id="digit"),
        pytest.param("At least four liver metastases.", 4, False, True, id="at-least"),
        pytest.param("Numerous hepatic cysts.", None, True, False, id="numerous"),
        pytest.param("Several small splenic nodules.", None, True, False, id="several-with-adjective"),
    ],
)
def test_read_count(text: str, value: int | None, multiple: bool, at_least: bool) -> None:
    doc = read_document(text)
    cue = sentence_cues(doc, doc.sentences[0])[0]
    assert cue.counted is not None
    assert (cue.counted.value, cue.counted.multiple, cue.counted.at_least) == (value, multiple, at_least)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Segment 7 lesion.", id="segment-label"),
        pytest.param("Bosniak 2 cyst of the left kidney.", id="bosniak-label"),
        pytest.param("A lesion of 60 HU.", id="no-number-before"),
        pytest.param("A 2 cm lesion.", id="size-not-count"),
    ],
)
def test_labels_and_sizes_are_not_counts(text: str) -> None:
    doc = read_document(text)
    cue = sentence_cues(doc, doc.sentences[0])[0]
    assert read_count(doc.text, doc.sentences[0], cue.start) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("A 2 cm hepatic cyst.", Certainty.DEFINITE, id="definite"),
        pytest.param("Possible small pancreatic mass.", Certainty.POSSIBLE, id="possible"),
        pytest.param("Likely hemangioma in the liver.", Certainty.PROBABLE, id="likely"),
        pytest.param(
            "A small mass in the uncinate cannot be excluded.", Certainty.POSSIBLE, id="existence-hedged"
        ),
        pytest.param("1.6 cm lesion, metastasis cannot be excluded.", Certainty.DEFINITE, id="nature-hedged"),
    ],
)
def test_certainty(text: str, expected: Certainty) -> None:
    doc = read_document(text)
    sent = doc.sentences[0]
    assert certainty(doc.folded, sent, sentence_cues(doc, sent)[0]) is expected


def test_cue_kind_and_plural() -> None:
    doc = read_document("Hepatic metastases.")
    (cue,) = sentence_cues(doc, doc.sentences[0])
    assert (cue.kind, cue.plural) == (LesionKind.METASTASIS, True)
