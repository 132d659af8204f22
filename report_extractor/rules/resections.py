"""Resections: which organs a report says are gone, completely or with a remnant that may be described.

:func:`read_resections` reads every sentence (history-like ones included): "status post Whipple",
"cholecystectomy", "left nephrectomy", "GALLBLADDER: Surgically absent." A complete resection
(cholecystectomy, splenectomy, hysterectomy, prostatectomy, cystectomy, total pancreatectomy, bilateral
nephrectomy, ...) makes the organ ``absent``; a partial one (Whipple / partial pancreatectomy,
unilateral nephrectomy or adrenalectomy, mastectomy, pneumonectomy) makes it ``absent`` unless the
remaining organ is described, in which case its own status is used.

For paired organs it also reads which side is gone (:attr:`Resections.sides`): "left nephrectomy",
"right adrenalectomy", "s/p left mastectomy", "absent right kidney", "LEFT KIDNEY: surgically absent"
remove that side; "bilateral ..." both; "solitary left kidney" the other one. A partial resection of a
paired organ ("partial left nephrectomy", "partial mastectomy") removes nothing; a lobectomy removes a
lobe, not the lung: the side's remaining lobes are still there, so it is no resection here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from report_extractor.rules.folding import caseless, fold
from report_extractor.rules.sections import Sentence
from schemas.vocabulary import PAIRED_ORGANS, Organ, Side

__all__ = ["HEADER_ABSENT_RE", "RESECTIONS", "Resection", "Resections", "read_resections", "removed_sides"]

_I: Final = re.IGNORECASE


@dataclass(frozen=True, slots=True)
class Resection:
    """A resection rule: the organ, and whether the whole organ is gone or a remnant may remain."""

    organ: Organ
    complete: bool
    pattern: re.Pattern[str]


_ABSENT_ORGAN: Final[str] = (
    r"(?:is\s+|are\s+|has\s+been\s+|have\s+been\s+)?(?:surgically\s+|post-?surgically\s+)?"
    r"(?:absent|removed|resected)"
)
RESECTIONS: Final[tuple[Resection, ...]] = (
    Resection(
        Organ.GALLBLADDER,
        True,
        re.compile(
            r"\b(?:cholecystectom\w*|(?:gall\s?bladder)\s+" + _ABSENT_ORGAN + r"|(?:surgically\s+)?absent\s+"
            r"gall\s?bladder|post-?cholecystectomy)\b",
            _I,
        ),
    ),
    Resection(
        Organ.SPLEEN,
        True,
        re.compile(r"\b(?:splenectom\w*|spleen\s+" + _ABSENT_ORGAN + r"|asplenia)\b", _I),
    ),
    Resection(
        Organ.UTERUS,
        True,
        re.compile(r"\b(?:\w*hysterectom\w*|uterus\s+" + _ABSENT_ORGAN + r")\b", _I),
    ),
    Resection(Organ.PROSTATE, True, re.compile(r"\b(?:\w*prostatectom\w*)\b", _I)),
    Resection(Organ.BLADDER, True, re.compile(r"\b(?:cystectom\w*|cystoprostatectom\w*)\b", _I)),
    Resection(Organ.PANCREAS, True, re.compile(r"\btotal\s+pancreatectom\w*\b", _I)),
    Resection(
        Organ.PANCREAS,
        False,
        re.compile(
            r"\b(?:(?<!total\s)pancreatectom\w*|whipple|pancreat(?:ic)?o-?duodenectom\w*|"
            r"pancreas\s+" + _ABSENT_ORGAN + r")\b",
            _I,
        ),
    ),
    Resection(
        Organ.KIDNEY,
        True,
        re.compile(r"\bbilateral\s+(?:radical\s+)?nephrectom\w*\b|\bnephrectomies\b", _I),
    ),
    Resection(
        Organ.KIDNEY,
        False,
        re.compile(
            r"\b(?<!partial\s)(?:radical\s+)?nephrectom(?:y|ies)\b|\b(?:left|right)\s+kidney\s+"
            + _ABSENT_ORGAN
            + r"|\babsent\s+(?:left|right)\s+kidney\b|\bsolitary\s+(?:left|right)?\s*kidney\b",
            _I,
        ),
    ),
    Resection(Organ.ADRENAL_GLAND, False, re.compile(r"\badrenalectom\w*\b", _I)),
    Resection(Organ.BREAST, False, re.compile(r"\bmastectom\w*\b", _I)),
    Resection(Organ.LUNG, False, re.compile(r"\bpneumonectom\w*\b", _I)),
    Resection(Organ.STOMACH, True, re.compile(r"\btotal\s+gastrectom\w*\b", _I)),
    Resection(Organ.ESOPHAGUS, True, re.compile(r"\besophagectom\w*\b|\boesophagectom\w*\b", _I)),
    Resection(Organ.COLON, True, re.compile(r"\btotal\s+(?:procto)?colectom\w*\b", _I)),
)
RESECTION_HINT_RE: Final = caseless(r"ectom|absent|removed|resected|whipple|asplenia|solitary")
"""Cheap pre-filter, matched against the folded text: a sentence without any of these words has no
resection."""

HEADER_ABSENT_RE: Final = re.compile(
    r"^(?:(?:is|are)\s+)?(?:surgically\s+|post-?surgically\s+)?(?:absent|removed|resected|not\s+present)\b"
    r"|^(?:status\s+post|s/p)\s+(?:resection|removal)\b",
    _I,
)
"""A sentence under an organ header saying the organ is gone ("GALLBLADDER: Surgically absent.")."""

_WHOLE_ORGANS: Final[frozenset[Organ]] = frozenset(
    {Organ.GALLBLADDER, Organ.SPLEEN, Organ.UTERUS, Organ.PROSTATE, Organ.BLADDER}
)
"""Organs that a header saying "absent" removes completely (others may leave a remnant)."""


@dataclass(frozen=True, slots=True)
class Resections:
    """The resections a report states.

    Attributes:
        complete: organs completely removed (always ``absent``).
        remnant: organs partly removed (``absent`` unless the remnant is described).
        by_sentence: the organs each sentence (by index) says are resected.
        sides: for paired organs, the sides (left / right) the report says are gone.
    """

    complete: frozenset[Organ] = frozenset()
    remnant: frozenset[Organ] = frozenset()
    by_sentence: dict[int, frozenset[Organ]] = field(default_factory=dict)
    sides: dict[Organ, frozenset[Side]] = field(default_factory=dict)


_BOTH: Final[frozenset[Side]] = frozenset({Side.LEFT, Side.RIGHT})
_SIDE_WORD_RE: Final = re.compile(
    r"\b(?:(?P<both>bilateral|both)|(?P<left>left|lt)|(?P<right>right|rt))\b", _I
)
_SIDE_BEFORE_RE: Final = re.compile(
    r"\b(?:(?P<both>bilateral|both)|(?P<left>left|lt)|(?P<right>right|rt))\.?\s+(?:[a-z-]+\s+){0,2}$", _I
)
"""A side word at most two words before a resection word ("left radical nephrectomy")."""
_PARTIAL_BEFORE_RE: Final = re.compile(
    r"\b(?:partial|segmental|wedge|nephron[\s-]sparing)\s+(?:(?:left|right|lt|rt)\.?\s+)?(?:[a-z-]+\s+)?$", _I
)
"""A partial resection of a paired organ leaves the organ ("partial left nephrectomy")."""
_SOLITARY_RE: Final = re.compile(r"\bsolitary\b", _I)


def _sides_of(m: re.Match[str] | None) -> frozenset[Side]:
    if m is None:
        return frozenset()
    if m.group("both"):
        return _BOTH
    return frozenset({Side.LEFT if m.group("left") else Side.RIGHT})


def removed_sides(text: str, lo: int, match: re.Match[str]) -> frozenset[Side]:
    """The sides a resection phrase ``match`` (of a paired organ) removes; ``text[lo:]`` is its sentence.

    A side word inside the phrase ("left kidney removed", "absent right kidney") or at most two words
    before it ("left radical nephrectomy"); "bilateral" / "both" → both sides; "solitary left kidney" →
    the other side. Empty when no side is written.
    """
    inside = list(_SIDE_WORD_RE.finditer(text, match.start(), match.end()))
    sides = frozenset().union(*(_sides_of(m) for m in inside)) if inside else frozenset()
    if not sides:
        sides = _sides_of(_SIDE_BEFORE_RE.search(text, max(lo, match.start() - 40), match.start()))
    if _SOLITARY_RE.search(match.group(0)):
        return _BOTH - sides if len(sides) == 1 else frozenset()
    return sides


def read_resections(text: str, sentences: tuple[Sentence, ...] | list[Sentence]) -> Resections:
    """The resections ``text`` states, read sentence by sentence (history-like sentences included).

    Args:
        text: the original report text (resection words are not blanked by corrections).
        sentences: its sentences.
    """
    complete: set[Organ] = set()
    remnant: set[Organ] = set()
    by_sentence: dict[int, set[Organ]] = {}
    sides: dict[Organ, frozenset[Side]] = {}
    folded = fold(text)
    for sent in sentences:
        if RESECTION_HINT_RE.search(folded, sent.start, sent.end):
            for resection in RESECTIONS:
                for m in resection.pattern.finditer(text, sent.start, sent.end):
                    if resection.organ in PAIRED_ORGANS and _PARTIAL_BEFORE_RE.search(
                        text, max(sent.start, m.start() - 40), m.start()
                    ):
                        continue  # "partial left nephrectomy", "partial mastectomy": the organ stays
                    (complete if resection.complete else remnant).add(resection.organ)
                    by_sentence.setdefault(sent.index, set()).add(resection.organ)
                    if resection.organ in PAIRED_ORGANS:
                        gone = _BOTH if resection.complete else removed_sides(text, sent.start, m)
                        sides[resection.organ] = sides.get(resection.organ, frozenset()) | gone
        if sent.header_organs and HEADER_ABSENT_RE.match(sent.text):
            for organ in sent.header_organs:
                (complete if organ in _WHOLE_ORGANS else remnant).add(organ)
                if organ in PAIRED_ORGANS and sent.header_side in _BOTH:
                    sides[organ] = sides.get(organ, frozenset()) | {sent.header_side}
    return Resections(
        complete=frozenset(complete),
        remnant=frozenset(remnant),
        by_sentence={k: frozenset(v) for k, v in by_sentence.items()},
        sides={organ: gone for organ, gone in sides.items() if gone},
    )
