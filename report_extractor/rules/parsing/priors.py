"""Prior versus current sizes: "previously 2.1 cm, now 2.6 cm", "increased from 2.1 to 2.6 cm".

:func:`is_prior` decides for one size mention from the cues before it in its clause (the last cue
wins; ties go to "prior") and a trailing "previously" / "on the prior exam".
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["is_prior"]

_I: Final = re.IGNORECASE

_PRIOR_HINT_RE: Final = re.compile(
    r"previous|prior|former|earlier|baseline|nadir|before|compar|was|were|from|last|BL", _I
)
# Prior vs current: the last cue before a mention (within its clause) decides; ties go to "prior".
_PRIOR_CUE_RE: Final = re.compile(
    r"\b(?:previously(?!\s+(?:seen|noted|described|identified|demonstrated|mentioned|reported|visualized"
    r"|characterized|known)\b)(?:\s+(?:measur\w+|was|were|at|of|noted\s+at|seen\s+at|described\s+as))?"
    r"|prior(?:\s+(?:exam\w*|study|ct|mri?|scan|imaging))?(?:\s+(?:measur\w+|of))?|formerly|earlier"
    r"|baseline|nadir|previous|before|compared\s+(?:to|with)|in\s+comparison\s+(?:to|with)|(?:last|previous)\s+"
    r"(?:exam\w*|study|ct|mri?|scan|imaging)|(?:was|were)(?:\s+(?:measur\w+|approximately|about|up\s+to))*"
    r"|(?<!ranging\s)(?<!range\s)(?<!ranges\s)(?<!varying\s)(?<!measuring\s)from)\s*(?:~\s*)?$",
    _I,
)
_PRIOR_WORD_RE: Final = re.compile(
    r"\b(?:previously(?!\s+(?:seen|noted|described|identified|demonstrated|mentioned|reported|visualized"
    r"|characterized|known)\b)|formerly|baseline|nadir|compared\s+(?:to|with)|in\s+comparison\s+(?:to|with)"
    r"|(?:last|previous|prior)\s+(?:exam\w*|study|ct|mri?|scan|imaging)|(?-i:BL))\b",
    _I,
)
_CURRENT_CUE_RE: Final = re.compile(
    r"\b(?:now|currently|presently|today|new|is|are|measures|measure|measuring|to|at|currently\s+measur\w+)\b",
    _I,
)
_TRAILING_PRIOR_RE: Final = re.compile(
    r"\s*(?:previously|prior|before|earlier|formerly|on\s+(?:the\s+)?(?:prior|previous|last|comparison"
    r"|baseline)\b|at\s+baseline|in\s+(?:19|20)\d\d)(?!\s+(?:\w+\s+){0,2}\d)",
    _I,
)
_CLAUSE_BREAK_RE: Final = re.compile(r"(?:[;:(\[]|[.,](?=\s)|\n)")


def is_prior(text: str, start: int, end: int, floor: int) -> bool:
    """Whether the mention at ``text[start:end]`` is a prior size.

    ``floor`` is where the previous mention ended: cues before it belong to that mention.
    """
    lo = max(floor, start - 80)
    window = text[lo:start]
    breaks = list(_CLAUSE_BREAK_RE.finditer(window))
    if breaks:
        window = window[breaks[-1].end() :]
    trailing = _TRAILING_PRIOR_RE.match(text, end, min(len(text), end + 40)) is not None
    if not _PRIOR_HINT_RE.search(window):
        return trailing and _CURRENT_CUE_RE.search(window) is None
    prior_end = -1
    m = _PRIOR_CUE_RE.search(window)
    if m is not None:
        prior_end = m.end()
    for pm in _PRIOR_WORD_RE.finditer(window):
        prior_end = max(prior_end, pm.end())
    current_end = max((cm.end() for cm in _CURRENT_CUE_RE.finditer(window)), default=-1)
    if prior_end >= 0 and prior_end >= current_end:
        return True
    if current_end >= 0:
        return False
    return trailing
