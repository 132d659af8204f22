"""``rsuper review-stats``: how many records reviewers checked, and per field the share they changed,
per backend / extractor version (the measured accuracy of each extractor on the reviewed sample)."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer


def review_stats_command(
    store: Annotated[
        str | None, typer.Option(help="Store URL. Default: $RSUPER_STORE_URL, else sqlite:///rsuper.db.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Agreement figures of the reviews: records reviewed and, per field, the share changed."""
    from rich.console import Console
    from rich.table import Table

    from store import StoreError, init_store
    from store.review import REVIEW_FIELDS

    try:
        rows = init_store(
            store or os.environ.get("RSUPER_STORE_URL") or "sqlite:///rsuper.db"
        ).review_agreement()
    except StoreError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        payload = [
            {
                "backend": r.backend,
                "extractor_version": r.extractor_version,
                "reviewed": r.reviewed,
                "changed": r.changed,
                "changed_share": {name: round(r.share(name), 4) for name in REVIEW_FIELDS},
            }
            for r in rows
        ]
        typer.echo(json.dumps(payload, indent=2))
        return
    total = sum(r.reviewed for r in rows)
    typer.echo(f"records reviewed: {total}")
    if not rows:
        return
    table = Table(title="share of reviewed records whose field the reviewer changed")
    table.add_column("backend")
    table.add_column("version")
    table.add_column("reviewed", justify="right")
    for name in REVIEW_FIELDS:
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            r.backend,
            r.extractor_version,
            str(r.reviewed),
            *(f"{r.share(name):.0%}" for name in REVIEW_FIELDS),
        )
    Console(width=250).print(table)
