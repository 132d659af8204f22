"""The ``rsuper`` command line: one Typer app, one sub-command per job.

Heavy packages (torch, MONAI, vLLM, FastAPI) are imported inside the commands that need them, so
``rsuper --help`` and ``rsuper extract`` start fast on a machine without them.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from rsuper_cli import __version__
from rsuper_cli.llm import llm_app
from rsuper_cli.review import review_stats_command
from rsuper_cli.serve import serve_command
from rsuper_cli.train import register as register_training

if TYPE_CHECKING:
    from report_extractor.pipeline import BatchSummary

app = typer.Typer(
    name="rsuper",
    help="Train tumor segmentation from radiology reports (R-Super): extract, store, export, evaluate.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store URL (SQLAlchemy): sqlite:///path.db or postgresql+psycopg://user:pw@host/db. "
        "Default: $RSUPER_STORE_URL, else sqlite:///rsuper.db.",
        show_default=False,
    ),
]


def _store_url(store: str | None) -> str:
    return store or os.environ.get("RSUPER_STORE_URL") or "sqlite:///rsuper.db"


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO level.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """rsuper: report supervision for tumor segmentation."""
    if version:
        typer.echo(__version__)
        raise typer.Exit()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command()
def extract(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV/TSV, XLSX, Parquet or JSONL.")],
    backend: Annotated[str, typer.Option(help="Extraction backend (see `rsuper backends`).")] = "rules",
    model: Annotated[str | None, typer.Option(help="Model name for LLM backends.")] = None,
    store: StoreOption = None,
    id_col: Annotated[str | None, typer.Option(help="Report ID column (default: auto-detect).")] = None,
    text_col: Annotated[str | None, typer.Option(help="Report text column (default: auto-detect).")] = None,
    out: Annotated[Path | None, typer.Option(help="Also append each new record to this JSONL.")] = None,
    errors_out: Annotated[Path | None, typer.Option("--errors", help="Write per-row errors to CSV.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Reports per backend call / commit.")] = 64,
    max_chars: Annotated[int, typer.Option(min=1, help="Longer reports are per-row errors.")] = 50_000,
    keep_text: Annotated[bool, typer.Option(help="Store report text too (PHI: off by default).")] = False,
) -> None:
    """Extract tumor records from a table of reports into the store (resumable, streaming)."""
    from tqdm import tqdm

    from report_extractor.backends import create_backend
    from report_extractor.engine import Extractor
    from report_extractor.errors import ReportExtractorError
    from report_extractor.ingest import ReportTable
    from report_extractor.pipeline import open_results_file, run_batch, write_errors_csv
    from store import init_store

    try:
        table = ReportTable(input_path, id_col=id_col, text_col=text_col)
        extractor = Extractor(create_backend(backend, model=model))
        extractor.backend.check()
    except (ReportExtractorError, ValueError) as e:
        raise _fail(str(e)) from e
    how = "auto-detected" if table.columns.detected else "given"
    console.print(
        f"columns ({how}): id = [bold]{table.columns.id_column!r}[/], "
        f"text = [bold]{table.columns.text_column!r}[/]; backend {extractor.version}"
    )
    sink = init_store(_store_url(store))
    stream = open_results_file(out) if out else None
    try:
        with tqdm(unit="report", desc="extract", file=sys.stderr, dynamic_ncols=True) as bar:
            summary = run_batch(
                table,
                extractor,
                sink,
                batch_size=batch_size,
                max_chars=max_chars,
                keep_text=keep_text,
                out=stream,
                on_progress=bar.update,
            )
    finally:
        if stream:
            stream.close()
        extractor.backend.close()
    _print_summary(summary)
    if errors_out and summary.errors:
        write_errors_csv(summary.errors, errors_out)
        console.print(f"per-row errors written to {errors_out}")
    if not summary.processed_anything:
        raise _fail("nothing could be processed", code=1)


def _print_summary(summary: BatchSummary) -> None:
    table = Table(title="extraction summary", show_header=False)
    table.add_row("rows read", str(summary.rows))
    table.add_row("extracted now", str(summary.extracted))
    table.add_row("already in store (skipped)", str(summary.skipped_existing))
    for status, n in sorted(summary.statuses.items()):
        table.add_row(f"status {status}", str(n))
    for kind, n in sorted(summary.error_kinds.items()):
        table.add_row(f"[red]error {kind}[/]", str(n))
    table.add_row("reports/s", f"{summary.reports_per_second:.1f}")
    console.print(table)
    for err in summary.errors[:10]:
        where = f"row {err.row_number}" if err.row_number else "report"
        console.print(f"  {where} (id {err.report_id}): {err.kind}: {err.message}")
    if len(summary.errors) > 10:
        console.print(f"  ... and {sum(summary.error_kinds.values()) - 10} more (use --errors FILE)")


@app.command()
def backends() -> None:
    """List the extraction backends."""
    from report_extractor.backends import available_backends

    for name in available_backends():
        typer.echo(name)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl, parquet, rsuper-per-tumor or rsuper-per-ct.")],
    out: Annotated[Path, typer.Option(help="Output file.")],
    store: StoreOption = None,
    reviewed_only: Annotated[
        bool, typer.Option("--reviewed-only", help="Only reports a reviewer corrected or accepted.")
    ] = False,
) -> None:
    """Export the current extraction of every report (JSONL, Parquet, or the two R-Super CSVs);
    a reviewer's correction is the current extraction of its report."""
    from store import init_store
    from store.export import export as export_store

    try:
        n = export_store(init_store(_store_url(store)), fmt, out, reviewed_only=reviewed_only)
    except ValueError as e:
        raise _fail(str(e).replace("fmt:", "--format:", 1)) from e
    console.print(f"wrote {n} rows to {out}")


