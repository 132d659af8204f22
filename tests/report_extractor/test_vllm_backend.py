"""The offline ``vllm`` backend against a stand-in ``vllm`` module (the real engine: tests/integration).

Checks what reaches ``vllm.LLM`` / ``LLM.chat``: engine options (prefix caching), one call per batch,
prompts sorted by length with answers restored to input order, structured outputs from the request's
schema, greedy decoding and the token cap; token counts read back; per-report fallback when a batch is
rejected; ``embedded:NAME`` resolution.
"""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from report_extractor.backends import ChatMessage, Completion, CompletionRequest, Failure
from report_extractor.engine import Extractor, ReportInput
from report_extractor.errors import BackendError, BackendUnavailableError, ConfigurationError
from report_extractor.llm_models import MANIFEST
from schemas.llm import llm_json_schema
from schemas.records import ExtractionStatus


@dataclass
class StructuredOutputsParams:
    json: dict[str, Any]


@dataclass
class GuidedDecodingParams:
    json: dict[str, Any]


@dataclass
class SamplingParams:
    temperature: float = 1.0
    max_tokens: int = 16
    seed: int | None = None
    structured_outputs: StructuredOutputsParams | None = None
    guided_decoding: GuidedDecodingParams | None = None


@dataclass
class CompletionOutput:
    text: str
    token_ids: list[int]
    finish_reason: str = "stop"


@dataclass
class RequestOutput:
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]
    num_cached_tokens: int | None = None


