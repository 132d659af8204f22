"""Why does the ceiling arm not learn? One ceiling-arm training per call, with its validation curve.

Not a test. Trains the ceiling arm (every training case with its mask, masks only) of the method
benchmark's grid and network on a fixed calibration cohort (seed 0: 40 mask + 8 val phantom cases,
64×64×48 voxels at 3.5×3.5×4 mm, ``VISIBLE_LESIONS``), validates the EMA weights on the val cases every
``--val-every`` steps (whole volumes, sliding window, threshold 0.5, the trainer's own ``validate``)
and appends one JSON line per run to ``--log`` (name, overrides, val Dice per organ per step, final
training loss, seconds). ``benchmarks/results/learning.md`` reads these lines.

Usage:
    python benchmarks/learning_study.py --name base
    python benchmarks/learning_study.py --name org --set input_organs='["liver","pancreas","kidney"]'
    python benchmarks/learning_study.py --table    # every logged run as the markdown table of learning.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from phantom import PhantomConfig, generate_cohort
from rsuper_cli.demo import VISIBLE_LESIONS
from segmentation.data.dataset import SamplingConfig
from segmentation.evaluation import nanmean
from segmentation.training import TrainConfig, train
from segmentation.training.config import LossConfig, NetworkConfig

BASE: dict[str, Any] = {
    "mode": "masks",
    "steps": 600,
    "lr": 2e-3,
    "batch_size": 2,
    "warmup_steps": 20,
    "val_max_cases": 8,
    "loss": LossConfig(batch_dice=True).model_dump(),
    "sampling": SamplingConfig(crop_size=(48, 48, 32)).model_dump(),
    "progress": False,
}
"""The method benchmark's stage-1 recipe (DynUNet filters 8-64, crops 48×48×32, batch 2, batch Dice)."""


def _cohort(folder: Path, phantom: dict[str, Any]) -> Path:
    if not (folder / "manifest.csv").exists():
        config = PhantomConfig(
            shape=(64, 64, 48), spacing=(3.5, 3.5, 4.0), **(dict(VISIBLE_LESIONS) | phantom)
        )
        generate_cohort(
            folder,
            n_mask=40,
            n_report=0,
            n_val=8,
            n_test=0,
            seed=0,
            config=config,
            progress=False,
            overwrite=True,
        )
    return folder


def _merge(base: dict[str, Any], key: str, value: Any) -> None:
    """``a.b=v`` sets ``base[a][b]`` (nested config sections), ``a=v`` sets ``base[a]``."""
    *path, last = key.split(".")
    node = base
    for part in path:
        node = node.setdefault(part, {})
    node[last] = value


def main() -> None:
    """Run one variant and append its curve to the log."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name")
    parser.add_argument("--table", action="store_true", help="print the logged runs as a markdown table")
    parser.add_argument("--set", action="append", default=[], help="KEY=JSON override of TrainConfig")
    parser.add_argument(
        "--phantom", action="append", default=[], help="KEY=JSON override of the cohort's PhantomConfig"
    )
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--val-every", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path("learning-study"))
    parser.add_argument("--log", type=Path, default=Path("benchmarks/results/learning_runs.jsonl"))
    args = parser.parse_args()
    if args.table:
        print(table(args.log))
        return
    if not args.name:
        parser.error("--name is required to run a variant")
    settings = json.loads(json.dumps(BASE))
    network = NetworkConfig()
    settings["network"] = network.model_copy(
        update={"kwargs": {**network.kwargs, "filters": [8, 16, 32, 64]}}
    ).model_dump()
    overrides = {}
    for item in args.set:
        key, _, raw = item.partition("=")
        overrides[key] = json.loads(raw)
        _merge(settings, key, overrides[key])
    phantom = {}
    for item in args.phantom:
        key, _, raw = item.partition("=")
        phantom[key] = json.loads(raw)
    key = json.dumps(phantom, sort_keys=True)
    cohort_name = "cohort-" + hashlib.sha256(key.encode()).hexdigest()[:8] if phantom else "cohort"
    run_dir = args.work / "runs" / args.name
    config = TrainConfig.model_validate(
        settings
        | {
            "data_dir": _cohort(args.work / cohort_name, phantom),
            "out_dir": run_dir,
            "steps": args.steps,
            "val_every": args.val_every,
            "checkpoint_every": args.steps,
        }
    )
    started = time.perf_counter()
    result = train(config)
    seconds = time.perf_counter() - started
    row = {
        "name": args.name,
        "overrides": overrides,
        "phantom": phantom,
        "steps": args.steps,
        "seconds": round(seconds, 1),
        "final_loss": result.losses[-1]["total"] if result.losses else None,
        "val": result.validation_curve,
    }
    args.log.parent.mkdir(parents=True, exist_ok=True)
    with args.log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row))


def table(log: Path) -> str:
    """Markdown: one row per logged run, its changes, the mean val DSC (%) at each validation and the
    last validation's per-organ DSC / lesion F1 (liver, pancreas, kidney)."""
    lines = [
        "| run | changes (TrainConfig; phantom) | steps | val DSC by step (mean over organs, %) "
        "| last: DSC liver / pancreas / kidney | last: lesion F1 liver / pancreas / kidney | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for raw in log.read_text(encoding="utf-8").splitlines():
        run = json.loads(raw)
        changes = ", ".join(f"{k}={json.dumps(v)}" for k, v in run["overrides"].items()) or "base"
        if run.get("phantom"):
            changes += "; " + ", ".join(f"{k}={json.dumps(v)}" for k, v in run["phantom"].items())
        curve = " / ".join(
            f"{row['step']}: {100 * nanmean([v for k, v in row.items() if k.startswith('val/dice_')]):.0f}"
            for row in run["val"]
        )
        last = run["val"][-1] if run["val"] else {}

        def organs(prefix: str, last: dict[str, float] = last) -> str:
            values = [last.get(f"{prefix}{o}", float("nan")) for o in ("liver", "pancreas", "kidney")]
            return " / ".join("–" if v != v else f"{100 * v:.0f}" for v in values)

        cells = [run["name"], changes.replace("|", "/"), str(run["steps"]), curve]
        cells += [organs("val/dice_"), organs("val/lesion_f1_"), f"{run['seconds']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
