"""Evaluate predictions: per-voxel metrics against masks and report-based metrics against report facts.

- per-voxel (cases with a tumor mask): DSC, NSD (``nsd_tolerance_mm``) and lesion-wise detection
  sensitivity / precision / F1 per lesion channel, at the prediction's threshold after removing
  predicted components under ``min_lesion_mm3`` (default 0: none; the demo sets half the volume of the
  smallest lesion its phantom draws), over the non-``val`` cases (``val`` cases are scored only when
  nothing else was predicted; ``pixel_cases.csv`` lists all);
- report-based (cases with report facts, ``docs/METHOD.md`` section 5): per CT and organ the truth is
  "the report counts >= 1 lesion" (``lesion`` status; ``normal`` / ``absent`` / ``not_mentioned`` are
  negatives); the model is positive when its lesion volume at probability ``th``, specks under
  ``speck_mm3`` removed, exceeds ``tau`` mm³. ``(th, tau)`` maximises F1 per organ on the ``val``
  predictions (else on the evaluated cases themselves, flagged as optimistic); sensitivity,
  specificity and F1 are reported on the other cases; AUC uses the maximum lesion probability.

Writes ``pixel_cases.csv``, ``report_cases.csv``, ``metrics.csv``, ``summary.json``, ``roc.png`` and
``metrics_table.png`` into the output folder.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np

from segmentation.data.manifest import load_manifest
from segmentation.metrics import (
    DetectionCounts,
    binary_scores,
    detection_counts,
    dice,
    lesion_volume_mm3,
    normalized_surface_dice,
    remove_specks,
    roc_auc,
    roc_curve,
)
from segmentation.records import ReportFacts, load_report_facts

__all__ = ["EvalResult", "evaluate", "nanmean", "percent"]

logger = logging.getLogger(__name__)

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
VOLUMES_MM3 = (0.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 5000.0)


@dataclass
class EvalResult:
    """Metric tables: ``pixel[organ]`` and ``report[organ]`` dictionaries of named values."""

    out_dir: Path
    pixel: dict[str, dict[str, float]] = field(default_factory=dict)
    report: dict[str, dict[str, float]] = field(default_factory=dict)
    operating_points: dict[str, dict[str, float]] = field(default_factory=dict)
    chosen_on: str = ""

    def to_markdown(self) -> str:
        """Both metric families as Markdown tables."""
        lines: list[str] = []
        if self.pixel:
            lines += [
                "**Per-voxel (cases with masks)**",
                "",
                "| organ | n | DSC | NSD | lesion sens. | lesion prec. | lesion F1 |",
            ]
            lines.append("|---|---|---|---|---|---|---|")
            for organ, m in self.pixel.items():
                lines.append(
                    f"| {organ} | {int(m['n_cases'])} | {percent(m['dsc'])} | {percent(m['nsd'])} | "
                    f"{percent(m['lesion_sensitivity'])} | {percent(m['lesion_precision'])} | "
                    f"{percent(m['lesion_f1'])} |"
                )
        if self.report:
            lines += ["", f"**Report-based (operating point chosen on {self.chosen_on})**", ""]
            lines.append("| organ | n pos / neg | th | tau mm³ | sensitivity | specificity | F1 | AUC |")
            lines.append("|---|---|---|---|---|---|---|---|")
            for organ, m in self.report.items():
                lines.append(
                    f"| {organ} | {int(m['n_pos'])} / {int(m['n_neg'])} | {m['th']:.2f} | {m['tau_mm3']:g} | "
                    f"{percent(m['sensitivity'])} | {percent(m['specificity'])} | {percent(m['f1'])} | "
                    f"{percent(m['auc'])} |"
                )
        return "\n".join(lines) if lines else "(nothing to evaluate)"


def percent(x: float | None) -> str:
    """``x`` as a percentage with one decimal, ``–`` for ``None`` / ``nan``."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def nanmean(values: list[float]) -> float:
    """Mean of the finite values; ``nan`` when there are none."""
    arr = np.asarray(values, dtype=float)
    return float(np.nanmean(arr)) if np.isfinite(arr).any() else float("nan")


