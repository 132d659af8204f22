"""API-key authentication: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

Keys are compared as SHA-256 digests with :func:`hmac.compare_digest`, against every configured key
(no early exit), so timing does not reveal which key or how much of it matched.

:class:`AuthMiddleware` checks the key from the request headers alone, before anything reads the
body: a client without a key never gets a byte of its body read (nor a 413 / 422 instead of the 401).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import ApiError, ErrorCode, error_response

_CHALLENGE: Final[dict[str, str]] = {"WWW-Authenticate": "Bearer"}

AUTHENTICATED: Final[str] = "rsuper.authenticated"
"""ASGI scope key set by :class:`AuthMiddleware` once a request's key has been checked."""

PROTECTED_PREFIX: Final[str] = "/v1/"
"""Every path under this prefix needs a key (``/metrics`` too, unless made public)."""


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The API key the client sent (Bearer token first, then ``X-API-Key``), or None."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def key_matches(key: str, digests: list[bytes]) -> bool:
    """Whether ``key`` is one of the keys whose SHA-256 digests are ``digests`` (constant time)."""
    given = hashlib.sha256(key.encode("utf-8")).digest()
    found = False
    for digest in digests:
        found |= hmac.compare_digest(given, digest)
    return found


def authenticate(headers: Mapping[str, str], digests: list[bytes], *, required: bool) -> None:
    """Raise 401 ``unauthorized`` unless the headers carry a valid key (or auth is off).

    Args:
        headers: the request headers (case-insensitive mapping).
        digests: SHA-256 digests of the valid keys.
        required: False in explicit no-auth mode (``RSUPER_ALLOW_NO_AUTH=1``).
    """
    if not required:
        return
    key = presented_key(headers)
    if key is None:
        raise ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            _CHALLENGE,
        )
    if not key_matches(key, digests):
        raise ApiError(401, ErrorCode.UNAUTHORIZED, "invalid API key", _CHALLENGE)


def needs_key(path: str, *, metrics_public: bool) -> bool:
    """Whether a request to ``path`` must carry a key: everything under ``/v1/`` and ``/metrics``
    (unless ``RSUPER_METRICS_PUBLIC``); health checks and the API documents are open."""
    return path.startswith(PROTECTED_PREFIX) or (path == "/metrics" and not metrics_public)


class AuthMiddleware:
    """Pure ASGI middleware: 401 for a protected path without a valid key, decided from the headers
    before the request body is read (so an unauthenticated client cannot make the server buffer,
    parse or spool anything). Sets :data:`AUTHENTICATED` in the scope of requests it let through.

    Args:
        app: the wrapped application.
        digests: SHA-256 digests of the valid keys (empty: explicit no-auth mode, everything passes).
        metrics_public: serve ``/metrics`` without a key.
    """

    def __init__(self, app: ASGIApp, *, digests: list[bytes], metrics_public: bool) -> None:
        self.app = app
        self.digests = digests
        self.metrics_public = metrics_public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the key of protected HTTP requests, then pass them on."""
        if scope["type"] == "http" and needs_key(scope["path"], metrics_public=self.metrics_public):
            try:
                authenticate(Headers(scope=scope), self.digests, required=bool(self.digests))
            except ApiError as e:
                await error_response(e.status_code, e.code, str(e.detail), e.headers)(scope, receive, send)
                return
            scope[AUTHENTICATED] = True
        await self.app(scope, receive, send)