@dataclass
class FakeLLM:
    """Records engine kwargs and chat calls; answers with the report's text length as JSON."""

    kwargs: dict[str, Any]
    calls: list[tuple[list[Any], list[SamplingParams]]] = field(default_factory=list)
    reject_if: str | None = None

    def chat(
        self, conversations: list[Any], sampling_params: Any, use_tqdm: bool = True
    ) -> list[RequestOutput]:
        self.calls.append((conversations, sampling_params))
        if self.reject_if and any(self.reject_if in c[-1]["content"] for c in conversations):
            raise ValueError("prompt is longer than max_model_len")
        outputs = []
        for i, conversation in enumerate(conversations):
            user = conversation[-1]["content"]
            text = json.dumps({"organs": [], "lesions": [], "chars": len(user)})
            outputs.append(
                RequestOutput(
                    prompt_token_ids=list(range(len(user))),
                    outputs=[CompletionOutput(text=text, token_ids=[1, 2, 3])],
                    num_cached_tokens=0 if i == 0 else 5,
                )
            )
        return outputs


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Install a stand-in ``vllm`` package (new API: StructuredOutputsParams)."""
    vllm = types.ModuleType("vllm")
    sampling = types.ModuleType("vllm.sampling_params")
    platforms = types.ModuleType("vllm.platforms")
    vllm.__version__ = "0.32.0-test"  # type: ignore[attr-defined]
    vllm.SamplingParams = SamplingParams  # type: ignore[attr-defined]
    sampling.StructuredOutputsParams = StructuredOutputsParams  # type: ignore[attr-defined]
    platforms.current_platform = types.SimpleNamespace(is_cuda=lambda: False)  # type: ignore[attr-defined]
    vllm.engines = []  # type: ignore[attr-defined]

    def make_llm(**kwargs: Any) -> FakeLLM:
        engine = FakeLLM(kwargs)
        vllm.engines.append(engine)
        return engine

    vllm.LLM = make_llm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sampling)
    monkeypatch.setitem(sys.modules, "vllm.platforms", platforms)
    return vllm


def request(report_id: str, text: str, max_tokens: int = 512) -> CompletionRequest:
    return CompletionRequest(
        report_id=report_id,
        report_text=text,
        messages=(ChatMessage("system", "static prefix"), ChatMessage("user", text)),
        json_schema=SCHEMA,
        max_tokens=max_tokens,
    )


SCHEMA = llm_json_schema()


def make(model: str = "some/model", **kwargs: Any) -> Any:
    from report_extractor.backends.vllm_backend import VLLMBackend

    return VLLMBackend(model=model, **kwargs)


def test_missing_vllm_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'rsuper\[vllm\]'"):
        make()


def test_model_is_required(fake_vllm: types.ModuleType) -> None:
    with pytest.raises(ConfigurationError, match="backend 'vllm' needs --model"):
        make(model="")


def test_one_chat_call_sorted_by_length_results_in_input_order(fake_vllm: types.ModuleType) -> None:
    backend = make()
    texts = ["a much longer report text here", "short", "medium text"]
    results = backend.complete([request(f"r{i}", t) for i, t in enumerate(texts)])
    [engine] = fake_vllm.engines
    assert len(engine.calls) == 1
    conversations, params = engine.calls[0]
    assert [c[-1]["content"] for c in conversations] == ["short", "medium text", texts[0]]
    assert all(c[0] == {"role": "system", "content": "static prefix"} for c in conversations)
    assert [json.loads(r.text)["chars"] for r in results if isinstance(r, Completion)] == [
        len(t) for t in texts
    ]
    assert len(params) == 3
    assert params[0] is params[1]  # one SamplingParams for one schema and cap


def test_engine_options(fake_vllm: types.ModuleType) -> None:
    make(max_model_len=4096, engine_kwargs={"max_num_seqs": 8}).check()
    [engine] = fake_vllm.engines
    assert engine.kwargs == {
        "model": "some/model",
        "enable_prefix_caching": True,
        "enforce_eager": True,  # no CUDA: eager mode
        "dtype": "auto",
        "seed": 0,
        "tensor_parallel_size": 1,
        "gpu_memory_utilization": 0.3,  # CPU: a share of the node's RAM
        "max_model_len": 4096,
        "max_num_seqs": 8,
    }


def test_sampling_params_structured_greedy_capped(fake_vllm: types.ModuleType) -> None:
    make().complete([request("r1", "x", max_tokens=300)])
    params = fake_vllm.engines[0].calls[0][1][0]
    assert params == SamplingParams(
        temperature=0.0, max_tokens=300, seed=0, structured_outputs=StructuredOutputsParams(json=SCHEMA)
    )


def test_older_vllm_uses_guided_decoding(
    fake_vllm: types.ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = types.ModuleType("vllm.sampling_params")
    old.GuidedDecodingParams = GuidedDecodingParams  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", old)
    make().complete([request("r1", "x")])
    params = fake_vllm.engines[0].calls[0][1][0]
    assert params.guided_decoding == GuidedDecodingParams(json=SCHEMA)
    assert params.structured_outputs is None


def test_token_counts(fake_vllm: types.ModuleType) -> None:
    results = make().complete([request("r1", "abcd"), request("r2", "abcdefgh")])
    assert [
        (r.prompt_tokens, r.cached_tokens, r.completion_tokens, r.finish_reason)
        for r in results
        if isinstance(r, Completion)
    ] == [(4, 0, 3, "stop"), (8, 5, 3, "stop")]


def test_rejected_batch_falls_back_to_one_by_one(fake_vllm: types.ModuleType) -> None:
    backend = make()
    backend.check()
    fake_vllm.engines[0].reject_if = "too long"
    results = backend.complete([request("r1", "fine"), request("r2", "too long report"), request("r3", "ok")])
    assert isinstance(results[0], Completion)
    assert isinstance(results[2], Completion)
    assert isinstance(results[1], Failure)
    assert results[1].message == "vLLM failed: ValueError: prompt is longer than max_model_len"
    assert not results[1].retryable
    assert len(fake_vllm.engines[0].calls) == 4  # the batch, then each report


def test_engine_load_error_is_backend_error(fake_vllm: types.ModuleType) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("no such model")

    fake_vllm.LLM = broken  # type: ignore[attr-defined]
    with pytest.raises(BackendError, match=r"vLLM could not load 'some/model': RuntimeError: no such model"):
        make().check()


def test_embedded_model_not_prepared(
    fake_vllm: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RSUPER_CACHE_DIR", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"run `rsuper llm prepare --model smollm2-135m` first"):
        make(model="embedded:smollm2-135m")


def test_embedded_model_resolves_to_prepared_checkpoint(
    fake_vllm: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RSUPER_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "models" / "smollm2-135m"
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text("{}")
    backend = make(model="embedded:smollm2-135m")
    backend.check()
    assert fake_vllm.engines[0].kwargs["model"] == str(folder)
    assert fake_vllm.engines[0].kwargs["max_model_len"] == 8192
    assert backend.version == "vllm:embedded:smollm2-135m"


def test_through_the_engine(fake_vllm: types.ModuleType) -> None:
    """Answers with an extra key are schema-invalid: the engine repairs once, then keeps them invalid."""
    records = Extractor(make()).extract_many([ReportInput("r1", "Liver normal."), ReportInput("r2", "x")])
    assert [r.status for r in records] == [ExtractionStatus.INVALID, ExtractionStatus.INVALID]
    assert all(r.provenance.attempts == 2 for r in records)
    assert len(fake_vllm.engines[0].calls) == 2  # the batch, then the batched repair
    assert records[0].provenance.decoding == {
        "max_tokens": 1024,
        "temperature": 0.0,
        "seed": 0,
        "structured_outputs": "json_schema",
    }
