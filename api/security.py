"""API-key authentication: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

Keys are compared as SHA-256 digests with :func:`hmac.compare_digest`, against every configured key
(no early exit), so timing does not reveal which key or how much of it matched.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from fastapi import Request

from api.errors import ApiError, ErrorCode

_CHALLENGE: Final[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


def presented_key(request: Request) -> str | None:
    """The API key the client sent (Bearer token first, then ``X-API-Key``), or None."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = request.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def key_matches(key: str, digests: list[bytes]) -> bool:
    """Whether ``key`` is one of the keys whose SHA-256 digests are ``digests`` (constant time)."""
    given = hashlib.sha256(key.encode("utf-8")).digest()
    found = False
    for digest in digests:
        found |= hmac.compare_digest(given, digest)
    return found


def authenticate(request: Request, digests: list[bytes], *, required: bool) -> None:
    """Raise 401 ``unauthorized`` unless the request carries a valid key (or auth is off).

    Args:
        request: the incoming request.
        digests: SHA-256 digests of the valid keys.
        required: False in explicit no-auth mode (``RSUPER_ALLOW_NO_AUTH=1``).
    """
    if not required:
        return
    key = presented_key(request)
    if key is None:
        raise ApiError(
            401,
            ErrorCode.UNAUTHORIZED,
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            _CHALLENGE,
        )
    if not key_matches(key, digests):
        raise ApiError(401, ErrorCode.UNAUTHORIZED, "invalid API key", _CHALLENGE)
