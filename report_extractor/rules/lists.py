"""Lesion lists without lesion nouns: RECIST category headers, "site: size" items and sum lines.

Oncology response reports (RECIST 1.1) and organ templates list lesions as ``site: size`` items
("Liver, segment 7: 34 mm", "- upper pole: 14 mm", "Left adrenal: 16 mm") under category headers
("TARGET LESIONS:", "Non-target:", "New lesions: none"), and close with sums of diameters. This module
recognises those shapes in plain text; :mod:`report_extractor.rules.extractor` turns an item into a
lesion of the organ its label (or the list's header) names.
"""

from __future__ import annotations

import re
from typing import Final

from report_extractor.rules.folding import caseless, fold

__all__ = [
    "ANNOUNCED_LIST_RE",
    "COUNTED_LIST_HEAD_RE",
    "LESION_LIST_HEAD_RE",
    "RECIST_CATEGORY_AFTER_RE",
    "RECIST_CATEGORY_BEFORE_RE",
    "RESPONSE_LINE_RE",
    "SUM_LINE_RE",
    "is_recist_category",
    "is_subsite_label",
    "opens_counted_list",
    "opens_lesion_list",
    "site_label_end",
]

_I: Final = re.IGNORECASE

RECIST_CATEGORY_BEFORE_RE: Final = re.compile(
    r"\b(?:non[- ]?target|target|new|measurable|non[- ]?measurable|index)\s+$", _I
)
"""A RECIST category word right before a lesion noun ("TARGET lesions", "Non-target lesion")."""

_COUNTED_BEFORE_RE: Final = re.compile(
    r"\b(?:a|an|one|two|three|four|five|six|several|multiple|few|some|numerous|\d{1,2})\s+$", _I
)
"""A count or article before a category word makes it an adjective ("two new lesions", "a new nodule")."""

RESPONSE_LINE_RE: Final = re.compile(
    r"^\s*(?:overall\s+|recist\s+|time[\s-]?point\s+)?response(?:\s+(?:assessment|category))?\s*[:=]", _I
)
"""A RECIST response line ("Response: progressive disease (new splenic lesion)"): it sums up the lists
above it and adds no lesion."""

RECIST_CATEGORY_AFTER_RE: Final = re.compile(
    r"\s*(?:\([^)]{0,60}\)|\[[^\]]{0,60}\])?\s*(?:[:.,;]|$|\s+(?:are|include|as\s+follows)\b)", _I
)
"""What follows a category noun that names a list, not a lesion: a colon, the end, "(mm, ...)"."""

LESION_LIST_HEAD_RE: Final = caseless(
    r"\b(?:(?:non[- ]?target|target|new|measurable)\s+(?:lesions?|sites?|disease)?|targets?|non[- ]?targets?"
    r"|the\s+(?:largest|biggest|dominant|measurable)(?:\s+[a-z]+){0,2}?\s+(?:are|being|include|measure)"
    r"|(?:as\s+)?follows)\s*(?:\([^)]{0,60}\)|\[[^\]]{0,60}\])?\s*:"
    r"|^\s*(?:non[- ]?target|target|new|measurable)\s+(?:lesions?|sites?|disease)\s*$"
    r"|^\s*(?:non[- ]?targets?|targets?)\s*$"
    r"|\b(?:two|three|four|five|six|\d)\s+(?:[\w-]+\s+){0,2}(?:lesions|nodules|metastases|cysts|masses|foci)\s*:",
)
"""A line that heads a list of lesions ("Target lesions:", "as follows:"); match it on :func:`fold` of the
text (``caseless``)."""

COUNTED_LIST_HEAD_RE: Final = re.compile(
    r"\b(?:two|three|four|five|six|\d)\s+(?:[\w-]+\s+){0,2}(?:lesions|nodules|metastases|cysts|masses|foci)\s*:",
    _I,
)
"""A counted list head ("Two lesions:"): its list belongs to the organ header it is written under."""
"""A line that opens a list of lesions ("TARGET LESIONS:", "New lesions:", "the largest are:",
"the largest lesions measure:", "2 hypodense lesions:", a bare "TARGETS" line)."""
ANNOUNCED_LIST_RE: Final = re.compile(r":\s*$")
"""A sentence that ends with a colon announces the list that follows ("LIVER: three metastases:")."""

SUM_LINE_RE: Final = re.compile(
    r"^\s*(?:the\s+)?(?:sum|total)\b(?:\s+(?:of|the|target|targets|longest|diameters?|lesions?|measurements?"
    r"|ld|sld|baseline|\(baseline\)))*\s*(?:[:=]|\d|\()",
    _I,
)
"""A sum-of-diameters line: its numbers describe no single lesion."""


