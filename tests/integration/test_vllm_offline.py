"""The offline ``vllm`` backend (``vllm.LLM``) on the embedded model, inside vLLM's own environment.

vLLM must be importable beside rsuper for this backend, so the extraction runs in a subprocess of
``$RSUPER_VLLM_PYTHON`` with the repository on ``PYTHONPATH``; records come back as JSON lines.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from report_extractor.llm_models import DEFAULT_EMBEDDED_MODEL, EMBEDDED_PREFIX
from schemas.records import ExtractionStatus, ReportExtraction

pytestmark = [pytest.mark.llm, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
from report_extractor.backends.vllm_backend import VLLMBackend
from report_extractor.engine import Extractor, ReportInput

reports = [ReportInput(f"off-{i}", text) for i, text in enumerate(json.load(sys.stdin))]
backend = VLLMBackend(model=sys.argv[1], max_model_len=4096)
for record in Extractor(backend, max_tokens=384).extract_many(reports):
    print("RECORD " + record.model_dump_json())
"""
TEXTS = [
    "LIVER: 2.4 cm hypodense mass in segment VIII. Pancreas unremarkable.",
    "IMPRESSION: 9 mm left renal cyst. Status post cholecystectomy.",
    "No focal hepatic, pancreatic or renal lesion.",
]


def test_offline_vllm_backend_extracts(
    vllm_python: str, embedded_model_dir: str, vllm_environment: dict[str, str]
) -> None:
    env = {**vllm_environment, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [vllm_python, "-c", SCRIPT, EMBEDDED_PREFIX + DEFAULT_EMBEDDED_MODEL],
        input=json.dumps(TEXTS),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = [line.removeprefix("RECORD ") for line in done.stdout.splitlines() if line.startswith("RECORD ")]
    records = [ReportExtraction.model_validate_json(line) for line in lines]
    assert [r.report_id for r in records] == [f"off-{i}" for i in range(len(TEXTS))]
    for record in records:
        assert record.status in (ExtractionStatus.OK, ExtractionStatus.INVALID), record.error
        provenance = record.provenance
        assert provenance.backend == "vllm"
        assert provenance.decoding["structured_outputs"] == "json_schema"
        assert provenance.prompt_tokens is not None
        assert provenance.prompt_tokens > 1000
        assert provenance.completion_tokens is not None
        assert provenance.completion_tokens > 0
        assert provenance.cached_tokens is not None
    # one batch: after the first prompt, the static prefix comes from vLLM's prefix cache
    assert max(r.provenance.cached_tokens or 0 for r in records) > 1000
