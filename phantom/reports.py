"""Free-text phantom reports and their ground-truth extraction (what the *text* says, noise included).

Styles (:class:`ReportStyle`): organ-templated ("LIVER: ... PANCREAS: ..."), narrative FINDINGS +
IMPRESSION, oncology follow-up with prior sizes, and short ED notes. Reports carry negated normal organs,
distractor measurements (spleen length, CBD, aorta, a lymph node), non-lesion findings (renal stone,
steatosis) and report noise: a lesion may be omitted (``omission_prob``) or an organ's lesions summarised
as "multiple ... up to N cm" (``multiple_prob``). The truth record follows the text; the mask-level lesion
list is kept separately by the cohort writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import numpy as np

from phantom.config import PhantomConfig, ReportStyle
from phantom.lesions import LesionSpec
from phantom.phrases import (
    KindPhrase,
    LocationPhrase,
    kind_phrase,
    location_phrase,
    pick,
    round_mm,
    size_phrase,
)
from phantom.sentences import (
    NORMAL_LONG,
    NORMAL_SHORT,
    Builder,
    CaseFacts,
    article,
    cap,
    other_organ,
)
from schemas.records import (
    Count,
    CountKind,
    Lesion,
    OrganStatus,
    Provenance,
    Qualifier,
    ReportExtraction,
    Size,
    SizeClass,
    text_sha256,
)
from schemas.vocabulary import Organ, Side

__all__ = ["GENERATOR_VERSION", "TRUTH_BACKEND", "CaseFacts", "ReportResult", "write_report"]

GENERATOR_VERSION: Final[str] = "1.0"
TRUTH_BACKEND: Final[str] = "phantom-truth"
_CREATED: Final[datetime] = datetime(2025, 1, 1, tzinfo=UTC)  # fixed: same seed, same bytes
_TARGETS: Final[tuple[Organ, ...]] = (Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY)
_ADJ: Final[dict[Organ, str]] = {Organ.LIVER: "hepatic", Organ.PANCREAS: "pancreatic", Organ.KIDNEY: "renal"}
_ORGAN_WORDS: Final[tuple[str, ...]] = ("liver", "hepatic", "pancrea", "kidney", "renal")


@dataclass
class ReportResult:
    """A written report and its truth.

    Attributes:
        text: the report. truth: its ground-truth extraction. style: how it was written.
        reported: per mask lesion (same order as ``CaseFacts.lesions``): ``"individual"``,
            ``"multiple"`` (folded into a "multiple" group) or ``"omitted"``.
        truth_index: per mask lesion, its index in ``truth.lesions`` (None when omitted).
        distractor_spans: ``(start, end)`` of sentences holding non-lesion measurements.
    """

    text: str
    truth: ReportExtraction
    style: ReportStyle
    reported: list[str]
    truth_index: list[int | None]
    distractor_spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class _Said:
    """How one reported lesion was phrased (reused by the impression)."""

    kind: KindPhrase
    loc: LocationPhrase
    noun: str
    size_text: str


def _explicit_noun(kp: KindPhrase, loc: LocationPhrase, organ: Organ) -> str:
    if any(w in loc.text for w in _ORGAN_WORDS):
        return kp.noun
    first, _, last = kp.noun.rpartition(" ")
    return f"{first} {_ADJ[organ]} {last}" if first else f"{_ADJ[organ]} {kp.noun}"


def _prior(diameters: tuple[float, ...], n_axes: int, unit: str, rng: np.random.Generator) -> str:
    grew = rng.random() < 0.6
    factor = rng.uniform(0.6, 0.88) if grew else rng.uniform(1.12, 1.4)
    words = size_phrase(tuple(d * factor for d in diameters), rng, n_axes=n_axes, unit=unit).text
    return pick(
        rng,
        [
            f" (previously {words})",
            f", previously {words}",
            f", {'in' if grew else 'de'}creased from {words}",
        ],
    )


def _lesion(
    b: Builder,
    lesion: LesionSpec,
    style: ReportStyle,
    explicit: bool,
    rng: np.random.Generator,
    cfg: PhantomConfig,
) -> _Said:
    kp = kind_phrase(lesion, rng)
    loc = location_phrase(lesion, rng, explicit)
    noun = _explicit_noun(kp, loc, lesion.organ) if explicit else kp.noun
    size: Size | None = None
    size_class: SizeClass | None = None
    d = lesion.diameters_mm
    if round_mm(d[0], "mm") < 10 and rng.random() < cfg.subcentimeter_word_prob:
        variant = pick(rng, ["sub", "tiny", "tstc"] if not kp.suffix else ["sub", "tiny"])
        if variant == "tiny":
            text, size_class, size_text = f"Tiny {noun} in {loc.text}{kp.suffix}.", SizeClass.TINY, "Tiny"
        elif variant == "sub":
            text = f"Subcentimeter {noun} in {loc.text}{kp.suffix}."
            size_class, size_text = SizeClass.SUBCENTIMETER, "Subcentimeter"
        else:
            text = f"{cap(article(noun))} {noun} in {loc.text} is too small to characterize."
            size_class, size_text = SizeClass.TOO_SMALL_TO_CHARACTERIZE, "Tiny"
    else:
        n_axes = int(rng.choice([1, 2, 3], p=[0.2, 0.7, 0.1]))
        unit = "cm" if rng.random() < 0.65 else "mm"
        sp = size_phrase(d, rng, n_axes=n_axes, unit=unit)
        size, size_text = sp.size, sp.text
        prior = _prior(d, n_axes, unit, rng) if style is ReportStyle.FOLLOWUP and rng.random() < 0.6 else ""
        template = "ed" if style is ReportStyle.ED else pick(rng, ["there", "measures", "measuring"])
        if template == "ed":
            text = f"{sp.text} {noun} in {loc.text}{kp.suffix}."
        elif template == "there":
            text = f"There is {article(sp.text)} {sp.text} {noun} in {loc.text}{kp.suffix}{prior}."
        elif template == "measures":
            text = f"{cap(article(noun))} {noun} in {loc.text} measures {sp.text}{prior}{kp.suffix}."
        else:
            approx = rng.random() < 0.15
            if approx:
                size = Size(diameters_mm=sp.size.diameters_mm, qualifier=Qualifier.APPROXIMATE)
            words = f"approximately {sp.text}" if approx else sp.text
            text = f"{cap(article(noun))} {noun} in {loc.text} measuring {words}{prior}{kp.suffix}."
    evidence = b.sentence(text)
    b.lesions.append(
        Lesion(
            organ=lesion.organ,
            side=loc.side,
            liver_segments=loc.liver_segments,
            pancreas_parts=loc.pancreas_parts,
            kidney_poles=loc.kidney_poles,
            size=size,
            size_class=size_class,
            certainty=kp.certainty,
            kind=kp.kind,
            malignancy=kp.malignancy,
            evidence=evidence,
        )
    )
    return _Said(kp, loc, noun if explicit else _explicit_noun(kp, loc, lesion.organ), size_text)


def _group(b: Builder, organ: Organ, lesions: list[LesionSpec], rng: np.random.Generator) -> None:
    largest = max(lesions, key=lambda les: les.diameters_mm[0])
    sp = size_phrase(largest.diameters_mm, rng, n_axes=1)
    side: Side | None = None
    if organ is Organ.LIVER:
        adj = pick(rng, ["hypodense", "hypoattenuating", "low-attenuation"])
        text = pick(
            rng,
            [
                f"Multiple {adj} hepatic lesions, measuring up to {sp.text}.",
                f"Numerous {adj} lesions throughout the liver, the largest measuring {sp.text}.",
            ],
        )
    elif organ is Organ.PANCREAS:
        text = f"Multiple pancreatic cystic lesions, the largest measuring {sp.text}."
    else:
        sides = {les.side or Side.UNKNOWN for les in lesions}
        side = sides.pop() if len(sides) == 1 else Side.BILATERAL
        text = f"Multiple {side.value} renal hypodensities, measuring up to {sp.text}."
    size = Size(diameters_mm=sp.size.diameters_mm, qualifier=Qualifier.UP_TO)
    evidence = b.sentence(text)
    multiple = Count(kind=CountKind.MULTIPLE, value=None)
    b.lesions.append(Lesion(organ=organ, side=side, size=size, count=multiple, evidence=evidence))
    b.status(organ, OrganStatus.LESION, multiple)


def _organ(
    b: Builder,
    organ: Organ,
    plan: dict[Organ, tuple[str, list[LesionSpec]]],
    said: dict[int, _Said],
    facts: CaseFacts,
    style: ReportStyle,
    rng: np.random.Generator,
    cfg: PhantomConfig,
) -> None:
    """Sentences about one target organ: its lesions (or a group) or a negation, plus non-lesion findings."""
    explicit = style is not ReportStyle.TEMPLATED
    if organ is Organ.LIVER and facts.steatosis:
        b.sentence(
            pick(
                rng,
                [
                    "Diffuse hepatic steatosis.",
                    "The liver is diffusely hypoattenuating, consistent with steatosis.",
                ],
            )
        )
    mode, lesions = plan[organ]
    if mode == "group":
        _group(b, organ, lesions, rng)
    elif lesions:
        for lesion in lesions:
            said[id(lesion)] = _lesion(b, lesion, style, explicit, rng, cfg)
        b.status(organ, OrganStatus.LESION, Count(value=len(lesions)))
        if organ is Organ.LIVER and rng.random() < 0.3:
            b.sentence("No other focal hepatic lesion.")
    elif style is not ReportStyle.ED:
        b.sentence(pick(rng, (NORMAL_LONG if explicit else NORMAL_SHORT)[organ]))
        b.status(organ, OrganStatus.NORMAL)
    if organ is Organ.KIDNEY and facts.stone is not None:
        st = facts.stone
        pole = st.pole.value.replace("_", " ").replace("interpolar", "interpolar region")
        where = f"the {pole} of the {st.side.value} kidney"
        b.sentence(f"Nonobstructing {round(st.diameter_mm):d} mm calculus in {where}.", distractor=True)
        if rng.random() < 0.6:
            b.sentence("No hydronephrosis.")


def _plan(
    facts: CaseFacts, rng: np.random.Generator, cfg: PhantomConfig
) -> dict[Organ, tuple[str, list[LesionSpec]]]:
    plan: dict[Organ, tuple[str, list[LesionSpec]]] = {}
    for organ in _TARGETS:
        lesions = sorted(
            (les for les in facts.lesions if les.organ is organ), key=lambda les: -les.diameters_mm[0]
        )
        if len(lesions) >= 2 and rng.random() < cfg.multiple_prob:
            plan[organ] = ("group", lesions)
        else:
            plan[organ] = ("each", [les for les in lesions if rng.random() >= cfg.omission_prob])
    return plan


def _impression(
    b: Builder, plan: dict[Organ, tuple[str, list[LesionSpec]]], said: dict[int, _Said], facts: CaseFacts
) -> None:
    items: list[str] = []
    for organ in _TARGETS:
        mode, lesions = plan[organ]
        if mode == "group":
            items.append(f"Multiple {_ADJ[organ]} lesions.")
        for lesion in lesions[:2] if mode == "each" else []:
            s = said[id(lesion)]
            size = s.size_text.split(" x ")[0].split(" × ")[0].split(" by ")[0]
            size = (
                size
                if size.endswith(("cm", "mm")) or size in ("Tiny", "Subcentimeter")
                else f"{size} {s.size_text[-2:]}"
            )
            items.append(f"{cap(size)} {s.noun} in {s.loc.text}{s.kind.suffix}.")
    if not items:
        items.append("No focal hepatic, pancreatic, or renal lesion.")
    if facts.steatosis:
        items.append("Hepatic steatosis.")
    if facts.stone is not None:
        items.append(f"Nonobstructing {facts.stone.side.value} nephrolithiasis.")
    b.raw("\n\nIMPRESSION:\n")
    for i, item in enumerate(items, 1):
        b.raw(f"{i}. {item}\n" if i < len(items) else f"{i}. {item}")


def write_report(
    facts: CaseFacts, report_id: str, rng: np.random.Generator, cfg: PhantomConfig
) -> ReportResult:
    """Write one report for ``facts`` in a style drawn from ``cfg.style_weights``."""
    styles = list(cfg.style_weights)
    weights = np.array([cfg.style_weights[s] for s in styles], dtype=float)
    style = ReportStyle(styles[int(rng.choice(len(styles), p=weights / weights.sum()))])
    plan = _plan(facts, rng, cfg)
    said: dict[int, _Said] = {}
    b = Builder()
    if style is ReportStyle.TEMPLATED:
        sections: list[tuple[str, str | Organ]] = [
            ("LOWER CHEST", "lung"),
            ("LIVER", Organ.LIVER),
            ("GALLBLADDER AND BILE DUCTS", "gallbladder"),
            ("PANCREAS", Organ.PANCREAS),
            ("SPLEEN", "spleen"),
            ("ADRENAL GLANDS", "adrenal"),
            ("KIDNEYS AND URETERS", Organ.KIDNEY),
            ("VASCULATURE", "aorta"),
            ("LYMPH NODES", "node"),
            ("BONES AND SOFT TISSUES", "bone"),
        ]
        for n, (title, what) in enumerate(sections):
            b.raw(("\n" if n else "") + f"{title}: ")
            if isinstance(what, Organ):
                _organ(b, what, plan, said, facts, style, rng, cfg)
            else:
                other_organ(b, what, facts, rng, short=True)
    else:
        if style is ReportStyle.FOLLOWUP:
            b.raw(f"COMPARISON: CT abdomen and pelvis from {int(rng.integers(2, 13))} months prior.\n\n")
        b.raw("FINDINGS:\n" if style is not ReportStyle.ED else "CT ABDOMEN/PELVIS WITH CONTRAST:\n")
        order: list[str | Organ] = ["lung", Organ.LIVER, "gallbladder", Organ.PANCREAS, "spleen", "adrenal"]
        order += [Organ.KIDNEY, "aorta", "node", "bone"]
        if style is ReportStyle.ED:
            order = [Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY, "node"]
        for what in order:
            if isinstance(what, Organ):
                _organ(b, what, plan, said, facts, style, rng, cfg)
            else:
                other_organ(b, what, facts, rng, short=False)
        if style is ReportStyle.ED:
            _ed_negations(b, plan)
        else:
            _impression(b, plan, said, facts)
    return _result(b, facts, plan, style, report_id)


def _ed_negations(b: Builder, plan: dict[Organ, tuple[str, list[LesionSpec]]]) -> None:
    names = {
        Organ.LIVER: "liver",
        Organ.PANCREAS: "pancreas",
        Organ.KIDNEY: "kidneys",
        Organ.SPLEEN: "spleen",
    }
    normal = [o for o in names if o is Organ.SPLEEN or (plan[o][0] == "each" and not plan[o][1])]
    words = [names[o] for o in normal]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" and {words[-1]}"
    b.sentence(f"{cap(listed)} {'is' if len(words) == 1 else 'are'} unremarkable.")
    for organ in normal:
        b.status(organ, OrganStatus.NORMAL)
    b.sentence("No free air or free fluid.")


def _result(
    b: Builder,
    facts: CaseFacts,
    plan: dict[Organ, tuple[str, list[LesionSpec]]],
    style: ReportStyle,
    report_id: str,
) -> ReportResult:
    text = "".join(b.parts)
    reported: list[str] = []
    index: list[int | None] = []
    for lesion in facts.lesions:
        mode, listed = plan[lesion.organ]
        group_at = next((i for i, t in enumerate(b.lesions) if t.organ is lesion.organ), None)
        if mode == "group":
            reported.append("multiple")
            index.append(group_at)
        elif any(les is lesion for les in listed):
            reported.append("individual")
            own = [i for i, t in enumerate(b.lesions) if t.organ is lesion.organ]
            index.append(own[next(k for k, les in enumerate(listed) if les is lesion)])
        else:
            reported.append("omitted")
            index.append(None)
    order = [Organ.LUNG, *_TARGETS, Organ.GALLBLADDER, Organ.SPLEEN, Organ.ADRENAL_GLAND, Organ.BONE]
    truth = ReportExtraction(
        report_id=report_id,
        text_sha256=text_sha256(text),
        organs=tuple(b.organs[o] for o in order if o in b.organs),
        lesions=tuple(b.lesions),
        provenance=Provenance(
            backend=TRUTH_BACKEND,
            model=None,
            extractor_version=f"phantom-{GENERATOR_VERSION}",
            created_at=_CREATED,
            decoding={"style": style.value},
        ),
    )
    return ReportResult(text, truth, style, reported, index, list(b.distractors))
