"""Stage 4 (:mod:`report_extractor.rules.anchoring`): which lesion word each size describes."""

from __future__ import annotations

import pytest

from report_extractor.rules.anchoring import size_anchor, words_between
from report_extractor.rules.cues import sentence_cues
from report_extractor.rules.document import read_document
from report_extractor.rules.organs import sentence_organs


def _anchors(text: str) -> list[str | None]:
    """For each current measurement of the one sentence, the lesion word it is anchored to."""
    doc = read_document(text)
    sent = doc.sentences[0]
    cues = sentence_cues(doc, sent)
    organs = sentence_organs(doc, sent)
    sizes = doc.current_sizes(sent)
    out: list[str | None] = []
    for size in sizes:
        cue = size_anchor(doc, sent, size, cues, organs, sizes)
        out.append(None if cue is None else text[cue.start : cue.end])
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("A 2 cm cyst in the liver.", ["cyst"], id="attributive"),
        pytest.param("Liver lesion measuring 14 mm.", ["lesion"], id="predicative"),
        pytest.param("CBD 8 mm. ", [None], id="duct"),
        pytest.param("A 6 mm stone and a 12 mm renal cyst.", [None, "cyst"], id="stone-then-cyst"),
        pytest.param("Spleen measures 13 cm, with a 9 mm nodule.", [None, "nodule"], id="organ-length"),
        pytest.param(
            "The kidney contains a 2 cm cyst and measures 11 cm.", ["cyst", None], id="coordinated-organ-size"
        ),
        pytest.param("No hepatic lesion, aorta 2.1 cm.", [None], id="negated-and-aorta"),
    ],
)
def test_size_anchor(text: str, expected: list[str | None]) -> None:
    assert _anchors(text) == expected


def test_words_between_counts_words() -> None:
    text = "a 2 cm well defined cyst"
    assert words_between(text, 6, 19) == 2
