"""Stage 6 of the rules extractor, de-duplication and coreference: findings that restate others.

* While reading: :func:`restates_previous` drops a sentence that only refers to the previous lesion
  ("The mass obstructs the duct."), and :func:`largest_member` gives a group described in the previous
  sentence the size and site of its stated largest member ("Numerous liver metastases. The largest, in
  segment 2, measures 4 cm.").
* After reading: :func:`dedupe` drops a group that announces the list of its members ("three
  metastases:"), merges lesions repeated across sentences / FINDINGS and IMPRESSION (same
  organ, compatible side, equal largest size or overlapping location, or an impression or addendum
  restating a findings lesion); a plural summary of lesions already described individually adds nothing.
"""

from __future__ import annotations

import re
from typing import Final

from report_extractor.rules.context import ANOTHER_RE, DIAGNOSIS_LEAD_RE
from report_extractor.rules.cues import Cue
from report_extractor.rules.document import Document
from report_extractor.rules.findings import Finding
from report_extractor.rules.folding import fold
from report_extractor.rules.lexicon import OrganMention
from report_extractor.rules.organs import implied_organ
from report_extractor.rules.parsing import SizeMention
from report_extractor.rules.sections import SectionKind, Sentence
from report_extractor.rules.sites import location_of
from schemas.records import LesionKind, Qualifier
from schemas.vocabulary import PAIRED_ORGANS, Organ, PancreasPart, Side

__all__ = ["dedupe", "largest_member", "restates_previous"]

_LARGEST_MEMBER_RE: Final = re.compile(
    r"^(?:and\s+)?(?:the\s+)?(?:largest|biggest|dominant)\b(?:\s+(?:one|lesion|nodule|cyst|mass|metastasis"
    r"|of\s+(?:these|them|which)))?",
    re.IGNORECASE,
)
_PANCREAS_FAMILY: Final[dict[PancreasPart, tuple[PancreasPart, ...]]] = {
    PancreasPart.UNCINATE: (PancreasPart.UNCINATE, PancreasPart.HEAD),
    PancreasPart.NECK: (PancreasPart.NECK, PancreasPart.HEAD, PancreasPart.BODY),
}
"""Fine pancreas labels also match their coarse part ("uncinate mass" restates "head mass")."""
_GENERIC: Final[tuple[LesionKind, ...]] = (LesionKind.LESION, LesionKind.HYPODENSITY)


def restates_previous(
    doc: Document,
    sent: Sentence,
    cues: list[Cue],
    organs: list[OrganMention],
    sizes: list[SizeMention],
    previous_organ: Organ | None,
    findings: list[Finding],
) -> bool:
    """Whether a sentence naming no organ, size or location only restates the previous lesion.

    "...; metastasis cannot be excluded.", "...; differential includes lymphoma.", "The mass obstructs
    the duct.": a singular lesion word whose organ is inherited from the previous sentence, when that
    organ already has a lesion among ``findings``, adds nothing ("another" / "second" / "new" lesions
    do add one); so does a plural in a sentence that is only a diagnosis ("; suspicious for metastases.").
    """
    diagnosis = DIAGNOSIS_LEAD_RE.match(fold(sent.text)) is not None  # "...; suspicious for metastases."
    if organs or (sent.header_organs and not diagnosis) or sizes or previous_organ is None:
        return False
    positive = [c for c in cues if not c.negated]
    if not positive or any((c.plural and not diagnosis) or c.counted is not None for c in positive):
        return False
    organ = previous_organ
    if any(c.organ is not organ for c in positive) or not any(les.organ is organ for les in findings):
        return False
    if ANOTHER_RE.search(sent.text) or implied_organ(doc.text, sent.start, sent.end) is not None:
        return False
    return location_of(doc.text, sent.start, sent.end, organ).is_empty


