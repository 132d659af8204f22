"""Stage 7 (:mod:`report_extractor.rules.output`): findings and organ states → the LLM-shaped answer."""

from __future__ import annotations

from report_extractor.rules.findings import Finding, Span
from report_extractor.rules.output import OrganStates, to_llm_lesion, to_report
from report_extractor.rules.parsing import Location, parse_sizes
from report_extractor.rules.sections import SectionKind
from schemas.llm import LLMUnit
from schemas.records import Certainty, LesionKind, Qualifier
from schemas.vocabulary import Organ, Side

TEXT = "Left renal cyst measuring 2.1 x 1.4 cm."


def _finding(**changes: object) -> Finding:
    base = Finding(
        organ=Organ.KIDNEY,
        location=Location(side=Side.LEFT),
        count=1,
        multiple=False,
        certainty=Certainty.DEFINITE,
        kind=LesionKind.CYST,
        malignancy_text="simple cyst",
        size=parse_sizes(TEXT)[0],
        size_class=None,
        quote=Span(0, len(TEXT)),
        section=SectionKind.FINDINGS,
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_lesion_keeps_written_values_and_unit() -> None:
    lesion = to_llm_lesion(TEXT, _finding())
    assert (lesion.diameters, lesion.unit, lesion.side, lesion.quote) == (
        [2.1, 1.4],
        LLMUnit.CM,
        Side.LEFT,
        TEXT,
    )


def test_group_qualifier_overrides_the_size_qualifier() -> None:
    assert to_llm_lesion(TEXT, _finding(qualifier=Qualifier.UP_TO)).qualifier is Qualifier.UP_TO


def test_unsided_paired_organ_is_unknown() -> None:
    assert to_llm_lesion(TEXT, _finding(location=Location())).side is Side.UNKNOWN


def test_statuses() -> None:
    states = OrganStates(
        complete=frozenset({Organ.GALLBLADDER}),
        remnant=frozenset({Organ.PANCREAS, Organ.ADRENAL_GLAND}),
        described=frozenset({Organ.ADRENAL_GLAND, Organ.LIVER}),
        normal=frozenset({Organ.ADRENAL_GLAND, Organ.LIVER}),
    )
    report = to_report(TEXT, [_finding(), _finding(multiple=True, count=None)], states)
    status = {o.organ: o.status for o in report.organs}
    assert status == {
        Organ.KIDNEY: "lesion",
        Organ.GALLBLADDER: "absent",
        Organ.PANCREAS: "absent",
        Organ.ADRENAL_GLAND: "normal",
        Organ.LIVER: "normal",
    }
    kidney = next(o for o in report.organs if o.organ is Organ.KIDNEY)
    assert kidney.multiple
    assert kidney.count is None
