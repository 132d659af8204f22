"""Phrase bank of the phantom reports: lesion kinds, locations and sizes, each with the facts it states.

Every helper returns the words *and* the record fields those words mean, so the ground-truth extraction
is exactly what the text says (a lesion in segment 6 written as "the right hepatic lobe" has truth
segments 5-8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from phantom.lesions import LesionSpec
from schemas.records import Certainty, LesionKind, Malignancy, Qualifier, Size
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side

__all__ = [
    "ROMAN",
    "KindPhrase",
    "LocationPhrase",
    "SizePhrase",
    "format_number",
    "kind_phrase",
    "location_phrase",
    "pick",
    "round_mm",
    "size_phrase",
]

ROMAN: dict[int, str] = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII", 8: "VIII"}
"""Roman numerals of the Couinaud segments."""


@dataclass(frozen=True)
class KindPhrase:
    """``noun`` ("hypodense lesion"), optional ``suffix`` (", likely a cyst") and what they state."""

    noun: str
    suffix: str
    kind: LesionKind
    certainty: Certainty = Certainty.DEFINITE
    malignancy: Malignancy = Malignancy.UNKNOWN


@dataclass(frozen=True)
class LocationPhrase:
    """A location noun phrase ("hepatic segment VI") and the sub-segments it names."""

    text: str
    liver_segments: tuple[int, ...] = ()
    pancreas_parts: tuple[PancreasPart, ...] = ()
    side: Side | None = None
    kidney_poles: tuple[KidneyPole, ...] = ()


@dataclass(frozen=True)
class SizePhrase:
    """Size words ("2.3 x 1.8 cm") and the measured size they state."""

    text: str
    size: Size


_K = KindPhrase
_D, _P, _S = Certainty.DEFINITE, Certainty.PROBABLE, Certainty.POSSIBLE
_B, _M, _I = Malignancy.BENIGN, Malignancy.MALIGNANT, Malignancy.INDETERMINATE
_KINDS: dict[tuple[Organ, str], list[KindPhrase]] = {
    (Organ.LIVER, "cystic"): [
        _K("hypodense lesion", "", LesionKind.HYPODENSITY),
        _K("low-attenuation lesion", ", likely a cyst", LesionKind.CYST, _P, _B),
        _K("simple cyst", "", LesionKind.CYST, _D, _B),
        _K("hypoattenuating lesion", ", suspicious for metastasis", LesionKind.METASTASIS, _P, _M),
    ],
    (Organ.LIVER, "subtle"): [
        _K("ill-defined hypodensity", "", LesionKind.HYPODENSITY),
        _K("hypoenhancing lesion", ", indeterminate", LesionKind.LESION, _D, _I),
        _K("hypoattenuating focus", ", possibly a metastasis", LesionKind.METASTASIS, _S, _M),
        _K("hypodense lesion", "", LesionKind.HYPODENSITY),
    ],
    (Organ.LIVER, "hyper"): [
        _K("hyperenhancing lesion", ", likely a hemangioma", LesionKind.HEMANGIOMA, _P, _B),
        _K("arterially enhancing lesion", "", LesionKind.LESION),
        _K("hyperdense focus", "", LesionKind.HYPERDENSITY),
    ],
    (Organ.PANCREAS, "cystic"): [
        _K("hypodense mass", ", concerning for adenocarcinoma", LesionKind.MASS, _P, _M),
        _K("cystic lesion", ", likely a side-branch IPMN", LesionKind.CYST, _P, _B),
        _K("hypoattenuating lesion", "", LesionKind.HYPODENSITY),
    ],
    (Organ.PANCREAS, "subtle"): [
        _K("hypoenhancing mass", "", LesionKind.MASS),
        _K("subtle hypoattenuating area", ", cannot exclude a small neoplasm", LesionKind.HYPODENSITY, _S),
        _K("hypodense lesion", "", LesionKind.HYPODENSITY),
    ],
    (Organ.PANCREAS, "hyper"): [
        _K("hyperenhancing lesion", ", possibly a neuroendocrine tumor", LesionKind.TUMOR, _S),
        _K("enhancing nodule", "", LesionKind.NODULE),
    ],
    (Organ.KIDNEY, "cystic"): [
        _K("simple cyst", "", LesionKind.CYST, _D, _B),
        _K("hypodense lesion", ", likely a cyst", LesionKind.CYST, _P, _B),
        _K("low-attenuation lesion", "", LesionKind.LESION),
    ],
    (Organ.KIDNEY, "subtle"): [
        _K("hypoenhancing lesion", "", LesionKind.LESION),
        _K("ill-defined hypodensity", ", cannot exclude a small neoplasm", LesionKind.HYPODENSITY, _S),
    ],
    (Organ.KIDNEY, "hyper"): [
        _K("enhancing solid mass", ", concerning for renal cell carcinoma", LesionKind.MASS, _P, _M),
        _K("hyperdense lesion", ", indeterminate", LesionKind.HYPERDENSITY, _D, _I),
        _K("solid-appearing lesion", "", LesionKind.LESION),
    ],
}


T = TypeVar("T")


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One of ``options``, uniformly."""
    return options[int(rng.integers(len(options)))]


