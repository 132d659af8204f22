"""The rules extractor: report text → :class:`schemas.llm.LLMReport`, sentence by sentence.

Steps, per report:

1. :func:`~report_extractor.rules.sections.split_report` cuts sections and sentences; history-like
   sections (indication, technique, comparison) are read for resections only.
2. All sizes are read once with :func:`schemas.parsing.parse_sizes` (prior sizes flagged).
3. Per sentence: lesion words (``LESION_CUE_RE``) outside history context and outside non-organ sites
   (mesenteric, nodal, ...), minus negated ones (a trigger such as "no" / "without" at most
   ``NEGATION_MAX_WORDS`` words before, with no scope terminator between, or "is not seen" / "has
   resolved" after) and generic ones explained away ("hypodensity, likely focal fat").
4. Each positive lesion word gets an organ: an organ word right before it ("renal cyst"), else an organ
   after a locative preposition ("mass in the pancreatic head"; not "abutting the duodenum"), else the
   nearest organ word before it in the sentence, else the organ header ("LIVER:"), else the organ a
   location implies ("segment 7" → liver), else the previous sentence's organ.
5. Each current size is attached to the lesion word it describes ("2 cm cyst", "lesion measuring
   2 cm"); sizes attached to distractors (ducts, aorta, nodes, stones, organ lengths) are dropped, and
   so is an organ measurement after a lesion ("the kidney contains a 2 cm cyst and measures 11 cm").
6. Per organ and sentence: counts (numbers, number words, "multiple" / "several" / plural → multiple,
   "at least N" → ``at_least``), one lesion per size when sizes are listed ("2 cm and 3 cm", "bilateral
   nodules, 2.3 cm on the right and 1.6 cm on the left"), paired in order with locations listed before
   them ("segments 6 and 7 measuring 2 and 3 cm"), else one (grouped) lesion with the largest size;
   certainty from hedges before the first lesion word or a trailing "cannot be excluded" about the
   lesion itself (not about its nature); location via :func:`schemas.parsing.parse_location`.
7. Lesions repeated across sentences / FINDINGS and IMPRESSION are merged (same organ, compatible side,
   equal largest size or overlapping location, or an impression restating a findings lesion); a plural
   summary of lesions already described individually adds nothing (see :func:`_is_summary`).
8. Organ statuses: ``lesion`` if it has lesions; ``absent`` after a complete resection (cholecystectomy,
   splenectomy, hysterectomy, prostatectomy, cystectomy, total pancreatectomy, bilateral nephrectomy,
   ...); after a partial one (Whipple / partial pancreatectomy, unilateral nephrectomy or
   adrenalectomy, mastectomy, pneumonectomy) ``absent`` unless the remaining organ is described, in
   which case its own status; ``normal`` when described without lesion (negated lesion, "unremarkable",
   or only non-lesion findings).
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field, replace
from typing import Final

from report_extractor.rules.corrections import (
    RELOCATE_RE,
    CorrectionKind,
    blank_replaced_values,
    correction_kind,
    corrections_start,
)
from report_extractor.rules.lexicon import (
    ANAPHORA_RE,
    ANOTHER_RE,
    COUNT_BLOCKER_RE,
    COUNT_HINT_WORDS,
    COUNT_RE,
    CUE_KINDS,
    CUE_PREFIXES,
    DIAGNOSIS_LEAD_RE,
    DIAGNOSIS_TRAIL_RE,
    DISTRACTOR_RE,
    FOREIGN_HINT_RE,
    FOREIGN_SITE_AFTER_RE,
    FOREIGN_SITE_RE,
    GENERIC_KINDS,
    HEADER_ABSENT_RE,
    HISTORY_CONTEXT_RE,
    HISTORY_HINT_RE,
    KIND_PRIORITY,
    LESION_CUE_RE,
    NEGATION_MAX_WORDS,
    NEGATION_RE,
    NEGATION_SCOPE_END_RE,
    NON_LESION_AFTER_RE,
    NON_LESION_EXPLANATION_RE,
    NORMAL_RE,
    NUMBER_WORDS,
    ORGAN_MEASURE_RE,
    POSSIBLE_RE,
    POST_NEGATION_RE,
    POST_POSSIBLE_RE,
    PROBABLE_RE,
    RESECTION_HINT_RE,
    RESECTIONS,
    SUMMARY_CUE_RE,
    is_plural,
    malignancy,
    organ_mentions,
)
from report_extractor.rules.lists import LESION_LIST_HEAD_RE, SUM_LINE_RE, is_recist_category, site_label_end
from report_extractor.rules.sections import SectionKind, Sentence, split_report
from schemas.llm import MAX_LESIONS, MAX_QUOTE_CHARS, LLMLesion, LLMOrgan, LLMReport, LLMUnit
from schemas.parsing import Location, SizeMention, location_items, parse_location, parse_sizes
from schemas.records import Certainty, LesionKind, Qualifier, SizeClass
from schemas.vocabulary import PAIRED_ORGANS, Organ, PancreasPart, Side

_LOCATIVE_RE: Final = re.compile(
    r"^(?:\s+(?:(?:is|are)\s+)?(?:seen|noted|identified|present|located|situated|arising|centered|"
    r"measuring\s+[\d.,]+\s*(?:x\s*[\d.,]+\s*)*(?:mm|cm)|[\d.,]+\s*(?:mm|cm)))*"
    r"\s+(?:in|within|of|involving|from|at|on|along|throughout)\s+(?:the\s+)?[^;,]{0,40}$",
    re.IGNORECASE,
)
_RELATIONAL_RE: Final = re.compile(
    r"\b(?:abut\w*|adjacent|near|nearby|compress\w*|displac\w*|invad\w*|invasion|contact\w*|encas\w*|"
    r"indent\w*|toward|posterior\s+to|anterior\s+to|medial\s+to|lateral\s+to|inferior\s+to|superior\s+to|"
    r"between|extend\w*|into|involv\w+\s+the\s+adjacent|exophytic\s+from|separate\s+from|distinct\s+from)\b",
    re.IGNORECASE,
)
_LOOSE_LOCATIVE_RE: Final = re.compile(
    r"\b(?:in|within|of|involving|from|at|on|along|throughout)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}$",
    re.IGNORECASE,
)
_ADJECTIVE_GAP_RE: Final = re.compile(r"^[\s\w./,×-]{0,40}$")
_VERB_IN_GAP_RE: Final = re.compile(
    r"\b(?:is|are|was|were|has|have|contains?|demonstrates?|shows?|with|and|there)\b|[,;]", re.IGNORECASE
)
_CLAUSE_BREAK_RE: Final = re.compile(r"[;:(]|,\s|\.\s")
_CHUNK_BREAK_RE: Final = re.compile(r",\s|;|\band\b|\bwhile\b|\bwhereas\b|\bwith\b", re.IGNORECASE)
_LIST_JOIN_RE: Final = re.compile(r"[^;]{0,40}?(?:\band\b|\bor\b|,)", re.IGNORECASE)
_LARGEST_RE: Final = re.compile(r"\b(?:largest|up\s+to|biggest|dominant|ranging)\b", re.IGNORECASE)
_IMPLIED_ORGAN_RE: Final = re.compile(
    r"\b(?P<liver>segments?\s+(?:[1-8]|i{1,3}|iv|vi{0,3}|v)[ab]?\b|caudate|hepatic\s+dome|couinaud)"
    r"|\b(?P<pancreas>uncinate)"
    r"|\b(?P<kidney>(?:upper|lower|mid)[\s-]?poles?|interpolar)",
    re.IGNORECASE,
)
_WORD_RE: Final = re.compile(r"\S+")
_BILATERAL_WORDS_RE: Final = re.compile(
    r"\b(?:bilateral(?:ly)?|both\s+(?:kidneys|adrenals?|adrenal\s+glands|lungs|breasts|sides))\b",
    re.IGNORECASE,
)
_SIDE_BEFORE_RE: Final = re.compile(r"\b(left|right)\s+(?:[a-z-]+\s+)?$", re.IGNORECASE)
_HEDGE_SUBJECT_BREAK_RE: Final = re.compile(r",\s|\s[-–—]\s|:\s")
_ORGAN_LENGTH_AFTER_RE: Final = re.compile(
    r"\s*(?:\(\s*)?(?:in\s+)?(?:(?:the\s+)?(?:greatest|maximal|maximum|overall|total|long|longest)\s+)?"
    r"(?:length|long\b|span|cranio-?caudal\w*|cc\b|longitudinal\w*|bipolar|pole[\s-]to[\s-]pole|sagittal)",
    re.IGNORECASE,
)
_COORDINATED_MEASURE_RE: Final = re.compile(
    r"\b(?:and|but)\s+(?:it\s+|itself\s+|otherwise\s+)?(?:measures|spans|measuring|is\s+(?:normal|enlarged)"
    r"\s+in\s+size)\b",
    re.IGNORECASE,
)
_DIGIT_RE: Final = re.compile(r"\d")
_WHOLE_ORGANS: Final[frozenset[Organ]] = frozenset(
    {Organ.GALLBLADDER, Organ.SPLEEN, Organ.UTERUS, Organ.PROSTATE, Organ.BLADDER}
)


@dataclass(slots=True)
class _Cue:
    start: int
    end: int
    kind: LesionKind
    plural: bool
    negated: bool
    organ: Organ | None = None
    count: int | None = None
    multiple: bool = False
    at_least: bool = False
    explicit_count: bool = False
    bilateral: bool = False  # the count word was "bilateral" (two or more, one per side)
    count_start: int = -1  # where the count phrase starts ("at least three additional ...")


@dataclass(slots=True)
class _Lesion:
    organ: Organ
    location: Location
    count: int | None
    multiple: bool
    certainty: Certainty
    kind: LesionKind
    malignancy_text: str
    size: SizeMention | None
    size_class: SizeClass | None
    quote_start: int
    quote_end: int
    section: SectionKind
    anaphoric: bool = False
    another: bool = False
    qualifier: Qualifier | None = None
    members: list[int] = field(default_factory=list)
    at_least: bool = False
    plural: bool = False  # a group read from a plural phrase without a number ("hepatic metastases")
    multiple_word: bool = False  # "multiple" / "numerous" / "several" ... written (not just a plural)
    summary_cue: bool = False  # the sentence refers back ("interval growth of", "including", "these")
    sizes_mm: tuple[float, ...] = ()  # largest diameter of every size the sentence gave this organ
    sentence: int = -1


@dataclass(slots=True)
class _State:
    text: str
    sizes: list[SizeMention]
    lesions: list[_Lesion] = field(default_factory=list)
    normal: set[Organ] = field(default_factory=set)
    described: set[Organ] = field(default_factory=set)
    complete: set[Organ] = field(default_factory=set)
    remnant: set[Organ] = field(default_factory=set)
    previous_organ: Organ | None = None
    organ_words: list[tuple[int, int, Organ]] = field(default_factory=list)
    organ_starts: list[int] = field(default_factory=list)
    cue_matches: list[re.Match[str]] = field(default_factory=list)
    cue_starts: list[int] = field(default_factory=list)
    resected: dict[int, set[Organ]] = field(default_factory=dict)
    in_list: bool = False  # inside a lesion list ("TARGET LESIONS:", "the largest are:")
    label_side: Side | None = (
        None  # side of the current list item's label read as a header ("- Left adrenal:")
    )


# ----------------------------------------------------------------------------------------------------
# Lesion words
# ----------------------------------------------------------------------------------------------------


_TOKEN_RE: Final = re.compile(r"[A-Za-z]{2,}")


def _cue_matches(text: str) -> list[re.Match[str]]:
    """All lesion-phrase matches, trying the big pattern only at words with a lesion-word prefix."""
    found: list[re.Match[str]] = []
    last_end = 0
    for tok in _TOKEN_RE.finditer(text):
        if tok.start() < last_end or tok.group(0)[:3].lower() not in CUE_PREFIXES:
            continue
        m = LESION_CUE_RE.match(text, tok.start())
        if m is not None and (tok.start() == 0 or not text[tok.start() - 1].isalnum()):
            found.append(m)
            last_end = m.end()
    return found


def _clause_start(text: str, lo: int, pos: int) -> int:
    last = lo
    for m in _CLAUSE_BREAK_RE.finditer(text, lo, pos):
        last = m.end()
    return last


def _is_negated(text: str, sent: Sentence, start: int, end: int) -> bool:
    trigger = None
    for m in NEGATION_RE.finditer(text, max(sent.start, start - 120), start):
        trigger = m
    if trigger is not None:
        gap = text[trigger.end() : start]
        if len(gap.split()) <= NEGATION_MAX_WORDS and not NEGATION_SCOPE_END_RE.search(gap):
            return True
    return POST_NEGATION_RE.match(text, end, sent.end) is not None


def _count(text: str, sent: Sentence, cue: _Cue) -> None:
    lo = max(_clause_start(text, sent.start, cue.start), cue.start - 80)
    window = text[lo : cue.start]
    if not _DIGIT_RE.search(window) and COUNT_HINT_WORDS.isdisjoint(window.lower().split()):
        return
    m = COUNT_RE.search(text, lo, cue.start)
    if m is None:
        return
    if m.group("digit") and COUNT_BLOCKER_RE.search(text, max(0, m.start("digit") - 12), m.start("digit")):
        return
    cue.explicit_count = True
    cue.count_start = m.start()
    if m.group("multiple"):
        cue.multiple = True
        cue.bilateral = m.group("multiple").lower() == "bilateral"
        return
    word = m.group("word")
    value = NUMBER_WORDS[" ".join(word.lower().split())] if word else int(m.group("digit"))
    if value <= 0:
        cue.explicit_count = False
        return
    cue.count = value
    cue.at_least = bool(m.group("atleast"))


def _lesion_cues(state: _State, sent: Sentence) -> list[_Cue]:
    text = state.text
    cues: list[_Cue] = []
    lo = bisect.bisect_left(state.cue_starts, sent.start)
    hi = bisect.bisect_left(state.cue_starts, sent.end)
    for m in state.cue_matches[lo:hi]:
        start, end = m.start(), m.end()
        if end > sent.end:
            continue
        h_lo = max(sent.start, start - 40)
        if HISTORY_HINT_RE.search(text, h_lo, start) and HISTORY_CONTEXT_RE.search(text, h_lo, start):
            continue
        f_lo = max(sent.start, start - 30)
        if (FOREIGN_HINT_RE.search(text, f_lo, start) and FOREIGN_SITE_RE.search(text, f_lo, start)) or (
            FOREIGN_SITE_AFTER_RE.match(text, end, min(sent.end, end + 50))
        ):
            continue
        if is_recist_category(text, start, end, sent.start, sent.end):
            continue
        kind = CUE_KINDS[m.lastgroup or "lesion"]
        # a generic finding explained as a non-lesion ("hypodensity, likely focal fat") counts as negated
        explained = kind in GENERIC_KINDS and (
            NON_LESION_AFTER_RE.match(text, end, sent.end) is not None
            or NON_LESION_EXPLANATION_RE.match(text, end + 1, sent.end) is not None
        )
        cue = _Cue(
            start=start,
            end=end,
            kind=kind,
            plural=is_plural(m.group(0)),
            negated=explained or _is_negated(text, sent, start, end),
        )
        if not cue.negated:
            _count(text, sent, cue)
        cues.append(cue)
    return cues


# ----------------------------------------------------------------------------------------------------
# Organs
# ----------------------------------------------------------------------------------------------------


def _implied_organ(text: str, lo: int, hi: int) -> Organ | None:
    m = _IMPLIED_ORGAN_RE.search(text, lo, hi)
    if m is None:
        return None
    return {"liver": Organ.LIVER, "pancreas": Organ.PANCREAS, "kidney": Organ.KIDNEY}[m.lastgroup or "liver"]


def _assign_organ(
    state: _State, sent: Sentence, cue: _Cue, organs: list[tuple[int, int, Organ]], cue_starts: list[int]
) -> Organ | None:
    text = state.text
    before = [o for o in organs if o[1] <= cue.start]
    if before:
        o_start, o_end, organ = before[-1]
        gap = text[o_end : cue.start]
        if _ADJECTIVE_GAP_RE.match(gap) and not _VERB_IN_GAP_RE.search(gap):
            return organ  # "left renal cyst", "pancreatic head mass", "liver 2 cm lesion"
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
        if not before and (_LOOSE_LOCATIVE_RE.search(between) or len(between.split()) <= 2):
            return organ
        break
    if before:
        return before[-1][2]
    if len(sent.header_organs) == 1:
        return sent.header_organs[0]
    implied = _implied_organ(text, sent.start, sent.end)
    if implied is not None:
        return implied
    if sent.header_organs:
        return sent.header_organs[0]
    return state.previous_organ


# ----------------------------------------------------------------------------------------------------
# Sizes
# ----------------------------------------------------------------------------------------------------


def _words_between(text: str, lo: int, hi: int) -> int:
    return len(_WORD_RE.findall(text, lo, hi))


def _organ_measure_after(
    text: str,
    sent: Sentence,
    size: SizeMention,
    cue: _Cue,
    organs: list[tuple[int, int, Organ]],
    sizes: list[SizeMention],
) -> bool:
    """Whether a size after a lesion word measures the organ ("the kidney contains a 2 cm cyst and
    measures 11 cm", "... cyst, measuring 10.5 cm in length"), not the lesion.

    A coordinated "and measures" whose subject is the organ (an organ word before the lesion word, a
    verb between) gives the size to the organ; so does an organ-length word after the size ("in
    length", "craniocaudal") when the lesion already has its own attributive size ("2 cm cyst"). A
    lesion's own "which measures 2 cm in craniocaudal dimension" stays the lesion's.
    """
    subject = any(
        o_end <= cue.start and _VERB_IN_GAP_RE.search(text, o_end, cue.start) for _, o_end, _ in organs
    )
    length_after = _ORGAN_LENGTH_AFTER_RE.match(text, size.end, min(sent.end, size.end + 40)) is not None
    if subject and _COORDINATED_MEASURE_RE.search(text, cue.end, size.start):
        return True
    if not length_after:
        return False
    return any(
        s is not size
        and s.end <= cue.start
        and _words_between(text, s.end, cue.start) <= 3
        and not re.search(r"[,;(]", text[s.end : cue.start])
        for s in sizes
    )


def _size_anchor(
    text: str,
    sent: Sentence,
    size: SizeMention,
    cues: list[_Cue],
    organs: list[tuple[int, int, Organ]],
    sizes: list[SizeMention],
) -> _Cue | None:
    """The lesion word a size describes, or None (a distractor or nothing)."""
    # Attributive: "2 cm cyst", "1.5 cm lymph node", "5 mm stone".
    after_limit = min(sent.end, size.end + 60)
    next_cue = next((c for c in cues if size.end <= c.start < after_limit), None)
    next_distractor = DISTRACTOR_RE.search(text, size.end, after_limit)
    candidates: list[tuple[int, _Cue | None]] = []
    if next_cue is not None:
        candidates.append((next_cue.start, next_cue))
    if next_distractor is not None:
        candidates.append((next_distractor.start(), None))
    if candidates:
        pos, cue = min(candidates, key=lambda c: c[0])
        gap = text[size.end : pos]
        if _words_between(text, size.end, pos) <= 3 and not re.search(r"[,;(]", gap):
            return cue if cue is not None and not cue.negated else None
    # Predicative: "lesion measuring 2 cm", "the CBD measures 8 mm", "spleen measures 13 cm".
    last_pos = -1
    last: _Cue | None = None
    found = False
    for c in cues:
        if c.end <= size.start and c.end > last_pos:
            last_pos, last, found = c.end, c, True
    for m in DISTRACTOR_RE.finditer(text, sent.start, size.start):
        if m.end() > last_pos:
            last_pos, last, found = m.end(), None, True
    first_cue_start = min((c.start for c in cues), default=sent.end)
    for o_start, o_end, _organ in organs:
        measured = ORGAN_MEASURE_RE.match(text, o_end, size.start) if o_end <= size.start else None
        if measured and o_start < first_cue_start and o_end > last_pos:
            last_pos, last, found = o_end, None, True
    if found and last is not None and _organ_measure_after(text, sent, size, last, organs, sizes):
        return None
    if found:
        return last if last is not None and not last.negated else None
    positive = [c for c in cues if not c.negated]
    if not positive:
        return None
    return min(positive, key=lambda c: min(abs(c.start - size.end), abs(size.start - c.end)))


# ----------------------------------------------------------------------------------------------------
# Building lesions
# ----------------------------------------------------------------------------------------------------


def _certainty(text: str, sent: Sentence, first: _Cue) -> Certainty:
    lo = max(_clause_start(text, sent.start, first.start), first.start - 80)
    if POSSIBLE_RE.search(text, lo, first.start):
        return Certainty.POSSIBLE
    if PROBABLE_RE.search(text, lo, first.start):
        return Certainty.PROBABLE
    clause_end = re.search(r"[;.]\s|$", text[first.end : sent.end])
    hi = first.end + (clause_end.start() if clause_end else 0)
    post = POST_POSSIBLE_RE.search(text, first.end, hi)
    if post is not None and not _HEDGE_SUBJECT_BREAK_RE.search(text, first.end, post.start()):
        # "a small mass in the uncinate process cannot be excluded": the existence is hedged; in
        # "1.6 cm lesion ..., metastasis cannot be excluded" the hedge has its own subject (the nature)
        return Certainty.POSSIBLE
    return Certainty.DEFINITE


def _location(text: str, lo: int, hi: int, organ: Organ) -> Location:
    """Location of ``text[lo:hi]`` for ``organ``; an impossible segment ("segment 9") reads as unknown."""
    try:
        return parse_location(text[lo:hi], organ)
    except ValueError:
        return Location()


def _group_span(text: str, sent: Sentence, cues: list[_Cue], sizes: list[SizeMention]) -> tuple[int, int]:
    """Text to read a group's location from: a little before its first word to the end of its clause."""
    first = min(c.start for c in cues)
    lo = max(_clause_start(text, sent.start, first), first - 45)
    last = max([c.end for c in cues] + [s.end for s in sizes])
    brk = re.search(r";|\.\s|,\s+(?=(?:the\s+)?(?:left|right|no|without)\b)", text[last : sent.end])
    hi = last + brk.start() if brk else sent.end
    return lo, hi


def _chunk(text: str, sent: Sentence, sizes: list[SizeMention], i: int) -> tuple[int, int]:
    """The clause around the i-th of several listed sizes ("2 cm lesion in segment 7 and 3 cm ...")."""
    size = sizes[i]
    floor = sizes[i - 1].end if i > 0 else sent.start
    ceiling = sizes[i + 1].start if i + 1 < len(sizes) else sent.end
    lo = floor
    for m in _CHUNK_BREAK_RE.finditer(text, floor, size.start):
        lo = m.end()
    m2 = _CHUNK_BREAK_RE.search(text, size.end, ceiling)
    hi = m2.start() if m2 else ceiling
    return lo, hi


def _quote(text: str, sent: Sentence, lo: int, hi: int) -> tuple[int, int]:
    """A verbatim span ≤ MAX_QUOTE_CHARS: the sentence, else a window around ``lo:hi``."""
    if sent.end - sent.start <= MAX_QUOTE_CHARS:
        return sent.start, sent.end
    if hi - lo > MAX_QUOTE_CHARS:
        hi = lo + MAX_QUOTE_CHARS
    spare = MAX_QUOTE_CHARS - (hi - lo)
    start = max(sent.start, lo - spare // 2)
    end = min(sent.end, start + MAX_QUOTE_CHARS)
    start = max(sent.start, end - MAX_QUOTE_CHARS)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _subject_side(state: _State, sent: Sentence, organ: Organ, before: int) -> Side | None:
    """The side written with the organ's last mention before ``before`` in the sentence ("The left
    kidney measures 10.9 cm and contains a 1.2 cm cyst" → left), or None."""
    lo = bisect.bisect_left(state.organ_starts, sent.start)
    hi = bisect.bisect_left(state.organ_starts, before)
    for o_start, _o_end, o_organ in reversed(state.organ_words[lo:hi]):
        if o_organ is organ:
            m = _SIDE_BEFORE_RE.search(state.text, max(sent.start, o_start - 20), o_start)
            if m is None:
                return None
            return Side.LEFT if m.group(1).lower() == "left" else Side.RIGHT
    return None


def _pair_locations(
    text: str, g_lo: int, first_size: int, g_hi: int, organ: Organ, group: Location, out: list[_Lesion]
) -> None:
    """Pair listed lesions with locations listed before the sizes, in order, when the counts match.

    "Two lesions in segments 6 and 7 measuring 2 and 3 cm" → segment 6 (2 cm), segment 7 (3 cm); a
    lesion whose own clause names no side inherits the group's single side ("... in the right kidney
    measuring 1.2 cm (upper pole) and 0.8 cm (lower pole)").
    """
    try:
        items = location_items(text[g_lo:first_size], organ)
        after = location_items(text[first_size:g_hi], organ) if len(items) == len(out) else []
    except ValueError:
        items, after = [], []
    if len(items) == len(out) >= 2 and not after:
        for les, item in zip(out, items, strict=True):
            if item.liver_segments:
                les.location = replace(les.location, liver_segments=item.liver_segments)
            elif item.pancreas_parts:
                les.location = replace(les.location, pancreas_parts=item.pancreas_parts)
            elif item.kidney_poles:
                les.location = replace(les.location, kidney_poles=item.kidney_poles)
            else:
                les.location = replace(les.location, side=item.side)
    if organ in PAIRED_ORGANS and group.side in (Side.LEFT, Side.RIGHT):
        for les in out:
            if les.location.side is None:
                les.location = replace(les.location, side=group.side)


_ONE_PER_SIDE: Final[frozenset[Organ]] = frozenset({Organ.ADRENAL_GLAND})
"""Paired organs where "bilateral X nodules" reads as one lesion per side (adrenal glands)."""


def _listed_sites(text: str, lo: int, hi: int, organ: Organ) -> int:
    """How many numbered liver segments a plural lesion phrase lists ("in segments 5 and 8" → 2).

    Parts, poles and sides are not counted ("cysts in both kidneys" stays a group of unknown size).
    """
    if organ is not Organ.LIVER:
        return 0  # numbered segments are sites; "cysts in the body and tail" may be many
    try:
        items = location_items(text[lo:hi], organ)
    except ValueError:
        return 0
    return len([item for item in items if item.side is None])


def _organ_group(
    state: _State,
    sent: Sentence,
    organ: Organ,
    cues: list[_Cue],
    sizes: list[SizeMention],
    classes: list[SizeMention],
    floor: int = -1,
) -> list[_Lesion]:
    text = state.text
    for k, cue in enumerate(cues):
        # "1.8 cm cyst in the tail and at least three additional cysts": two groups, counted apart
        if k and cue.explicit_count and ANOTHER_RE.search(text, cue.count_start, cue.start):
            cut = cue.count_start
            return _organ_group(
                state,
                sent,
                organ,
                cues[:k],
                [s for s in sizes if s.start < cut],
                [s for s in classes if s.start < cut],
            ) + _organ_group(
                state,
                sent,
                organ,
                cues[k:],
                [s for s in sizes if s.start >= cut],
                [s for s in classes if s.start >= cut],
                floor=cut,
            )
    first = cues[0]
    certainty = _certainty(text, sent, first)
    kind = min((c.kind for c in cues), key=KIND_PRIORITY.index)
    counted = next((c for c in cues if c.explicit_count), None)
    plural = any(c.plural for c in cues)
    singular_cues = [c for c in cues if not c.plural and not c.explicit_count]
    anaphoric = ANAPHORA_RE.match(sent.text) is not None
    another = ANOTHER_RE.search(text, max(sent.start, first.start - 40), first.start) is not None
    g_lo, g_hi = _group_span(text, sent, cues, sizes)
    g_lo = max(g_lo, floor)
    mal_text = text[g_lo:g_hi]
    summary_cue = anaphoric or SUMMARY_CUE_RE.search(text, sent.start, sent.end) is not None
    sizes_mm = tuple(s.size.largest_mm for s in sizes if s.size is not None)

    def make(
        size: SizeMention | None,
        lo: int,
        hi: int,
        count: int | None,
        multiple: bool,
        loc_span: tuple[int, int],
    ) -> _Lesion:
        loc = _location(text, *loc_span, organ)
        if loc.is_empty and loc_span != (g_lo, g_hi):
            loc = _location(text, g_lo, g_hi, organ)
        if loc.side is Side.BILATERAL and loc_span != (g_lo, g_hi):
            stripped = _BILATERAL_WORDS_RE.sub(" ", text[loc_span[0] : loc_span[1]])
            try:
                alt = parse_location(stripped, organ)
                if alt.side in (Side.LEFT, Side.RIGHT):
                    loc = alt
            except ValueError:
                pass
        if loc.side is None and organ in PAIRED_ORGANS:
            side = _subject_side(state, sent, organ, first.start)
            if side is not None:
                loc = replace(loc, side=side)
        q_lo, q_hi = _quote(text, sent, lo, hi)
        return _Lesion(
            organ=organ,
            location=loc,
            count=count,
            multiple=multiple,
            certainty=certainty,
            kind=kind,
            malignancy_text=mal_text,
            size=size,
            size_class=None if size is not None else (classes[0].size_class if classes else None),
            quote_start=q_lo,
            quote_end=q_hi,
            section=sent.section,
            anaphoric=anaphoric,
            another=another,
            summary_cue=summary_cue,
            sizes_mm=sizes_mm,
            sentence=sent.index,
        )

    span_lo = min([c.start for c in cues] + [s.start for s in sizes])
    span_hi = max([c.end for c in cues] + [s.end for s in sizes])
    individual = False
    if len(sizes) >= 2:
        listed = all(_LIST_JOIN_RE.match(text, a.end, b.start) for a, b in itertools.pairwise(sizes))
        exact = counted is not None and not counted.multiple and counted.count == len(sizes)
        # "bilateral adrenal nodules, 2.3 cm on the right and 1.6 cm on the left": one lesion per size
        sided = counted is not None and counted.bilateral and listed
        unnumbered = counted is None and (not plural or listed or len(singular_cues) >= len(sizes))
        individual = exact or sided or unnumbered
    if individual:
        out = []
        for i, size in enumerate(sizes):
            lo, hi = _chunk(text, sent, sizes, i)
            out.append(make(size, min(lo, size.start), max(hi, size.end), 1, False, (lo, hi)))
        _pair_locations(text, g_lo, sizes[0].start, g_hi, organ, _location(text, g_lo, g_hi, organ), out)
        return out
    largest = max(sizes, key=lambda s: s.size.largest_mm if s.size else 0.0) if sizes else None
    sites = _listed_sites(text, g_lo, g_hi, organ) if plural and counted is None else 0
    if counted is not None and counted.bilateral and organ in _ONE_PER_SIDE:
        count, multiple = 2, False  # "bilateral adrenal nodules": one per gland
    elif counted is not None and counted.multiple:
        count, multiple = None, True
    elif sites >= 2:
        count, multiple = sites, False  # "hypodensities in segments 5 and 8": one per listed site
    elif counted is not None and counted.count is not None:
        count, multiple = counted.count, False
    elif plural:
        count, multiple = None, True
    else:
        count, multiple = 1, False
    lesion = make(largest, span_lo, span_hi, count, multiple, (g_lo, g_hi))
    lesion.at_least = counted is not None and counted.at_least and not multiple
    lesion.plural = plural and (counted is None or counted.multiple)
    lesion.multiple_word = counted is not None and counted.multiple and not counted.bilateral
    grouped = multiple or (count or 1) > 1
    if (
        grouped
        and largest is not None
        and largest.size is not None
        and largest.size.qualifier is Qualifier.EQUAL
        and _LARGEST_RE.search(text, sent.start, sent.end)
    ):
        lesion.qualifier = Qualifier.UP_TO
    return [lesion]


def _diagnosis_cues(text: str, cues: list[_Cue]) -> None:
    """Fold lesion words that only name what an earlier described lesion is into that lesion.

    "hypodense area at the left renal cortex, suggestive of a simple cyst", "adrenal nodules, concerning
    for metastatic lung cancer", "lung nodules, metastasis considered": the diagnosis noun adds no
    lesion, no organ and no count (its kind still informs the group).
    """
    previous: _Cue | None = None
    for cue in cues:
        if cue.negated or cue.organ is None:
            continue
        if previous is not None:
            between = text[previous.end : cue.start]
            lead = DIAGNOSIS_LEAD_RE.search(between) is not None
            trailing = "," in between and DIAGNOSIS_TRAIL_RE.match(text, cue.end) is not None
            if (lead or trailing) and not ANOTHER_RE.search(between) and not _DIGIT_RE.search(between):
                cue.organ = previous.organ
                cue.plural = False
                cue.explicit_count = False
                cue.multiple = False
                cue.count = None
                continue
        previous = cue


def _restates_previous(
    state: _State,
    sent: Sentence,
    cues: list[_Cue],
    organs: list[tuple[int, int, Organ]],
    sizes: list[SizeMention],
) -> bool:
    """Whether a sentence naming no organ, size or location only restates the previous lesion.

    "...; metastasis cannot be excluded.", "...; differential includes lymphoma.", "The mass obstructs
    the duct.": a singular lesion word whose organ is inherited from the previous sentence, when that
    organ already has a lesion, adds nothing ("another" / "second" / "new" lesions do add one).
    """
    if organs or sent.header_organs or sizes or state.previous_organ is None:
        return False
    positive = [c for c in cues if not c.negated]
    if not positive or any(c.plural or c.explicit_count for c in positive):
        return False
    organ = state.previous_organ
    if any(c.organ is not organ for c in positive) or not any(les.organ is organ for les in state.lesions):
        return False
    if ANOTHER_RE.search(sent.text) or _implied_organ(state.text, sent.start, sent.end) is not None:
        return False
    return _location(state.text, sent.start, sent.end, organ).is_empty


_LARGEST_MEMBER_RE: Final = re.compile(
    r"^(?:and\s+)?(?:the\s+)?(?:largest|biggest|dominant)\b(?:\s+(?:one|lesion|nodule|cyst|mass|metastasis"
    r"|of\s+(?:these|them|which)))?",
    re.IGNORECASE,
)


def _largest_member(state: _State, sent: Sentence) -> bool:
    """Give a group described in the previous sentence the size and site of its stated largest member.

    "Numerous liver metastases. The largest, in segment 2, measures 4 cm." / "...; the largest in the
    right lower lobe measures 2.7 cm": the group keeps its count and takes the member's current size
    and location. Returns whether the sentence was used so.
    """
    if _LARGEST_MEMBER_RE.match(sent.text) is None or not state.lesions:
        return False
    group = state.lesions[-1]
    if group.sentence != sent.index - 1 or not (group.multiple or (group.count or 1) > 1):
        return False
    sizes = [m for m in state.sizes if sent.start <= m.start < sent.end and not m.is_prior and m.size]
    if not sizes:
        return False
    largest = max(sizes, key=lambda m: m.size.largest_mm if m.size else 0.0)
    group.size, group.size_class, group.qualifier = largest, None, Qualifier.UP_TO
    location = _location(state.text, sent.start, sent.end, group.organ)
    if not location.is_empty:
        group.location = location
    return True


def _site_item_cue(
    state: _State,
    sent: Sentence,
    cues: list[_Cue],
    organs: list[tuple[int, int, Organ]],
    sizes: list[SizeMention],
) -> _Cue | None:
    """A lesion for a ``site: size`` list item with no lesion noun ("Liver, segment 7: 34 mm")."""
    measured = [m for m in sizes if m.size is not None]
    if not measured or any(not c.negated for c in cues):
        return None
    first = min(measured, key=lambda m: m.start)
    label_start = sent.start
    if not state.text[sent.start : first.start].strip() and sent.header_organs and state.in_list:
        # the label was read as an organ header ("- Right adrenal: 23 mm"): start the item at its line
        label_start = state.text.rfind("\n", 0, sent.start) + 1
    label_end = site_label_end(state.text, label_start, first.start, in_list=state.in_list)
    if label_end is None:
        return None
    if label_start < sent.start:
        organ_here = sent.header_organs[0]
        side = parse_location(state.text[label_start : sent.start], organ_here).side
        cue = _Cue(start=sent.start, end=sent.start, kind=LesionKind.LESION, plural=False, negated=False)
        cue.organ = organ_here
        state.label_side = side if organ_here in PAIRED_ORGANS else None
        return cue
    in_label = [o[2] for o in organs if o[0] < label_end]
    if in_label:
        organ: Organ | None = in_label[0]
    elif sent.header_organs:
        organ = sent.header_organs[0]
    else:
        organ = state.previous_organ
    if organ is None:
        return None
    return _Cue(
        start=sent.start, end=sent.start, kind=LesionKind.LESION, plural=False, negated=False, organ=organ
    )


def _read_sentence(state: _State, sent: Sentence) -> None:
    text = state.text
    if SUM_LINE_RE.match(sent.text):
        return
    if sent.section is SectionKind.IMPRESSION:
        state.in_list = False
    elif LESION_LIST_HEAD_RE.search(sent.text):
        state.in_list = True
    if _largest_member(state, sent):
        return
    lo = bisect.bisect_left(state.organ_starts, sent.start)
    hi = bisect.bisect_left(state.organ_starts, sent.end)
    organs = [
        o
        for o in state.organ_words[lo:hi]
        if o[1] <= sent.end
        and not (
            HISTORY_HINT_RE.search(text, max(sent.start, o[0] - 40), o[0])
            and HISTORY_CONTEXT_RE.search(text, max(sent.start, o[0] - 40), o[0])
        )
    ]
    resected_here = state.resected.get(sent.index, set())
    cues = _lesion_cues(state, sent)
    cue_starts = [c.start for c in cues]
    for cue in cues:
        cue.organ = _assign_organ(state, sent, cue, organs, cue_starts)
    _diagnosis_cues(text, cues)
    # sizes of this sentence
    sent_sizes = [m for m in state.sizes if sent.start <= m.start < sent.end and not m.is_prior]
    state.label_side = None
    site_cue = _site_item_cue(state, sent, cues, organs, sent_sizes)
    if site_cue is not None:
        cues.append(site_cue)
    if _restates_previous(state, sent, cues, organs, sent_sizes):
        cues = [c for c in cues if c.negated]
    positive = [c for c in cues if not c.negated and c.organ is not None]
    by_organ: dict[Organ, tuple[list[_Cue], list[SizeMention], list[SizeMention]]] = {}
    for cue in positive:
        if cue.organ is not None:
            by_organ.setdefault(cue.organ, ([], [], []))[0].append(cue)
    all_cues = [c for c in cues if c.negated or c.organ is not None]
    for size in sent_sizes:
        if size.size is None:
            if positive:
                near = min(positive, key=lambda c: min(abs(c.start - size.end), abs(size.start - c.end)))
                if near.organ is not None:
                    by_organ[near.organ][2].append(size)
            continue
        anchor = _size_anchor(text, sent, size, all_cues, organs, sent_sizes)
        if anchor is not None and anchor.organ is not None:
            by_organ[anchor.organ][1].append(size)
    for organ, (o_cues, o_sizes, o_classes) in by_organ.items():
        if organ in resected_here and not o_sizes:
            continue
        group = _organ_group(state, sent, organ, o_cues, o_sizes, o_classes)
        if state.label_side is not None:
            for les in group:
                if les.location.side is None:
                    les.location = replace(les.location, side=state.label_side)
        state.lesions.extend(group)
    # organs described without lesion
    mentioned = {o[2] for o in organs}
    if not organs and sent.header_organs:
        mentioned = set(sent.header_organs)
    mentioned |= {c.organ for c in cues if c.negated and c.organ is not None}
    positive_organs = set(by_organ)
    for organ in mentioned - positive_organs:
        if organ in resected_here:
            continue
        if positive:
            spans = [o for o in organs if o[2] is organ]
            if not spans:
                continue
            ok = False
            for o_start, o_end, _ in spans:
                lo = _clause_start(text, sent.start, o_start)
                m = re.search(r";|,\s|\.\s|\bbut\b|\bwhile\b", text[o_end : sent.end])
                hi = o_end + m.start() if m else sent.end
                if NORMAL_RE.search(text, lo, hi) or NEGATION_RE.search(text, lo, hi):
                    ok = True
            if not ok:
                continue
        state.normal.add(organ)
        state.described.add(organ)
    for organ in positive_organs:
        state.described.add(organ)
    if positive_organs:
        state.previous_organ = positive[-1].organ
    elif organs:
        state.previous_organ = organs[0][2]
    elif sent.header_organs:
        state.previous_organ = sent.header_organs[0]


# ----------------------------------------------------------------------------------------------------
# De-duplication and output
# ----------------------------------------------------------------------------------------------------


def _side_of(lesion: _Lesion) -> Side | None:
    return lesion.location.side if lesion.organ in PAIRED_ORGANS else None


_PANCREAS_FAMILY: Final[dict[PancreasPart, tuple[PancreasPart, ...]]] = {
    PancreasPart.UNCINATE: (PancreasPart.UNCINATE, PancreasPart.HEAD),
    PancreasPart.NECK: (PancreasPart.NECK, PancreasPart.HEAD, PancreasPart.BODY),
}
"""Fine pancreas labels also match their coarse part ("uncinate mass" restates "head mass")."""


def _loc_key(lesion: _Lesion) -> frozenset[object]:
    loc = lesion.location
    parts = [q for p in loc.pancreas_parts for q in _PANCREAS_FAMILY.get(p, (p,))]
    return frozenset((*loc.liver_segments, *parts, *loc.kidney_poles))


def _compatible(a: _Lesion, b: _Lesion) -> bool:
    if a.organ is not b.organ:
        return False
    sa, sb = _side_of(a), _side_of(b)
    if sa is not None and sb is not None and sa is not sb:
        return False
    la, lb = _loc_key(a), _loc_key(b)
    loc_ok = not la or not lb or bool(la & lb)
    if a.size is not None and a.size.size is not None and b.size is not None and b.size.size is not None:
        return abs(a.size.size.largest_mm - b.size.size.largest_mm) <= 1.0 and loc_ok
    if not loc_ok:
        return False
    if (a.size is None) != (b.size is None):
        if la and lb:
            return True
        if b.section is SectionKind.IMPRESSION and a.section is SectionKind.FINDINGS:
            return True
        return b.anaphoric and not lb
    if b.another:
        return False
    if b.section is SectionKind.IMPRESSION and a.section is SectionKind.FINDINGS:
        return True
    return bool(la and lb) or (not la and not lb and (b.anaphoric or a.multiple == b.multiple))


def _merge(a: _Lesion, b: _Lesion) -> None:
    if a.size is None and b.size is not None:
        a.size = b.size
        a.size_class = None
    if a.size is None and a.size_class is None:
        a.size_class = b.size_class
    if a.location.is_empty:
        a.location = b.location
    if b.multiple and not a.multiple and (a.count or 1) <= 1:
        a.multiple, a.count, a.at_least = True, None, False
    elif not a.multiple and not b.multiple and (b.count or 1) > (a.count or 1):
        a.count, a.at_least = b.count, b.at_least
    if a.kind in (LesionKind.LESION, LesionKind.HYPODENSITY) and b.kind not in (
        LesionKind.LESION,
        LesionKind.HYPODENSITY,
    ):
        a.kind = b.kind
    a.malignancy_text += " " + b.malignancy_text


def _is_summary(lesion: _Lesion, kept: list[_Lesion]) -> list[_Lesion]:
    """The earlier lesions a plural summary refers back to, or ``[]`` when it is not a summary.

    A plural phrase without new sizes ("Interval growth of hepatic metastases in segments 8 and 3",
    "Bilateral renal cysts, including a 2.5 cm cyst") restates the lesions its organ already has
    individually described in other sentences when it is in the IMPRESSION or refers back
    ("these", "including", "again seen"). "Multiple" / "numerous" need two described lesions; an
    explicit number must not exceed the described count; "another" / "additional" are never summaries.
    """
    if lesion.another or not (lesion.section is SectionKind.IMPRESSION or lesion.summary_cue):
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


def _absorb(summary: _Lesion, earlier: list[_Lesion]) -> None:
    """Keep a summary's information (kind, malignancy words) without counting its lesions again."""
    for other in earlier:
        if other.kind in (LesionKind.LESION, LesionKind.HYPODENSITY) and summary.kind not in (
            LesionKind.LESION,
            LesionKind.HYPODENSITY,
        ):
            other.kind = summary.kind
        other.malignancy_text += " " + summary.malignancy_text


def _largest_of(mention: SizeMention | None) -> float | None:
    return max(mention.size.diameters_mm) if mention is not None and mention.size is not None else None


def _overlaps(a: Location, b: Location) -> bool:
    """Whether two locations share a segment, part, pole or (left/right) side."""
    return bool(
        set(a.liver_segments) & set(b.liver_segments)
        or set(a.pancreas_parts) & set(b.pancreas_parts)
        or set(a.kidney_poles) & set(b.kidney_poles)
        or (a.side is not None and a.side is b.side and a.side in (Side.LEFT, Side.RIGHT))
    )


def _referenced(
    state: _State, sent: Sentence, here: list[_Lesion], earlier: list[_Lesion], numbers: set[float]
) -> _Lesion | None:
    """The earlier lesion a correction sentence refers to: by a size it repeats, else by organ and site."""
    by_size = [les for les in earlier if _largest_of(les.size) in numbers]
    if by_size:
        return by_size[0]
    lo = bisect.bisect_left(state.organ_starts, sent.start)
    hi = bisect.bisect_left(state.organ_starts, sent.end)
    organs = {les.organ for les in here} | {o[2] for o in state.organ_words[lo:hi]}
    candidates = [les for les in earlier if les.organ in organs]
    where = parse_location(sent.text)
    located = [les for les in candidates if _overlaps(les.location, where)]
    if len(located) == 1:
        return located[0]
    return candidates[0] if len(candidates) == 1 else None


def _update(state: _State, sent: Sentence, target: _Lesion, here: list[_Lesion]) -> None:
    """Apply a correction sentence to the lesion it refers to (organ, side, site, size)."""
    moved = RELOCATE_RE.search(state.text, sent.start, sent.end)
    if moved is not None:
        after = [o for o in state.organ_words if moved.end() <= o[0] < sent.end]
        if after and after[0][2] is not target.organ:
            old = target.organ
            target.organ = after[0][2]
            target.location = parse_location(state.text[moved.end() : sent.end], target.organ)
            if not any(les.organ is old for les in state.lesions):
                state.normal.add(old)
            return
    source = next((les for les in here if les.organ is target.organ), None)
    new = source.location if source is not None else parse_location(sent.text, target.organ)
    loc = target.location
    if new.side in (Side.LEFT, Side.RIGHT) and target.organ in PAIRED_ORGANS:
        loc = replace(loc, side=new.side)
    if new.liver_segments:
        loc = replace(loc, liver_segments=new.liver_segments)
    if new.pancreas_parts:
        loc = replace(loc, pancreas_parts=new.pancreas_parts)
    if new.kidney_poles:
        loc = replace(loc, kidney_poles=new.kidney_poles)
    target.location = loc
    if source is not None and source.size is not None:
        target.size, target.sizes_mm = source.size, source.sizes_mm
        target.quote_start, target.quote_end = source.quote_start, source.quote_end


def _apply_corrections(
    state: _State, sentences: list[Sentence], start: int, original: list[SizeMention]
) -> None:
    """Apply the sentences from ``start`` (an ADDENDUM or correction) to the lesions read before them."""
    for sent in sentences:
        if sent.start < start or sent.section is SectionKind.HISTORY:
            continue
        kind = correction_kind(sent.text)
        earlier = [les for les in state.lesions if 0 <= les.sentence < sent.index]
        if kind is CorrectionKind.NEW or not earlier:
            continue
        here = [les for les in state.lesions if les.sentence == sent.index]
        numbers = {
            mm for m in original if sent.start <= m.start < sent.end and (mm := _largest_of(m)) is not None
        }
        target = _referenced(state, sent, here, earlier, numbers)
        if target is None:
            continue
        state.lesions = [les for les in state.lesions if les.sentence != sent.index]
        if kind is CorrectionKind.RETRACT:
            state.lesions.remove(target)
            if not any(les.organ is target.organ for les in state.lesions):
                state.normal.add(target.organ)
                state.described.add(target.organ)
            continue
        _update(state, sent, target, here)


def _dedupe(lesions: list[_Lesion]) -> list[_Lesion]:
    kept: list[_Lesion] = []
    for lesion in lesions:
        earlier = _is_summary(lesion, kept)
        if earlier:
            _absorb(lesion, earlier)
            continue
        for other in kept:
            if other.quote_start != lesion.quote_start and _compatible(other, lesion):
                _merge(other, lesion)
                break
        else:
            kept.append(lesion)
    return kept


def _to_llm(text: str, lesion: _Lesion) -> LLMLesion:
    organ = lesion.organ
    loc = lesion.location
    diameters: list[float] = []
    unit: LLMUnit | None = None
    qualifier = Qualifier.EQUAL
    if lesion.size is not None and lesion.size.size is not None:
        mention = lesion.size
        size = mention.size
        if size is not None:
            if mention.unit is not None:
                diameters = list(mention.values)
                unit = LLMUnit(mention.unit)
            else:  # unit inferred by the parser: state it in mm (converted in code)
                diameters = list(size.diameters_mm)
                unit = LLMUnit.MM
            qualifier = size.qualifier
    if lesion.qualifier is not None and diameters:
        qualifier = lesion.qualifier
    side = None
    if organ in PAIRED_ORGANS:
        side = loc.side or Side.UNKNOWN
    return LLMLesion(
        organ=organ,
        side=side,
        segments=list(loc.liver_segments) if organ is Organ.LIVER else [],
        pancreas_parts=list(loc.pancreas_parts) if organ is Organ.PANCREAS else [],
        kidney_poles=list(loc.kidney_poles) if organ is Organ.KIDNEY else [],
        diameters=diameters,
        unit=unit,
        qualifier=qualifier,
        size_class=None if diameters else lesion.size_class,
        count=None if lesion.multiple else min(max(lesion.count or 1, 1), 99),
        at_least=lesion.at_least and not lesion.multiple,
        multiple=lesion.multiple,
        certainty=lesion.certainty,
        kind=lesion.kind,
        malignancy=malignancy(lesion.malignancy_text),
        quote=text[lesion.quote_start : lesion.quote_end],
    )


def extract_report(text: str) -> LLMReport:
    """Extract organ statuses and lesions from one report, deterministically.

    Returns the same structure an LLM backend returns (:class:`schemas.llm.LLMReport`): each lesion's
    ``quote`` is a verbatim substring of ``text`` (its sentence, or a ≤300-character window of it)
    containing every number of its size; diameters are given as written with their unit (a unit-less
    size is converted in code and given in mm). Empty text gives an empty report.

    Raises:
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    corrections = corrections_start(text)
    read = text if corrections is None else blank_replaced_values(text, corrections)
    state = _State(text=read, sizes=parse_sizes(read))
    state.organ_words = organ_mentions(read)
    state.organ_starts = [o[0] for o in state.organ_words]
    state.cue_matches = _cue_matches(read)
    state.cue_starts = [m.start() for m in state.cue_matches]
    sentences = split_report(read)
    for sent in sentences:
        if RESECTION_HINT_RE.search(text, sent.start, sent.end):
            for resection in RESECTIONS:
                if resection.pattern.search(text, sent.start, sent.end):
                    (state.complete if resection.complete else state.remnant).add(resection.organ)
                    state.resected.setdefault(sent.index, set()).add(resection.organ)
        if sent.header_organs and HEADER_ABSENT_RE.match(sent.text):
            for organ in sent.header_organs:
                (state.complete if organ in _WHOLE_ORGANS else state.remnant).add(organ)
    for sent in sentences:
        if sent.section is SectionKind.HISTORY:
            continue
        _read_sentence(state, sent)
    if corrections is not None:
        _apply_corrections(state, sentences, corrections, parse_sizes(text))
    lesions = _dedupe([lesion for lesion in state.lesions if lesion.organ not in state.complete])
    lesions.sort(key=lambda lesion: lesion.quote_start)
    lesions = lesions[:MAX_LESIONS]
    with_lesions = {lesion.organ for lesion in lesions}
    out_organs: list[LLMOrgan] = []
    for organ in Organ:
        if organ in with_lesions:
            own = [lesion for lesion in lesions if lesion.organ is organ]
            multiple = any(lesion.multiple for lesion in own)
            count = None if multiple else min(sum(lesion.count or 1 for lesion in own), 99)
            at_least = not multiple and any(lesion.at_least for lesion in own)
            out_organs.append(
                LLMOrgan(organ=organ, status="lesion", count=count, at_least=at_least, multiple=multiple)
            )
        elif organ in state.complete or (organ in state.remnant and organ not in state.described):
            out_organs.append(LLMOrgan(organ=organ, status="absent"))
        elif organ in state.normal:
            out_organs.append(LLMOrgan(organ=organ, status="normal"))
    return LLMReport(organs=out_organs, lesions=[_to_llm(text, lesion) for lesion in lesions])
