"""``rules``: the deterministic extractor as a backend (no model, no GPU, hundreds of reports/s)."""

from __future__ import annotations

from collections.abc import Sequence

from report_extractor.backends.base import (
    Backend,
    Completion,
    CompletionRequest,
    Failure,
    register_backend,
)
from report_extractor.rules import RULES_VERSION, extract_report


@register_backend
class RulesBackend(Backend):
    """Reads the report text with section, negation, lexicon and measurement rules
    (:mod:`report_extractor.rules`) and answers with the same model an LLM's JSON is parsed into
    (:attr:`Completion.answer`)."""

    name = "rules"
    uses_prompt = False

    @property
    def version(self) -> str:
        """``rules:<rules version>``: changes whenever the rules change, so re-runs re-extract."""
        return f"rules:{RULES_VERSION}"

    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        """Extract each report; an exception on one report becomes its :class:`Failure`."""
        out: list[Completion | Failure] = []
        for request in requests:
            try:
                answer = extract_report(request.report_text)
            except Exception as e:  # one bad report must not stop a batch
                out.append(Failure(message=f"rules extractor crashed: {type(e).__name__}", retryable=False))
                continue
            out.append(Completion(answer=answer))  # already a validated model: no JSON round trip
        return out
