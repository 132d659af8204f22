"""``fake``: canned answers for tests and examples."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from report_extractor.backends.base import (
    Backend,
    Completion,
    CompletionRequest,
    Failure,
    register_backend,
)

Answer = str | Completion | Failure | Callable[[CompletionRequest], "str | Completion | Failure"]

EMPTY_ANSWER = '{"organs":[],"lesions":[]}'


@register_backend
class FakeBackend(Backend):
    """Returns canned answers keyed by report ID (a string, a :class:`Completion`, a :class:`Failure`,
    or a callable of the request); reports without an entry get ``default``.

    A list of answers for one ID is consumed in order, one per call (to script a bad answer followed by
    a repaired one).

    ``delay_s`` makes every answer take that long (a slow backend for tests and demos).

    Example:
        >>> backend = FakeBackend(answers={"r1": '{"organs": [], "lesions": []}'})
    """

    name = "fake"
    uses_prompt = False

    def __init__(
        self,
        model: str | None = None,
        answers: Mapping[str, Answer | list[Answer]] | None = None,
        default: Answer = EMPTY_ANSWER,
        delay_s: float = 0.0,
        **options: Any,
    ) -> None:
        if delay_s < 0:
            raise ValueError(f"delay_s must be >= 0, got {delay_s}")
        super().__init__(model=model, **options)
        self._answers = {k: (list(v) if isinstance(v, list) else v) for k, v in (answers or {}).items()}
        self._default = default
        self.delay_s = delay_s
        self.calls: list[CompletionRequest] = []

    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        """Answer each request from the canned table."""
        out: list[Completion | Failure] = []
        for request in requests:
            if self.delay_s:
                time.sleep(self.delay_s)
            self.calls.append(request)
            entry = self._answers.get(request.report_id, self._default)
            if isinstance(entry, list):
                entry = entry.pop(0) if len(entry) > 1 else entry[0]
            if callable(entry) and not isinstance(entry, Completion | Failure):
                entry = entry(request)
            out.append(Completion(text=entry) if isinstance(entry, str) else entry)
        return out
