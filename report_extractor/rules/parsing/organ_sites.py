"""Sites of organs without a sub-segment vocabulary: lung lobes, colon segments, bone levels, breast
quadrants, stomach and esophagus parts, adrenal limbs.

:func:`read_site` turns the site words of a text into the short canonical phrase a
:attr:`schemas.records.Lesion.site` holds ("right lower lobe" → ``"lower lobe"``, the side going to the
lesion's side; "sigmoid colon" → ``"sigmoid"``; "L3 vertebral body" → ``"L3"``; "left iliac wing" →
``"left iliac wing"``, bone having no side of its own). The vocabulary is one table by category
(:data:`SITE_CATEGORIES`): each entry is a canonical phrase and the pattern of the ways it is written,
compiled into one regular expression per organ. Several sites are joined by ``" / "`` in text order.

Pure Python; every regular expression is compiled once at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from schemas.vocabulary import Organ

__all__ = ["MAX_SITE_CHARS", "SITE_CATEGORIES", "SITE_ORGANS", "SiteCategory", "read_site"]

MAX_SITE_CHARS: Final[int] = 60
"""Longest site written (the LLM-facing schema's bound; the record allows more)."""


@dataclass(frozen=True, slots=True)
class SiteCategory:
    """The sites of one organ: canonical phrase → pattern (a regex fragment, case-insensitive).

    Attributes:
        organ: the organ whose lesions these sites locate.
        entries: ``(canonical, pattern)`` pairs; ``{n}`` in a canonical phrase is filled with the number
            the pattern captures in its ``n`` group (vertebral levels, ribs).
        keep_side: a side word right before the site stays in the phrase (an unpaired organ: bone).
    """

    organ: Organ
    entries: tuple[tuple[str, str], ...]
    keep_side: bool = False


_ORDINALS: Final[dict[str, str]] = {
    word: str(i)
    for i, word in enumerate(
        (
            "first",
            "second",
            "third",
            "fourth",
            "fifth",
            "sixth",
            "seventh",
            "eighth",
            "ninth",
            "tenth",
            "eleventh",
            "twelfth",
        ),
        1,
    )
}
"""Rib numbers written as words ("left sixth rib" → ``"left rib 6"``)."""
_LOBE: Final[str] = r"\s*(?:-|\s)?\s*lobes?\b"
SITE_CATEGORIES: Final[tuple[SiteCategory, ...]] = (
    SiteCategory(
        Organ.LUNG,
        (
            ("upper lobe", r"\b(?:upper|superior)" + _LOBE + r"|(?-i:\b[RL]UL\b)"),
            ("middle lobe", r"\b(?:middle|mid)" + _LOBE + r"|(?-i:\bRML\b)"),
            ("lower lobe", r"\b(?:lower|inferior)" + _LOBE + r"|(?-i:\b[RL]LL\b)"),
            ("lingula", r"\blingula(?:r)?\b"),
        ),
    ),
    SiteCategory(
        Organ.COLON,
        (
            ("ileocecal valve", r"\bileo-?c(?:a)?ecal\s+(?:valve|junction)\b"),
            ("rectosigmoid", r"\brecto-?sigmoid\b"),
            ("cecum", r"\bc(?:a)?ec(?:um|al)\b"),
            ("ascending colon", r"\bascending\s+colon\b|\bright\s+colon\b"),
            ("hepatic flexure", r"\bhepatic\s+flexure\b"),
            ("transverse colon", r"\btransverse\s+colon\b"),
            ("splenic flexure", r"\bsplenic\s+flexure\b"),
            ("descending colon", r"\bdescending\s+colon\b|\bleft\s+colon\b"),
            ("sigmoid", r"\bsigmoid\b"),
            ("rectum", r"\brect(?:um|al)\b"),
        ),
    ),
    SiteCategory(
        Organ.BONE,
        (
            # vertebral levels, upper case only (not "t2-weighted" nor T stages)
            ("C{n}", r"(?-i:\bC(?P<n1>[1-7])\b)(?![\s-]*(?:weighted|w\b))"),
            ("T{n}", r"(?-i:(?<!stage\s)\bT(?P<n2>1[0-2]|[1-9])\b)(?![\s-]*(?:weighted|w\b|hyper|hypo|N\d))"),
            ("L{n}", r"(?-i:\bL(?P<n3>[1-5])\b)"),
            ("sacrum", r"\bsacr(?:um|al)\b|(?-i:\bS[1-5]\b)"),
            ("coccyx", r"\bcoccy(?:x|geal)\b"),
            ("iliac wing", r"\biliac\s+(?:wing|crest)\b"),
            ("ilium", r"\biliac\s+bone\b|\bilium\b"),
            ("acetabulum", r"\bacetabul(?:um|ar)\b"),
            ("ischium", r"\bischi(?:um|al)\b"),
            ("pubic ramus", r"\bpubic\s+rami?\b|\bpubis\b"),
            ("femoral head", r"\bfemoral\s+head\b"),
            ("femoral neck", r"\bfemoral\s+neck\b"),
            ("femur", r"\bfemur\b|\bfemoral\s+(?:shaft|diaphysis)\b"),
            ("humerus", r"\bhumer(?:us|al\s+head)\b"),
            (
                "rib {n}",
                r"\b(?:rib\s+(?P<n4>1[0-2]|[1-9])|(?P<n5>1[0-2]|[1-9])(?:st|nd|rd|th)\s+rib"
                r"|(?P<n6>" + "|".join(_ORDINALS) + r")\s+rib)\b",
            ),
            ("rib", r"\bribs?\b"),
            ("sternum", r"\bstern(?:um|al)\b|\bmanubrium\b"),
            ("scapula", r"\bscapula(?:r)?\b"),
            ("clavicle", r"\bclavic(?:le|ular)\b"),
            ("skull", r"\bcalvari(?:um|al)\b|\bskull\b"),
        ),
        keep_side=True,
    ),
    SiteCategory(
        Organ.BREAST,
        (
            ("upper outer quadrant", r"\bupper[\s-]+outer\s+quadrant\b|(?-i:\bUOQ\b)"),
            ("upper inner quadrant", r"\bupper[\s-]+inner\s+quadrant\b|(?-i:\bUIQ\b)"),
            ("lower outer quadrant", r"\blower[\s-]+outer\s+quadrant\b|(?-i:\bLOQ\b)"),
            ("lower inner quadrant", r"\blower[\s-]+inner\s+quadrant\b|(?-i:\bLIQ\b)"),
            ("retroareolar", r"\b(?:retro|sub)-?areolar\b"),
            ("axillary tail", r"\baxillary\s+tail\b"),
            ("{n} o'clock", r"\b(?P<n7>(?:1[0-2]|[1-9])(?::[03]0)?)\s*o[\u2019']?\s*clock\b"),
        ),
    ),
    SiteCategory(
        Organ.STOMACH,
        (
            ("cardia", r"\bcardia\b|\bgastro-?o?esophageal\s+junction\b"),
            ("fundus", r"\bfund(?:us|ic)\b"),
            ("body", r"\bgastric\s+body\b|\bbody\s+of\s+the\s+stomach\b"),
            ("antrum", r"\bantr(?:um|al)\b"),
            ("pylorus", r"\bpylor(?:us|ic)\b"),
            ("lesser curvature", r"\blesser\s+curvature\b"),
            ("greater curvature", r"\bgreater\s+curvature\b"),
        ),
    ),
    SiteCategory(
        Organ.ESOPHAGUS,
        (
            ("upper third", r"\b(?:upper|proximal|cervical)\s+(?:third\s+of\s+the\s+)?o?esophag\w*"),
            ("middle third", r"\b(?:mid(?:dle)?|thoracic)\s+(?:third\s+of\s+the\s+)?o?esophag\w*"),
            ("lower third", r"\b(?:lower|distal)\s+(?:third\s+of\s+the\s+)?o?esophag\w*"),
            ("gastroesophageal junction", r"\bgastro-?o?esophageal\s+junction\b|(?-i:\bGEJ?\b)"),
        ),
    ),
    SiteCategory(
        Organ.ADRENAL_GLAND,
        (
            ("medial limb", r"\bmedial\s+limb\b"),
            ("lateral limb", r"\blateral\s+limb\b"),
            ("body", r"\badrenal\s+body\b|\bbody\s+of\s+the\s+(?:(?:left|right)\s+)?adrenal\b"),
        ),
    ),
)
"""The site vocabulary by category: one organ each, its sites in the order they lie."""

SITE_ORGANS: Final[frozenset[Organ]] = frozenset(c.organ for c in SITE_CATEGORIES)
"""Organs whose lesions get a :attr:`~schemas.records.Lesion.site`."""

_SIDE_BEFORE: Final[str] = r"(?:(?P<side>left|right)\s+)?"
_LOBE_PAIR_RE: Final = re.compile(
    r"\b(?P<a>upper|middle|lower)\s*(?:and|&|/|,|or)\s*(?P<b>upper|middle|lower)\s+lobes\b", re.IGNORECASE
)
"""Two lobes written with one noun ("right upper and lower lobes")."""


def _compile(category: SiteCategory) -> re.Pattern[str]:
    alternatives = "|".join(f"(?P<e{i}>{pattern})" for i, (_, pattern) in enumerate(category.entries))
    prefix = _SIDE_BEFORE if category.keep_side else ""
    return re.compile(f"{prefix}(?:{alternatives})", re.IGNORECASE)


_PATTERNS: Final[dict[Organ, tuple[SiteCategory, re.Pattern[str]]]] = {
    c.organ: (c, _compile(c)) for c in SITE_CATEGORIES
}


def _canonical(category: SiteCategory, m: re.Match[str]) -> str:
    index = int(next(k for k, v in m.groupdict().items() if v is not None and k.startswith("e"))[1:])
    canonical = category.entries[index][0]
    if "{n}" in canonical:
        number = next(v for k, v in m.groupdict().items() if v is not None and k.startswith("n"))
        canonical = canonical.replace("{n}", _ORDINALS.get(number.lower(), number))
    side = m.groupdict().get("side")
    return f"{side.lower()} {canonical}" if side else canonical


def read_site(text: str, organ: Organ) -> str | None:
    """The canonical site phrase ``text`` names for a lesion of ``organ``, or None.

    Only organs of :data:`SITE_CATEGORIES` have sites; several sites are joined by ``" / "`` in text
    order (repeats kept once), cut to :data:`MAX_SITE_CHARS` at a site boundary.

    >>> read_site("nodule in the right lower lobe", Organ.LUNG)
    'lower lobe'
    >>> read_site("lytic lesions of T12 and the left iliac wing", Organ.BONE)
    'T12 / left iliac wing'
    >>> read_site("segment 7", Organ.LIVER) is None
    True
    """
    entry = _PATTERNS.get(organ)
    if entry is None:
        return None
    category, pattern = entry
    found: list[tuple[int, str]] = []
    if organ is Organ.LUNG:
        for m in _LOBE_PAIR_RE.finditer(text):
            found += [
                (m.start("a"), f"{m.group('a').lower()} lobe"),
                (m.start("b"), f"{m.group('b').lower()} lobe"),
            ]
    found += [(m.start(), _canonical(category, m)) for m in pattern.finditer(text)]
    names = list(dict.fromkeys(name for _, name in sorted(found)))
    # a name another one holds is the same site, less precise ("rib" beside "left rib 6")
    names = [n for n in names if not any(o != n and re.search(rf"\b{re.escape(n)}\b", o) for o in names)]
    site = ""
    for name in names:
        joined = f"{site} / {name}" if site else name
        if len(joined) > MAX_SITE_CHARS:
            break
        site = joined
    return site or None