def _choose_point(vols: np.ndarray, truth: np.ndarray) -> tuple[int, int]:
    """Grid indices (th, tau) maximising F1 (ties: higher specificity, then the first)."""
    best, best_key = (0, 0), (-1.0, -1.0)
    for i in range(vols.shape[1]):
        for j, tau in enumerate(VOLUMES_MM3):
            s = binary_scores(vols[:, i] > tau, truth)
            key = (
                0.0 if math.isnan(s["f1"]) else s["f1"],
                0.0 if math.isnan(s["specificity"]) else s["specificity"],
            )
            if key > best_key:
                best, best_key = (i, j), key
    return best


def evaluate(
    pred_dir: Path,
    data_dir: Path,
    out_dir: Path,
    *,
    store_url: str | None = None,
    reports_jsonl: Path | None = None,
    nsd_tolerance_mm: float = 2.0,
    speck_mm3: float = 20.0,
    min_lesion_mm3: float = 0.0,
) -> EvalResult:
    """Evaluate a ``rsuper predict`` folder against the dataset's masks and the report facts.

    Report facts come from ``store_url`` or ``reports_jsonl``; without either, ``DATA/truth.jsonl`` is
    used when present (phantom cohorts), else report-based metrics are skipped. ``min_lesion_mm3``:
    predicted components smaller than this are dropped before the per-voxel metrics (DSC, NSD, lesion
    detection), the connected-component clean-up of segmentation pipelines; ``speck_mm3`` plays that
    role for the report-level volumes.
    """
    pred_dir, out_dir = Path(pred_dir), Path(out_dir)
    info = json.loads((pred_dir / "prediction.json").read_text(encoding="utf-8"))
    channels: list[str] = info["channels"]
    threshold = float(info["threshold"])
    manifest = load_manifest(data_dir)
    by_id = {c.case_id: c for c in manifest.cases}
    with (pred_dir / "predictions.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if store_url is None and reports_jsonl is None and (Path(data_dir) / "truth.jsonl").is_file():
        reports_jsonl = Path(data_dir) / "truth.jsonl"
        logger.info("report facts: using %s", reports_jsonl)
    facts: dict[str, ReportFacts] = {}
    if store_url is not None or reports_jsonl is not None:
        ids = [by_id[r["case_id"]].report_id for r in rows if by_id[r["case_id"]].report_id]
        facts, _ = load_report_facts(ids, store_url=store_url, reports_jsonl=reports_jsonl)  # type: ignore[arg-type]

    pixel_rows: list[tuple[dict[str, object], DetectionCounts]] = []
    report_rows: list[dict[str, object]] = []
    for row in rows:
        case = by_id[row["case_id"]]
        probs = {o: nib.load(str(pred_dir / row[f"prob_{o}"])) for o in channels}
        first = next(iter(probs.values()))
        spacing = tuple(float(z) for z in first.header.get_zooms()[:3])
        voxel_mm3 = float(np.prod(spacing))
        arrays = {o: np.asarray(img.dataobj, dtype=np.float32) for o, img in probs.items()}
        if case.tumor_mask is not None:
            truth = np.asarray(nib.load(str(case.tumor_mask)).dataobj)
            for organ in channels:
                value = manifest.labels.tumor_value(organ)
                t = truth == value if value is not None else np.zeros(truth.shape, dtype=bool)
                p = remove_specks(arrays[organ] > threshold, math.ceil(min_lesion_mm3 / voxel_mm3))
                det = detection_counts(p, t)
                pixel_rows.append(
                    (
                        {
                            "case_id": case.case_id,
                            "split": case.split,
                            "organ": organ,
                            # DSC / NSD on lesion-positive organs only; a healthy organ's false
                            # positives are scored by the lesion F1 (docs/METHOD.md section 6)
                            "dsc": dice(p, t) if t.any() else float("nan"),
                            "nsd": normalized_surface_dice(p, t, spacing, nsd_tolerance_mm)
                            if t.any()
                            else float("nan"),
                            "truth_lesions": det.found + det.missed,
                            "found": det.found,
                            "false_pred": det.false_pred,
                        },
                        det,
                    )
                )
        if case.report_id and case.report_id in facts:
            for organ in channels:
                entry: dict[str, object] = {
                    "case_id": case.case_id,
                    "split": case.split,
                    "organ": organ,
                    "truth": int(facts[case.report_id].is_positive(organ)),
                    "max_prob": float(arrays[organ].max()),
                }
                for th in THRESHOLDS:
                    entry[f"vol_mm3@{th}"] = lesion_volume_mm3(arrays[organ], th, voxel_mm3, speck_mm3)
                report_rows.append(entry)

    result = EvalResult(out_dir=out_dir)
    # like the report metrics: val cases only tune, the others are scored (unless only val was predicted)
    scored = [(r, d) for r, d in pixel_rows if r["split"] != "val"] or pixel_rows
    for organ in channels:
        mine = [(r, d) for r, d in scored if r["organ"] == organ]
        if mine:
            c = sum((d for _, d in mine), DetectionCounts(0, 0, 0, 0))
            result.pixel[organ] = {
                "n_cases": float(len(mine)),
                "dsc": nanmean([float(r["dsc"]) for r, _ in mine]),  # type: ignore[arg-type]
                "nsd": nanmean([float(r["nsd"]) for r, _ in mine]),  # type: ignore[arg-type]
                "lesion_sensitivity": c.sensitivity,
                "lesion_precision": c.precision,
                "lesion_f1": c.f1,
            }
    has_val = any(r["split"] == "val" for r in report_rows)
    result.chosen_on = "val" if has_val else "the evaluated cases themselves (no val predictions: optimistic)"
    for organ in channels:
        mine = [r for r in report_rows if r["organ"] == organ]
        if not mine:
            continue
        tune = [r for r in mine if r["split"] == "val"] if has_val else mine
        test = [r for r in mine if r["split"] != "val"] if has_val else mine
        if not test:
            continue

        def vols(rs: list[dict[str, object]]) -> np.ndarray:
            return np.asarray([[float(r[f"vol_mm3@{th}"]) for th in THRESHOLDS] for r in rs])  # type: ignore[arg-type]

        i, j = _choose_point(vols(tune), np.asarray([bool(r["truth"]) for r in tune]))
        truth = np.asarray([bool(r["truth"]) for r in test])
        scores = binary_scores(vols(test)[:, i] > VOLUMES_MM3[j], truth)
        result.operating_points[organ] = {"th": THRESHOLDS[i], "tau_mm3": VOLUMES_MM3[j]}
        result.report[organ] = {
            "n_pos": float(truth.sum()),
            "n_neg": float((~truth).sum()),
            "th": THRESHOLDS[i],
            "tau_mm3": VOLUMES_MM3[j],
            **{k: float(scores[k]) for k in ("sensitivity", "specificity", "precision", "f1")},
            "auc": roc_auc([float(r["max_prob"]) for r in test], truth),  # type: ignore[arg-type]
        }
    _write(result, [r for r, _ in pixel_rows], report_rows)
    return result


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _write(
    result: EvalResult, pixel_rows: list[dict[str, object]], report_rows: list[dict[str, object]]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(out / "pixel_cases.csv", pixel_rows)
    _write_csv(out / "report_cases.csv", report_rows)
    table = [{"family": "pixel", "organ": o, **m} for o, m in result.pixel.items()]
    table += [{"family": "report", "organ": o, **m} for o, m in result.report.items()]
    with (out / "metrics.csv").open("w", newline="", encoding="utf-8") as fh:
        keys = list(dict.fromkeys(k for row in table for k in row))
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(table)
    summary = {"pixel": result.pixel, "report": result.report, "chosen_on": result.chosen_on}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    (out / "metrics.md").write_text(result.to_markdown() + "\n", encoding="utf-8")

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    test_split = any(r["split"] == "val" for r in report_rows)
    for organ in result.report:
        rs = [r for r in report_rows if r["organ"] == organ and (not test_split or r["split"] != "val")]
        fpr, tpr = roc_curve([float(r["max_prob"]) for r in rs], [bool(r["truth"]) for r in rs])  # type: ignore[arg-type]
        ax.plot(fpr, tpr, label=f"{organ} (AUC {percent(result.report[organ]['auc'])})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="1 - specificity", ylabel="sensitivity", title="Report-based ROC (max lesion probability)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 0.6 + 0.35 * max(1, len(table))))
    ax.axis("off")
    cols = ["family", "organ", "dsc", "nsd", "lesion_f1", "sensitivity", "specificity", "f1", "auc"]
    cells = [
        [str(r.get(c, "")) if c in ("family", "organ") else percent(r.get(c, float("nan"))) for c in cols]
        for r in table
    ]  # type: ignore[arg-type]
    if cells:
        ax.table(cellText=cells, colLabels=cols, loc="center").scale(1, 1.2)
    fig.tight_layout()
    fig.savefig(out / "metrics_table.png", dpi=100)
    plt.close(fig)
