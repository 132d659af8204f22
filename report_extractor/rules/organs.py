"""Stage 3 of the rules extractor, organ and side assignment: which organ each lesion word is about.

:func:`assign_organ` gives a lesion word an organ: an organ word right before it ("renal cyst"), else an
organ after a locative preposition ("mass in the pancreatic head"; not "abutting the duodenum"); an
organ the lesion acts on ("the duodenum is narrowed by a mass in the uncinate process") yields to the
site of the lesion's own phrase (an organ word or a sub-site after it); else
the nearest organ word before it in the sentence, else the organ header ("LIVER:"), else the organ a
location implies ("segment 7" → liver), else the previous sentence's organ (none under a header naming a
site outside the vocabulary, such as ``THYROID:``). A lesion name that implies its organ ("IPMN",
"HCC") is used before headers and the previous sentence's organ. :func:`fold_diagnosis_cues`
gives a lesion noun that only names what an earlier lesion is ("..., suggestive of a cyst") that
lesion's organ and no count; :func:`subject_side` reads the side written with the organ ("The left
kidney ... contains a 1.2 cm cyst").
"""

from __future__ import annotations

import re
from typing import Final

from report_extractor.rules.context import ANOTHER_RE, DIAGNOSIS_LEAD_RE, DIAGNOSIS_TRAIL_RE
from report_extractor.rules.cues import Cue, in_history_context
from report_extractor.rules.document import Document
from report_extractor.rules.folding import caseless, fold
from report_extractor.rules.lexicon import FOREIGN_SITE_RE, OrganMention, named_organ
from report_extractor.rules.sections import Sentence
from schemas.vocabulary import Organ, Side

__all__ = [
    "VERB_IN_GAP_RE",
    "assign_organ",
    "bone_level_finding",
    "fold_diagnosis_cues",
    "implied_organ",
    "sentence_organs",
    "subject_side",
]

_LOCATIVE_RE: Final = re.compile(
    r"^(?:\s+(?:(?:is|are)\s+)?(?:seen|noted|identified|present|located|situated|arising|centered|"
    r"measuring\s+[\d.,]+\s*(?:x\s*[\d.,]+\s*)*(?:mm|cm)|[\d.,]+\s*(?:mm|cm)))*"
    r"\s+(?:in|within|of|involving|from|at|on|along|throughout)\s+(?:the\s+)?[^;,]{0,40}$",
    re.IGNORECASE,
)
_RELATIONAL_RE: Final = re.compile(
    r"\b(?:abut\w*|adjacent|near|nearby|compress\w*|displac\w*|invad\w*|invasion|contact\w*|encas\w*|"
    r"indent\w*|toward|posterior\s+to|anterior\s+to|medial\s+to|lateral\s+to|inferior\s+to|superior\s+to|"
    r"between|extend\w*|into|involv\w+\s+the\s+adjacent|exophytic\s+from|separate\s+from|distinct\s+from"
    r"|narrows)\b",
    re.IGNORECASE,
)
_LOOSE_LOCATIVE_RE: Final = re.compile(
    r"\b(?:in|within|of|involving|from|at|on|along|throughout)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}$",
    re.IGNORECASE,
)
_ADJECTIVE_GAP_RE: Final = re.compile(r"^[\s\w./,×-]{0,40}$")
_AGENT_RE: Final = re.compile(
    r"\b(?:by|caused\s+by|due\s+to|secondary\s+to|related\s+to|from)\b(?:\s+(?:an?|the))?\s+(?:[\w.,×-]+\s+){0,5}$",
    re.IGNORECASE,
)
"""Between an organ word and a lesion word: the lesion acts on the organ ("the duodenum is narrowed by a
3 cm mass", "narrowing of the duodenum by ...", "wall thickening caused by a mass"), it is not in it."""
VERB_IN_GAP_RE: Final = re.compile(
    r"\b(?:is|are|was|were|has|have|contains?|demonstrates?|shows?|with|and|there)\b|[,;]", re.IGNORECASE
)
"""A verb or joint between an organ word and what follows: the organ is a subject, not an adjective."""
_IMPLIED_ORGAN_RE: Final = re.compile(
    r"\b(?P<liver>segments?\s+(?:[1-8]|i{1,3}|iv|vi{0,3}|v)[ab]?\b|caudate|hepatic\s+dome|couinaud)"
    r"|\b(?P<pancreas>uncinate)"
    r"|\b(?P<kidney>(?:upper|lower|mid)[\s-]?poles?|interpolar)"
    # vertebral levels, upper case only; not MRI weightings ("T2 hyperintense") or T stages
    r"|(?-i:(?<!stage\s)\b(?P<bone>T(?:1[0-2]|[1-9])|L[1-5])\b)"
    r"(?![\s-]*(?:weighted|w\b|hyper|hypo|signal|bright|dark|images?|sequences?|tumou?rs?|n\d|stage))",
    re.IGNORECASE,
)
_IMPLIED: Final[dict[str, Organ]] = {
    "liver": Organ.LIVER,
    "pancreas": Organ.PANCREAS,
    "kidney": Organ.KIDNEY,
    "bone": Organ.BONE,
}
_SIDE_BEFORE_RE: Final = re.compile(r"\b(left|right)\s+(?:[a-z-]+\s+)?$", re.IGNORECASE)
_SIZE_RE: Final = re.compile(r"\d\s*(?:mm|cm)\b", re.IGNORECASE)


