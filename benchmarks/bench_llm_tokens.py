"""Token efficiency of the extraction prompt: how much of each prompt is the cacheable static prefix.

The system prompt (instructions, JSON schema, worked examples) is byte-identical for every report and
comes first, so vLLM's automatic prefix caching serves it from cache; only the report and the answer
cost fresh tokens. This counts, with the model's own tokenizer and chat template, the tokens every
prompt shares with every other (the cacheable prefix) and the tokens of each whole prompt, over the
evaluation set. The target is a prefix share >= 80 %.

Run it where ``transformers`` is installed (the ``embedded`` extra, or vLLM's environment with rsuper
on ``PYTHONPATH``)::

    python benchmarks/bench_llm_tokens.py --model embedded:smollm2-135m
    python benchmarks/bench_llm_tokens.py --model /path/to/hf/checkpoint --min-share 0.8
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from report_extractor.evaluation import load_evalset
from report_extractor.llm_models import resolve_model
from report_extractor.prompting import PromptBuilder


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """Token IDs of the chat prompt exactly as vLLM's chat endpoint builds it."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def measure(model: str, texts: list[str]) -> dict[str, Any]:
    """Prefix and prompt token counts over ``texts`` (one prompt per report)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(model))
    builder = PromptBuilder()
    prompts = [
        prompt_ids(tokenizer, [{"role": m.role, "content": m.content} for m in builder.messages(t)])
        for t in texts
    ]
    shared = min(common_prefix(prompts[0], p) for p in prompts[1:]) if len(prompts) > 1 else len(prompts[0])
    lengths = [len(p) for p in prompts]
    shares = [shared / n for n in lengths]
    return {
        "model": model,
        "reports": len(texts),
        "static_prefix_tokens": shared,
        "prompt_tokens_mean": round(statistics.mean(lengths), 1),
        "prompt_tokens_max": max(lengths),
        "report_tokens_mean": round(statistics.mean(n - shared for n in lengths), 1),
        "prefix_share_mean": round(statistics.mean(shares), 4),
        "prefix_share_min": round(min(shares), 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the measurement as JSON; exit 1 when the smallest prefix share is below ``--min-share``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", default="embedded:smollm2-135m", help="checkpoint path or embedded:NAME")
    parser.add_argument("--evalset", type=Path, default=None, help="evaluation JSONL (default: bundled)")
    parser.add_argument("--min-share", type=float, default=0.8, help="fail below this prefix share")
    args = parser.parse_args(argv)
    texts = [case.text for case in load_evalset(args.evalset)]
    result = measure(args.model, texts)
    print(json.dumps(result, indent=2))
    return 0 if result["prefix_share_min"] >= args.min_share else 1


if __name__ == "__main__":
    sys.exit(main())