def kind_phrase(lesion: LesionSpec, rng: np.random.Generator) -> KindPhrase:
    """How the radiologist names the lesion, from its organ and attenuation."""
    if lesion.contrast_hu > 0:
        appearance = "hyper"
    elif lesion.contrast_hu <= -40:
        appearance = "cystic"
    else:
        appearance = "subtle"
    if lesion.organ is Organ.KIDNEY and appearance == "subtle" and rng.random() < 0.4:
        appearance = "hyper"  # hypoenhancing solid renal masses are described like enhancing ones
    return pick(rng, _KINDS[(lesion.organ, appearance)])


def _liver(lesion: LesionSpec, rng: np.random.Generator, explicit: bool) -> LocationPhrase:
    segs = [s for s in lesion.segments if 1 <= s <= 8][:2]
    s = segs[0]
    if len(segs) == 2 and rng.random() < 0.8:
        a, b = sorted(segs)
        options = [f"segment {a}/{b}", f"segments {ROMAN[a]}/{ROMAN[b]}", f"segments {a} and {b}"]
        if b == a + 1:
            options.append(f"segments {a}-{b}")
        text = pick(rng, options)
        text = f"hepatic {text}" if explicit or rng.random() < 0.4 else text
        return LocationPhrase(text, liver_segments=(a, b))
    if rng.random() < 0.2:
        lobes: dict[int, list[tuple[str, tuple[int, ...]]]] = {
            1: [("the caudate lobe", (1,))],
            4: [("the left hepatic lobe", (2, 3, 4))],
        }
        lobes.update({k: [("the left lateral segment of the liver", (2, 3))] for k in (2, 3)})
        lobes.update({k: [("the right hepatic lobe", (5, 6, 7, 8))] for k in (5, 6)})
        lobes.update(
            {k: [("the right hepatic lobe", (5, 6, 7, 8)), ("the hepatic dome", (7, 8))] for k in (7, 8)}
        )
        text, segments = pick(rng, lobes[s])
        return LocationPhrase(text, liver_segments=segments)
    if explicit:
        options = [f"hepatic segment {s}", f"hepatic segment {ROMAN[s]}", f"segment {ROMAN[s]} of the liver"]
    else:
        options = [
            f"segment {s}",
            f"segment {ROMAN[s]}",
            f"hepatic segment {s}",
            f"hepatic segment {ROMAN[s]}",
        ]
    return LocationPhrase(pick(rng, options), liver_segments=(s,))


_PANCREAS_WORDS: dict[PancreasPart, list[str]] = {
    PancreasPart.HEAD: ["the pancreatic head", "the head of the pancreas"],
    PancreasPart.UNCINATE: ["the uncinate process", "the pancreatic uncinate process"],
    PancreasPart.NECK: ["the pancreatic neck", "the neck of the pancreas"],
    PancreasPart.BODY: ["the pancreatic body", "the body of the pancreas"],
    PancreasPart.TAIL: ["the pancreatic tail", "the tail of the pancreas"],
}