def sentence_organs(doc: Document, sent: Sentence) -> list[OrganMention]:
    """The organ words of ``sent``, leaving out those in history context ("history of nephrectomy")."""
    return [
        o
        for o in doc.organs_between(sent.start, sent.end)
        if o.end <= sent.end and not in_history_context(doc.folded, sent.start, o.start)
    ]


_BONE_NON_LESION_RE: Final = caseless(
    r"\b(?:fractures?|fx|compression\s+deformit\w+|degenerative|spondylo\w+|\w*listhesis|osteophytes?"
    r"|schmorl\w*|pars\s+defects?)\b",
)
"""Matched against the folded text (:attr:`Document.folded`)."""


def bone_level_finding(doc: Document, lo: int, hi: int) -> bool:
    """Whether ``doc.text[lo:hi]`` describes a vertebral level without a lesion word of its own ("Chance
    fracture of L1", "degenerative change at L4-L5"): the bone is described, for lesions normal."""
    if _BONE_NON_LESION_RE.search(doc.folded, lo, hi) is None:
        return False
    return any(m.lastgroup == "bone" for m in _IMPLIED_ORGAN_RE.finditer(doc.text, lo, hi))


def implied_organ(text: str, lo: int, hi: int) -> Organ | None:
    """The organ a sub-site in ``text[lo:hi]`` implies ("segment 7" → liver, "uncinate" → pancreas,
    "L3" → bone)."""
    m = _IMPLIED_ORGAN_RE.search(text, lo, hi)
    if m is None:
        return None
    return _IMPLIED[m.lastgroup or "liver"]


