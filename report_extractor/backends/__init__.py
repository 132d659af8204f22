"""Extraction backends, registered by name (heavy SDKs are imported lazily)."""

from report_extractor.backends.base import (
    Backend,
    ChatMessage,
    Completion,
    CompletionRequest,
    Failure,
    available_backends,
    create_backend,
    register_backend,
    register_lazy_backend,
)

__all__ = [
    "Backend",
    "ChatMessage",
    "Completion",
    "CompletionRequest",
    "Failure",
    "available_backends",
    "create_backend",
    "register_backend",
    "register_lazy_backend",
]
