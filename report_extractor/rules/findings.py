"""The lesion record the rules extractor's stages pass along: :class:`Finding`, and a text :class:`Span`.

Stage 5 (:mod:`~report_extractor.rules.grouping`) makes findings from a sentence's lesion words and
sizes; stage 6 (:mod:`~report_extractor.rules.coreference`, :mod:`~report_extractor.rules.corrections`)
merges and corrects them; stage 7 (:mod:`~report_extractor.rules.output`) turns them into the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from report_extractor.rules.parsing import Location, SizeMention
from report_extractor.rules.sections import SectionKind
from schemas.records import Certainty, LesionKind, Qualifier, SizeClass
from schemas.vocabulary import Organ

__all__ = ["Finding", "Span"]


class Span(NamedTuple):
    """A character span ``[start, end)`` of the report."""

    start: int
    end: int


@dataclass(slots=True)
class Finding:
    """One lesion, or one group of lesions, read from one sentence.

    Attributes:
        organ: the organ.
        location: segments, parts, poles and side, as read.
        count: how many lesions (``None`` when ``multiple``).
        multiple: a group of unknown count ("multiple", "numerous", a plural).
        certainty: definite / probable / possible.
        kind: the lesion kind.
        malignancy_text: the text its malignancy class is read from.
        size: its current size mention (the largest, for a group), if any.
        size_class: a size word when no measurement is given.
        quote: the evidence span.
        section: the section it was read in.
        anaphoric: the sentence starts by referring back ("The mass ...", "These ...").
        another: "another" / "additional" / "new" before the lesion word.
        qualifier: a qualifier overriding the size's ("up to" for a group's largest member).
        at_least: the count is a lower bound.
        plural: a group read from a plural phrase without a number ("hepatic metastases").
        multiple_word: "multiple" / "numerous" / "several" ... written (not just a plural).
        summary_cue: the sentence refers back ("interval growth of", "including", "these").
        sizes_mm: largest diameter of every size the sentence gave this organ.
        sentence: index of its sentence.
        announces: its sentence ends with a colon: it announces a list of its members ("three
            metastases:").
        in_addendum: read after the start of an ADDENDUM / correction (which restates findings as an
            impression does).
    """

    organ: Organ
    location: Location
    count: int | None
    multiple: bool
    certainty: Certainty
    kind: LesionKind
    malignancy_text: str
    size: SizeMention | None
    size_class: SizeClass | None
    quote: Span
    section: SectionKind
    anaphoric: bool = False
    another: bool = False
    qualifier: Qualifier | None = None
    at_least: bool = False
    plural: bool = False
    multiple_word: bool = False
    summary_cue: bool = False
    sizes_mm: tuple[float, ...] = ()
    sentence: int = -1
    announces: bool = False
    in_addendum: bool = False
