"""``openai``: an async HTTP client for a vLLM (or any OpenAI-compatible) chat-completions server.

What the API service and docker-compose use. One batch from the engine becomes many requests in flight
(bounded by an :class:`asyncio.Semaphore`, default 32), each with structured output
(``response_format`` = ``json_schema``, strict), temperature 0, the engine's token cap, a timeout, and
retries with exponential back-off and full jitter on 429, 5xx and connection errors. A request that
still fails after its last retry becomes a :class:`Failure` for that report; the batch goes on.

httpx is used directly rather than the ``openai`` SDK: it is already a dependency of the API extra, it
keeps the retry policy (and its tests, through :class:`httpx.MockTransport`) in one place instead of
stacked on the SDK's own retries, and vLLM's extra request fields need no ``extra_body`` plumbing.

The client runs its own event loop on a daemon thread, so :meth:`OpenAIBackend.complete` works the same
from plain code and from inside a running loop (e.g. a FastAPI worker thread), and the connection pool
lives as long as the backend.

Configuration: ``base_url`` (else ``$RSUPER_OPENAI_BASE_URL``, else ``http://127.0.0.1:8000/v1``),
``api_key`` (else ``$RSUPER_OPENAI_API_KEY``; none for a local vLLM), ``model`` (else the first model
the server lists at ``/v1/models``). Start vLLM with ``--enable-prompt-tokens-details`` to get cached
prompt-token counts.

Report text is never logged: log lines and failure messages carry report IDs, status codes and error
types only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Final, TypeVar

from report_extractor.backends.base import (
    Backend,
    Completion,
    CompletionRequest,
    Failure,
    register_backend,
)
from report_extractor.errors import BackendError, BackendUnavailableError, ConfigurationError
from schemas.phi import report_ref

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

BASE_URL_ENV: Final[str] = "RSUPER_OPENAI_BASE_URL"
API_KEY_ENV: Final[str] = "RSUPER_OPENAI_API_KEY"
DEFAULT_BASE_URL: Final[str] = "http://127.0.0.1:8000/v1"
RETRY_STATUS: Final[frozenset[int]] = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
"""HTTP statuses retried with back-off (rate limits, overload, gateway errors)."""

T = TypeVar("T")


def _scrub(message: str, text: str, window: int = 24) -> str:
    """Drop a server message that quotes any ``window``-character run of the report (no PHI in logs)."""
    message = " ".join(message.split())[:300]
    if len(text) < window:
        return "[redacted]" if text and text in message else message
    for start in range(0, len(text) - window + 1, window // 2):
        if text[start : start + window] in message:
            return "[redacted: server message quoted the request]"
    return message


def _schema_name(schema: dict[str, Any]) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "answer"))
    return name[:64] or "answer"


@register_backend
class OpenAIBackend(Backend):
    """Client for an OpenAI-compatible chat-completions server (vLLM's ``/v1``).

    Args:
        model: the served model name; ``None`` asks the server (first entry of ``/v1/models``).
        base_url: the API root ending in ``/v1`` (default ``$RSUPER_OPENAI_BASE_URL`` or
            ``http://127.0.0.1:8000/v1``).
        api_key: bearer token (default ``$RSUPER_OPENAI_API_KEY``; none for a local vLLM).
        concurrency: requests in flight at once (> 0).
        timeout: seconds for one request (read / write / pool; connect gets at most 10 s), > 0. Generous
            by default: a request also waits in the server's queue (minutes with 32 in flight on a CPU).
        max_retries: retries after the first attempt (>= 0) on 429 / 5xx / connection errors.
        backoff_base: first back-off in seconds; doubles per retry, full jitter (>= 0).
        backoff_max: cap on one back-off in seconds (>= backoff_base).
        temperature: sampling temperature (0 = greedy, the default).
        strict: ask for strict schema adherence (``json_schema.strict``).
        transport: an :class:`httpx.AsyncBaseTransport` (tests inject :class:`httpx.MockTransport`).

    Example:
        >>> backend = OpenAIBackend(base_url="http://127.0.0.1:8000/v1")  # doctest: +SKIP
        >>> backend.check()  # doctest: +SKIP
    """

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = 32,
        timeout: float = 600.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        temperature: float = 0.0,
        strict: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        try:
            import httpx  # noqa: F401 - fail at construction, with the install hint
        except ImportError as e:
            raise BackendUnavailableError(
                "backend 'openai' needs httpx; install it with: pip install 'rsuper[openai]'"
            ) from e
        if concurrency < 1:
            raise ConfigurationError(f"concurrency must be >= 1, got {concurrency}")
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout}")
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        if backoff_base < 0 or backoff_max < backoff_base:
            raise ConfigurationError(
                f"backoff_base must be >= 0 and <= backoff_max, got {backoff_base} and {backoff_max}"
            )
        if not 0.0 <= temperature <= 2.0:
            raise ConfigurationError(f"temperature must be in [0, 2], got {temperature}")
        super().__init__(model=model, **options)
        url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}")
        self.base_url = url.rstrip("/")
        self._api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.temperature = temperature
        self.strict = strict
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """How back-off waits (tests replace it to record delays without waiting)."""

    # --- identity -----------------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """``openai:MODEL``; asks the server for the model name first when none was given."""
        return f"{self.name}:{self._resolve_model()}"

    @property
    def decoding(self) -> dict[str, Any]:
        """Temperature and structured-output mode (the engine adds ``max_tokens``)."""
        return {"temperature": self.temperature, "response_format": "json_schema", "strict": self.strict}

    # --- public API ---------------------------------------------------------------------------------

    def check(self) -> None:
        """Readiness: ``GET /v1/models`` answers and serves the configured model.

        Raises:
            BackendUnavailableError: the server cannot be reached or answers with an error.
            ConfigurationError: the server does not serve the configured model.
        """
        served = self._run(self._list_models())
        if self.model is not None and self.model not in served:
            raise ConfigurationError(
                f"model: server at {self.base_url} does not serve {self.model!r}; it serves {served}"
            )
        self._resolve_model(served)

    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        """Send every request concurrently (bounded); one result per request, in input order."""
        if not requests:
            return []
        model = self._resolve_model()
        return self._run(self._complete_all(list(requests), model))

    def close(self) -> None:
        """Close the connection pool and stop the client's event loop."""
        with self._lock:
            loop, thread, client = self._loop, self._thread, self._client
            self._loop = self._thread = self._client = None
        if loop is None:
            return
        if client is not None:
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()

    # --- event loop plumbing ------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the backend's loop thread and wait for it."""
        loop = self._ensure_loop()
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, loop)
        return future.result()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"rsuper-openai-{id(self):x}", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _http(self) -> httpx.AsyncClient:
        """The pooled client (created on the loop thread on first use)."""
        import httpx

        if self._client is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=headers,
                timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
                limits=httpx.Limits(
                    max_connections=self.concurrency, max_keepalive_connections=self.concurrency
                ),
                transport=self._transport,
            )
        return self._client

    # --- model discovery ----------------------------------------------------------------------------

    def _resolve_model(self, served: list[str] | None = None) -> str:
        if self.model is None:
            served = served if served is not None else self._run(self._list_models())
            if not served:
                raise BackendUnavailableError(f"server at {self.base_url} lists no models at /models")
            self.model = served[0]
            logger.info("openai backend: using model %s served at %s", self.model, self.base_url)
        return self.model

    async def _list_models(self) -> list[str]:
        import httpx

        try:
            response = await self._http().get("/models")
        except httpx.HTTPError as e:
            raise BackendUnavailableError(
                f"cannot reach the LLM server at {self.base_url} ({type(e).__name__}); start it, or set "
                f"--base-url / ${BASE_URL_ENV}"
            ) from e
        if response.status_code != 200:
            raise BackendUnavailableError(
                f"LLM server at {self.base_url} answered {response.status_code} to GET /models"
            )
        try:
            return [str(m["id"]) for m in response.json()["data"]]
        except (ValueError, KeyError, TypeError) as e:
            raise BackendError(f"LLM server at {self.base_url}: unexpected /models answer") from e

    # --- completions --------------------------------------------------------------------------------

    def body(self, request: CompletionRequest, model: str) -> dict[str, Any]:
        """The chat-completions request body for one report."""
        return {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": self.temperature,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": _schema_name(request.json_schema),
                    "schema": request.json_schema,
                    "strict": self.strict,
                },
            },
        }

    async def _complete_all(
        self, requests: list[CompletionRequest], model: str
    ) -> list[Completion | Failure]:
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(request: CompletionRequest) -> Completion | Failure:
            async with semaphore:
                return await self._complete_one(request, model)

        return list(await asyncio.gather(*(one(r) for r in requests)))

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential back-off; a server's ``Retry-After`` is a floor (both capped)."""
        delay = random.uniform(0.0, min(self.backoff_max, self.backoff_base * 2**attempt))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return delay

    async def _complete_one(self, request: CompletionRequest, model: str) -> Completion | Failure:
        import httpx

        body = self.body(request, model)
        last = "no attempt"
        status: int | None = None
        retry_after: float | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                await self._sleep(self._backoff(attempt - 1, retry_after))
            retry_after = None
            try:
                response = await self._http().post("/chat/completions", json=body)
            except httpx.TransportError as e:  # connect / read / write errors and timeouts
                status, last = None, f"{type(e).__name__}"
                logger.warning(
                    "report %s: %s (attempt %d/%d)",
                    report_ref(request.report_id),
                    last,
                    attempt + 1,
                    self.max_retries + 1,
                )
                continue
            status = response.status_code
            if status == 200:
                return self._parse_completion(request, response)
            last = f"HTTP {status}{self._error_detail(response, request)}"
            if status not in RETRY_STATUS:
                logger.warning("report %s: %s (not retried)", report_ref(request.report_id), last)
                return Failure(
                    message=f"LLM server rejected the request: {last}",
                    retryable=False,
                    extra={"status": status, "attempts": attempt + 1},
                )
            retry_after = _retry_after(response)
            logger.warning(
                "report %s: %s (attempt %d/%d)",
                report_ref(request.report_id),
                last,
                attempt + 1,
                self.max_retries + 1,
            )
        return Failure(
            message=f"LLM server failed after {self.max_retries + 1} attempts: {last}",
            retryable=True,
            extra={"status": status, "attempts": self.max_retries + 1},
        )

    @staticmethod
    def _error_detail(response: httpx.Response, request: CompletionRequest) -> str:
        try:
            error = response.json()
        except ValueError:
            return ""
        if isinstance(error, dict) and isinstance(error.get("error"), dict):
            error = error["error"]
        if not isinstance(error, dict):
            return ""
        kind = error.get("type") or error.get("code") or ""
        message = _scrub(str(error.get("message") or ""), request.report_text)
        return f" {kind}: {message}".rstrip(": ") if kind or message else ""

    def _parse_completion(self, request: CompletionRequest, response: httpx.Response) -> Completion | Failure:
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            logger.warning("report %s: malformed chat-completions answer", report_ref(request.report_id))
            return Failure(message="LLM server returned a malformed chat-completions answer")
        usage = data.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        return Completion(
            text=text,
            prompt_tokens=usage.get("prompt_tokens"),
            cached_tokens=details.get("cached_tokens") if isinstance(details, dict) else None,
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
