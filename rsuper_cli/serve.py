"""``rsuper serve``: run the report structuring service (FastAPI + uvicorn).

FastAPI and uvicorn are imported inside :func:`serve`, so ``rsuper --help`` stays fast. Options given
here override the matching ``RSUPER_*`` variables; everything else (API keys, limits, CORS) is read
from the environment by :class:`api.settings.Settings`.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    store: str | None = None,
    backend: str | None = None,
    model: str | None = None,
    workers: int = 1,
    *,
    log_level: str = "info",
) -> None:
    """Run the service until interrupted.

    Args:
        host: interface to bind (``0.0.0.0`` in containers).
        port: TCP port.
        store: store URL (else ``$RSUPER_STORE_URL``, else ``sqlite:///rsuper.db``).
        backend: extraction backend (else ``$RSUPER_BACKEND``, else ``rules``).
        model: model for LLM backends (else ``$RSUPER_MODEL``).
        workers: uvicorn worker processes. With more than one, startup requeues only items claimed
            longer ago than ``$RSUPER_STALE_CLAIM_S`` (default then 900 s), never another worker's.
        log_level: uvicorn / root log level.

    Raises:
        api.settings.SettingsError: invalid configuration (e.g. no API keys and no explicit
            ``RSUPER_ALLOW_NO_AUTH=1``), before anything listens.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    import logging

    import uvicorn

    from api.settings import Settings

    for name, value in (("RSUPER_STORE_URL", store), ("RSUPER_BACKEND", backend), ("RSUPER_MODEL", model)):
        if value is not None:
            os.environ[name] = value
    if workers > 1:
        os.environ["RSUPER_REQUEUE_ON_START"] = "0"
        os.environ.setdefault("RSUPER_STALE_CLAIM_S", "900")
    Settings().check_auth()  # fail fast, in the parent process, with a clear message
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,  # api.access logs route templates only (no IDs in paths, no query strings)
        server_header=False,
    )


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 in containers).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8080,
    store: Annotated[
        str | None, typer.Option(help="Store URL. Default: $RSUPER_STORE_URL, else sqlite:///rsuper.db.")
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="Extraction backend. Default: $RSUPER_BACKEND, else rules.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model for LLM backends. Default: $RSUPER_MODEL.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the report structuring API (needs RSUPER_API_KEYS, or RSUPER_ALLOW_NO_AUTH=1 for dev)."""
    from api.settings import SettingsError

    try:
        serve(host, port, store, backend, model, workers, log_level=log_level)
    except (SettingsError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":  # python -m rsuper_cli.serve --port 8080
    typer.run(serve_command)
