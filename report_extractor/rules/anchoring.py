"""Stage 4 of the rules extractor, size anchoring: which lesion word each size describes.

:func:`size_anchor` attaches a current size to the lesion word it describes: attributively ("2 cm
cyst") or predicatively ("lesion measuring 2 cm"). Sizes attached to distractors (ducts, aorta, nodes,
stones, organ lengths: :data:`DISTRACTOR_RE`) are dropped, and so is an organ measurement after a
lesion ("the kidney contains a 2 cm cyst and measures 11 cm").
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from report_extractor.rules.cues import Cue
from report_extractor.rules.document import Document
from report_extractor.rules.folding import caseless
from report_extractor.rules.lexicon import OrganMention
from report_extractor.rules.organs import VERB_IN_GAP_RE
from report_extractor.rules.parsing import SizeMention
from report_extractor.rules.sections import Sentence
from schemas.vocabulary import Organ

__all__ = ["DISTRACTOR_RE", "ORGAN_MEASURE_RE", "organ_measure_after", "size_anchor", "words_between"]

_I: Final = re.IGNORECASE

DISTRACTOR_RE: Final = caseless(
    r"\b(?:cbd|common\s+(?:bile|hepatic)\s+duct|ducts?|ductal|choledoch\w*|aorta|aortic|aneurysm\w*|"
    r"calib(?:er|re)|lymph\s+nodes?|nodes?|nodal|lymphadenopathy|adenopathy|ivc|vena\s+cava|veins?|"
    r"arter(?:y|ies)|stones?|calcul(?:us|i)|cholelithiasis|nephrolithiasis|gallstones?|nephroliths?|"
    r"urolith\w*|stents?|catheters?|drains?|collections?|abscess\w*|fluid|effusions?|ascites|hernia\w*|"
    r"thickness|thickening|wall|length|span|pole[\s-]to[\s-]pole|hematoma|seroma|biloma|diverticul\w*|"
    r"appendix|bowel|hydronephrosis|calcifications?|granulomas?|pseudocysts?|thrombus|clips?|diameter\s+of"
    r"\s+the\s+(?:aorta|duct|cbd)|dilat\w*)\b",
)
"""Measured things that are no lesion; matched against the folded text (:attr:`Document.folded`)."""
ORGAN_MEASURE_RE: Final = re.compile(
    r"[^;]{0,40}?\b(?:measur\w*|spans?|spanning|length|enlarged|size|sized|craniocaudal|at)\b[^;]{0,25}$",
    _I,
)

# --------------------------------------------------------------------------------------------------
_ORGAN_LENGTH_AFTER_RE: Final = re.compile(
    r"\s*(?:\(\s*)?(?:in\s+)?(?:(?:the\s+)?(?:greatest|maximal|maximum|overall|total|long|longest)\s+)?"
    r"(?:length|long\b|span|cranio-?caudal\w*|cc\b|longitudinal\w*|bipolar|pole[\s-]to[\s-]pole|sagittal)",
    _I,
)
_COORDINATED_MEASURE_RE: Final = re.compile(
    r"\b(?:and|but)\s+(?:it\s+|itself\s+|otherwise\s+)?(?:measures|spans|measuring|is\s+(?:normal|enlarged)"
    r"\s+in\s+size)\b",
    _I,
)
_WORD_RE: Final = re.compile(r"\S+")
_EXTENT_WORD_RE: Final = re.compile(r"length|thickness|thickening|wall", _I)
_HOLLOW_ORGANS: Final[frozenset[Organ]] = frozenset(
    {Organ.ESOPHAGUS, Organ.STOMACH, Organ.DUODENUM, Organ.SMALL_BOWEL, Organ.COLON, Organ.BLADDER}
)
_HEADER_ORGAN_MEASURE_RE: Final = re.compile(
    r"\s*(?:(?:(?:is|mildly|moderately|markedly|borderline)\s+)?(?:enlarged|normal\s+in\s+size|normal\s+size"
    r"|atrophic|small|measur\w*|spans?|length|size|sized|craniocaudal(?:\s+length)?|volume)[\s,:]*)+(?:of|at)?\s*",
    _I,
)


def words_between(text: str, lo: int, hi: int) -> int:
    """How many whitespace-separated words ``text[lo:hi]`` holds."""
    return len(_WORD_RE.findall(text, lo, hi))


def organ_measure_after(
    text: str,
    sent: Sentence,
    size: SizeMention,
    cue: Cue,
    organs: list[OrganMention],
    sizes: list[SizeMention],
) -> bool:
    """Whether a size after a lesion word measures the organ ("the kidney contains a 2 cm cyst and
    measures 11 cm", "... cyst, measuring 10.5 cm in length"), not the lesion.

    A coordinated "and measures" whose subject is the organ (an organ word before the lesion word, a
    verb between) gives the size to the organ; so does an organ-length word after the size ("in
    length", "craniocaudal") when the lesion already has its own attributive size ("2 cm cyst"). A
    lesion's own "which measures 2 cm in craniocaudal dimension" stays the lesion's.
    """
    subject = any(o.end <= cue.start and VERB_IN_GAP_RE.search(text, o.end, cue.start) for o in organs)
    length_after = _ORGAN_LENGTH_AFTER_RE.match(text, size.end, min(sent.end, size.end + 40)) is not None
    if subject and _COORDINATED_MEASURE_RE.search(text, cue.end, size.start):
        return True
    if not length_after:
        return False
    return any(
        s is not size
        and s.end <= cue.start
        and words_between(text, s.end, cue.start) <= 3
        and not re.search(r"[,;(]", text[s.end : cue.start])
        for s in sizes
    )


def _hollow_lesion_extent(
    text: str, size: SizeMention, cues: list[Cue], distractor: re.Match[str] | None
) -> bool:
    """Whether a size followed by "length" / "thickness" measures a lesion of a hollow organ written
    before it ("mass of the distal esophagus measuring 4.5 cm in length"), not an organ or a wall."""
    if distractor is None or not _EXTENT_WORD_RE.fullmatch(distractor.group(0)):
        return False
    before = [c for c in cues if c.end <= size.start and not c.negated]
    return (
        bool(before) and before[-1].organ in _HOLLOW_ORGANS and "," not in text[before[-1].end : size.start]
    )


class _Candidate(NamedTuple):
    """The first lesion word or distractor after a size: where it starts, and the cue (None: distractor)."""

    start: int
    cue: Cue | None


def size_anchor(
    doc: Document,
    sent: Sentence,
    size: SizeMention,
    cues: list[Cue],
    organs: list[OrganMention],
    sizes: list[SizeMention],
) -> Cue | None:
    """The lesion word ``size`` describes, or None (a distractor or nothing).

    Args:
        doc: the report.
        sent: the size's sentence.
        size: a current measurement of the sentence.
        cues: the sentence's lesion words with an organ, and its negated ones.
        organs: the sentence's organ words.
        sizes: the sentence's current sizes.
    """
    text = doc.text
    first_cue_start = min((c.start for c in cues), default=sent.end)
    if (
        sent.header_organs
        and size.end <= first_cue_start
        and _HEADER_ORGAN_MEASURE_RE.fullmatch(text, sent.start, size.start)
    ):
        return None  # "PROSTATE: enlarged, 5.5 cm, with a 1.8 cm ...": the header's organ is measured
    # Attributive: "2 cm cyst", "1.5 cm lymph node", "5 mm stone".
    after_limit = min(sent.end, size.end + 60)
    next_cue = next((c for c in cues if size.end <= c.start < after_limit), None)
    next_distractor = DISTRACTOR_RE.search(doc.folded, size.end, after_limit)
    candidates: list[_Candidate] = []
    if next_cue is not None:
        candidates.append(_Candidate(next_cue.start, next_cue))
    if next_distractor is not None:
        candidates.append(_Candidate(next_distractor.start(), None))
    if candidates:
        pos, cue = min(candidates, key=lambda c: c.start)
        gap = text[size.end : pos]
        attributive = words_between(text, size.end, pos) <= 3 and not re.search(r"[,;(]", gap)
        if attributive and (cue is not None or not _hollow_lesion_extent(text, size, cues, next_distractor)):
            return cue if cue is not None and not cue.negated else None
    # Predicative: "lesion measuring 2 cm", "the CBD measures 8 mm", "spleen measures 13 cm".
    last_pos = -1
    last: Cue | None = None
    found = False
    for c in cues:
        if c.end <= size.start and c.end > last_pos:
            last_pos, last, found = c.end, c, True
    for m in DISTRACTOR_RE.finditer(doc.folded, sent.start, size.start):
        if m.end() > last_pos:
            last_pos, last, found = m.end(), None, True
    for o_start, o_end, _organ in organs:
        measured = ORGAN_MEASURE_RE.match(text, o_end, size.start) if o_end <= size.start else None
        if measured and o_start < first_cue_start and o_end > last_pos:
            last_pos, last, found = o_end, None, True
    if found and last is not None and organ_measure_after(text, sent, size, last, organs, sizes):
        return None
    if found:
        return last if last is not None and not last.negated else None
    positive = [c for c in cues if not c.negated]
    if not positive:
        return None
    return min(positive, key=lambda c: min(abs(c.start - size.end), abs(size.start - c.end)))
