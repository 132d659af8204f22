"""Request body size limits, enforced while the body streams in (413 ``payload_too_large``).

A declared ``Content-Length`` above the limit is refused before anything is read; a chunked body is
counted as it arrives. Multipart ``POST`` requests to the upload routes get the (larger) upload
limit; every other request, whatever its ``Content-Type``, the JSON body limit.
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
    """Pure ASGI middleware limiting request bodies to ``max_body``, or to ``max_upload`` for a
    multipart ``POST`` to one of ``upload_paths`` (a multipart body sent anywhere else gets the small
    limit: it cannot make the server read a gigabyte into memory)."""

    def __init__(
        self, app: ASGIApp, *, max_body: int, max_upload: int, upload_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = upload_paths

    def limit_for(self, scope: Scope, content_type: bytes) -> int:
        """The body limit of one request."""
        upload = (
            scope["method"] == "POST"
            and scope["path"] in self.upload_paths
            and content_type.lower().startswith(b"multipart/")
        )
        return self.max_upload if upload else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse or cut off bodies above the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        limit = self.limit_for(scope, headers.get(b"content-type", b""))
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
