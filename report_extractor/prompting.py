"""Prompts for LLM backends: one static prefix (instructions, schema, worked examples), the report last.

The prefix is byte-identical for every report, so vLLM's automatic prefix caching serves it from cache
after the first request; only the report and the answer cost fresh tokens. The answer is compact JSON
in the LLM-facing schema (:mod:`schemas.llm`) with one verbatim quote per lesion and no free-text
justification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Final

from report_extractor.backends.base import ChatMessage
from schemas.llm import LLMReport, llm_json_schema_text

PROMPT_VERSION: Final[str] = "p2"
DEFAULT_MAX_TOKENS: Final[int] = 1024

INSTRUCTIONS: Final[str] = """\
You read one CT radiology report and return JSON only, following the JSON schema below.
Rules:
- A lesion is a focal mass, nodule, cyst, tumor, metastasis or focal hypo/hyperattenuating area of an \
organ, benign or malignant, suspected ones included (certainty "probable" for likely/suspicious for, \
"possible" for possible/cannot exclude).
- Not lesions: stones, fatty infiltration, cirrhosis, atrophy, hydronephrosis, pancreatitis, diffuse \
wall thickening, diverticula, abscesses, collections, lymph nodes, vessels, devices.
- organs: every organ the report describes. status "lesion", "normal" (described without lesion, \
negated, or with non-lesion findings only) or "absent" (resected). Omit organs not mentioned. count = \
number of lesions ("at least N": count=N, at_least=true); "multiple"/"numerous"/"innumerable"/"several" \
without a number: multiple=true. Paired organs (kidney, adrenal_gland, lung, breast) whose two sides \
differ also get left/right ("lesion", "normal", "absent"), e.g. left nephrectomy with a normal right \
kidney: status "normal", left "absent", right "normal"; status is then "lesion" if a side is, else \
"normal" if a side is, else "absent".
- lesions: one entry per lesion described individually; a group ("multiple cysts up to 1.2 cm") is one \
entry with multiple=true. Liver segments as Couinaud numbers 1-8 (right lobe 5-8, left lobe 2-4, \
caudate 1). Pancreas parts head/uncinate/neck/body/tail. Kidney side and poles. site: a few words \
for a location these fields cannot hold (lung lobe, colon segment, vertebral level), also when the \
lesion is not measured.
- Sizes: the CURRENT size only (ignore prior sizes), diameters exactly as written with their unit; \
"2 cm and 3 cm" are two lesions. Never use organ, duct, vessel or lymph node measurements.
- quote: the shortest verbatim sentence or clause of the report that describes the lesion and contains \
its size. Copy it exactly.
- If FINDINGS and IMPRESSION describe the same lesion, list it once."""

_EXAMPLES: Final[tuple[tuple[str, str], ...]] = (
    (
        "FINDINGS: LIVER: 2.3 x 1.9 cm hypoattenuating mass in segment VII, previously 1.8 cm. "
        "Subcentimeter hypodensity in segment 4/5, too small to characterize. "
        "PANCREAS: No focal lesion. KIDNEYS: Status post left nephrectomy. Right renal stone. "
        "Status post cholecystectomy. "
        "Spleen measures 11 cm.",
        json.dumps(
            {
                "organs": [
                    {"organ": "liver", "status": "lesion", "count": 2},
                    {"organ": "pancreas", "status": "normal"},
                    {"organ": "kidney", "status": "normal", "left": "absent", "right": "normal"},
                    {"organ": "gallbladder", "status": "absent"},
                    {"organ": "spleen", "status": "normal"},
                ],
                "lesions": [
                    {
                        "organ": "liver",
                        "segments": [7],
                        "diameters": [2.3, 1.9],
                        "unit": "cm",
                        "kind": "mass",
                        "quote": "2.3 x 1.9 cm hypoattenuating mass in segment VII",
                    },
                    {
                        "organ": "liver",
                        "segments": [4, 5],
                        "size_class": "subcentimeter",
                        "kind": "hypodensity",
                        "quote": "Subcentimeter hypodensity in segment 4/5",
                    },
                ],
            },
            separators=(",", ":"),
        ),
    ),
    (
        "IMPRESSION: Multiple hepatic metastases, the largest 15 mm. 12 mm lesion in the pancreatic "
        "tail, suspicious for neoplasm. Right lower pole renal cyst 8 mm. Small nodule in the left "
        "upper lobe of the lung.",
        json.dumps(
            {
                "organs": [
                    {"organ": "liver", "status": "lesion", "multiple": True},
                    {"organ": "pancreas", "status": "lesion", "count": 1},
                    {"organ": "kidney", "status": "lesion", "count": 1},
                    {"organ": "lung", "status": "lesion", "count": 1},
                ],
                "lesions": [
                    {
                        "organ": "liver",
                        "diameters": [15],
                        "unit": "mm",
                        "qualifier": "<=",
                        "multiple": True,
                        "kind": "metastasis",
                        "malignancy": "malignant",
                        "quote": "Multiple hepatic metastases, the largest 15 mm",
                    },
                    {
                        "organ": "pancreas",
                        "pancreas_parts": ["tail"],
                        "diameters": [12],
                        "unit": "mm",
                        "certainty": "probable",
                        "quote": "12 mm lesion in the pancreatic tail, suspicious for neoplasm",
                    },
                    {
                        "organ": "kidney",
                        "side": "right",
                        "kidney_poles": ["lower_pole"],
                        "diameters": [8],
                        "unit": "mm",
                        "kind": "cyst",
                        "malignancy": "benign",
                        "quote": "Right lower pole renal cyst 8 mm",
                    },
                    {
                        "organ": "lung",
                        "side": "left",
                        "site": "upper lobe",
                        "kind": "nodule",
                        "quote": "Small nodule in the left upper lobe of the lung",
                    },
                ],
            },
            separators=(",", ":"),
        ),
    ),
)


def worked_examples() -> tuple[tuple[str, LLMReport], ...]:
    """The prompt's worked examples, parsed (a test checks each validates and quotes its report)."""
    return tuple((report, LLMReport.model_validate_json(answer)) for report, answer in _EXAMPLES)


@cache
def system_prompt() -> str:
    """The static prefix: instructions, the JSON schema and the worked examples (identical for all)."""
    parts = [INSTRUCTIONS, "JSON schema:", llm_json_schema_text(), "Examples:"]
    for report, answer in _EXAMPLES:
        parts.append(f"REPORT:\n{report}\nJSON:\n{answer}")
    return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class PromptBuilder:
    """Builds chat messages: the static system prefix, then the report as the last user message."""

    version: str = PROMPT_VERSION

    def messages(self, report_text: str) -> tuple[ChatMessage, ...]:
        """Messages for one report (the report text goes last so the prefix caches)."""
        return (
            ChatMessage(role="system", content=system_prompt()),
            ChatMessage(role="user", content=f"REPORT:\n{report_text}\nJSON:"),
        )

    def repair_messages(self, report_text: str, bad_answer: str, problem: str) -> tuple[ChatMessage, ...]:
        """Messages for the single repair retry after an invalid answer (problem: the parse error)."""
        return (
            *self.messages(report_text),
            ChatMessage(role="assistant", content=bad_answer[:4000]),
            ChatMessage(
                role="user",
                content=f"That JSON is invalid ({problem[:500]}). Return corrected JSON only.",
            ),
        )