def largest_member(doc: Document, sent: Sentence, findings: list[Finding]) -> bool:
    """Give a group described in the previous sentence the size and site of its stated largest member.

    "Numerous liver metastases. The largest, in segment 2, measures 4 cm." / "...; the largest in the
    right lower lobe measures 2.7 cm": the group (the last of ``findings``) keeps its count and takes
    the member's current size and location. Returns whether the sentence was used so.
    """
    if _LARGEST_MEMBER_RE.match(sent.text) is None or not findings:
        return False
    group = findings[-1]
    if group.sentence != sent.index - 1 or not (group.multiple or (group.count or 1) > 1):
        return False
    sizes = [m for m in doc.current_sizes(sent) if m.size]
    if not sizes:
        return False
    largest = max(sizes, key=lambda m: m.size.largest_mm if m.size else 0.0)
    group.size, group.size_class, group.qualifier = largest, None, Qualifier.UP_TO
    location = location_of(doc.text, sent.start, sent.end, group.organ)
    if not location.is_empty:
        group.location = location
    return True


def _restating(lesion: Finding) -> bool:
    """Whether a finding was read where reports restate earlier ones: the IMPRESSION, an ADDENDUM."""
    return lesion.section is SectionKind.IMPRESSION or lesion.in_addendum


def _side_of(lesion: Finding) -> Side | None:
    return lesion.location.side if lesion.organ in PAIRED_ORGANS else None


def _loc_key(lesion: Finding) -> frozenset[object]:
    loc = lesion.location
    parts = [q for p in loc.pancreas_parts for q in _PANCREAS_FAMILY.get(p, (p,))]
    return frozenset((*loc.liver_segments, *parts, *loc.kidney_poles))


def _compatible(a: Finding, b: Finding) -> bool:
    """Whether ``b`` (read later) may describe the same lesion(s) as ``a``."""
    if a.organ is not b.organ:
        return False
    sa, sb = _side_of(a), _side_of(b)
    # a bilateral group told by its largest member's side ("bilateral cysts, the largest on the right")
    # is the same group as a "bilateral" restatement
    regrouped = a.multiple and b.multiple and Side.BILATERAL in (sa, sb)
    if sa is not None and sb is not None and sa is not sb and not regrouped:
        return False
    la, lb = _loc_key(a), _loc_key(b)
    loc_ok = not la or not lb or bool(la & lb)
    if a.size is not None and a.size.size is not None and b.size is not None and b.size.size is not None:
        return abs(a.size.size.largest_mm - b.size.size.largest_mm) <= 1.0 and loc_ok
    if not loc_ok:
        return False
    if (a.size is None) != (b.size is None):
        if b.another:
            return False  # "additional subcentimetre cysts in the body and tail"
        if a.size is None and not la and not a.multiple and a.section is SectionKind.IMPRESSION:
            return True  # an unmeasured, unlocated impression restates the lesion told after it
        if la and lb:
            return True
        if _restating(b) and not _restating(a):
            return True
        return b.anaphoric and not lb
    if b.another:
        return False
    if _restating(b) and not _restating(a):
        return True
    return bool(la and lb) or (not la and not lb and (b.anaphoric or a.multiple == b.multiple))


def _merge(a: Finding, b: Finding) -> None:
    """Fold ``b`` into ``a``: missing size and location, the larger count, a more specific kind."""
    if a.size is None and b.size is not None:
        a.size = b.size
        a.size_class = None
        a.quote = b.quote  # the evidence holds the size
    if a.size is None and a.size_class is None:
        a.size_class = b.size_class
    a.location = a.location.filled_from(b.location)  # "lower pole" told only when unmeasured is kept
    if b.multiple and not a.multiple and (a.count or 1) <= 1:
        a.multiple, a.count, a.at_least = True, None, False
    elif not a.multiple and not b.multiple and (b.count or 1) > (a.count or 1):
        a.count, a.at_least = b.count, b.at_least
    if a.kind in _GENERIC and b.kind not in _GENERIC:
        a.kind = b.kind
    a.malignancy_text += " " + b.malignancy_text


