"""``rsuper extract --backend openai`` against a real vLLM OpenAI server on the embedded model.

The embedded model reads reports poorly, so this checks the path, not accuracy: every report comes
back as a schema-valid record (``ok``, or ``invalid`` with its reason), in the store, with token counts
in its provenance, and the static prompt prefix is served from vLLM's prefix cache.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from report_extractor.llm_models import DEFAULT_EMBEDDED_MODEL, EMBEDDED_PREFIX
from schemas.records import ExtractionStatus, ReportExtraction

pytestmark = [pytest.mark.llm, pytest.mark.timeout(1200)]

EMBEDDED = EMBEDDED_PREFIX + DEFAULT_EMBEDDED_MODEL

REPORTS = {
    "int-1": "LIVER: 1.5 cm hypodense lesion in segment VI. PANCREAS: Unremarkable. KIDNEYS: Normal.",
    "int-2": "IMPRESSION: 3.2 x 2.8 cm mass in the pancreatic tail, suspicious for adenocarcinoma.",
    "int-3": "Status post cholecystectomy. Right lower pole renal cyst measuring 8 mm. Spleen normal.",
    "int-4": "No focal liver lesion. Pancreas and adrenal glands are unremarkable.",
    "int-5": "Multiple hepatic metastases, the largest 2.1 cm in segment VII, previously 1.7 cm.",
}


def test_extract_with_openai_backend_on_vllm_server(vllm_server: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports.csv"
    with reports.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "report"])
        writer.writerows(REPORTS.items())
    db = tmp_path / "store.db"
    out = tmp_path / "records.jsonl"
    env = {**os.environ, "RSUPER_OPENAI_BASE_URL": vllm_server, "COLUMNS": "200"}
    cmd = [
        sys.executable, "-m", "rsuper_cli", "extract", str(reports),
        "--backend", "openai", "--model", EMBEDDED,
        "--store", f"sqlite:///{db}", "--out", str(out), "--batch-size", "8",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-4000:]

    records = [ReportExtraction.model_validate_json(line) for line in out.read_text().splitlines()]
    assert sorted(r.report_id for r in records) == sorted(REPORTS)
    for record in records:
        assert record.status in (ExtractionStatus.OK, ExtractionStatus.INVALID), record.error
        if record.status is ExtractionStatus.INVALID:
            assert record.error, "an invalid record keeps its reason"
        provenance = record.provenance
        assert provenance.backend == "openai"
        assert provenance.model == EMBEDDED
        assert provenance.prompt_tokens is not None
        assert provenance.prompt_tokens > 1000  # the static prefix alone is ~2,000 tokens
        assert provenance.completion_tokens is not None
        assert provenance.completion_tokens > 0
        assert provenance.cached_tokens is not None
    cached = sum(r.provenance.cached_tokens or 0 for r in records)
    prompt = sum(r.provenance.prompt_tokens or 0 for r in records)
    assert cached / prompt > 0.5, f"prefix cache served {cached} of {prompt} prompt tokens"

    from store import init_store  # the records were committed to the store

    store = init_store(f"sqlite:///{db}")
    for record in records:
        saved = store.current_extraction(record.report_id)
        assert saved is not None, record.report_id
        assert saved.status is record.status
        assert saved.provenance.prompt_tokens == record.provenance.prompt_tokens