def opens_lesion_list(sentence: str) -> bool:
    """Whether ``sentence`` opens a list of lesions (:data:`LESION_LIST_HEAD_RE`).

    Without a colon only the pattern's whole-line forms ("TARGET LESIONS", anchored at the start) can
    match, so such a sentence is tried at its start only.
    """
    folded = fold(sentence)  # the pattern is caseless
    if ":" in sentence:
        return LESION_LIST_HEAD_RE.search(folded) is not None
    return LESION_LIST_HEAD_RE.match(folded) is not None


def opens_counted_list(sentence: str) -> bool:
    """Whether ``sentence`` opens a counted list ("Two lesions:", :data:`COUNTED_LIST_HEAD_RE`)."""
    return ":" in sentence and COUNTED_LIST_HEAD_RE.search(sentence) is not None


_LABEL_RE: Final = re.compile(r"(?:[:,|]|\s[-–—])\s*$")
_SUBSITE_RE: Final = re.compile(
    r"\b(?:segments?|seg|lobes?|lingula|poles?|interpolar|mid[- ]?(?:pole|kidney)|head|neck|body|tail"
    r"|uncinate|caudate|dome|hilum|cortex)\b",
    _I,
)
_BARE_SUBSITE_RE: Final = re.compile(
    r"\s*(?:(?:left|right)\s+)?(?:segments?\s+[0-9ivx/ab-]+|(?:upper|lower|mid)\s+pole|interpolar"
    r"|(?:pancreatic\s+)?(?:head|neck|body|tail|uncinate(?:\s+process)?))\s*",
    _I,
)
_NOT_A_SITE_RE: Final = re.compile(
    r"\b(?:nodes?|lymph|duct|cbd|aorta|artery|vein|length|span|wall\s+thickness|thickness|effusion|bed"
    r"|ascites|sum|total|spleen\s+size|craniocaudal|bipolar|kidney\s+size)\b",
    _I,
)


def is_recist_category(text: str, start: int, end: int, limit_lo: int, limit_hi: int) -> bool:
    """Whether the lesion noun at ``text[start:end]`` names a RECIST list ("TARGET LESIONS:").

    Args:
        text: the report.
        start: start of the lesion noun.
        end: end of the lesion noun.
        limit_lo: start of its sentence (nothing before is looked at).
        limit_hi: end of its sentence.
    """
    before = RECIST_CATEGORY_BEFORE_RE.search(text, max(limit_lo, start - 20), start)
    if before is None or _COUNTED_BEFORE_RE.search(text, max(limit_lo, before.start() - 20), before.start()):
        return False  # "two new lesions, segment 4b 1.9 cm and ...": counted lesions, not a list name
    return RECIST_CATEGORY_AFTER_RE.match(text, end, limit_hi) is not None


def is_subsite_label(label: str) -> bool:
    """Whether a ``label:`` names a sub-site of an organ ("right middle lobe", "lower pole"), so a size
    right after it is a lesion's, not the organ's (unlike "LEFT KIDNEY: 11.0 cm")."""
    return _SUBSITE_RE.search(label) is not None and _NOT_A_SITE_RE.search(label) is None


def site_label_end(text: str, sent_start: int, size_start: int, *, in_list: bool) -> int | None:
    """Where the ``site:`` label of a ``site: size`` item ends, or None when the text is no such item.

    The text from the sentence start to the first current size must be a short label ending in ``:``,
    ``,``, ``|`` or a spaced dash that names a sub-site (segment, lobe, pole, pancreas part, ...), or,
    inside a lesion list (``in_list``), anything but a non-lesion structure (nodes, ducts, vessels, organ
    lengths). Inside a list, a bare sub-site ("segment VII 2.0 cm") is a label too.

    Args:
        text: the report.
        sent_start: start of the sentence (list item).
        size_start: start of the sentence's first current size.
        in_list: the item belongs to a lesion list (a RECIST category or "the largest are:" header).
    """
    label = text[sent_start:size_start]
    if in_list and _BARE_SUBSITE_RE.fullmatch(label):
        return size_start  # "...: segment V 1.2 cm; segment VII 2.0 cm": an item without punctuation
    if not label.strip() or len(label) > 70 or not _LABEL_RE.search(label) or "\n" in label.strip():
        return None
    if _NOT_A_SITE_RE.search(label):
        return None
    if _SUBSITE_RE.search(label) or in_list:
        return size_start
    return None
