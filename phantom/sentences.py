"""Sentence-level building blocks of the phantom reports: the text builder (offsets, organ statuses,
evidence spans), negated normal organs, non-target organs and distractor measurements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from phantom.lesions import LesionSpec, Stone
from phantom.phrases import format_number, pick, round_mm
from schemas.records import AlignmentKind, Count, Evidence, Lesion, OrganFinding, OrganStatus
from schemas.vocabulary import Organ

__all__ = [
    "NORMAL_LONG",
    "NORMAL_SHORT",
    "Builder",
    "CaseFacts",
    "article",
    "cap",
    "distractor",
    "other_organ",
]


@dataclass
class CaseFacts:
    """Everything the report may speak about (mask-level truth plus non-lesion findings)."""

    lesions: list[LesionSpec]
    stone: Stone | None
    steatosis: bool
    has_gallbladder: bool
    spleen_length_mm: float


def article(word: str) -> str:
    head = word.split(" ")[0].split(".")[0].split(",")[0]
    if head.isdigit():
        return "an" if head.startswith("8") or head in ("11", "18") else "a"
    return "an" if word[:1].lower() in "aeiou" else "a"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Builder:
    """Appends sentences to the report and records organ statuses, lesions and evidence spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.organs: dict[Organ, OrganFinding] = {}
        self.lesions: list[Lesion] = []
        self.distractors: list[tuple[int, int]] = []

    def raw(self, text: str) -> None:
        self.parts.append(text)
        self.pos += len(text)

    def sentence(self, text: str, distractor: bool = False) -> Evidence:
        if self.parts and not self.parts[-1].endswith(("\n", " ")):
            self.raw(" ")
        start = self.pos
        self.raw(text)
        if distractor:
            self.distractors.append((start, self.pos))
        return Evidence(quote=text, start=start, end=self.pos, alignment=AlignmentKind.EXACT)

    def status(self, organ: Organ, status: OrganStatus, count: Count | None = None) -> None:
        self.organs[organ] = OrganFinding(organ=organ, status=status, count=count)


NORMAL_SHORT: Final[dict[Organ, list[str]]] = {
    Organ.LIVER: ["No focal lesion.", "Normal in size without focal lesion.", "Unremarkable."],
    Organ.PANCREAS: ["Unremarkable.", "No focal lesion or ductal dilatation.", "Normal."],
    Organ.KIDNEY: ["No hydronephrosis or solid mass.", "Unremarkable.", "No suspicious renal lesion."],
}
NORMAL_LONG: Final[dict[Organ, list[str]]] = {
    Organ.LIVER: [
        "No focal hepatic lesion.",
        "The liver is normal in size and attenuation without focal lesion.",
        "No focal liver lesion is identified.",
    ],
    Organ.PANCREAS: [
        "The pancreas is unremarkable.",
        "No pancreatic mass or ductal dilatation.",
        "The pancreas enhances normally without focal lesion.",
    ],
    Organ.KIDNEY: [
        "The kidneys enhance symmetrically without mass or hydronephrosis.",
        "No renal mass or hydronephrosis.",
        "No suspicious renal lesion.",
    ],
}


def distractor(b: Builder, what: str, facts: CaseFacts, rng: np.random.Generator, short: bool) -> None:
    if what == "spleen":
        cm = format_number(round_mm(facts.spleen_length_mm, "cm"), "cm")
        text = (
            f"Normal in size, measuring {cm} cm."
            if short
            else f"The spleen is normal in size, measuring {cm} cm."
        )
        b.sentence(text, distractor=True)
        b.status(Organ.SPLEEN, OrganStatus.NORMAL)
    elif what == "cbd":
        b.sentence(f"The common bile duct measures {int(rng.integers(3, 8))} mm.", distractor=True)
    elif what == "aorta":
        cm = format_number(rng.uniform(1.6, 2.5), "cm")
        b.sentence(f"The abdominal aorta is normal in caliber, measuring {cm} cm.", distractor=True)
    elif rng.random() < 0.4:
        mm = int(rng.integers(6, 11))
        site = pick(rng, ["periportal", "portacaval", "left para-aortic", "mesenteric"])
        b.sentence(f"A {mm} mm short-axis {site} lymph node is likely reactive.", distractor=True)
    else:
        b.sentence("No lymphadenopathy.")


def other_organ(b: Builder, what: str, facts: CaseFacts, rng: np.random.Generator, short: bool) -> None:
    if what == "lung":
        b.sentence("Visualized lung bases are clear." if short else "The visualized lung bases are clear.")
        b.status(Organ.LUNG, OrganStatus.NORMAL)
    elif what == "gallbladder":
        if facts.has_gallbladder:
            b.sentence("Unremarkable gallbladder." if short else "The gallbladder is unremarkable.")
            b.status(Organ.GALLBLADDER, OrganStatus.NORMAL)
        else:
            b.sentence("Status post cholecystectomy.")
            b.status(Organ.GALLBLADDER, OrganStatus.ABSENT)
        distractor(b, "cbd", facts, rng, short)
    elif what == "adrenal":
        b.sentence("Unremarkable." if short else "The adrenal glands are unremarkable.")
        b.status(Organ.ADRENAL_GLAND, OrganStatus.NORMAL)
    elif what == "bone":
        b.sentence("No suspicious osseous lesion.")
        b.status(Organ.BONE, OrganStatus.NORMAL)
    else:
        distractor(b, what, facts, rng, short)