def assign_organ(
    text: str,
    sent: Sentence,
    cue: Cue,
    organs: list[OrganMention],
    cue_starts: list[int],
    previous_organ: Organ | None,
    *,
    measured: bool = False,
) -> Organ | None:
    """The organ the lesion word ``cue`` is about (see the module docstring for the order of rules).

    Args:
        text: the report.
        sent: the cue's sentence.
        cue: the lesion word.
        organs: the sentence's organ words (:func:`sentence_organs`).
        cue_starts: start offsets of the sentence's lesion words.
        previous_organ: the organ the previous sentence was about.
        measured: the sentence has a current measurement (a lesion name that implies its organ is then
            a finding, not only the report's indication).
    """
    before = [o for o in organs if o.end <= cue.start]
    acted_on = bool(before) and _AGENT_RE.search(text, before[-1].end, cue.start) is not None
    if before and not acted_on:
        gap = text[before[-1].end : cue.start]
        if _ADJECTIVE_GAP_RE.match(gap) and not VERB_IN_GAP_RE.search(gap):
            return before[-1].organ  # "left renal cyst", "pancreatic head mass", "liver 2 cm lesion"
    clause_end = sent.end
    brk = re.search(r"[;.]\s", text[cue.end : sent.end])
    if brk:
        clause_end = cue.end + brk.start()
    for o_start, _o_end, organ in organs:
        if o_start < cue.end or o_start > clause_end or o_start - cue.end > 120:
            continue
        between = text[cue.end : o_start]
        if _RELATIONAL_RE.search(between) or any(cue.end <= c < o_start for c in cue_starts):
            break
        if o_start - cue.end <= 80 and _LOCATIVE_RE.match(between):
            return organ
        # "cyst right kidney" (notes), "an oval cystic area, well defined, is present in the left kidney"
        if (not before or acted_on) and (_LOOSE_LOCATIVE_RE.search(between) or len(between.split()) <= 2):
            return organ
        break
    if acted_on:
        # the lesion's own phrase names its site ("... by a 3 cm mass in the uncinate process")
        implied = implied_organ(text, cue.end, clause_end)
        if implied is not None:
            return implied
    if before:
        return before[-1].organ
    named = named_organ(text[cue.start : cue.end])
    if named is not None and (previous_organ is not None or measured):
        # "IPMN", "HCC", "angiomyolipoma" name their organ (a bare name opening a report is its indication)
        return named
    if FOREIGN_SITE_RE.search(text, sent.start, clause_end):
        return None  # "Right adnexa cystic shadow": a site outside the vocabulary, nothing to inherit
    if len(sent.header_organs) == 1:
        return sent.header_organs[0]
    implied = implied_organ(text, sent.start, sent.end)
    if implied is not None:
        return implied
    if sent.header_organs:
        return sent.header_organs[0]
    return None if sent.foreign_header else previous_organ


def fold_diagnosis_cues(text: str, cues: list[Cue]) -> None:
    """Fold lesion words that only name what an earlier described lesion is into that lesion.

    "hypodense area at the left renal cortex, suggestive of a simple cyst", "adrenal nodules, concerning
    for metastatic lung cancer", "lung nodules, metastasis considered": the diagnosis noun adds no
    lesion, no organ and no count (its kind still informs the group). Changes ``cues`` in place.
    """
    previous: Cue | None = None
    for cue in cues:
        if cue.negated or cue.organ is None:
            continue
        if previous is not None:
            between = text[previous.end : cue.start]
            leads = list(DIAGNOSIS_LEAD_RE.finditer(fold(between)))
            trailing = "," in between and DIAGNOSIS_TRAIL_RE.match(text, cue.end) is not None
            # a size between the lead and the noun describes another lesion ("likely a cyst and a 2 cm mass")
            tail = between[leads[-1].end() :] if leads else between
            if (leads or trailing) and not ANOTHER_RE.search(between) and not _SIZE_RE.search(tail):
                cue.organ = previous.organ
                cue.plural = False
                cue.counted = None
                cue.diagnosis = True
                continue
        previous = cue


def subject_side(doc: Document, sent: Sentence, organ: Organ, before: int) -> Side | None:
    """The side written with the organ's last mention before ``before`` in the sentence ("The left
    kidney measures 10.9 cm and contains a 1.2 cm cyst" → left), or None."""
    for o_start, _o_end, o_organ in reversed(doc.organs_between(sent.start, before)):
        if o_organ is organ:
            m = _SIDE_BEFORE_RE.search(doc.text, max(sent.start, o_start - 20), o_start)
            if m is not None:  # "Right lung, middle lobe nodule": the side is with the first mention
                return Side.LEFT if m.group(1).lower() == "left" else Side.RIGHT
    return None
