"""Does report supervision help? The demo's four arms over several seeds, mean ± sd, and the share of
the gap that reports recover.

Not a test. For each seed, runs the whole demo loop (a fresh phantom cohort, rules extraction into a
store, stage 1 on masks, then arms A masks only / B masks + extracted reports / C masks +
ground-truth report facts / D every training case's mask, from the same checkpoint) and aggregates
the test metrics, the paired differences and the recovered share (B − A) / (D − A) per seed. Writes
``OUT/table.md``, ``OUT/bench_method.png`` and ``OUT/rows.jsonl`` (one JSON row per seed and arm).

``--setting bench`` (default) is larger than the demo: more mask, report and test cases, more steps,
visible lesions (``BENCH``). Its difficulty, the batch Dice and the organ restriction at prediction
were chosen from mask-only (arm A / stage 1) calibration runs on seed 0, before any report arm ran at
this setting. ``--setting demo`` runs the demo's own setting (``DEFAULT``).

``--set KEY=VALUE`` (repeatable) changes one :class:`~rsuper_cli.demo.DemoSettings` field for a
calibration run (``--set arm_steps=2500``, ``--set phantom.bias_field_hu=4``; values are JSON, lists
become tuples); the changes are part of the settings each seed's ``summary.json`` records.

Usage:
    python benchmarks/bench_method.py --seeds 0 1 2 --out bench-method
    python benchmarks/bench_method.py --seeds 100 101 --arms D --set arm_steps=2500 --out bench-calib/steps
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import MISSING, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rsuper_cli.demo import (
    ARMS,
    DECISIVE,
    DEFAULT,
    SHARE_KEYS,
    DemoSettings,
    evaluate_arm,
    recovered_share,
    run_demo,
    settings_json,
    summary_rows,
)

SETTINGS: dict[str, DemoSettings] = {"bench": DECISIVE, "demo": DEFAULT}

METRICS = {
    "dsc": "DSC",
    "lesion_f1": "lesion F1",
    "report_sensitivity": "report sens.",
    "report_specificity": "report spec.",
    "report_f1": "report F1",
    "report_auc": "AUC",
}


def _mean_sd(values: list[float], *, signed: bool = False) -> str:
    """``mean ± sd`` in % of the finite values (``signed``: with a + or − sign), ``–`` if none."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return "–"
    sd = statistics.stdev(finite) if len(finite) > 1 else 0.0
    mean = f"{100 * statistics.fmean(finite):{'+' if signed else ''}.1f}".replace("-", "−")
    return f"{mean} ± {100 * sd:.1f}"


PerSeed = dict[int, dict[str, dict[str, float]]]
"""``per_seed[seed][arm][metric]``: each seed's summary rows, indexed by arm."""


def _column(per_seed: PerSeed, arm: str, key: str) -> list[float]:
    """One metric of one arm, a value per seed."""
    return [float(arms[arm][key]) for arms in per_seed.values()]


def _paired(per_seed: PerSeed, arm: str, base: str, key: str) -> list[float]:
    """Per-seed differences ``arm - base`` of one metric (same cohort and stage 1 within a seed)."""
    return [a - b for a, b in zip(_column(per_seed, arm, key), _column(per_seed, base, key), strict=True)]


