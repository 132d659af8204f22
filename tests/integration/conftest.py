"""Fixtures for tests against a real vLLM (opt-in: ``pytest -m llm``; see ``.ci/vllm_integration.sh``).

``RSUPER_VLLM_PYTHON`` names the Python of vLLM's own virtual environment (vLLM lives apart from
rsuper, as it would in its own container); the embedded model must be prepared
(``rsuper llm prepare``). Without ``RSUPER_VLLM_PYTHON`` these tests are skipped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from report_extractor.llm_models import DEFAULT_EMBEDDED_MODEL, EMBEDDED_PREFIX, get_model, resolve_model

VLLM_PYTHON_ENV = "RSUPER_VLLM_PYTHON"
STARTUP_TIMEOUT_S = float(os.environ.get("RSUPER_VLLM_STARTUP_TIMEOUT", "420"))
EMBEDDED = EMBEDDED_PREFIX + DEFAULT_EMBEDDED_MODEL


@pytest.fixture(scope="session")
def vllm_python() -> str:
    """The vLLM environment's Python, or skip."""
    python = os.environ.get(VLLM_PYTHON_ENV)
    if not python:
        pytest.skip(
            f"set {VLLM_PYTHON_ENV} to the Python of a vLLM environment (see .ci/vllm_integration.sh)"
        )
    if not Path(python).is_file():
        pytest.fail(f"{VLLM_PYTHON_ENV}={python} does not exist")
    return python


@pytest.fixture(scope="session")
def embedded_model_dir() -> str:
    """The prepared embedded checkpoint (fails with the prepare command when missing)."""
    return resolve_model(EMBEDDED)


@pytest.fixture(scope="session")
def vllm_environment() -> dict[str, str]:
    """Environment for vLLM processes (see :func:`vllm_env`)."""
    return vllm_env()


def vllm_env() -> dict[str, str]:
    """Environment for vLLM processes: loopback only, quiet, CPU-friendly."""
    env = dict(os.environ)
    env.update(
        VLLM_HOST_IP="127.0.0.1",
        VLLM_LOGGING_LEVEL=env.get("VLLM_LOGGING_LEVEL", "WARNING"),
        VLLM_NO_USAGE_STATS="1",
        DO_NOT_TRACK="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (API server + engine core), SIGKILL after 30 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def vllm_server(
    vllm_python: str, embedded_model_dir: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A vLLM OpenAI-compatible server on 127.0.0.1 serving the embedded model; yields its ``/v1`` URL."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("vllm") / "server.log"
    spec = get_model(DEFAULT_EMBEDDED_MODEL)
    cmd = [
        vllm_python, "-m", "vllm.entrypoints.openai.api_server",
        "--model", embedded_model_dir, "--served-model-name", EMBEDDED,
        "--host", "127.0.0.1", "--port", str(port),
        "--max-model-len", str(spec.context_length),
        "--enable-prefix-caching", "--enable-prompt-tokens-details", "--enforce-eager",
        "--gpu-memory-utilization", os.environ.get("RSUPER_VLLM_MEMORY_FRACTION", "0.3"),
        "--seed", "0",
    ]  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=vllm_env(), start_new_session=True
        )
    started = time.monotonic()
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"vLLM server exited with {process.returncode}:\n{_tail(log_path)}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > STARTUP_TIMEOUT_S:
                pytest.fail(f"vLLM server not ready after {STARTUP_TIMEOUT_S:.0f} s:\n{_tail(log_path)}")
            time.sleep(1)
        print(f"\nvLLM server ready in {time.monotonic() - started:.0f} s at {base_url}")
        yield base_url
    finally:
        _stop(process)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
