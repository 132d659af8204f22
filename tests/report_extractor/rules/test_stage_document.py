"""Stage 1 (:mod:`report_extractor.rules.document`): the report read once, looked up per sentence."""

from __future__ import annotations

from report_extractor.rules.document import read_document
from report_extractor.rules.sections import SectionKind
from schemas.vocabulary import Organ


def test_read_document_finds_sentences_sizes_organs_and_cues() -> None:
    doc = read_document("LIVER: 2 cm cyst in segment 7.\nIMPRESSION: Renal mass, previously 3 cm, now 4 cm.")
    assert [s.section for s in doc.sentences] == [SectionKind.FINDINGS, SectionKind.IMPRESSION]
    assert [o.organ for o in doc.organ_words] == [Organ.LIVER, Organ.KIDNEY]
    assert [doc.text[m.start() : m.end()] for m in doc.cue_matches] == ["cyst", "mass"]
    assert [m.is_prior for m in doc.sizes] == [False, True, False]
    assert doc.organ_starts == tuple(o.start for o in doc.organ_words)


def test_per_sentence_lookups_stay_inside_the_sentence() -> None:
    doc = read_document("The kidney has a 12 mm cyst. The spleen nodule, previously 9 mm, now 11 mm.")
    first, second = doc.sentences
    assert [o.organ for o in doc.organs_between(first.start, first.end)] == [Organ.KIDNEY]
    assert [o.organ for o in doc.organs_between(second.start, second.end)] == [Organ.SPLEEN]
    assert [m.group(0) for m in doc.cues_between(second.start, second.end)] == ["nodule"]
    assert [m.raw for m in doc.current_sizes(second)] == ["11 mm"]


def test_empty_text_reads_to_an_empty_document() -> None:
    doc = read_document("")
    assert (doc.sentences, doc.sizes, doc.organ_words, doc.cue_matches) == ((), (), (), ())