@app.command("import-rsuper-csv")
def import_rsuper_csv(
    per_tumor: Annotated[Path, typer.Argument(help="The R-Super per-tumor CSV.")],
    per_ct: Annotated[Path | None, typer.Option(help="The matching per-CT CSV (adds counts).")] = None,
    store: StoreOption = None,
) -> None:
    """Import the R-Super authors' per-tumor (and per-CT) CSVs into the store."""
    from store import init_store
    from store.rsuper_import import import_rsuper_csvs

    try:
        summary = import_rsuper_csvs(init_store(_store_url(store)), per_tumor, per_ct)
    except (ValueError, OSError) as e:
        raise _fail(str(e)) from e
    console.print(
        f"imported {summary.records} reports ({summary.written} new, {summary.invalid} invalid, "
        f"{summary.warnings} warnings) from {per_tumor}"
    )


@app.command("eval-extraction")
def eval_extraction(
    backend: Annotated[str, typer.Option(help="Extraction backend to score.")] = "rules",
    model: Annotated[str | None, typer.Option(help="Model name for LLM backends.")] = None,
    evalset: Annotated[
        list[Path] | None,
        typer.Option(help="Evaluation JSONL; repeat for several files (default: the bundled dev set)."),
    ] = None,
    part: Annotated[
        str,
        typer.Option(
            help="Which part to score: all (tuning + heldout), tuning, heldout, final (read from "
            "final.jsonl) or final2 (the untouched second final part, read from final2.jsonl)."
        ),
    ] = "all",
    by_style: Annotated[
        bool, typer.Option("--by-style", help="Also print one row per report style.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
) -> None:
    """Score a backend on the project's annotated evaluation set (reports/s included)."""
    import time

    from report_extractor.backends import create_backend
    from report_extractor.engine import Extractor, ReportInput
    from report_extractor.errors import InputError
    from report_extractor.evaluation import (
        load_devset,
        part_paths,
        score,
        score_by_style,
        select_part,
        style_table,
    )

    try:
        cases = select_part(load_devset(evalset or part_paths(part)), part)
    except ValueError as e:
        raise _fail(str(e).replace("part:", "--part:", 1)) from e
    except InputError as e:
        raise _fail(str(e)) from e
    if not cases:
        raise _fail(f"--part {part}: the evaluation set has no such cases")
    extractor = Extractor(create_backend(backend, model=model))
    inputs = [ReportInput(c.id, c.text) for c in cases]
    started = time.perf_counter()
    predicted = []
    for i in range(0, len(inputs), batch_size):
        predicted += extractor.extract_many(inputs[i : i + batch_size])
    elapsed = time.perf_counter() - started
    gold = [c.to_extraction() for c in cases]
    metrics = score(gold, predicted, wall_time_s=elapsed)
    typer.echo(f"backend: {extractor.version}; part: {part}; {len(cases)} reports\n")
    typer.echo(metrics.to_table())
    if by_style:
        typer.echo("\nPer style (all organs):\n")
        typer.echo(style_table(score_by_style(cases, predicted)))


app.command("serve")(serve_command)
app.command("review-stats")(review_stats_command)
app.add_typer(llm_app, name="llm")
register_training(app)


def main() -> None:
    """Entry point for ``python -m rsuper_cli``."""
    app()


@app.command()
def phantom(
    out: Annotated[Path, typer.Option(help="Output folder for the cohort.")],
    cases: Annotated[int, typer.Option(min=1, help="Number of cases.")] = 20,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing cohort in OUT.")] = False,
) -> None:
    """Generate a synthetic CT cohort with organ/sub-segment masks, tumor masks and free-text reports."""
    from phantom import generate_cohort_simple

    try:
        summary = generate_cohort_simple(out, cases, seed, overwrite=overwrite)
    except ValueError as e:
        raise _fail(str(e)) from e
    console.print(
        f"wrote {summary.n_cases} cases to {out} (roles {dict(summary.roles)}, {summary.n_healthy} healthy) "
        f"in {summary.seconds:.1f} s"
    )


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder (cohort, store, runs, report.md).")] = Path(
        "demo-out"
    ),
    quick: Annotated[
        bool, typer.Option(help="Tiny smoke run (under a minute): checks the loop, not the method.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the cohort, the initialisation and the sampling.")] = 0,
) -> None:
    """The whole loop on a phantom cohort: reports → store → train (4 arms) → evaluate → report.md."""
    from dataclasses import replace

    from rsuper_cli.demo import DEFAULT, QUICK, run_demo

    settings = replace(QUICK if quick else DEFAULT, seed=seed)
    report = run_demo(out, settings)
    console.print(f"[bold green]done[/]: {report}")
    text = report.read_text(encoding="utf-8")
    typer.echo(text.split("## Test cases", 1)[0].split("\n", 1)[-1])  # the arms table and the recovered share
