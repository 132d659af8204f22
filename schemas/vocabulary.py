"""Controlled vocabularies: organs, sides, organ sub-segments, and the words reports use for them.

Everything here is data plus tiny lookups; the parsers that read free text live in
:mod:`report_extractor.rules.parsing`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Organ(StrEnum):
    """Organs of the extraction vocabulary (EXTRACTION.md), extendable by adding members."""

    LIVER = "liver"
    PANCREAS = "pancreas"
    KIDNEY = "kidney"
    ADRENAL_GLAND = "adrenal_gland"
    SPLEEN = "spleen"
    GALLBLADDER = "gallbladder"
    BLADDER = "bladder"
    PROSTATE = "prostate"
    UTERUS = "uterus"
    ESOPHAGUS = "esophagus"
    STOMACH = "stomach"
    DUODENUM = "duodenum"
    SMALL_BOWEL = "small_bowel"
    COLON = "colon"
    LUNG = "lung"
    BONE = "bone"
    BREAST = "breast"


PAIRED_ORGANS: Final[frozenset[Organ]] = frozenset(
    {Organ.KIDNEY, Organ.ADRENAL_GLAND, Organ.LUNG, Organ.BREAST}
)
"""Organs that come in left/right pairs: only these carry a :class:`Side`."""


class Side(StrEnum):
    """Laterality of a lesion in a paired organ."""

    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"
    UNKNOWN = "unknown"


class PancreasPart(StrEnum):
    """Fine pancreas sub-segments as reports name them (kept as written)."""

    HEAD = "head"
    UNCINATE = "uncinate"
    NECK = "neck"
    BODY = "body"
    TAIL = "tail"

    @property
    def mask_part(self) -> PancreasPart:
        """The sub-segment that organ masks usually have (head / body / tail): neck, uncinate → head."""
        return PancreasPart.HEAD if self in (PancreasPart.NECK, PancreasPart.UNCINATE) else self


class KidneyPole(StrEnum):
    """Kidney regions along the long axis."""

    UPPER_POLE = "upper_pole"
    INTERPOLAR = "interpolar"
    LOWER_POLE = "lower_pole"


LIVER_SEGMENTS: Final[tuple[int, ...]] = (1, 2, 3, 4, 5, 6, 7, 8)
"""Couinaud segments (segment 4 covers 4a and 4b)."""

LIVER_LOBES: Final[MappingProxyType[str, tuple[int, ...]]] = MappingProxyType(
    {
        "right lobe": (5, 6, 7, 8),
        "left lobe": (2, 3, 4),
        "caudate lobe": (1,),
        "caudate": (1,),
        "left lateral segment": (2, 3),
        "left lateral section": (2, 3),
        "left medial segment": (4,),
        "right anterior segment": (5, 8),
        "right posterior segment": (6, 7),
        "dome": (7, 8),
        "quadrate lobe": (4,),
    }
)
"""Lobe and section names that stand for a set of Couinaud segments."""

# Words that name an organ, longest first when matched (nouns and adjectives alike).
ORGAN_SYNONYMS: Final[MappingProxyType[str, Organ]] = MappingProxyType(
    {
        "liver": Organ.LIVER,
        "hepatic": Organ.LIVER,
        "hepatobiliary": Organ.LIVER,
        "pancreas": Organ.PANCREAS,
        "pancreatic": Organ.PANCREAS,
        "kidney": Organ.KIDNEY,
        "kidneys": Organ.KIDNEY,
        "renal": Organ.KIDNEY,
        "adrenal gland": Organ.ADRENAL_GLAND,
        "adrenal glands": Organ.ADRENAL_GLAND,
        "adrenal": Organ.ADRENAL_GLAND,
        "adrenals": Organ.ADRENAL_GLAND,
        "spleen": Organ.SPLEEN,
        "splenic": Organ.SPLEEN,
        "gallbladder": Organ.GALLBLADDER,
        "gall bladder": Organ.GALLBLADDER,
        "urinary bladder": Organ.BLADDER,
        "bladder": Organ.BLADDER,
        "vesical": Organ.BLADDER,
        "prostate": Organ.PROSTATE,
        "prostatic": Organ.PROSTATE,
        "uterus": Organ.UTERUS,
        "uterine": Organ.UTERUS,
        "esophagus": Organ.ESOPHAGUS,
        "esophageal": Organ.ESOPHAGUS,
        "oesophagus": Organ.ESOPHAGUS,
        "stomach": Organ.STOMACH,
        "gastric": Organ.STOMACH,
        "duodenum": Organ.DUODENUM,
        "duodenal": Organ.DUODENUM,
        "small bowel": Organ.SMALL_BOWEL,
        "small intestine": Organ.SMALL_BOWEL,
        "jejunum": Organ.SMALL_BOWEL,
        "ileum": Organ.SMALL_BOWEL,
        "colon": Organ.COLON,
        "colonic": Organ.COLON,
        "large bowel": Organ.COLON,
        "rectum": Organ.COLON,
        "lung": Organ.LUNG,
        "lungs": Organ.LUNG,
        "pulmonary": Organ.LUNG,
        "bone": Organ.BONE,
        "bones": Organ.BONE,
        "osseous": Organ.BONE,
        "skeletal": Organ.BONE,
        "breast": Organ.BREAST,
        "breasts": Organ.BREAST,
    }
)

RSUPER_ORGAN_NAMES: Final[MappingProxyType[Organ, str]] = MappingProxyType(
    {
        Organ.LIVER: "liver",
        Organ.PANCREAS: "pancreatic",
        Organ.KIDNEY: "kidney",
        Organ.ADRENAL_GLAND: "adrenal gland",
        Organ.SPLEEN: "spleen",
        Organ.GALLBLADDER: "gallbladder",
        Organ.BLADDER: "bladder",
        Organ.PROSTATE: "prostate",
        Organ.UTERUS: "uterus",
        Organ.ESOPHAGUS: "esophagus",
        Organ.STOMACH: "stomach",
        Organ.DUODENUM: "duodenum",
        Organ.SMALL_BOWEL: "small bowel",
        Organ.COLON: "colon",
        Organ.LUNG: "lung",
        Organ.BONE: "bone",
        Organ.BREAST: "breast",
    }
)
"""How the R-Super reference spells each organ in its CSV column names ("pancreatic", ...)."""

_ORGAN_PATTERN: Final[re.Pattern[str]] = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in ORGAN_SYNONYMS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def organ_pattern() -> re.Pattern[str]:
    """A compiled case-insensitive pattern matching any organ word (longest alternatives first)."""
    return _ORGAN_PATTERN


def resolve_organ(text: str) -> Organ:
    """Map an organ name, adjective or enum value to an :class:`Organ`.

    >>> resolve_organ("Hepatic")
    <Organ.LIVER: 'liver'>

    Raises:
        ValueError: naming the input and listing the accepted values when nothing matches.
    """
    key = " ".join(text.strip().lower().replace("_", " ").split())
    if key in ORGAN_SYNONYMS:
        return ORGAN_SYNONYMS[key]
    for organ in Organ:
        if key == organ.value.replace("_", " "):
            return organ
    raise ValueError(
        f"organ: unknown organ {text!r}; expected one of {[o.value for o in Organ]} or a synonym "
        f"such as 'hepatic' or 'renal'."
    )


def resolve_side(text: str) -> Side:
    """Map 'left', 'Rt', 'both', 'bilateral', ... to a :class:`Side`.

    Raises:
        ValueError: naming the input and the accepted values.
    """
    key = text.strip().lower().rstrip(".")
    table = {
        "left": Side.LEFT,
        "lt": Side.LEFT,
        "l": Side.LEFT,
        "right": Side.RIGHT,
        "rt": Side.RIGHT,
        "r": Side.RIGHT,
        "bilateral": Side.BILATERAL,
        "both": Side.BILATERAL,
        "bilaterally": Side.BILATERAL,
        "unknown": Side.UNKNOWN,
        "": Side.UNKNOWN,
    }
    if key not in table:
        raise ValueError(f"side: unknown side {text!r}; expected one of {[s.value for s in Side]}.")
    return table[key]
