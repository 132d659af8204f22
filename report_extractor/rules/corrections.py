"""Addenda and corrections: text that changes an earlier finding instead of adding one.

An ADDENDUM (or a "Correction:" line) adds lesions ("a second 9 mm lesion", "was omitted from the
original report"), corrects one ("the renal cyst is in the RIGHT kidney, not the left", "should read
4.2 cm, not 3.2 cm", "the 2.2 cm metastasis is in segment 8 (not 4)", "is actually located in the
tail of the pancreas") or retracts one ("the 7 mm nodule is a vessel seen end-on", "corresponds to
focal fatty infiltration"). This module finds where the corrections start, blanks the replaced values
("not the left", "(not 4)", "not 3.2 cm") so that only the corrected ones are read, and classifies a
correction sentence; :mod:`report_extractor.rules.extractor` then applies it to the lesion it refers to.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

__all__ = ["RELOCATE_RE", "CorrectionKind", "blank_replaced_values", "correction_kind", "corrections_start"]

_I: Final = re.IGNORECASE

_START_RE: Final = re.compile(
    r"(?:^|(?<=[\n.;]))[ \t\-*]*(?:addend(?:um|a)|correction|corrected\s+report|amended\s+report)\b", _I
)
_REPLACED_RE: Final = re.compile(
    r"\(\s*not\s+[^()\n]{1,40}\)"
    r"|\bnot\s+(?:the\s+|in\s+(?:the\s+)?|a\s+|an\s+)?(?:\d+(?:[.,]\d+)?\s*(?:x\s*\d+(?:[.,]\d+)?\s*)?(?:mm|cm)"
    r"|(?:left|right)(?:\s+(?:side|kidney|lobe|adrenal(?:\s+gland)?|lung))?"
    r"|segments?\s+[0-9IVX/]+|(?:upper|lower|mid)\s+pole|head|neck|body|tail|uncinate(?:\s+process)?"
    r"|multiple|(?:[a-z-]+\s+){0,2}(?:cyst|mass|nodule|lesion|tumou?r|metastasis))\b",
    _I,
)
_NEW_RE: Final = re.compile(
    r"\b(?:another|second|third|also|additional(?:ly)?|in\s+addition|new(?:ly)?|omitted|overlooked|missed"
    r"|not\s+(?:previously\s+)?(?:mentioned|described|reported|included|noted|dictated))\b",
    _I,
)
_RETRACT_RE: Final = re.compile(
    r"\b(?:is|are|was|were|represents?|corresponds?\s+to|reflects?|(?:is|are)\s+(?:actually|in\s+fact))\s+"
    r"(?:(?:a|an|the)\s+)?(?:[a-z-]+\s+){0,3}?"
    r"(?:artifacts?|artefacts?|pseudo-?lesions?|vessels?|vascular|perfusion\s+(?:anomal\w+|artifacts?|defects?)"
    r"|(?:focal\s+)?fat(?:ty\s+(?:infiltration|sparing))?|unopacified|bowel|duodenum|jejunum|diverticul\w+"
    r"|partial\s+volume|volume\s+averaging|normal\s+variant|(?:a\s+)?normal\s+\w+)\b"
    r"|\bshould\s+be\s+disregarded\b|\bwas\s+not\s+present\b|\bis\s+retracted\b",
    _I,
)
_REFERS_RE: Final = re.compile(r"\b(?:the|this|that|these|those|correction|corrected|should\s+read)\b", _I)
RELOCATE_RE: Final = re.compile(
    r"\b(?:actually|in\s+fact|rather|instead)\s+(?:located|situated|lies|lying|arises|arising|is)\s+"
    r"(?:in|within|from|at)\b|\barises\s+from\b",
    _I,
)
"""Wording that moves a lesion to another organ or site ("is actually located in the pancreatic tail")."""


class CorrectionKind(StrEnum):
    """What a sentence after the start of the corrections does to earlier findings."""

    NEW = "new"  # adds findings ("a second nodule", "was omitted")
    UPDATE = "update"  # corrects side, site, size or organ of an earlier lesion
    RETRACT = "retract"  # says an earlier lesion is no lesion


def corrections_start(text: str) -> int | None:
    """Where the first ADDENDUM / Correction begins in ``text``, or None when there is none."""
    m = _START_RE.search(text)
    return m.start() if m else None


def blank_replaced_values(text: str, start: int) -> str:
    """``text`` with replaced values after ``start`` blanked by spaces (same length, same offsets).

    "in the RIGHT kidney, not the left" keeps "RIGHT kidney"; "segment 8 (not 4)" keeps "segment 8";
    "should read 4.2 cm, not 3.2 cm" keeps 4.2 cm.
    """
    head, tail = text[:start], text[start:]
    return head + _REPLACED_RE.sub(lambda m: " " * len(m.group(0)), tail)


def correction_kind(sentence: str) -> CorrectionKind:
    """Classify a sentence that follows the start of the corrections."""
    if _RETRACT_RE.search(sentence) and not _NEW_RE.search(sentence):
        return CorrectionKind.RETRACT
    if _NEW_RE.search(sentence) or not _REFERS_RE.search(sentence):
        return CorrectionKind.NEW
    return CorrectionKind.UPDATE