def _is_summary(lesion: Finding, kept: list[Finding]) -> list[Finding]:
    """The earlier lesions a plural summary refers back to, or ``[]`` when it is not a summary.

    A plural phrase without new sizes ("Interval growth of hepatic metastases in segments 8 and 3",
    "Bilateral renal cysts, including a 2.5 cm cyst") restates the lesions its organ already has
    individually described in other sentences when it is in the IMPRESSION or an ADDENDUM or refers back
    ("these", "including", "again seen"). "Multiple" / "numerous" need two described lesions; an
    explicit number must not exceed the described count; "another" / "additional" are never summaries.
    """
    if lesion.another or not (_restating(lesion) or lesion.summary_cue):
        return []
    if not (lesion.plural or (not lesion.multiple and (lesion.count or 1) > 1)):
        return []
    earlier = [
        k for k in kept if k.organ is lesion.organ and k.sentence != lesion.sentence and not k.multiple
    ]
    if not earlier or any(k.multiple for k in kept if k.organ is lesion.organ):
        return []
    described = sum(k.count or 1 for k in earlier)
    if lesion.multiple_word and described < 2:
        return []
    if not lesion.multiple and (lesion.count or 1) > described:
        return []
    known = [k.size.size.largest_mm for k in earlier if k.size is not None and k.size.size is not None]
    if any(all(abs(mm - k) > 1.0 for k in known) for mm in lesion.sizes_mm):
        return []  # a new size: not (only) a restatement
    return earlier


def _absorb(summary: Finding, earlier: list[Finding]) -> None:
    """Keep a summary's information (kind, malignancy words) without counting its lesions again."""
    for other in earlier:
        if other.kind in _GENERIC and summary.kind not in _GENERIC:
            other.kind = summary.kind
        other.malignancy_text += " " + summary.malignancy_text


def _list_members(head: Finding, findings: list[Finding]) -> list[Finding]:
    """The findings of ``head``'s organ in the sentences right after it (one list item per sentence)."""
    members: list[Finding] = []
    expected = head.sentence + 1
    for finding in findings:
        if finding.sentence < expected:
            continue
        if finding.sentence > expected or finding.organ is not head.organ or finding.multiple:
            break
        members.append(finding)
        expected = finding.sentence + 1
    return members


def _without_announcements(findings: list[Finding]) -> list[Finding]:
    """Drop a group that only announces the list of its members ("LIVER: three metastases:⏎- segment 6:
    2.2 cm⏎- ..."): when the items that follow add up to its count (or to two or more for "multiple"),
    they are its members; they take its kind and malignancy words. Fewer items than announced are
    members too, and the group keeps only the rest of its count."""
    kept: list[Finding] = []
    for head in findings:
        if head.announces and head.size is not None and not head.multiple and (head.count or 1) > 1:
            # "2 lesions: segment V 1.2 cm; segment VII 2.0 cm": the group is its own first item
            members = _list_members(head, findings)
            if members and 1 + sum(m.count or 1 for m in members) == head.count:
                head.count = 1
        if head.announces and head.size is None and (head.multiple or (head.count or 1) > 1):
            members = _list_members(head, findings)
            described = sum(m.count or 1 for m in members)
            if members and (described == head.count or (head.multiple and described >= 2)):
                _absorb(head, members)
                continue
            if members and head.count is not None and described < head.count:
                head.count -= described  # "three lesions:" with one item: the item and two more
                _absorb(head, members)
        kept.append(head)
    return kept


def dedupe(findings: list[Finding]) -> list[Finding]:
    """``findings`` without restatements: a group announcing the list that follows gives way to its
    items; each other one is merged into the first compatible earlier one from another sentence, or
    absorbed by the individually described lesions it summarises."""
    kept: list[Finding] = []
    for lesion in _without_announcements(findings):
        earlier = _is_summary(lesion, kept)
        if earlier:
            _absorb(lesion, earlier)
            continue
        for other in kept:
            if other.quote.start != lesion.quote.start and _compatible(other, lesion):
                _merge(other, lesion)
                break
        else:
            kept.append(lesion)
    return kept
