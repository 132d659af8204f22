"""Stage 6 (:mod:`report_extractor.rules.coreference`, :mod:`report_extractor.rules.corrections`):
restatements merged, summaries absorbed, corrections applied."""

from __future__ import annotations

import pytest

from report_extractor.rules.coreference import dedupe
from report_extractor.rules.corrections import apply_corrections, blank_replaced_values, corrections_start
from report_extractor.rules.document import read_document
from report_extractor.rules.findings import Finding
from report_extractor.rules.parsing import parse_sizes
from report_extractor.rules.reading import ReadingContext, read_sentence
from report_extractor.rules.sections import SectionKind
from schemas.vocabulary import Organ, Side


def _read(text: str) -> list[Finding]:
    doc = read_document(text)
    out: list[Finding] = []
    context = ReadingContext()
    for sent in doc.sentences:
        if sent.section is SectionKind.HISTORY:
            continue
        reading = read_sentence(doc, sent, context, out, frozenset())
        out.extend(reading.findings)
        context = reading.context
    return out


@pytest.mark.parametrize(
    ("text", "read", "kept"),
    [
        pytest.param(
            "FINDINGS: 2.4 cm mass in the pancreatic tail. IMPRESSION: Pancreatic tail mass.",
            2,
            1,
            id="impression",
        ),
        pytest.param("Liver: 2 cm cyst in segment 7. The 2 cm cyst is simple.", 2, 1, id="same-size"),
        pytest.param(
            "Liver: 2 cm lesion in segment 7. 3 cm lesion in segment 2. IMPRESSION: Two hepatic lesions.",
            3,
            2,
            id="summary-absorbed",
        ),
        pytest.param(
            "Liver: 2 cm cyst in segment 7. Another 3 cm cyst in segment 2.", 2, 2, id="another-kept"
        ),
    ],
)
def test_dedupe(text: str, read: int, kept: int) -> None:
    findings = _read(text)
    assert len(findings) == read
    assert len(dedupe(findings)) == kept


def test_largest_member_gives_the_group_its_size_and_site() -> None:
    (group,) = _read("Numerous liver metastases. The largest, in segment 2, measures 4 cm.")
    assert group.multiple
    assert group.location.liver_segments == (2,)
    assert group.size is not None
    assert group.size.size is not None
    assert group.size.size.largest_mm == 40.0


def test_sentence_restating_the_previous_lesion_adds_none() -> None:
    assert len(_read("A 3 cm mass in the pancreatic head. The mass obstructs the duct.")) == 1


def _corrected(text: str) -> tuple[list[Finding], set[Organ]]:
    start = corrections_start(text)
    assert start is not None
    doc = read_document(blank_replaced_values(text, start))
    out = apply_corrections(doc, _read(doc.text), start, parse_sizes(text))
    return out.findings, out.normal


def test_correction_moves_the_side() -> None:
    (finding,), _ = _corrected(
        "2 cm cyst in the left kidney.\nADDENDUM: the cyst is in the RIGHT kidney, not the left."
    )
    assert finding.location.side is Side.RIGHT


def test_retraction_removes_the_finding_and_leaves_the_organ_normal() -> None:
    findings, normal = _corrected(
        "7 mm nodule in the spleen.\nADDENDUM: the 7 mm nodule is a vessel seen end-on."
    )
    assert findings == []
    assert normal == {Organ.SPLEEN}


def test_added_finding_is_kept() -> None:
    findings, _ = _corrected(
        "2 cm liver cyst in segment 7.\nADDENDUM: a second 9 mm cyst in segment 3 was omitted."
    )
    assert len(findings) == 2
