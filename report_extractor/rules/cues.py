"""Stage 2 of the rules extractor, cues and negation / hedging: the lesion words of a sentence.

:func:`sentence_cues` turns the lesion phrases of one sentence into :class:`Cue` objects, leaving out
those in history context ("history of a renal mass"), at non-organ sites (mesenteric, nodal, ...),
RECIST category nouns ("TARGET LESIONS:") and exam protocol names ("PANCREATIC MASS PROTOCOL"). Each
cue is marked negated (a trigger such as "no" /
"without" at most ``NEGATION_MAX_WORDS`` words before with no scope terminator between, "is not seen" /
"has resolved" after, or a generic finding explained away: "hypodensity, likely focal fat") and, when
positive, gets its count phrase (:mod:`report_extractor.rules.counts`). :func:`certainty` reads the
hedging of a group of cues.

The NegEx / ConText choice (regular expressions rather than medspaCy) is explained in
:mod:`report_extractor.rules`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from report_extractor.rules.context import (
    FOREIGN_HINT_RE,
    FOREIGN_SITE_AFTER_RE,
    FOREIGN_SITE_RE,
    HISTORY_CONTEXT_RE,
    HISTORY_HINT_RE,
    NEGATION_MAX_WORDS,
    NEGATION_RE,
    NEGATION_SCOPE_END_RE,
    NON_LESION_AFTER_RE,
    NON_LESION_EXPLANATION_RE,
    POSSIBLE_RE,
    POST_NEGATION_RE,
    POST_POSSIBLE_RE,
    PROBABLE_RE,
    PROTOCOL_AFTER_RE,
    TITLE_RE,
)
from report_extractor.rules.counts import CountPhrase, read_count, read_count_after
from report_extractor.rules.document import Document
from report_extractor.rules.folding import caseless
from report_extractor.rules.lexicon import CUE_KINDS, GENERIC_KINDS, is_plural, named_organ
from report_extractor.rules.lists import is_recist_category
from report_extractor.rules.sections import Sentence, clause_start
from schemas.records import Certainty, LesionKind
from schemas.vocabulary import Organ

__all__ = ["Cue", "certainty", "in_history_context", "is_negated", "sentence_cues"]

_PRIOR_FINDING_RE: Final = re.compile(
    r"\b(?:previously\s+(?:reported|described|noted|seen|identified|demonstrated)|known|prior)\b",
    re.IGNORECASE,
)
_PART_BEFORE_RE: Final = caseless(
    r"\b(?:with|containing|and)\s+(?:an?\s+|the\s+|some\s+|several\s+|few\s+)?(?:\d+(?:[.,]\d+)?\s*(?:mm|cm)\s+)?"
    r"(?:(?:small|tiny|thick|thin|enhancing|solid|non-?enhancing)\s+)*(?:mural|intracystic|septal|peripheral\s+solid)"
    r"\s+$",
)
"""Before a lesion word: it is a part of the lesion just described ("cyst with an enhancing mural
nodule", "a cyst containing a solid mural nodule"), not a lesion of its own."""
_HEDGED_EXPLANATION_RE: Final = caseless(
    r"[^;]{0,60}?\b(?:may|might|could|can)\s+(?:also\s+|possibly\s+)?(?:represent|reflect|be|correspond)\b",
)
_HEDGE_SUBJECT_BREAK_RE: Final = re.compile(r",\s|\s[-–—]\s|:\s")


@dataclass(slots=True)
class Cue:
    """A lesion word of a sentence.

    Attributes:
        start: start of the lesion phrase in the report.
        end: end of the lesion phrase.
        kind: the lesion kind the phrase names.
        plural: the phrase is plural ("cysts", "metastases").
        negated: the phrase is negated or explained away as a non-lesion.
        organ: the organ it is assigned to (stage 3), ``None`` before or when there is none.
        counted: its count phrase ("three", "multiple"), ``None`` when none was written.
        diagnosis: it only names what an earlier lesion word of the sentence is ("..., likely a cyst").
        part: it names a part of the lesion before it ("cyst with a 5 mm mural nodule"), no lesion.
    """

    start: int
    end: int
    kind: LesionKind
    plural: bool
    negated: bool
    organ: Organ | None = None
    counted: CountPhrase | None = None
    diagnosis: bool = False
    part: bool = False


def in_history_context(folded: str, lo: int, pos: int) -> bool:
    """Whether ``pos`` follows a history phrase in ``folded[lo:pos]`` ("history of", "status post", ...);
    ``folded`` is the report's folded text (:attr:`Document.folded`)."""
    h_lo = max(lo, pos - 40)
    return bool(HISTORY_HINT_RE.search(folded, h_lo, pos) and HISTORY_CONTEXT_RE.search(folded, h_lo, pos))


def is_negated(folded: str, sent: Sentence, start: int, end: int) -> bool:
    """Whether the lesion phrase at ``folded[start:end]`` is negated within its sentence (``folded``: the
    report's folded text, :attr:`Document.folded`)."""
    trigger = None
    for m in NEGATION_RE.finditer(folded, max(sent.start, start - 120), start):
        trigger = m
    if trigger is not None:
        gap = folded[trigger.end() : start]
        if len(gap.split()) <= NEGATION_MAX_WORDS and not NEGATION_SCOPE_END_RE.search(gap):
            return True
    return POST_NEGATION_RE.match(folded, end, sent.end) is not None


def _count_of(text: str, sent: Sentence, m: re.Match[str]) -> CountPhrase | None:
    """The count written before a lesion word, else (for a plural) one in brackets after it."""
    before = read_count(text, sent, m.start())
    if before is not None or not is_plural(m.group(0)):
        return before
    return read_count_after(text, sent, m.end())


def sentence_cues(doc: Document, sent: Sentence) -> list[Cue]:
    """The lesion words of ``sent`` (negated ones included, marked), in text order."""
    text, folded = doc.text, doc.folded
    cues: list[Cue] = []
    if (
        sent.index == 0
        and TITLE_RE.search(sent.text)
        and (not any(m.size for m in doc.current_sizes(sent)) or _PRIOR_FINDING_RE.search(sent.text))
    ):
        # "Restaging CT, prostate cancer.", "Follow-up of a previously reported 7 mm renal hypodensity.":
        # the exam's title or indication, not today's finding
        return cues
    for m in doc.cues_between(sent.start, sent.end):
        start, end = m.start(), m.end()
        if end > sent.end:
            continue
        if in_history_context(folded, sent.start, start):
            continue
        f_lo = max(sent.start, start - 30)
        bone = named_organ(m.group(0)) is Organ.BONE  # "sclerotic lesions in the pelvis" are bone lesions
        foreign_before = FOREIGN_HINT_RE.search(folded, f_lo, start) and FOREIGN_SITE_RE.search(
            text, f_lo, start
        )
        foreign_after = FOREIGN_SITE_AFTER_RE.match(folded, end, min(sent.end, end + 50))
        if not bone and (foreign_before or foreign_after):
            continue
        if is_recist_category(text, start, end, sent.start, sent.end):
            continue
        if PROTOCOL_AFTER_RE.match(folded, end, sent.end):
            continue
        kind = CUE_KINDS[m.lastgroup or "lesion"]
        # a generic finding explained as a non-lesion ("hypodensity, likely focal fat") counts as negated
        explained = (
            kind in GENERIC_KINDS
            and (
                NON_LESION_AFTER_RE.match(folded, end, sent.end) is not None
                or NON_LESION_EXPLANATION_RE.match(folded, end + 1, sent.end) is not None
            )
            # "..., which may represent a perfusion anomaly": a hedged explanation leaves a possible lesion
            and _HEDGED_EXPLANATION_RE.match(folded, end, sent.end) is None
        )
        part = _PART_BEFORE_RE.search(folded, max(sent.start, start - 40), start) is not None
        negated = explained or part or is_negated(folded, sent, start, end)
        cues.append(
            Cue(
                start=start,
                end=end,
                kind=kind,
                plural=is_plural(m.group(0)),
                negated=negated,
                counted=None if negated else _count_of(text, sent, m),
                part=part,
            )
        )
    return cues


def certainty(folded: str, sent: Sentence, first: Cue) -> Certainty:
    """The certainty of a lesion group whose first lesion word is ``first`` (``folded``: the report's
    folded text, :attr:`Document.folded`).

    A hedge before the word in its clause ("possible", "likely") decides; after it, only a hedge about
    the lesion's existence ("a small mass ... cannot be excluded") counts, not one with its own subject
    about the lesion's nature ("1.6 cm lesion, metastasis cannot be excluded").
    """
    lo = max(clause_start(folded, sent.start, first.start), first.start - 80)
    if POSSIBLE_RE.search(folded, lo, first.start):
        return Certainty.POSSIBLE
    if PROBABLE_RE.search(folded, lo, first.start):
        return Certainty.PROBABLE
    clause_end = re.search(r"[;.]\s|$", folded[first.end : sent.end])
    hi = first.end + (clause_end.start() if clause_end else 0)
    post = POST_POSSIBLE_RE.search(folded, first.end, hi)
    if post is not None and not _HEDGE_SUBJECT_BREAK_RE.search(folded, first.end, post.start()):
        return Certainty.POSSIBLE
    return Certainty.DEFINITE