def _pancreas(lesion: LesionSpec, rng: np.random.Generator) -> LocationPhrase:
    part = lesion.pancreas_part or PancreasPart.HEAD
    if rng.random() < 0.04:
        return LocationPhrase("the pancreas")  # location not stated
    if set(lesion.segments[:2]) == {10, 11}:
        return LocationPhrase(
            "the pancreatic body/tail junction", pancreas_parts=(PancreasPart.BODY, PancreasPart.TAIL)
        )
    if part is PancreasPart.NECK and rng.random() < 0.5:
        return LocationPhrase(
            "the junction of the pancreatic head and body",
            pancreas_parts=(PancreasPart.HEAD, PancreasPart.BODY),
        )
    return LocationPhrase(pick(rng, _PANCREAS_WORDS[part]), pancreas_parts=(part,))


_POLE_WORDS: dict[KidneyPole, list[str]] = {
    KidneyPole.UPPER_POLE: ["the upper pole of the {side} kidney", "the {side} renal upper pole"],
    KidneyPole.INTERPOLAR: ["the interpolar region of the {side} kidney", "the mid {side} kidney"],
    KidneyPole.LOWER_POLE: ["the lower pole of the {side} kidney", "the {side} renal lower pole"],
}


def _kidney(lesion: LesionSpec, rng: np.random.Generator) -> LocationPhrase:
    side = lesion.side or Side.UNKNOWN
    if lesion.pole is None or rng.random() < 0.3:
        return LocationPhrase(f"the {side.value} kidney", side=side)
    text = pick(rng, _POLE_WORDS[lesion.pole]).format(side=side.value)
    return LocationPhrase(text, side=side, kidney_poles=(lesion.pole,))


def location_phrase(lesion: LesionSpec, rng: np.random.Generator, explicit: bool) -> LocationPhrase:
    """Where the lesion is, in words (``explicit``: the organ word must appear, no heading names it)."""
    if lesion.organ is Organ.LIVER:
        return _liver(lesion, rng, explicit)
    if lesion.organ is Organ.PANCREAS:
        return _pancreas(lesion, rng)
    return _kidney(lesion, rng)


def format_number(value: float, unit: str, comma: bool = False) -> str:
    """``value`` (in ``unit``) as a radiologist writes it: cm to 0.1, mm to 1 (decimal comma optional)."""
    text = f"{value:.1f}" if unit == "cm" else f"{value:.0f}"
    return text.replace(".", ",") if comma else text


def round_mm(d_mm: float, unit: str) -> float:
    """Round a diameter (mm) as reported: 0.1 cm or 1 mm steps, at least one step; the value in ``unit``."""
    return max(0.1, round(d_mm / 10.0, 1)) if unit == "cm" else float(max(1, round(d_mm)))


def size_phrase(
    diameters_mm: tuple[float, ...],
    rng: np.random.Generator,
    n_axes: int | None = None,
    unit: str | None = None,
) -> SizePhrase:
    """Words for a size: 1-3 axes (2 usually), cm or mm, "x" / "×" / "by", rare decimal commas."""
    if n_axes is None:
        n_axes = int(rng.choice([1, 2, 3], p=[0.2, 0.7, 0.1]))
    if unit is None:
        unit = "cm" if rng.random() < 0.65 else "mm"
    values = [round_mm(d, unit) for d in diameters_mm[:n_axes]]
    comma = unit == "cm" and rng.random() < 0.03
    sep = pick(rng, [" x ", " x ", " x ", " × ", " by "])
    text = sep.join(format_number(v, unit, comma) for v in values) + f" {unit}"
    scale = 10.0 if unit == "cm" else 1.0
    return SizePhrase(text, Size(diameters_mm=tuple(v * scale for v in values), qualifier=Qualifier.EQUAL))
