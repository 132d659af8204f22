"""The rules extractor: report text → :class:`schemas.llm.LLMReport`, as a pipeline of stages.

0. Text that would be misread is blanked, keeping every offset: values an ADDENDUM replaces
   (:mod:`~report_extractor.rules.corrections`) and prior / change cells of pipe tables and legend lists
   (:mod:`~report_extractor.rules.tables`).
1. Sections and lines (:mod:`~report_extractor.rules.document`, :mod:`~report_extractor.rules.sections`):
   sections, sentences and list items; every size (:mod:`~report_extractor.rules.parsing`), organ word and
   lesion phrase (:mod:`~report_extractor.rules.lexicon`) of the text, read once. History-like
   sections (indication, technique, comparison) are read for resections only
   (:mod:`~report_extractor.rules.resections`).
2. Cues and negation / hedging (:mod:`~report_extractor.rules.cues` with the ConText-style lexicon of
   :mod:`~report_extractor.rules.context`; counts in :mod:`~report_extractor.rules.counts`).
3. Organ and side assignment (:mod:`~report_extractor.rules.organs`).
4. Size anchoring (:mod:`~report_extractor.rules.anchoring`).
5. Grouping and counts (:mod:`~report_extractor.rules.grouping`, sites in
   :mod:`~report_extractor.rules.sites`); stages 2-5 run per sentence in
   :mod:`~report_extractor.rules.reading`, ``site: size`` list items with
   :mod:`~report_extractor.rules.lists`.
6. Corrections, de-duplication and coreference (:mod:`~report_extractor.rules.corrections`,
   :mod:`~report_extractor.rules.coreference`).
7. Records (:mod:`~report_extractor.rules.output`), with the per-side statuses of paired organs
   (:mod:`~report_extractor.rules.sides`).
"""

from __future__ import annotations

from report_extractor.rules.coreference import dedupe
from report_extractor.rules.corrections import apply_corrections, blank_replaced_values, corrections_start
from report_extractor.rules.document import read_document
from report_extractor.rules.findings import Finding
from report_extractor.rules.output import OrganStates, to_report
from report_extractor.rules.parsing import parse_sizes
from report_extractor.rules.reading import ReadingContext, read_sentence
from report_extractor.rules.resections import read_resections
from report_extractor.rules.sections import SectionKind
from report_extractor.rules.tables import blank_list_priors, blank_table_priors
from schemas.llm import LLMReport
from schemas.vocabulary import Organ, Side

__all__ = ["extract_report"]


def extract_report(text: str) -> LLMReport:
    """Extract organ statuses and lesions from one report, deterministically.

    Returns the same structure an LLM backend returns (:class:`schemas.llm.LLMReport`): each lesion's
    ``quote`` is a verbatim substring of ``text`` (its sentence, or a ≤300-character window of it)
    containing every number of its size; diameters are given as written with their unit (a unit-less
    size is converted in code and given in mm). Empty text gives an empty report.

    Raises:
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    corrections = corrections_start(text)
    read = text if corrections is None else blank_replaced_values(text, corrections)
    doc = read_document(blank_list_priors(blank_table_priors(read)))
    resections = read_resections(text, doc.sentences)
    findings: list[Finding] = []
    normal: set[Organ] = set()
    described: set[Organ] = set()
    normal_sides: set[tuple[Organ, Side]] = set()
    context = ReadingContext()
    for sent in doc.sentences:
        if sent.section is SectionKind.HISTORY:
            continue
        resected_here = resections.by_sentence.get(sent.index, frozenset())
        reading = read_sentence(doc, sent, context, findings, resected_here)
        findings.extend(reading.findings)
        normal |= reading.normal
        described |= reading.described
        normal_sides |= reading.normal_sides
        context = reading.context
    if corrections is not None:
        for finding in findings:
            finding.in_addendum = doc.sentences[finding.sentence].start >= corrections
        corrected = apply_corrections(doc, findings, corrections, parse_sizes(text))
        findings = corrected.findings
        normal |= corrected.normal
        described |= corrected.described
    kept = dedupe([finding for finding in findings if finding.organ not in resections.complete])
    states = OrganStates(
        complete=resections.complete,
        remnant=resections.remnant,
        described=frozenset(described),
        normal=frozenset(normal),
        removed_sides=resections.sides,
        normal_sides=_by_organ(normal_sides),
    )
    return to_report(text, kept, states)


def _by_organ(pairs: set[tuple[Organ, Side]]) -> dict[Organ, frozenset[Side]]:
    out: dict[Organ, set[Side]] = {}
    for organ, side in pairs:
        out.setdefault(organ, set()).add(side)
    return {organ: frozenset(sides) for organ, sides in out.items()}
