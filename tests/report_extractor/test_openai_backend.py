"""The ``openai`` backend against a mocked OpenAI-compatible server (httpx.MockTransport).

Request shape, token accounting, model discovery, bounded concurrency, retries with back-off on 429 /
5xx / connection errors, giving up with a clear Failure, and the engine's repair-once path.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from report_extractor.backends import ChatMessage, Completion, CompletionRequest, Failure, create_backend
from report_extractor.backends.openai_backend import OpenAIBackend
from report_extractor.engine import Extractor, ReportInput
from report_extractor.errors import BackendUnavailableError, ConfigurationError
from schemas.llm import llm_json_schema
from schemas.phi import report_ref
from schemas.records import ExtractionStatus

TEXT = "IMPRESSION: 12 mm mass in the pancreatic head. Patient John Doe, MRN 12345678."
GOOD = json.dumps(
    {
        "organs": [{"organ": "pancreas", "status": "lesion", "count": 1}],
        "lesions": [
            {
                "organ": "pancreas",
                "pancreas_parts": ["head"],
                "diameters": [12],
                "unit": "mm",
                "quote": "12 mm mass in the pancreatic head",
            }
        ],
    }
)
USAGE = {"prompt_tokens": 1500, "completion_tokens": 60, "prompt_tokens_details": {"cached_tokens": 1408}}

Handler = Callable[[httpx.Request], httpx.Response]


def chat_answer(
    content: str, *, finish_reason: str = "stop", usage: dict[str, Any] | None = None
) -> httpx.Response:
    """A chat-completions 200 answer."""
    return httpx.Response(
        200,
        json={
            "id": "cmpl-1",
            "object": "chat.completion",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": usage if usage is not None else USAGE,
        },
    )


def request(report_id: str = "r1", text: str = TEXT, max_tokens: int = 256) -> CompletionRequest:
    return CompletionRequest(
        report_id=report_id,
        report_text=text,
        messages=(ChatMessage("system", "static prefix"), ChatMessage("user", f"REPORT:\n{text}\nJSON:")),
        json_schema=llm_json_schema(),
        max_tokens=max_tokens,
    )


class Server:
    """A scripted server: per-call handlers for /chat/completions, a fixed /models list, a request log."""

    def __init__(self, *handlers: Handler | httpx.Response, models: tuple[str, ...] = ("m",)) -> None:
        self.script = list(handlers)
        self.models = models
        self.requests: list[httpx.Request] = []

    def __call__(self, req: httpx.Request) -> httpx.Response:
        self.requests.append(req)
        if req.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": m} for m in self.models]})
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return step(req) if callable(step) else step

    @property
    def chat_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/chat/completions")]


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def make_backend(delays: list[float]) -> Iterator[Callable[..., OpenAIBackend]]:
    """Backends on a mock transport whose back-off is recorded, not slept."""
    made: list[OpenAIBackend] = []

    def make(handler: Any, **kwargs: Any) -> OpenAIBackend:
        kwargs.setdefault("model", "m")
        kwargs.setdefault("base_url", "http://llm.test/v1")
        backend = OpenAIBackend(transport=httpx.MockTransport(handler), **kwargs)

        async def record(seconds: float) -> None:
            delays.append(seconds)

        backend._sleep = record
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def test_registered_by_name() -> None:
    backend = create_backend("openai", model="m", base_url="http://llm.test/v1")
    assert isinstance(backend, OpenAIBackend)
    backend.close()


def test_request_shape(make_backend: Callable[..., OpenAIBackend]) -> None:
    server = Server(chat_answer(GOOD))
    backend = make_backend(server, api_key="sk-test")
    [result] = backend.complete([request(max_tokens=321)])
    assert isinstance(result, Completion)
    [sent] = server.chat_requests
    assert str(sent.url) == "http://llm.test/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    body = json.loads(sent.content)
    assert body["model"] == "m"
    assert body["max_tokens"] == 321
    assert body["temperature"] == 0.0
    assert body["messages"] == [
        {"role": "system", "content": "static prefix"},
        {"role": "user", "content": f"REPORT:\n{TEXT}\nJSON:"},
    ]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "LLMReport", "schema": llm_json_schema(), "strict": True},
    }


def test_no_authorization_header_without_key(
    make_backend: Callable[..., OpenAIBackend], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RSUPER_OPENAI_API_KEY", raising=False)
    server = Server(chat_answer(GOOD))
    make_backend(server).complete([request()])
    assert "authorization" not in server.chat_requests[0].headers


def test_base_url_and_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RSUPER_OPENAI_BASE_URL", "http://env-host:9000/v1/")
    monkeypatch.setenv("RSUPER_OPENAI_API_KEY", "sk-env")
    server = Server(chat_answer(GOOD))
    backend = OpenAIBackend(model="m", transport=httpx.MockTransport(server))
    try:
        backend.complete([request()])
    finally:
        backend.close()
    assert str(server.chat_requests[0].url) == "http://env-host:9000/v1/chat/completions"
    assert server.chat_requests[0].headers["authorization"] == "Bearer sk-env"


def test_usage_and_finish_reason_recorded(make_backend: Callable[..., OpenAIBackend]) -> None:
    [result] = make_backend(Server(chat_answer(GOOD, finish_reason="length"))).complete([request()])
    assert result == Completion(
        text=GOOD, prompt_tokens=1500, cached_tokens=1408, completion_tokens=60, finish_reason="length"
    )


def test_usage_without_cached_details(make_backend: Callable[..., OpenAIBackend]) -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": None}
    [result] = make_backend(Server(chat_answer(GOOD, usage=usage))).complete([request()])
    assert isinstance(result, Completion)
    assert (result.prompt_tokens, result.cached_tokens, result.completion_tokens) == (10, None, 5)


def test_model_discovered_from_server(make_backend: Callable[..., OpenAIBackend]) -> None:
    server = Server(chat_answer(GOOD), models=("served-a", "served-b"))
    backend = make_backend(server, model=None)
    assert backend.version == "openai:served-a"
    backend.complete([request()])
    assert json.loads(server.chat_requests[0].content)["model"] == "served-a"
    assert sum(r.url.path.endswith("/models") for r in server.requests) == 1


def test_check_passes_when_model_served(make_backend: Callable[..., OpenAIBackend]) -> None:
    make_backend(Server(chat_answer(GOOD), models=("m",))).check()


def test_check_rejects_unserved_model(make_backend: Callable[..., OpenAIBackend]) -> None:
    backend = make_backend(Server(chat_answer(GOOD), models=("other",)), model="m")
    with pytest.raises(ConfigurationError, match=r"does not serve 'm'; it serves \['other'\]"):
        backend.check()


def test_check_reports_unreachable_server(make_backend: Callable[..., OpenAIBackend]) -> None:
    def down(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=req)

    with pytest.raises(BackendUnavailableError, match=r"cannot reach the LLM server at http://llm.test/v1"):
        make_backend(down).check()


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(
            httpx.Response(429, json={"error": {"type": "rate_limit", "message": "slow down"}}), id="429"
        ),
        pytest.param(httpx.Response(503, text="overloaded"), id="503"),
        pytest.param(httpx.Response(500, json={"error": "boom"}), id="500"),
    ],
)
def test_retries_retryable_status_then_succeeds(
    make_backend: Callable[..., OpenAIBackend], delays: list[float], first: httpx.Response
) -> None:
    server = Server(first, first, chat_answer(GOOD))
    [result] = make_backend(server, backoff_base=0.5, backoff_max=8).complete([request()])
    assert isinstance(result, Completion)
    assert len(server.chat_requests) == 3
    assert len(delays) == 2
    assert 0 <= delays[0] <= 0.5
    assert 0 <= delays[1] <= 1.0  # doubles per retry (full jitter below the cap)


def test_connection_errors_are_retried(
    make_backend: Callable[..., OpenAIBackend], delays: list[float]
) -> None:
    def refused(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=req)

    def read_timeout(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=req)

    server = Server(refused, read_timeout, chat_answer(GOOD))
    [result] = make_backend(server).complete([request()])
    assert isinstance(result, Completion)
    assert len(server.chat_requests) == 3
    assert len(delays) == 2


def test_retry_after_is_a_floor(make_backend: Callable[..., OpenAIBackend], delays: list[float]) -> None:
    server = Server(httpx.Response(429, headers={"Retry-After": "3"}), chat_answer(GOOD))
    make_backend(server, backoff_base=0.01, backoff_max=10).complete([request()])
    assert delays == [3.0]


def test_backoff_grows_and_is_capped() -> None:
    backend = OpenAIBackend(model="m", base_url="http://x/v1", backoff_base=1.0, backoff_max=4.0)
    samples = {attempt: [backend._backoff(attempt, None) for _ in range(200)] for attempt in range(6)}
    assert max(samples[0]) <= 1.0
    assert max(samples[1]) <= 2.0
    assert max(samples[5]) <= 4.0
    assert max(samples[5]) > 2.0  # the cap is reached, not the first step
    assert min(min(s) for s in samples.values()) >= 0.0


def test_gives_up_with_clear_failure_and_batch_goes_on(
    make_backend: Callable[..., OpenAIBackend], delays: list[float]
) -> None:
    def by_report(req: httpx.Request) -> httpx.Response:
        content = json.loads(req.content)["messages"][1]["content"]
        return httpx.Response(503, text="busy") if "bad report" in content else chat_answer(GOOD)

    server = Server(by_report)
    results = make_backend(server, max_retries=2).complete(
        [request("ok1"), request("bad", text="bad report"), request("ok2")]
    )
    assert isinstance(results[0], Completion)
    assert isinstance(results[2], Completion)
    failure = results[1]
    assert isinstance(failure, Failure)
    assert failure.message == "LLM server failed after 3 attempts: HTTP 503"
    assert failure.retryable
    assert failure.extra == {"status": 503, "attempts": 3}
    assert len(delays) == 2
    assert len(server.chat_requests) == 5


def test_client_errors_are_not_retried(
    make_backend: Callable[..., OpenAIBackend], delays: list[float]
) -> None:
    error = {"error": {"type": "BadRequestError", "message": "maximum context length is 8192 tokens"}}
    server = Server(httpx.Response(400, json=error))
    [result] = make_backend(server).complete([request()])
    assert isinstance(result, Failure)
    assert not result.retryable
    assert result.message == (
        "LLM server rejected the request: HTTP 400 BadRequestError: maximum context length is 8192 tokens"
    )
    assert len(server.chat_requests) == 1
    assert delays == []


def test_report_text_never_logged_or_returned(
    make_backend: Callable[..., OpenAIBackend], caplog: pytest.LogCaptureFixture
) -> None:
    echo = {"error": {"type": "BadRequestError", "message": f"invalid input: {TEXT}"}}
    server = Server(httpx.Response(503, json=echo), httpx.Response(422, json=echo))
    with caplog.at_level(logging.DEBUG):
        [result] = make_backend(server).complete([request()])
    assert isinstance(result, Failure)
    assert "redacted" in result.message
    for leaked in ("John Doe", "12345678", "pancreatic head"):
        assert leaked not in result.message
        assert leaked not in caplog.text
    assert report_ref("r1") in caplog.text  # IDs are logged as short hashes (PHI), never as they are
    assert "report r1" not in caplog.text


def test_malformed_answer_is_a_failure(make_backend: Callable[..., OpenAIBackend]) -> None:
    [result] = make_backend(Server(httpx.Response(200, json={"choices": []}))).complete([request()])
    assert result == Failure(message="LLM server returned a malformed chat-completions answer")


def test_concurrency_is_bounded_and_order_kept(make_backend: Callable[..., OpenAIBackend]) -> None:
    in_flight = 0
    peak = 0

    async def slow(req: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        if req.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "m"}]})
        in_flight += 1
        peak = max(peak, in_flight)
        content = json.loads(req.content)["messages"][1]["content"]
        n = int(content.split("#")[1].split()[0])
        await asyncio.sleep(0.002 * (10 - n))  # later requests answer first
        in_flight -= 1
        return chat_answer(json.dumps({"organs": [], "lesions": [], "n": n}))

    backend = make_backend(slow, concurrency=3)
    results = backend.complete([request(f"r{n}", text=f"report #{n} text") for n in range(10)])
    assert [json.loads(r.text)["n"] for r in results if isinstance(r, Completion)] == list(range(10))
    assert peak == 3


def test_backend_survives_several_batches_and_close(make_backend: Callable[..., OpenAIBackend]) -> None:
    server = Server(chat_answer(GOOD))
    backend = make_backend(server)
    for _ in range(3):
        assert isinstance(backend.complete([request(), request("r2")])[0], Completion)
    backend.close()
    backend.close()  # idempotent
    assert isinstance(backend.complete([request()])[0], Completion)  # reopens on demand


def test_works_inside_a_running_event_loop(make_backend: Callable[..., OpenAIBackend]) -> None:
    backend = make_backend(Server(chat_answer(GOOD)))

    async def caller() -> list[Completion | Failure]:
        return await asyncio.to_thread(backend.complete, [request()])

    [result] = asyncio.run(caller())
    assert isinstance(result, Completion)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"concurrency": 0}, "concurrency must be >= 1, got 0", id="concurrency"),
        pytest.param({"timeout": 0}, "timeout must be > 0 seconds, got 0", id="timeout"),
        pytest.param({"max_retries": -1}, "max_retries must be >= 0, got -1", id="retries"),
        pytest.param(
            {"backoff_base": 5, "backoff_max": 1},
            "backoff_base must be >= 0 and <= backoff_max",
            id="backoff",
        ),
        pytest.param({"temperature": 3}, r"temperature must be in \[0, 2\], got 3", id="temperature"),
        pytest.param({"base_url": "llm:8000"}, "base_url must start with http:// or https://", id="url"),
    ],
)
def test_options_are_validated(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        OpenAIBackend(model="m", **kwargs)


# --- through the engine: schema-invalid and truncated answers get one repair --------------------------


def test_truncated_answer_is_repaired_once(make_backend: Callable[..., OpenAIBackend]) -> None:
    truncated = chat_answer(
        GOOD[:40], finish_reason="length", usage={"prompt_tokens": 100, "completion_tokens": 8}
    )
    fixed = chat_answer(
        GOOD,
        usage={"prompt_tokens": 150, "completion_tokens": 50, "prompt_tokens_details": {"cached_tokens": 96}},
    )
    server = Server(truncated, fixed)
    record = Extractor(make_backend(server)).extract_one(ReportInput("r1", TEXT))
    assert record.status is ExtractionStatus.OK
    assert record.provenance.attempts == 2
    assert (record.provenance.prompt_tokens, record.provenance.completion_tokens) == (250, 58)
    assert record.provenance.cached_tokens == 96
    repair = json.loads(server.chat_requests[1].content)
    assert [m["role"] for m in repair["messages"]] == ["system", "user", "assistant", "user"]
    assert repair["messages"][2]["content"] == GOOD[:40]
    assert repair["response_format"]["type"] == "json_schema"


def test_schema_invalid_twice_is_kept_invalid(make_backend: Callable[..., OpenAIBackend]) -> None:
    bad = chat_answer(json.dumps({"organs": [{"organ": "pancreas", "status": "sick"}], "lesions": []}))
    server = Server(bad)
    record = Extractor(make_backend(server)).extract_one(ReportInput("r1", TEXT))
    assert record.status is ExtractionStatus.INVALID
    assert record.error is not None
    assert record.error.startswith("invalid answer:")
    assert record.provenance.attempts == 2
    assert len(server.chat_requests) == 2


def test_server_failure_becomes_failed_record(make_backend: Callable[..., OpenAIBackend]) -> None:
    record = Extractor(make_backend(Server(httpx.Response(502)), max_retries=1)).extract_one(
        ReportInput("r1", TEXT)
    )
    assert record.status is ExtractionStatus.FAILED
    assert record.error == "LLM server failed after 2 attempts: HTTP 502"
