"""Does report supervision help? The demo's three arms over several seeds, mean ± sd.

Not a test. For each seed, runs the whole demo loop (a fresh phantom cohort, rules extraction into a
store, stage 1 on masks, then arms A masks only / B masks + extracted reports / C masks +
ground-truth report facts from the same checkpoint) and aggregates the test metrics.

The phantom's difficulty is its generator default (``PhantomConfig``), fixed before any arm was run.

Usage:
    python benchmarks/bench_method.py --seeds 0 1 2 --out bench-method
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import replace
from pathlib import Path

from rsuper_cli.demo import ARMS, DEFAULT, run_demo

METRICS = {
    "dsc": "DSC",
    "lesion_f1": "lesion F1",
    "report_sensitivity": "report sens.",
    "report_specificity": "report spec.",
    "report_f1": "report F1",
    "report_auc": "AUC",
}


def _mean_sd(values: list[float]) -> str:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return "–"
    sd = statistics.stdev(finite) if len(finite) > 1 else 0.0
    return f"{100 * statistics.fmean(finite):.1f} ± {100 * sd:.1f}"


def main() -> None:
    """Run the seeds (skipping finished ones), then print and save the table and a plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("bench-method"))
    parser.add_argument("--n-report", type=int, default=DEFAULT.n_report)
    parser.add_argument("--arm-steps", type=int, default=DEFAULT.arm_steps)
    args = parser.parse_args()
    settings = replace(DEFAULT, n_report=args.n_report, arm_steps=args.arm_steps)
    per_seed: dict[int, list[dict[str, float]]] = {}
    for seed in args.seeds:
        out = args.out / f"seed-{seed}"
        summary = out / "summary.json"
        if not summary.exists():
            run_demo(out, replace(settings, seed=seed), progress=False)
        per_seed[seed] = json.loads(summary.read_text())["arms"]
    lines = [
        f"Seeds {args.seeds}; per seed: {settings.n_mask} mask / {settings.n_report} report / "
        f"{settings.n_val} val / {settings.n_test} test phantom cases, "
        f"stage 1 {settings.stage1_steps} steps, "
        f"each arm {settings.arm_steps} steps. Mean ± sd over seeds of the per-organ mean (liver, pancreas, "
        "kidney), in %.",
        "",
        "| arm | " + " | ".join(METRICS.values()) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    for arm, name in ARMS.items():
        rows = [next(r for r in arms if r["arm"] == arm) for arms in per_seed.values()]
        cells = [_mean_sd([float(r[key]) for r in rows]) for key in METRICS]
        lines.append(f"| {arm}: {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(table + "\n", encoding="utf-8")
    _plot(per_seed, args.out / "bench_method.png")


def _plot(per_seed: dict[int, list[dict[str, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["dsc", "lesion_f1", "report_f1"]
    fig, axes = plt.subplots(1, len(keys), figsize=(10, 3))
    for ax, key in zip(axes, keys, strict=True):
        for i, arm in enumerate(ARMS):
            values = [
                100 * float(next(r for r in arms if r["arm"] == arm)[key]) for arms in per_seed.values()
            ]
            ax.scatter([i] * len(values), values, s=18)
            finite = [v for v in values if not math.isnan(v)]
            if finite:
                ax.hlines(statistics.fmean(finite), i - 0.25, i + 0.25, colors="black")
        ax.set_xticks(range(len(ARMS)), list(ARMS))
        ax.set_title(METRICS[key])
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
