"""Stages 2-5 on one sentence (:mod:`report_extractor.rules.reading`): findings, normal organs, context."""

from __future__ import annotations

from report_extractor.rules.document import read_document
from report_extractor.rules.reading import ReadingContext, read_sentence
from schemas.vocabulary import Organ, Side


def test_sentence_with_lesion_and_normal_organ() -> None:
    doc = read_document("A 2 cm hepatic cyst, the spleen is unremarkable.")
    reading = read_sentence(doc, doc.sentences[0], ReadingContext(), [], frozenset())
    assert [f.organ for f in reading.findings] == [Organ.LIVER]
    assert reading.normal == {Organ.SPLEEN}
    assert reading.context.previous_organ is Organ.LIVER


def test_context_carries_the_previous_organ() -> None:
    doc = read_document("The pancreas is atrophic. A 9 mm cyst.")
    first = read_sentence(doc, doc.sentences[0], ReadingContext(), [], frozenset())
    assert first.context.previous_organ is Organ.PANCREAS
    second = read_sentence(doc, doc.sentences[1], first.context, [], frozenset())
    assert [f.organ for f in second.findings] == [Organ.PANCREAS]


def test_list_head_opens_a_lesion_list_and_items_take_the_label_side() -> None:
    doc = read_document("TARGET LESIONS:\n- Left adrenal: 23 mm")
    context = ReadingContext()
    findings = []
    for sent in doc.sentences:
        reading = read_sentence(doc, sent, context, findings, frozenset())
        findings.extend(reading.findings)
        context = reading.context
    assert context.in_list
    assert [(f.organ, f.location.side) for f in findings] == [(Organ.ADRENAL_GLAND, Side.LEFT)]


def test_resected_organ_word_without_size_is_no_lesion() -> None:
    doc = read_document("Status post resection of the pancreatic mass.")
    reading = read_sentence(doc, doc.sentences[0], ReadingContext(), [], frozenset({Organ.PANCREAS}))
    assert reading.findings == []


def test_an_organ_clause_ends_at_whereas_and_while_in_any_case() -> None:
    """An organ mentioned beside another organ's lesion is normal only when its own clause says so; the
    clause ends at "whereas" / "while" written in any case (all-capitals reports), as in sides.py."""
    for text in (
        "A 2 cm hepatic mass, the spleen is enlarged whereas no adrenal nodule is seen.",
        "A 2 CM HEPATIC MASS, THE SPLEEN IS ENLARGED WHILE NO ADRENAL NODULE IS SEEN.",
        "A 2 cm hepatic mass, the spleen is enlarged While no adrenal nodule is seen.",
    ):
        doc = read_document(text)
        reading = read_sentence(doc, doc.sentences[0], ReadingContext(), [], frozenset())
        assert [f.organ for f in reading.findings] == [Organ.LIVER], text
        assert Organ.SPLEEN not in reading.normal, text