def main() -> None:
    """Run the seeds (skipping finished ones), then print and save the table and a plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("bench-method"))
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="bench")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="re-evaluate finished seeds' saved predictions with the current evaluation code "
        "(rewrites summary.json and evaluation/; each seed's report.md keeps its original scores)",
    )
    parser.add_argument(
        "--arms",
        nargs="+",
        choices=list(ARMS),
        default=list(ARMS),
        help="arms to train (calibration: A D only, before any report arm runs at a setting)",
    )
    parser.add_argument(
        "--set",
        dest="changes",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change one setting for a calibration run (JSON value; phantom.KEY for the phantom)",
    )
    args = parser.parse_args()
    try:
        settings = with_changes(SETTINGS[args.setting], args.changes)
    except ValueError as exc:
        parser.error(str(exc))
    per_seed: PerSeed = {}
    minutes: list[float] = []
    for seed in args.seeds:
        out = args.out / f"seed-{seed}"
        summary = out / "summary.json"
        seed_settings = replace(settings, seed=seed)
        if not summary.exists():
            run_demo(out, seed_settings, progress=False, arms=args.arms)
        data = json.loads(summary.read_text())
        if not same_settings(data.get("settings") or {}, seed_settings):
            raise SystemExit(
                f"{out} was run with other settings than --setting {args.setting} and these --set "
                "changes; use another --out."
            )
        if args.rescore:
            _rescore(out)
            data = json.loads(summary.read_text())
        per_seed[seed] = {row["arm"]: row for row in data["arms"]}
        minutes.append(float(data["minutes"]))
    arms = [a for a in ARMS if all(a in by_arm for by_arm in per_seed.values())]
    lines = [
        f"Seeds {args.seeds}; per seed: {settings.n_mask} mask / {settings.n_report} report / "
        f"{settings.n_val} val / {settings.n_test} test phantom cases, "
        f"stage 1 {settings.stage1_steps} steps, "
        f"each arm {settings.arm_steps} steps; {statistics.fmean(minutes):.0f} min per seed. "
        "Mean ± sd over seeds of the per-organ mean (liver, pancreas, "
        "kidney), in %.",
        "",
        "| arm | " + " | ".join(METRICS.values()) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    for arm in arms:
        cells = [_mean_sd(_column(per_seed, arm, key)) for key in METRICS]
        lines.append(f"| {arm}: {ARMS[arm]} | " + " | ".join(cells) + " |")
    for arm in [a for a in arms if a != "A" and "A" in arms]:  # paired against A when A ran
        cells = [_mean_sd(_paired(per_seed, arm, "A", key), signed=True) for key in METRICS]
        lines.append(f"| {arm} − A (paired, points) | " + " | ".join(cells) + " |")
    shares = {key: _shares(per_seed, key) for key in SHARE_KEYS}
    lines += [
        "",
        "Share of the A → D gap recovered by the extracted reports, (B − A) / (D − A), per seed "
        "(– where D does not beat A by a point):",
        "",
        "| metric | " + " | ".join(f"seed {s}" for s in per_seed) + " | mean ± sd |",
        "|---|" + "---|" * (len(per_seed) + 1),
    ]
    for key, values in shares.items():
        cells = ["–" if v != v else f"{100 * v:.0f} %" for v in values]
        lines.append(f"| {METRICS[key]} | " + " | ".join(cells) + f" | {_mean_sd(values)} % |")
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(table + "\n", encoding="utf-8")
    with (args.out / "rows.jsonl").open("w", encoding="utf-8") as fh:
        for seed, by_arm in per_seed.items():
            for row in by_arm.values():
                fh.write(
                    json.dumps(
                        {"setting": args.setting, "changes": args.changes, "seed": seed, **row}, default=float
                    )
                    + "\n"
                )
    _plot(per_seed, arms, args.out / "bench_method.png")


def same_settings(stored: dict[str, Any], settings: DemoSettings) -> bool:
    """Whether a seed's stored settings are ``settings``. A setting added after the seed ran is absent
    from ``stored`` and counts as its default, so finished seeds stay usable when an option appears."""
    expected = settings_json(settings)
    for f in fields(DemoSettings):
        if f.name in stored:
            if stored[f.name] != expected[f.name]:
                return False
        elif f.default is MISSING or expected[f.name] != json.loads(json.dumps(f.default)):
            return False
    return True


def with_changes(settings: DemoSettings, changes: list[str]) -> DemoSettings:
    """``settings`` with ``KEY=VALUE`` changes applied (JSON values; lists become tuples).

    ``phantom.KEY`` changes one phantom override. Raises ``ValueError`` naming the bad item.
    """
    names = {f.name for f in fields(DemoSettings)}
    phantom = dict(settings.phantom)
    updates: dict[str, Any] = {}
    for item in changes:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--set {key}: value {raw!r} is not JSON ({exc.msg})") from None
        if isinstance(value, list):
            value = tuple(value)
        if key.startswith("phantom."):
            phantom[key.removeprefix("phantom.")] = value
        elif key in names and key not in ("phantom", "seed"):
            updates[key] = value
        else:
            known = ", ".join(sorted(names - {"seed", "phantom"}))
            raise ValueError(f"--set {key}: not a setting (one of {known} or phantom.KEY)")
    if phantom != dict(settings.phantom):
        updates["phantom"] = MappingProxyType(phantom)
    return replace(settings, **updates)


def _shares(per_seed: PerSeed, key: str) -> list[float]:
    """The recovered share of metric ``key``, one value per seed (``nan`` where undefined)."""
    return [recovered_share(list(arms.values()), key) for arms in per_seed.values()]


def _rescore(out: Path) -> None:
    """Rewrite ``out/summary.json``'s arm rows from the saved predictions (training is not rerun)."""
    summary = out / "summary.json"
    data = json.loads(summary.read_text())
    done = [arm for arm in ARMS if (out / "predictions" / f"arm-{arm}").is_dir()]
    min_lesion = float(data["settings"].get("min_lesion_mm3", 0.0))
    data["arms"] = summary_rows({arm: evaluate_arm(out, arm, min_lesion_mm3=min_lesion) for arm in done})
    data["recovered_share"] = {key: recovered_share(data["arms"], key) for key in SHARE_KEYS}
    summary.write_text(json.dumps(data, indent=2, default=float), encoding="utf-8")


def _plot(per_seed: PerSeed, arms: list[str], path: Path) -> None:
    """One panel per metric: each seed's arms joined by a line (paired), the mean as a black bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["dsc", "lesion_f1", "report_f1", "report_auc"]
    fig, axes = plt.subplots(1, len(keys), figsize=(12, 3.2))
    x = range(len(arms))
    for ax, key in zip(axes, keys, strict=True):
        for seed, by_arm in per_seed.items():
            values = [100 * float(by_arm[arm][key]) for arm in arms]
            ax.plot(x, values, marker="o", markersize=4, linewidth=1, alpha=0.8, label=f"seed {seed}")
        for i, arm in enumerate(arms):
            finite = [100 * v for v in _column(per_seed, arm, key) if not math.isnan(v)]
            if finite:
                ax.hlines(statistics.fmean(finite), i - 0.2, i + 0.2, colors="black", linewidth=2)
        ax.set_xticks(list(x), arms)
        ax.set_title(f"{METRICS[key]} (%)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
