"""One error body for every error: ``{"detail": "<short message>", "code": "<stable code>"}``.

FastAPI's validation errors become 422 ``invalid_input`` with the field named
(``"body.text: String should have at least 1 character"``); Starlette's 404 / 405 and our own
:class:`ApiError` keep their status and get a stable code; anything unexpected is a 500
``internal_error`` whose detail says nothing about the request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """Stable, machine-readable error codes (the ``code`` field of every error body)."""

    INVALID_INPUT = "invalid_input"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    BAD_REQUEST = "bad_request"
    BACKEND_FAILED = "backend_failed"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    STORE_UNAVAILABLE = "store_unavailable"
    NOT_READY = "not_ready"
    INTERNAL_ERROR = "internal_error"
    HTTP_ERROR = "http_error"


_CODE_BY_STATUS: Final[dict[int, ErrorCode]] = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.INVALID_INPUT,
    500: ErrorCode.INTERNAL_ERROR,
}


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str
    code: str


class ApiError(StarletteHTTPException):
    """An error with a stable code, rendered as :class:`ErrorBody`."""

    def __init__(
        self, status_code: int, code: ErrorCode, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=dict(headers or {}) or None)
        self.code = code


def invalid_input(detail: str) -> ApiError:
    """A 422 ``invalid_input`` error (``detail`` starts with the field, e.g. ``body.text: ...``)."""
    return ApiError(422, ErrorCode.INVALID_INPUT, detail)


def not_found(detail: str) -> ApiError:
    """A 404 ``not_found`` error."""
    return ApiError(404, ErrorCode.NOT_FOUND, detail)


def store_unavailable(e: Exception, during: str | None = None) -> ApiError:
    """The 503 ``store_unavailable`` error for a store failure ``e``; logs its type name only (a store
    message may quote report data), with ``during`` saying what was being done."""
    logger.error("store error%s: %s", f" {during}" if during else "", type(e).__name__)
    return ApiError(503, ErrorCode.STORE_UNAVAILABLE, "store unavailable, retry later")


def error_response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON response for an error."""
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def format_validation_errors(errors: Sequence[Any]) -> str:
    """``loc.path: message`` for each pydantic error, joined by ``; `` (at most 5 listed)."""
    parts = []
    for err in list(errors)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg', 'invalid value')}" if loc else str(err.get("msg")))
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more errors")
    return "; ".join(parts)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # registered for this type only
    code = (
        exc.code if isinstance(exc, ApiError) else _CODE_BY_STATUS.get(exc.status_code, ErrorCode.HTTP_ERROR)
    )
    return error_response(exc.status_code, code, str(exc.detail), exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for this type only
    return error_response(422, ErrorCode.INVALID_INPUT, format_validation_errors(exc.errors()))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled %s on %s %s", type(exc).__name__, request.method, _route(request), exc_info=exc)
    return error_response(500, ErrorCode.INTERNAL_ERROR, "internal server error")


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "<unmatched>")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the :class:`ErrorBody` shape."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)


ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ErrorBody, "description": "Malformed request (e.g. a JSON body that is not UTF-8)"},
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    413: {"model": ErrorBody, "description": "Request body or upload too large"},
    422: {
        "model": ErrorBody,
        "description": (
            "Invalid input (the detail names the field); a query parameter that takes one value given "
            "more than once is invalid (`query.<name>: given 2 times, give it once`)"
        ),
    },
}
"""Error responses shared by every authenticated route (for the OpenAPI document)."""
