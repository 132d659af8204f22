"""Re-predict finished method-benchmark seeds from their saved checkpoints with other inference settings.

A calibration tool for settings that act at prediction only (test-time mirroring, ``min_lesion_mm3``):
no training runs. For each seed folder and arm it predicts the ``val`` and ``test`` cases from
``SEED/runs/arm-X/checkpoints/last.pt`` into ``OUT/<SEED's parent>-seed-N/predictions/arm-X`` (the
seed's own predictions are left alone; its cohort is linked as ``.../cohort``), scores them as the
benchmark does, and prints one line per seed and arm beside the seed's stored scores;
``OUT/rows.jsonl`` gets the rows with per-organ numbers.

    python benchmarks/repredict_arms.py bench-calib/v6-stage600/seed-100 --arms A D \\
        --mirror-axes 0 1 2 --out bench-calib/v7-mirror
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rsuper_cli.demo import ARMS, evaluate_arm, predict_arm, summary_rows
from segmentation.inference import check_mirror_axes


def repredict(
    seed_dir: Path, arm: str, out: Path, *, mirror_axes: tuple[int, ...], min_lesion_mm3: float | None
) -> dict[str, Any]:
    """Predict and score one arm of one finished seed into ``out`` (a seed-like folder); its row."""
    stored = json.loads((seed_dir / "summary.json").read_text(encoding="utf-8"))
    settings = stored["settings"]
    cohort = seed_dir / "cohort"
    link = out / "cohort"
    if link.is_symlink() or link.exists():
        if link.resolve() != cohort.resolve():
            raise SystemExit(f"{link} points to {link.resolve()}, not {cohort.resolve()}: use another --out.")
    else:
        out.mkdir(parents=True, exist_ok=True)
        link.symlink_to(cohort.resolve(), target_is_directory=True)
    started = time.perf_counter()
    predict_arm(
        cohort,
        seed_dir / "runs" / f"arm-{arm}",
        out,
        arm,
        restrict_to_organs=bool(settings.get("restrict_to_organs", False)),
        mirror_axes=mirror_axes,
    )
    seconds = time.perf_counter() - started
    min_lesion = float(settings.get("min_lesion_mm3", 0.0)) if min_lesion_mm3 is None else min_lesion_mm3
    result = evaluate_arm(out, arm, min_lesion_mm3=min_lesion)
    row = summary_rows({arm: result})[0]
    before = next(r for r in stored["arms"] if r["arm"] == arm)
    return {
        "source": str(seed_dir),
        "seed": settings["seed"],
        "mirror_axes": list(mirror_axes),
        "min_lesion_mm3": min_lesion,
        "predict_seconds": round(seconds, 1),
        **row,
        "stored": {k: before[k] for k in ("dsc", "lesion_f1")},
        "per_organ": result.pixel,
    }


def main() -> None:
    """Re-predict every (seed, arm) given and print the new scores beside the stored ones."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", type=Path, nargs="+", help="finished seed folders (SEED/summary.json)")
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), default=["A", "D"])
    parser.add_argument("--mirror-axes", type=int, nargs="*", default=[])
    parser.add_argument("--min-lesion-mm3", type=float, default=None, help="default: the seed's setting")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    try:
        axes = check_mirror_axes(args.mirror_axes)
    except ValueError as exc:
        parser.error(str(exc))
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "rows.jsonl").open("a", encoding="utf-8") as fh:
        for seed_dir in args.seeds:
            for arm in args.arms:
                name = f"{seed_dir.parent.name}-{seed_dir.name}"
                row = repredict(
                    seed_dir, arm, args.out / name, mirror_axes=axes, min_lesion_mm3=args.min_lesion_mm3
                )
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                stored = row["stored"]
                print(
                    f"{name} arm {arm}: DSC {100 * stored['dsc']:.1f} -> {100 * row['dsc']:.1f}, "
                    f"lesion F1 {100 * stored['lesion_f1']:.1f} -> {100 * row['lesion_f1']:.1f} "
                    f"({row['predict_seconds']} s to predict)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
