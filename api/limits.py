"""Request body size limits, enforced while the body streams in (413 ``payload_too_large``).

A declared ``Content-Length`` above the limit is refused before anything is read; a chunked body is
counted as it arrives. Multipart uploads get the (larger) upload limit, everything else the JSON
body limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, ErrorCode, error_response


class PayloadTooLargeError(ApiError):
    """The body went past its limit (raised from ``receive``; rendered as 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, ErrorCode.PAYLOAD_TOO_LARGE, f"request body exceeds the limit of {limit} bytes")


class BodyLimitMiddleware:
    """Pure ASGI middleware limiting request bodies to ``max_body`` (``max_upload`` for multipart)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or cut off bodies above the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/")
        limit = self.max_upload if multipart else self.max_body
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await error_response(400, ErrorCode.BAD_REQUEST, "invalid Content-Length header")(
                    scope, receive, send
                )
                return
            if size > limit:
                exc = PayloadTooLargeError(limit)
                await error_response(413, exc.code, str(exc.detail))(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(limit)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except StarletteHTTPException as exc:  # raised from receive outside a handler's reach
            if started or not isinstance(exc, PayloadTooLargeError):
                raise
            await error_response(413, exc.code, str(exc.detail))(scope, receive, send)
