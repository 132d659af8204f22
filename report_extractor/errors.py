"""One exception tree for the extraction engine."""

from __future__ import annotations


class ReportExtractorError(Exception):
    """Base class of every error raised by :mod:`report_extractor`."""


class ConfigurationError(ReportExtractorError, ValueError):
    """A backend, option or input was configured wrongly; the message says how to fix it."""


class BackendUnavailableError(ReportExtractorError):
    """A backend's optional dependency or server is missing (the message names the install command)."""


class BackendError(ReportExtractorError):
    """The backend failed to answer (after its own retries); the report can be retried later."""


class OutputParseError(ReportExtractorError):
    """The backend answered, but the answer is not valid JSON in the LLM-facing schema.

    Attributes:
        raw: the raw answer (model output, never report text), kept for debugging and repair prompts.
    """

    def __init__(self, message: str, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


class InputError(ReportExtractorError, ValueError):
    """An input file or row is unusable (missing column, empty text, over-long text, ...).

    Attributes:
        kind: a short machine-readable reason (``empty_text``, ``too_long``, ``missing_id``,
            ``invalid``) used to count per-row errors.
    """

    def __init__(self, message: str, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind
