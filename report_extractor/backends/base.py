"""The backend interface: prompts in, structured JSON text out, a batch at a time.

Every backend — an LLM engine, an HTTP client, the deterministic ``rules`` extractor, the test
``fake`` — implements :class:`Backend`. The engine (:mod:`report_extractor.engine`) owns prompting,
parsing, grounding and verification, so backends stay small.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from report_extractor.errors import BackendUnavailableError, ConfigurationError
from schemas.llm import LLMReport


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One chat message (``role`` is ``system``, ``user`` or ``assistant``)."""

    role: str
    content: str


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """What a backend is asked for one report.

    Attributes:
        report_id: the caller's ID (for error messages and logs; never log ``report_text``).
        report_text: the report itself (what non-LLM backends read).
        messages: the full chat prompt (static prefix first, report last) for LLM backends.
        json_schema: the JSON Schema the answer must follow (structured decoding).
        max_tokens: cap on the answer's length.
    """

    report_id: str
    report_text: str
    messages: tuple[ChatMessage, ...]
    json_schema: dict[str, Any]
    max_tokens: int


@dataclass(frozen=True, slots=True)
class Completion:
    """A backend's answer: JSON text in the LLM-facing schema, plus token accounting.

    Attributes:
        text: the answer as JSON text (what LLM backends produce; empty when ``answer`` is given).
        answer: the answer already built as a validated :class:`schemas.llm.LLMReport`, for backends
            that make it in code (``rules``): the engine takes it as is instead of parsing ``text``,
            saving a JSON round trip. The grounding and checks after parsing apply to both alike.
    """

    text: str = ""
    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    answer: LLMReport | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """A per-report backend failure (the batch goes on; the report is kept as failed, retryable)."""

    message: str
    retryable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class Backend(ABC):
    """A way to turn report prompts into JSON answers.

    Subclasses set :attr:`name` and register themselves with :func:`register_backend`.
    """

    name: ClassVar[str]
    uses_prompt: ClassVar[bool] = True
    """False for backends that read ``report_text`` directly (``rules``, ``fake``)."""

    def __init__(self, model: str | None = None, **options: Any) -> None:
        self.model = model
        self.options = options

    @property
    def version(self) -> str:
        """Identifies what produced an answer; part of the extractor version used for resumability."""
        return f"{self.name}:{self.model}" if self.model else self.name

    @property
    def decoding(self) -> dict[str, Any]:
        """Decoding settings recorded in provenance (temperature, max tokens, ...)."""
        return {}

    @abstractmethod
    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        """Answer a batch of requests, one result per request in the same order.

        Implementations must not raise for a single bad report; they return :class:`Failure` for it.
        They may raise :class:`BackendError` when the whole backend is down.
        """

    def check(self) -> None:  # noqa: B027 - optional hook
        """Raise :class:`BackendError` / :class:`BackendUnavailableError` when not usable (readiness)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (engines, HTTP pools)."""


_REGISTRY: dict[str, Callable[..., Backend]] = {}
_LAZY: dict[str, tuple[str, str]] = {
    "rules": ("report_extractor.backends.rules", "RulesBackend"),
    "fake": ("report_extractor.backends.fake", "FakeBackend"),
    "vllm": ("report_extractor.backends.vllm_backend", "VLLMBackend"),
    "openai": ("report_extractor.backends.openai_backend", "OpenAIBackend"),
}

B = TypeVar("B", bound=type[Backend])


def register_backend(cls: B) -> B:
    """Class decorator: make a backend available by its :attr:`Backend.name`."""
    _REGISTRY[cls.name] = cls
    return cls


def register_lazy_backend(name: str, module: str, attribute: str) -> None:
    """Declare a backend whose module is imported only when it is first asked for."""
    _LAZY[name] = (module, attribute)


def available_backends() -> list[str]:
    """Names of every registered backend (imported or lazy)."""
    return sorted(set(_REGISTRY) | set(_LAZY))


def create_backend(name: str, model: str | None = None, **options: Any) -> Backend:
    """Build a backend by name.

    Raises:
        ConfigurationError: unknown name (the message lists the valid ones).
        BackendUnavailableError: the backend's optional dependency is not installed.
    """
    if name not in _REGISTRY and name in _LAZY:
        module, attribute = _LAZY[name]
        try:
            importlib.import_module(module)
        except ImportError as e:
            raise BackendUnavailableError(
                f"backend {name!r} needs an optional dependency that is missing ({e.name}); "
                f"install it with: pip install 'rsuper[{name}]'"
            ) from e
        if name not in _REGISTRY:  # module defines the class without the decorator
            _REGISTRY[name] = getattr(importlib.import_module(module), attribute)
    if name not in _REGISTRY:
        raise ConfigurationError(f"backend: unknown backend {name!r}; choose one of {available_backends()}")
    return _REGISTRY[name](model=model, **options)
