"""Per-side statuses of paired organs (kidney, adrenal gland, lung, breast): what a report says of each side.

Set only when the report speaks of the sides separately:

* :func:`normal_sides` (read per sentence, stage 3): a side named with its organ and described without
  lesion ("the right kidney is unremarkable", "left lung clear", "- Left: normal" under ``ADRENALS:``,
  ``RIGHT KIDNEY:`` then "Normal."). Both sides at once ("kidneys normal", "both lungs clear", "right and
  left kidneys") set no side: the organ status says it.
* resected sides: :func:`report_extractor.rules.resections.removed_sides`.
* :func:`organ_sides` (stage 7): per side, a lesion on it (left, right or bilateral) > resected >
  described normal; an unmentioned side stays unset. The organ status must equal
  :func:`schemas.records.combine_side_statuses` of the sides: lesions of unknown side after a one-sided
  resection lie on the side that is left; an organ described as normal without a side after a one-sided
  resection is its remaining side; sides that still disagree with the organ status are dropped (the
  organ status, read as before sides existed, stands).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from report_extractor.rules.context import NEGATION_RE, NORMAL_RE
from report_extractor.rules.document import Document
from report_extractor.rules.lexicon import OrganMention
from report_extractor.rules.sections import Sentence, clause_end, clause_start
from schemas.records import OrganStatus, combine_side_statuses
from schemas.vocabulary import PAIRED_ORGANS, Organ, Side

__all__ = ["SideStatuses", "normal_sides", "organ_sides"]

SideStatuses = tuple[OrganStatus | None, OrganStatus | None]
"""Statuses of the (left, right) sides; None: not stated."""

_SIDE_BEFORE_RE: Final = re.compile(
    r"\b(?:(?P<left>left|lt)|(?P<right>right|rt))\.?\s+(?:[a-z-]+\s+)?$", re.I
)
_BOTH_BEFORE_RE: Final = re.compile(
    r"\b(?:both|bilateral(?:ly)?|(?:left|right)\s+(?:and|&|/)\s+(?:left|right))\s+(?:[a-z-]+\s+)?$", re.I
)


def _side_of_mention(text: str, lo: int, mention: OrganMention) -> Side | None:
    """The one side written right before an organ word ("right kidney", "left renal"); None for none,
    both ("both kidneys", "right and left kidneys") or a plural organ word ("lungs")."""
    if text[mention.start : mention.end].lower().endswith("s"):
        return None
    window = max(lo, mention.start - 25)
    if _BOTH_BEFORE_RE.search(text, window, mention.start):
        return None
    m = _SIDE_BEFORE_RE.search(text, window, mention.start)
    if m is None:
        return None
    return Side.LEFT if m.group("left") else Side.RIGHT


def _clause_is_normal(doc: Document, sent: Sentence, mention: OrganMention) -> bool:
    """Whether the clause of an organ word says it has no lesion ("right kidney unremarkable", "no left
    adrenal nodule")."""
    text, folded = doc.text, doc.folded
    lo = clause_start(text, sent.start, mention.start)
    hi = clause_end(folded, mention.end, sent.end)
    return NORMAL_RE.search(folded, lo, hi) is not None or NEGATION_RE.search(folded, lo, hi) is not None


def normal_sides(
    doc: Document,
    sent: Sentence,
    organs: list[OrganMention],
    normal: set[Organ],
    with_lesions: set[Organ],
) -> set[tuple[Organ, Side]]:
    """The sides of paired organs ``sent`` describes without lesion.

    Args:
        doc: the report.
        sent: the sentence.
        organs: its organ words (history context left out).
        normal: the organs the sentence describes without lesion (any of their mentions will do).
        with_lesions: the organs the sentence finds lesions of (their side mentions need a clause of
            their own saying "normal" / "no ...": "cyst in the left kidney, right kidney unremarkable").
    """
    text = doc.text
    found: set[tuple[Organ, Side]] = set()
    for mention in organs:
        organ = mention.organ
        if organ not in PAIRED_ORGANS or (organ not in normal and organ not in with_lesions):
            continue
        side = _side_of_mention(text, sent.start, mention)
        if side is None and organ in sent.header_organs:
            side = sent.header_side if sent.header_side in (Side.LEFT, Side.RIGHT) else None
        if side is None:
            continue
        if organ in normal or _clause_is_normal(doc, sent, mention):
            found.add((organ, side))
    if not organs and sent.header_side in (Side.LEFT, Side.RIGHT):
        for organ in sent.header_organs:  # "RIGHT KIDNEY:" / "- Left:" under "ADRENALS:", then "Normal."
            if organ in PAIRED_ORGANS and organ in normal and sent.header_side is not None:
                found.add((organ, sent.header_side))
    return found


def _other(side: Side) -> Side:
    return Side.RIGHT if side is Side.LEFT else Side.LEFT


def organ_sides(
    status: OrganStatus,
    lesion_sides: Iterable[Side | None],
    removed: Iterable[Side],
    normal: Iterable[Side],
) -> SideStatuses:
    """The (left, right) statuses of a paired organ whose organ-level status is ``status``.

    Args:
        status: the organ status read without sides (``not_mentioned`` when absent from the answer).
        lesion_sides: the sides of the organ's lesions (bilateral: both; None / unknown: no side).
        removed: the sides a resection removed.
        normal: the sides described without lesion.

    Returns ``(None, None)`` when no side is stated or the sides cannot agree with ``status``.

    >>> organ_sides(OrganStatus.NORMAL, [], [Side.LEFT], [Side.RIGHT])
    (<OrganStatus.ABSENT: 'absent'>, <OrganStatus.NORMAL: 'normal'>)
    """
    on: set[Side] = set()
    for side in lesion_sides:
        on |= {Side.LEFT, Side.RIGHT} if side is Side.BILATERAL else {side} if side is not None else set()
    gone, seen = set(removed), set(normal)
    per: dict[Side, OrganStatus | None] = {}
    for side in (Side.LEFT, Side.RIGHT):
        per[side] = (
            OrganStatus.LESION
            if side in on
            else OrganStatus.ABSENT
            if side in gone
            else OrganStatus.NORMAL
            if side in seen
            else None
        )
    stated = [side for side, value in per.items() if value is not None]
    if not stated:
        return None, None
    if len(stated) == 1 and per[stated[0]] is OrganStatus.ABSENT:
        remaining = _other(stated[0])
        if status is OrganStatus.LESION:  # lesions of unknown side lie on the side that is left
            per[remaining] = OrganStatus.LESION
        elif status is OrganStatus.NORMAL:  # the remaining organ, described without a side
            per[remaining] = OrganStatus.NORMAL
    left, right = per[Side.LEFT], per[Side.RIGHT]
    if combine_side_statuses(left, right) is not status:
        return None, None
    return left, right
