"""The extraction engine: reports in, validated records out, one backend call per batch.

Flow per batch: build prompts (static prefix + report) → ``backend.complete`` → parse (a backend that
builds the answer model in code hands it over in :attr:`Completion.answer`, no JSON) → for LLM
backends, one repair retry of the answers that failed to parse (batched) → ground and verify
(:mod:`report_extractor.postprocess`) → :class:`ReportExtraction` with status ``ok`` / ``invalid`` /
``failed`` and the reason kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from report_extractor.backends.base import Backend, Completion, CompletionRequest, Failure
from report_extractor.errors import ConfigurationError, InputError, OutputParseError
from report_extractor.postprocess import build_extraction, failed_extraction, parse_answer
from report_extractor.prompting import DEFAULT_MAX_TOKENS, PROMPT_VERSION, PromptBuilder
from schemas.llm import LLM_SCHEMA_VERSION, llm_json_schema
from schemas.phi import report_ref
from schemas.records import (
    SCHEMA_VERSION,
    ExtractionStatus,
    Provenance,
    ReportExtraction,
    text_sha256,
)

logger = logging.getLogger(__name__)

DEFAULT_MAX_REPORT_CHARS: Final[int] = 50_000
"""Reports longer than this are rejected per row (a CT report is a few thousand characters)."""

MAX_REPORT_ID_CHARS: Final[int] = 256
"""Longest report ID (the record model's and the store's limit)."""


@dataclass(frozen=True, slots=True)
class ReportInput:
    """One report to extract. ``metadata`` travels to the store, never into prompts or logs."""

    report_id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    _sha256: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def sha256(self) -> str:
        """SHA-256 of the text (the store's idempotency key, with the ID and extractor version).

        Computed on first use and kept: a batch asks for it several times per report (skip check,
        record, the service's save and answer).
        """
        digest = self._sha256
        if digest is None:
            digest = text_sha256(self.text)
            object.__setattr__(self, "_sha256", digest)  # frozen: set once, always the same value
        return digest


def validate_report(report: ReportInput, max_chars: int = DEFAULT_MAX_REPORT_CHARS) -> None:
    """Reject reports that cannot be extracted.

    Raises:
        InputError: empty, over-long or NUL-holding ID; empty / blank text, text with NUL characters
            (no database stores them) or longer than ``max_chars``.
    """
    if not report.report_id or not report.report_id.strip():
        raise InputError("report_id: must be a non-empty string", kind="missing_id")
    if len(report.report_id) > MAX_REPORT_ID_CHARS:
        raise InputError(
            f"report_id: has {len(report.report_id)} characters, more than the limit of "
            f"{MAX_REPORT_ID_CHARS}",
            kind="bad_id",
        )
    if "\x00" in report.report_id:
        raise InputError("report_id: must not contain NUL (\\x00) characters", kind="bad_id")
    if "\x00" in report.text:
        raise InputError("text: must not contain NUL (\\x00) characters", kind="bad_text")
    if not report.text or not report.text.strip():
        raise InputError("text: report text is empty", kind="empty_text")
    if len(report.text) > max_chars:
        raise InputError(
            f"text: report has {len(report.text)} characters, more than the limit of {max_chars}",
            kind="too_long",
        )


class Extractor:
    """Turns reports into records with one backend.

    Args:
        backend: any registered backend (see :func:`report_extractor.backends.create_backend`).
        max_tokens: cap on each answer's length (LLM backends).
        repair: retry once, with the parse error shown to the model, when an answer is invalid.

    Example:
        >>> from report_extractor.backends import create_backend
        >>> extractor = Extractor(create_backend("rules"))
        >>> record = extractor.extract_one(ReportInput("r1", "Liver: 2 cm cyst in segment VI."))
    """

    def __init__(
        self, backend: Backend, *, max_tokens: int = DEFAULT_MAX_TOKENS, repair: bool = True
    ) -> None:
        if max_tokens < 16:
            raise ConfigurationError(f"max_tokens must be >= 16, got {max_tokens}")
        self.backend = backend
        self.max_tokens = max_tokens
        self.repair = repair and backend.uses_prompt
        self.prompts = PromptBuilder()
        self._schema = llm_json_schema()

    @property
    def version(self) -> str:
        """The extractor version stored with every record: backend + model + prompt + schema versions.

        A re-run skips reports already extracted with the same version; changing any part re-extracts.
        """
        parts = [self.backend.version]
        if self.backend.uses_prompt:
            parts.append(PROMPT_VERSION)
        parts += [LLM_SCHEMA_VERSION, f"schema-{SCHEMA_VERSION}"]
        return "|".join(parts)

    def extract_one(self, report: ReportInput) -> ReportExtraction:
        """Extract one report (see :meth:`extract_many`)."""
        return self.extract_many([report])[0]

    def extract_many(self, reports: Sequence[ReportInput]) -> list[ReportExtraction]:
        """Extract a batch, one record per report, in order.

        Reports must already pass :func:`validate_report`. Backend failures and invalid answers become
        records with status ``failed`` / ``invalid`` (and the reason), never exceptions.
        """
        if not reports:
            return []
        started = time.perf_counter()
        requests = [self._request(r) for r in reports]
        results = self.backend.complete(requests)
        if len(results) != len(requests):
            raise ConfigurationError(
                f"backend {self.backend.name!r} returned {len(results)} answers for {len(requests)} reports"
            )
        attempts = [1] * len(reports)
        parsed: list[Any] = []
        to_repair: list[int] = []
        for i, result in enumerate(results):
            parsed.append(self._parse(result))
            if isinstance(parsed[i], OutputParseError) and self.repair:
                to_repair.append(i)
        if to_repair:
            repairs = [self._repair_request(reports[i], parsed[i].raw, str(parsed[i])) for i in to_repair]
            for i, result in zip(to_repair, self.backend.complete(repairs), strict=True):
                attempts[i] = 2
                results[i] = _merge_usage(results[i], result)
                parsed[i] = self._parse(result)
        per_report = (time.perf_counter() - started) / len(reports)
        return [
            self._record(report, result, outcome, per_report, n)
            for report, result, outcome, n in zip(reports, results, parsed, attempts, strict=True)
        ]

    def _request(self, report: ReportInput) -> CompletionRequest:
        messages = self.prompts.messages(report.text) if self.backend.uses_prompt else ()
        return CompletionRequest(
            report_id=report.report_id,
            report_text=report.text,
            messages=messages,
            json_schema=self._schema,
            max_tokens=self.max_tokens,
        )

    def _repair_request(self, report: ReportInput, raw: str, problem: str) -> CompletionRequest:
        return CompletionRequest(
            report_id=report.report_id,
            report_text=report.text,
            messages=self.prompts.repair_messages(report.text, raw, problem),
            json_schema=self._schema,
            max_tokens=self.max_tokens,
        )

    @staticmethod
    def _parse(result: Completion | Failure) -> Any:
        if isinstance(result, Failure):
            return result
        if result.answer is not None:  # built and validated by the backend itself (rules)
            return result.answer
        try:
            return parse_answer(result.text)
        except OutputParseError as e:
            return e

    def _record(
        self,
        report: ReportInput,
        result: Completion | Failure,
        outcome: Any,
        seconds: float,
        attempts: int,
    ) -> ReportExtraction:
        usage = result if isinstance(result, Completion) else None
        provenance = Provenance(
            backend=self.backend.name,
            model=self.backend.model,
            extractor_version=self.version,
            prompt_version=PROMPT_VERSION if self.backend.uses_prompt else None,
            decoding={"max_tokens": self.max_tokens, **self.backend.decoding},
            duration_s=round(seconds, 6),
            prompt_tokens=usage.prompt_tokens if usage else None,
            cached_tokens=usage.cached_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            attempts=attempts,
        )
        rid, sha = report.report_id, report.sha256
        if isinstance(outcome, Failure):
            logger.warning("backend failed for report %s: %s", report_ref(rid), outcome.message)
            return failed_extraction(
                report_id=rid,
                text_sha256=sha,
                provenance=provenance,
                status=ExtractionStatus.FAILED,
                error=outcome.message,
            )
        if isinstance(outcome, OutputParseError):
            error = f"invalid answer: {outcome}"
        else:
            try:
                return build_extraction(
                    outcome, report_id=rid, text=report.text, text_sha256=sha, provenance=provenance
                )
            except ValueError as e:  # cross-field rules the answer broke beyond repair
                error = f"record invalid: {e}"
        logger.warning("invalid answer for report %s", report_ref(rid))
        return failed_extraction(
            report_id=rid,
            text_sha256=sha,
            provenance=provenance,
            status=ExtractionStatus.INVALID,
            error=error,
        )


def _merge_usage(first: Completion | Failure, second: Completion | Failure) -> Completion | Failure:
    """The repair answer, with token counts of both attempts added up."""
    if not isinstance(first, Completion) or not isinstance(second, Completion):
        return second

    def add(a: int | None, b: int | None) -> int | None:
        return None if a is None and b is None else (a or 0) + (b or 0)

    return Completion(
        text=second.text,
        prompt_tokens=add(first.prompt_tokens, second.prompt_tokens),
        cached_tokens=add(first.cached_tokens, second.cached_tokens),
        completion_tokens=add(first.completion_tokens, second.completion_tokens),
        finish_reason=second.finish_reason,
        answer=second.answer,
    )
