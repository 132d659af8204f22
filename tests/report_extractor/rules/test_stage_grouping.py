"""Stage 5 (:mod:`report_extractor.rules.grouping`): one organ's words and sizes → findings."""

from __future__ import annotations

import pytest

from report_extractor.rules.document import read_document
from report_extractor.rules.findings import Finding
from report_extractor.rules.reading import ReadingContext, read_sentence
from report_extractor.rules.sites import location_of
from schemas.records import Qualifier
from schemas.vocabulary import Organ, Side


def _findings(text: str) -> list[Finding]:
    doc = read_document(text)
    out: list[Finding] = []
    context = ReadingContext()
    for sent in doc.sentences:
        reading = read_sentence(doc, sent, context, out, frozenset())
        out.extend(reading.findings)
        context = reading.context
    return out


def _summary(f: Finding) -> tuple[object, ...]:
    size = f.size.size.largest_mm if f.size is not None and f.size.size is not None else None
    return (f.organ, f.count, f.multiple, size, f.location.liver_segments, f.location.side)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Two liver lesions in segments 6 and 7 measuring 2 and 3 cm.",
            [(Organ.LIVER, 1, False, 20.0, (6,), None), (Organ.LIVER, 1, False, 30.0, (7,), None)],
            id="listed-sizes-paired-with-segments",
        ),
        pytest.param(
            "Multiple hepatic cysts up to 1.2 cm.",
            [(Organ.LIVER, None, True, 12.0, (), None)],
            id="multiple-group",
        ),
        pytest.param(
            "Three splenic nodules, the largest 9 mm.",
            [(Organ.SPLEEN, 3, False, 9.0, (), None)],
            id="counted-group",
        ),
        pytest.param(
            "Bilateral adrenal nodules, 2.3 cm on the right and 1.6 cm on the left.",
            [
                (Organ.ADRENAL_GLAND, 1, False, 23.0, (), Side.RIGHT),
                (Organ.ADRENAL_GLAND, 1, False, 16.0, (), Side.LEFT),
            ],
            id="bilateral-one-per-size",
        ),
        pytest.param(
            "Hypodensities in segments 5 and 8.",
            [(Organ.LIVER, 2, False, None, (5, 8), None)],
            id="plural-one-per-listed-segment",
        ),
        pytest.param(
            "A 1.8 cm pancreatic cyst and at least three additional cysts.",
            [(Organ.PANCREAS, 1, False, 18.0, (), None), (Organ.PANCREAS, 3, False, None, (), None)],
            id="another-group-split",
        ),
    ],
)
def test_organ_group(text: str, expected: list[tuple[object, ...]]) -> None:
    assert [_summary(f) for f in _findings(text)] == expected


def test_group_largest_size_is_up_to() -> None:
    (group,) = _findings("Several liver metastases, the largest 4 cm.")
    assert group.qualifier is Qualifier.UP_TO


def test_at_least_count() -> None:
    (group,) = _findings("At least four liver metastases.")
    assert (group.count, group.at_least) == (4, True)


def test_impossible_segment_reads_as_unknown_location() -> None:
    assert location_of("segment 9", 0, 9, Organ.LIVER).is_empty
