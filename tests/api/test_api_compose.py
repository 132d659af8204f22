"""``docker-compose.yml`` is valid with ``.env.example`` and fails fast without required variables.

Runs ``docker compose config`` (or the standalone ``docker-compose``) when available; skips
otherwise. No Docker engine is needed: ``config`` only parses and interpolates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> list[str]:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    pytest.skip("neither `docker compose` nor `docker-compose` is installed")


def _config(env_file: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    cmd = [*_compose(), "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_compose_config_is_valid_with_env_example() -> None:
    result = _config(ROOT / ".env.example")
    assert result.returncode == 0, result.stderr


def test_required_variables_fail_fast(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = _config(empty)
    assert result.returncode != 0
    assert "set RSUPER_LLM_MODEL" in result.stderr or "set POSTGRES_PASSWORD" in result.stderr


def test_env_example_holds_no_real_secrets() -> None:
    values = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line
    )
    assert values["RSUPER_API_KEYS"].startswith("replace-with")
    assert values["POSTGRES_PASSWORD"].startswith("change-me")
