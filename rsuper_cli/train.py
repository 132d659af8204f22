"""``rsuper train / predict / evaluate``: the training consumer's commands.

Mounted on the main app with :func:`register` (``register(app)`` in :mod:`rsuper_cli.main`); also
runnable alone, which is how ``torchrun`` starts DDP training::

    torchrun --nproc_per_node 2 -m rsuper_cli.train train --data DATA --out RUN ...

torch / MONAI are imported inside the commands so ``rsuper --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["evaluate", "predict", "register", "train", "training_app"]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


def train(
    data: Annotated[Path, typer.Option(help="Dataset folder (manifest.csv + labels.json).")],
    out: Annotated[Path, typer.Option(help="Run folder (config.json, checkpoints, logs).")],
    store: Annotated[str | None, typer.Option(help="Store URL with the report facts.")] = None,
    reports_jsonl: Annotated[
        Path | None, typer.Option(help="JSONL of ReportExtraction records instead.")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="masks (stage 1) or reports (stage 2: masks + reports).")
    ] = "masks",
    init_from: Annotated[
        Path | None, typer.Option(help="Start from this checkpoint's weights (stage 2).")
    ] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Total optimisation steps.")] = None,
    config: Annotated[Path | None, typer.Option(help="TrainConfig JSON (flags override it).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    lr: Annotated[float | None, typer.Option(help="Default: 1e-3 masks, 1e-4 reports.")] = None,
    num_workers: Annotated[int | None, typer.Option(min=0, help="Data-loading worker processes.")] = None,
    checkpoint_every: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda.")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run in --out from its last checkpoint.")] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    reviewed_only: Annotated[
        bool, typer.Option(help="Reports mode: only report cases a reviewer corrected or accepted.")
    ] = False,
) -> None:
    """Train a tumor segmentation network from masks (and reports) — R-Super."""
    from pydantic import ValidationError

    from segmentation.data.manifest import ManifestError
    from segmentation.training import TrainConfig
    from segmentation.training import train as run_training

    raw: dict[str, Any] = {}
    if resume and (out / "config.json").is_file():
        raw = json.loads((out / "config.json").read_text(encoding="utf-8"))
    elif config is not None:
        raw = json.loads(config.read_text(encoding="utf-8"))
    flags = {
        "data_dir": data,
        "out_dir": out,
        "store_url": store,
        "reports_jsonl": reports_jsonl,
        "init_from": init_from,
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "num_workers": num_workers,
        "checkpoint_every": checkpoint_every,
        "seed": seed,
        "device": device,
    }
    raw.update({k: v for k, v in flags.items() if v is not None})
    if not resume or "mode" not in raw or mode != "masks":
        raw["mode"] = mode
    raw["progress"] = progress
    if reviewed_only:
        raw["reviewed_only"] = True
    raw.pop("git_sha", None)
    try:
        cfg = TrainConfig.model_validate(raw)
        result = run_training(cfg, resume=resume)
    except ManifestError as e:
        raise _fail(str(e)) from e
    except ValidationError as e:
        raise _fail(f"invalid training config:\n{e}") from e
    except (ValueError, FileNotFoundError) as e:
        raise _fail(str(e)) from e
    if os.environ.get("RANK", "0") != "0":
        return
    if result.losses:
        last = result.losses[-1]
        typer.echo(
            f"trained to step {result.final_step}: loss {last['total']:.4f}; checkpoint {result.checkpoint}"
        )
    else:
        typer.echo(f"nothing to do: {out} is already at step {result.final_step}")


def predict(
    run: Annotated[Path, typer.Option(help="Run folder written by `rsuper train`.")],
    data: Annotated[Path, typer.Option(help="Dataset folder (manifest.csv + labels.json).")],
    out: Annotated[Path, typer.Option(help="Output folder for NIfTI masks and probabilities.")],
    split: Annotated[
        str, typer.Option(help="Split(s) to predict, comma-separated (val,test); 'all'.")
    ] = "test",
    checkpoint: Annotated[
        Path | None, typer.Option(help="Default: RUN/checkpoints/last.pt (EMA weights).")
    ] = None,
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Probability threshold of the masks.")
    ] = 0.5,
    restrict_to_organs: Annotated[
        bool, typer.Option(help="Keep lesions only inside their (given) organ.")
    ] = False,
    mirror: Annotated[
        bool,
        typer.Option(
            help="Test-time mirroring: average the 8 inputs mirrored along x, y, z (training flips all "
            "three); 8x the network time."
        ),
    ] = False,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda.")] = "auto",
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Sliding-window prediction to NIfTI masks / probabilities aligned with each input CT."""
    from segmentation.inference import predict as run_predict

    try:
        result = run_predict(
            run,
            data,
            out,
            split=None if split == "all" else split,
            checkpoint=checkpoint,
            threshold=threshold,
            restrict_to_organs=restrict_to_organs,
            mirror_axes=(0, 1, 2) if mirror else (),
            device=device,
            progress=progress,
        )
    except (ValueError, FileNotFoundError) as e:
        raise _fail(str(e)) from e
    typer.echo(f"predicted {len(result.cases)} case(s) into {result.out_dir} ({result.csv.name})")


def evaluate(
    pred: Annotated[Path, typer.Option(help="Folder written by `rsuper predict`.")],
    data: Annotated[Path, typer.Option(help="Dataset folder (manifest.csv + labels.json).")],
    out: Annotated[Path, typer.Option(help="Folder for metrics CSV / JSON and PNG plots.")],
    store: Annotated[str | None, typer.Option(help="Store URL with the report facts.")] = None,
    reports_jsonl: Annotated[
        Path | None, typer.Option(help="JSONL of ReportExtraction records instead.")
    ] = None,
    nsd_tolerance_mm: Annotated[float, typer.Option(min=0.0)] = 2.0,
    min_lesion_mm3: Annotated[
        float,
        typer.Option(min=0.0, help="Drop predicted components under this volume before per-voxel metrics."),
    ] = 0.0,
) -> None:
    """Per-voxel (DSC, NSD, lesion F1) and report-based (sens., spec., F1, AUC) metrics."""
    from segmentation.evaluation import evaluate as run_evaluate

    try:
        result = run_evaluate(
            pred,
            data,
            out,
            store_url=store,
            reports_jsonl=reports_jsonl,
            nsd_tolerance_mm=nsd_tolerance_mm,
            min_lesion_mm3=min_lesion_mm3,
        )
    except (ValueError, FileNotFoundError) as e:
        raise _fail(str(e)) from e
    typer.echo(result.to_markdown())
    typer.echo(f"\nwritten to {result.out_dir}")


def register(app: typer.Typer) -> None:
    """Mount ``train``, ``predict`` and ``evaluate`` on ``app``."""
    app.command("train")(train)
    app.command("predict")(predict)
    app.command("evaluate")(evaluate)


training_app = typer.Typer(name="rsuper-train", no_args_is_help=True, add_completion=False)
register(training_app)


@training_app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at INFO level.")] = False,
) -> None:
    """R-Super training consumer (standalone entry, e.g. under torchrun)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


if __name__ == "__main__":
    training_app()
