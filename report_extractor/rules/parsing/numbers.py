"""The one list of words that make a number neither a size nor a lesion count.

Both the size parser (:mod:`report_extractor.rules.parsing.sizes`) and the count reader of the rules
extractor (:mod:`report_extractor.rules.counts`) use these two patterns, so a label ("segment 7",
"Bosniak 2", "image 45") or a non-size quantity ("40 HU", "10 cm from the anal verge") is excluded by
both alike.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["NOT_A_NUMBER_AFTER_RE", "NOT_A_NUMBER_BEFORE_RE"]

_I: Final = re.IGNORECASE

NOT_A_NUMBER_BEFORE_RE: Final = re.compile(
    r"(?:\b(?:segments?|segs?|levels?|series|images?|img|im|se|no|grade|bosniak|category|type|stage"
    r"|li-?rads|pi-?rads|ti-?rads|bi-?rads|o-?rads|lung-?rads|lr|t|l|s|c|d)[.-]?|#)\s*$",
    _I,
)
"""The one list of words after which a number is a label, neither a size nor a lesion count
("segment 7", "Bosniak 2", "LI-RADS 4", "LR-5", "BI-RADS 4", "L3", "image 45"); search it on the text
before the number."""
NOT_A_NUMBER_AFTER_RE: Final = re.compile(
    r"\s*(?:hu\b|hounsfield|%|percent\b|ml\b|cc\b|mg\b|mmhg\b|bpm\b|years?\b|yrs?\b|months?\b"
    r"|weeks?\b|days?\b|hours?\b|(?::[03]0)?\s*o[\u2019']?\s*clock\b|(?:\w+\s+)?(?:size\s+)?(?:criteri(?:on|a)|threshold|cut-?off)\b"
    r"|(?:away\s+)?from\s+(?:the\s+)?(?:anal\s+verge|anus|anorectal|dentate|ileocecal|gastroesophageal|ge\b"
    r"|gej\b|pylorus|carina|incisors?|skin))",
    _I,
)
"""The one list of words after which a number is neither a size nor a lesion count: attenuation
("40 HU"), percentages, volumes, ages and durations, clock positions ("2 o'clock"), thresholds ("the 4
cm size criterion") and distances from a landmark ("10 cm from the anal verge"); match it at the end of
the number."""
