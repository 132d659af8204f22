"""``rsuper demo``: the whole R-Super loop on a synthetic phantom cohort, on a laptop CPU.

phantom cohort (CTs, organ/sub-segment masks, tumor masks, free-text reports)
→ extract the reports with a real backend into a SQLite store (and score that extraction against the
  phantom's ground truth)
→ stage 1: train on the few mask cases
→ stage 2, four arms from the same checkpoint, with the same network, steps, learning rate and seed:
  A masks only · B masks + extracted report facts (R-Super) · C masks + ground-truth report facts ·
  D the ceiling: every training case with its tumor mask (the report cases' masks too), masks only
→ the share of the A → D gap that reports recover, (B − A) / (D − A)
→ predict the val + test cases, evaluate (DSC, NSD, lesion F1; report-based sensitivity /
  specificity / F1 / AUC with the operating point chosen on val)
→ ``OUT/report.md`` with the tables, training curves and overlay PNGs.

It lives in the CLI layer because it wires every package together (the extraction engine and the
training consumer are siblings that never import each other).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from segmentation.evaluation import EvalResult

logger = logging.getLogger(__name__)

ORGANS = ("liver", "pancreas", "kidney")

Normalize = Literal["window", "organ_zscore"]
"""``PreprocessConfig.normalize``'s values, spelled here so that this module need not import torch."""


@dataclass(frozen=True)
class DemoSettings:
    """Sizes and schedule of one demo run (chosen before looking at any arm's result)."""

    n_mask: int
    n_report: int
    n_val: int
    n_test: int
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    crop: tuple[int, int, int]
    filters: tuple[int, ...]
    stage1_steps: int
    arm_steps: int
    batch_size: int = 2
    stage1_lr: float = 1e-3
    arm_lr: float = 3e-4
    seed: int = 0
    backend: str = "rules"
    batch_dice: bool = False
    """Mask Dice over the batch per channel (``LossConfig.batch_dice``)."""
    union_dice: bool = False
    """Mask Dice on the union of the lesion channels (``LossConfig.union_dice``; organ-gated networks)."""
    head_weights: tuple[float, ...] | None = None
    """Loss weight of each supervised head, the final (full-resolution) one first
    (``LossConfig.head_weights``; default 1/2 each for the full- and the 1/4-resolution head)."""
    normalize: Normalize = "window"
    """CT intensities: the HU window's [0, 1] or ``organ_zscore`` (``PreprocessConfig.normalize``)."""
    gated_bce: bool = False
    """Mask BCE over the voxels the organ-gated network predicts (``LossConfig.gated_bce``)."""
    phantom: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Overrides of :class:`~phantom.PhantomConfig` (difficulty knobs) beside shape/spacing."""
    restrict_to_organs: bool = False
    """Zero each lesion channel outside its organ mask (+5 mm) at prediction, in every arm. The masks
    are the dataset's organ masks (which the report losses need anyway); on the phantom they are its
    ground truth."""
    input_organs: bool = False
    """Feed the liver / pancreas / kidney masks to the network beside the CT (``input_organs``)."""
    organ_gated: bool = False
    """One organ-agnostic lesion map gated by each organ's input mask (``NetworkConfig.organ_gated``;
    needs ``input_organs``)."""
    mask_crop_probs: tuple[float, float, float] = (0.4, 0.3, 0.3)
    """Tumor-centred / organ-centred / random crop probabilities of mask cases."""
    organ_balanced: bool = False
    """Organ-centred crops draw the organ first (``SamplingConfig.organ_balanced``)."""
    intensity_strength: float = 1.0
    """Strength of the CT intensity augmentation (``SamplingConfig.intensity_strength``); 0: none."""
    min_lesion_mm3: float = 0.0
    """Predicted components under this volume are dropped before the per-voxel metrics (every arm)."""
    mirror_axes: tuple[int, ...] = ()
    """Test-time mirroring at prediction, every arm (``segmentation.inference.predict``); ``(0, 1, 2)``
    averages the 8 mirrored inputs."""
    optimizer: str = "adamw"
    """``adamw`` or ``sgd`` (nnU-Net's: Nesterov, momentum 0.99), both stages."""
    weight_decay: float = 0.05
    val_every: int = 0
    """Validate every N steps in every run (the learning curves of the report); 0: never."""

    def __post_init__(self) -> None:
        """Refuse a bad ``normalize`` here, before a run generates its cohort and extracts its reports."""
        if self.normalize not in get_args(Normalize):
            raise ValueError(f"normalize must be one of {list(get_args(Normalize))}, got {self.normalize!r}.")


VISIBLE_LESIONS: Mapping[str, Any] = MappingProxyType(
    {
        "lesion_diameter_mm": (10.0, 50.0),
        "lesion_contrast_hu": (30.0, 80.0),
        "subtle_fraction": 0.0,
        "subtle_contrast_hu": 30.0,
        "noise_sigma_hu": (8.0, 15.0),
    }
)
"""Phantom difficulty of the demo and the method benchmark: lesions of 10-50 mm with 30-80 HU contrast
under 8-15 HU noise. With the generator's defaults (5-50 mm, 10-70 HU, 30 % subtle, 10-25 HU noise) at
3.5 mm, the mask-only model learned no lesion at a CPU budget; chosen on mask-only runs alone."""

PV_PHASE_LESIONS: Mapping[str, Any] = MappingProxyType(
    dict(VISIBLE_LESIONS)
    | {
        "noise_sigma_hu": (4.0, 8.0),
        "lesion_edge": 0.1,
        "organ_contrast_hu": MappingProxyType({"kidney": (60.0, 150.0)}),
        "bias_field_hu": 8.0,
    }
)
"""The decisive setting's phantom: ``VISIBLE_LESIONS`` as a portal-venous CT resampled to 3.5 × 3.5 × 4 mm
shows them. Each change has a radiological reason (``benchmarks/results/learning.md``): averaging
thin-slice voxels into 3.5 × 3.5 × 4 mm ones lowers the noise to 4-8 HU; a lesion keeps its own
attenuation up to its border (edge 10 % of the radius; partial volume comes from the blur); renal
parenchyma enhances far more than liver, so renal cysts and masses differ from it by 60-150 HU; CT
has no MR-like bias field, and slow within-organ variation stays under ~10 HU."""

DECISIVE = DemoSettings(
    n_mask=6,
    n_report=42,
    n_val=8,
    n_test=16,
    shape=(64, 64, 48),
    spacing=(3.5, 3.5, 4.0),
    crop=(32, 32, 24),
    filters=(8, 16, 32, 64),
    stage1_steps=600,
    arm_steps=2500,
    stage1_lr=5e-3,
    arm_lr=3e-3,
    batch_dice=True,
    restrict_to_organs=True,
    input_organs=True,
    organ_gated=True,
    mask_crop_probs=(0.5, 0.5, 0.0),
    organ_balanced=True,
    intensity_strength=0.0,
    min_lesion_mm3=260.0,
    normalize="organ_zscore",
    mirror_axes=(0, 1, 2),
    phantom=PV_PHASE_LESIONS,
)
"""The decisive setting of the method benchmark (``benchmarks/bench_method.py``), chosen from arm A and
D calibration runs only (``benchmarks/results/learning.md``): few mask cases (6) against 48 for the
ceiling, an organ-gated DynUNet on the CT + organ masks, the CT z-scored over each case's organ voxels
and 2,500 steps per arm (both chosen at 16:21 UTC on 2026-12-05, before any B or C run with them),
32 × 32 × 24 crops, 600 + 2,500 steps, and test-time mirroring along the three axes (chosen at 19:11 UTC
the same day from re-predicted A and D checkpoints, before any B or C run with it).
``min_lesion_mm3`` is half the volume of a 10 mm sphere (6 voxels on this grid). The phantom's
smallest lesions are flatter (10 × 6 × 5.5 mm, ~170 mm³): about 1 % of its lesions are smaller than
this, and can be found only by a prediction larger than themselves."""

QUICK = replace(
    DECISIVE,
    n_mask=2,
    n_report=6,
    n_val=2,
    n_test=3,
    shape=(64, 64, 40),
    spacing=(3.5, 3.5, 4.5),
    filters=(4, 8, 16, 32),
    stage1_steps=12,
    arm_steps=6,
)
"""CI smoke run (34 s on 2 idle cores, with the decisive setting's mirroring): proves the loop works, says
nothing about the method."""

DEFAULT = replace(DECISIVE, n_report=30, n_val=6, n_test=10, stage1_steps=400, arm_steps=900, mirror_axes=())
"""The README's ``make demo`` (≤ 15 minutes on 2 cores): the decisive setting with fewer report, val and
test cases and fewer steps, and without test-time mirroring (8 passes per case would cost it ~4 of its
15 minutes) (``benchmarks/bench_method.py`` runs it whole, over seeds)."""

ARMS: dict[str, str] = {
    "A": "masks only",
    "B": "masks + extracted reports (R-Super)",
    "C": "masks + ground-truth report facts",
    "D": "ceiling: every training case's mask",
}
"""The arms, in report order. A, B and C share the mask cases; D also gets the report cases' masks."""

SHARE_KEYS = ("dsc", "lesion_f1")
"""Metrics whose recovered share :func:`recovered_share` reports."""

SUMMARY_KEYS = (
    "dsc",
    "nsd",
    "lesion_f1",
    "report_sensitivity",
    "report_specificity",
    "report_f1",
    "report_auc",
)
"""Columns of :func:`summary_rows` after ``arm``, in the report table's order."""


def run_demo(
    out: Path, settings: DemoSettings = DEFAULT, *, progress: bool = True, arms: Sequence[str] = tuple(ARMS)
) -> Path:
    """Run the whole loop into ``out`` and return the path of ``report.md``.

    ``arms``: the arms to train (default all four, in :data:`ARMS` order). Calibration runs that choose
    a setting train only A and D, so that no report arm has been seen when the setting is fixed.
    """
    unknown = sorted(set(arms) - set(ARMS))
    if unknown or not arms:
        raise ValueError(f"arms must be a non-empty subset of {list(ARMS)}, got {list(arms)}.")
    from phantom import PhantomConfig, generate_cohort
    from segmentation.inference import check_mirror_axes

    check_mirror_axes(settings.mirror_axes)  # before the cohort is generated, not after training

    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    cohort = out / "cohort"
    logger.info("demo: generating the phantom cohort")
    generate_cohort(
        cohort,
        n_mask=settings.n_mask,
        n_report=settings.n_report,
        n_val=settings.n_val,
        n_test=settings.n_test,
        seed=settings.seed,
        config=PhantomConfig(shape=settings.shape, spacing=settings.spacing, **settings.phantom),
        progress=progress,
        overwrite=True,
    )
    store_url = f"sqlite:///{(out / 'store.db').resolve()}"
    extraction = _extract(cohort, store_url, settings.backend)
    runs = out / "runs"
    stage1 = _train(
        cohort,
        runs / "stage1-masks",
        settings,
        mode="masks",
        steps=settings.stage1_steps,
        lr=settings.stage1_lr,
        progress=progress,
    )
    results: dict[str, Any] = {}
    curves: dict[str, list[dict[str, float]]] = {}
    validation: dict[str, list[dict[str, float]]] = {"stage 1": stage1.validation_curve}
    for arm in [a for a in ARMS if a in arms]:
        source: dict[str, Any] = {}
        if arm == "B":
            source = {"store_url": store_url}
        elif arm == "C":
            source = {"reports_jsonl": cohort / "truth.jsonl"}
        elif arm == "D":
            source = {"all_masks": True}
        run = _train(
            cohort,
            runs / f"arm-{arm}",
            settings,
            mode="reports" if arm in ("B", "C") else "masks",
            steps=settings.arm_steps,
            lr=settings.arm_lr,
            init_from=stage1.checkpoint,
            progress=progress,
            **source,
        )
        curves[arm] = run.losses
        validation[arm] = run.validation_curve
        results[arm] = _predict_and_evaluate(cohort, run.run_dir, out, arm, settings, progress)
    minutes = (time.perf_counter() - started) / 60
    overlays = _overlays(out, cohort, [a for a in ("A", "B", "D") if a in results])
    figures = _plots(out, curves, validation, settings.stage1_steps)
    return _write_report(out, settings, extraction, results, minutes, overlays, figures)


def _extract(cohort: Path, store_url: str, backend: str) -> dict[str, Any]:
    from report_extractor.backends import create_backend
    from report_extractor.engine import Extractor
    from report_extractor.evaluation import score
    from report_extractor.ingest import ReportTable
    from report_extractor.pipeline import run_batch
    from schemas.records import ReportExtraction
    from store import init_store

    store = init_store(store_url)
    extractor = Extractor(create_backend(backend))
    summary = run_batch(ReportTable(cohort / "reports.csv"), extractor, store)
    gold = [
        ReportExtraction.model_validate_json(line)
        for line in (cohort / "truth.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    predicted = [r for g in gold if (r := store.current_extraction(g.report_id)) is not None]
    metrics = score(gold, predicted, wall_time_s=summary.seconds if summary.seconds > 0 else None)
    store.close()
    return {"version": extractor.version, "summary": summary, "metrics": metrics}


def _train(
    cohort: Path,
    run_dir: Path,
    settings: DemoSettings,
    *,
    mode: str,
    steps: int,
    lr: float,
    progress: bool,
    init_from: Path | None = None,
    **source: Any,
) -> Any:
    from segmentation.data.dataset import SamplingConfig
    from segmentation.data.preprocess import PreprocessConfig
    from segmentation.training import TrainConfig, train
    from segmentation.training.config import LossConfig, NetworkConfig

    network = NetworkConfig()
    network = network.model_copy(
        update={
            "kwargs": {**network.kwargs, "filters": list(settings.filters)},
            "organ_gated": settings.organ_gated,
        }
    )
    config = TrainConfig(
        data_dir=cohort,
        out_dir=run_dir,
        mode=mode,
        steps=steps,
        lr=lr,
        optimizer=settings.optimizer,
        weight_decay=settings.weight_decay,
        batch_size=settings.batch_size,
        warmup_steps=min(20, steps // 5),
        checkpoint_every=steps,
        val_every=settings.val_every,
        seed=settings.seed,
        init_from=init_from,
        network=network,
        input_organs=ORGANS if settings.input_organs else (),
        preprocess=PreprocessConfig(normalize=settings.normalize),
        loss=LossConfig(
            batch_dice=settings.batch_dice,
            union_dice=settings.union_dice,
            gated_bce=settings.gated_bce,
            head_weights=settings.head_weights,
        ),
        sampling=SamplingConfig(
            crop_size=settings.crop,
            mask_crop_probs=settings.mask_crop_probs,
            organ_balanced=settings.organ_balanced,
            intensity_strength=settings.intensity_strength,
        ),
        progress=progress,
        **source,
    )
    logger.info("demo: training %s (%s, %d steps)", run_dir.name, mode, steps)
    return train(config)


def _predict_and_evaluate(
    cohort: Path, run_dir: Path, out: Path, arm: str, settings: DemoSettings, progress: bool
) -> EvalResult:
    predict_arm(
        cohort,
        run_dir,
        out,
        arm,
        restrict_to_organs=settings.restrict_to_organs,
        mirror_axes=settings.mirror_axes,
        progress=progress,
    )
    return evaluate_arm(out, arm, min_lesion_mm3=settings.min_lesion_mm3)


def predict_arm(
    cohort: Path,
    run_dir: Path,
    out: Path,
    arm: str,
    *,
    restrict_to_organs: bool,
    mirror_axes: Sequence[int],
    progress: bool = False,
) -> None:
    """Predict the ``val`` and ``test`` cases of ``cohort`` with the run at ``run_dir`` into a demo
    folder ``out`` (``out/predictions/arm-X``), as every arm of the demo and the benchmark is predicted."""
    from segmentation.inference import predict

    predict(
        run_dir,
        cohort,
        out / "predictions" / f"arm-{arm}",
        split="val,test",
        progress=progress,
        restrict_to_organs=restrict_to_organs,
        mirror_axes=mirror_axes,
    )


def evaluate_arm(out: Path, arm: str, *, min_lesion_mm3: float = 0.0) -> EvalResult:
    """Score arm ``arm``'s saved predictions in a demo folder ``out`` (writes ``out/evaluation/arm-X``)."""
    from segmentation.evaluation import evaluate

    cohort = out / "cohort"
    return evaluate(
        out / "predictions" / f"arm-{arm}",
        cohort,
        out / "evaluation" / f"arm-{arm}",
        reports_jsonl=cohort / "truth.jsonl",
        min_lesion_mm3=min_lesion_mm3,
    )


def settings_json(settings: DemoSettings) -> dict[str, Any]:
    """The settings as plain JSON values (tuples become lists), as stored in ``summary.json``."""
    plain = {f.name: getattr(settings, f.name) for f in fields(settings)}
    return json.loads(json.dumps(plain, default=dict))  # read-only mappings become objects


def recovered_share(rows: list[dict[str, Any]], key: str) -> float:
    """``(B − A) / (D − A)`` of metric ``key`` over :func:`summary_rows` rows: the share of the gap
    between few masks (A) and every mask (D) that the extracted reports (B) recover. ``nan`` when a
    value is missing or D does not beat A by at least one point (no gap to recover)."""
    by_arm = {row["arm"]: float(row[key]) for row in rows}
    a, b, d = (by_arm.get(arm, float("nan")) for arm in ("A", "B", "D"))
    if any(v != v for v in (a, b, d)) or d - a < 0.01:
        return float("nan")
    return (b - a) / (d - a)


def summary_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per arm: per-organ means of DSC, NSD, lesion F1 and report-based sens./spec./F1/AUC."""
    from segmentation.evaluation import nanmean

    rows = []
    for arm, ev in results.items():
        row: dict[str, Any] = {"arm": arm}
        for key in ("dsc", "nsd", "lesion_f1"):
            row[key] = nanmean([ev.pixel.get(o, {}).get(key, float("nan")) for o in ORGANS])
        for key in ("sensitivity", "specificity", "f1", "auc"):
            row[f"report_{key}"] = nanmean([ev.report.get(o, {}).get(key, float("nan")) for o in ORGANS])
        rows.append(row)
    return rows


def _write_report(
    out: Path,
    settings: DemoSettings,
    extraction: dict[str, Any],
    results: dict[str, Any],
    minutes: float,
    overlays: list[str],
    figures: list[str],
) -> Path:
    from segmentation.evaluation import percent

    rows = summary_rows(results)
    metrics = extraction["metrics"]
    shares = {key: recovered_share(rows, key) for key in SHARE_KEYS}
    lines = [
        "# rsuper demo: R-Super on a phantom cohort",
        "",
        "## Does report supervision help? (test cases; mean over liver, pancreas, kidney)",
        "",
        "| arm | training | DSC | NSD | lesion F1 | report sens. | report spec. | report F1 | AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        arm = row["arm"]
        cells = [percent(row[key]) for key in SUMMARY_KEYS]
        lines.append(f"| {arm} | {ARMS[arm]} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Share of the A → D gap recovered by the extracted reports, (B − A) / (D − A): "
        + ", ".join(
            f"{'DSC' if key == 'dsc' else 'lesion F1'} "
            + ("– (D does not beat A: no gap)" if v != v else f"{100 * v:.0f} %")
            for key, v in shares.items()
        )
        + ". One seed: `benchmarks/bench_method.py` gives the spread over seeds.",
        "",
        "DSC and NSD are averaged over organs that have a lesion; false positives in healthy organs "
        "count in the lesion F1 and the report specificity.",
        "",
        "## Test cases: ground truth and arms A / B / D on the same slices",
        "",
    ]
    lines += [f"![{name}]({name})" for name in overlays]
    lines += ["", "## Learning curves", ""] + [f"![{name}]({name})" for name in figures]
    lines += [
        "",
        "## Setting",
        "",
        f"Run time: {minutes:.1f} min. Cohort: {settings.n_mask} mask cases, "
        f"{settings.n_report} report cases, "
        f"{settings.n_val} val and {settings.n_test} test cases (with masks), {settings.shape} voxels at "
        f"{settings.spacing} mm. Network: MONAI DynUNet, filters {list(settings.filters)}, crops "
        f"{settings.crop}"
        + (", organ masks as input channels" if settings.input_organs else "")
        + (", one organ-gated lesion map" if settings.organ_gated else "")
        + f". Optimiser {settings.optimizer}. Stage 1 (masks only): {settings.stage1_steps} steps at lr "
        f"{settings.stage1_lr:g}; each arm then trains {settings.arm_steps} steps at lr "
        f"{settings.arm_lr:g} from the same checkpoint with the same seed."
        + (" Mask loss: batch Dice." if settings.batch_dice else "")
        + (" Mask Dice on the union of the lesion channels." if settings.union_dice else "")
        + (" Mask BCE over the voxels inside each channel's organ." if settings.gated_bce else "")
        + (" CT z-scored over each case's organ voxels." if settings.normalize == "organ_zscore" else "")
        + (f" Head weights {list(settings.head_weights)}." if settings.head_weights else "")
        + (" Predictions restricted to each organ's mask (+5 mm)." if settings.restrict_to_organs else "")
        + (
            f" Predicted components under {settings.min_lesion_mm3:g} mm³ dropped before the per-voxel"
            " metrics."
            if settings.min_lesion_mm3
            else ""
        )
        + (
            f" Phantom overrides: `{json.dumps(settings_json(settings)['phantom'])}`."
            if settings.phantom
            else ""
        ),
        "",
        f"## Report extraction ({extraction['version']})",
        "",
        "Scored against the phantom's ground-truth report facts:",
        "",
        metrics.to_table(),
        "",
        "## Per organ",
        "",
    ]
    for arm, ev in results.items():
        lines += [f"### Arm {arm}: {ARMS[arm]}", "", ev.to_markdown(), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "summary.json").write_text(
        json.dumps(
            {
                "minutes": minutes,
                "settings": settings_json(settings),
                "arms": rows,
                "recovered_share": shares,
            },
            indent=2,
            default=float,
        ),
        encoding="utf-8",
    )
    return path


def _plots(
    out: Path,
    curves: dict[str, list[dict[str, float]]],
    validation: dict[str, list[dict[str, float]]],
    stage1_steps: int,
) -> list[str]:
    """``curves.png``: each arm's mask loss and the report arms' Ball / Volume losses per stage-2 step
    (means over the last :data:`SMOOTH_STEPS` steps in which the term was computed); ``validation.png``
    (when validated): val DSC (mean over organs) vs step, stage 1 then each arm after it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from segmentation.evaluation import nanmean

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    for arm, rows in curves.items():
        left.plot(*_smoothed(rows, "mask/0"), label=f"{arm}: {ARMS[arm]}", linewidth=1)
        for key, style in (("ball/0", "-"), ("volume/1", "--")):
            if any(row.get(key, 0.0) > 0 for row in rows):
                right.plot(
                    *_smoothed(rows, key), style, label=f"{arm}: {key.split('/')[0]} loss", linewidth=1
                )
    left.set_ylabel("mask loss (full-res head)")
    right.set_ylabel("report losses")
    fig.suptitle(f"running means over {SMOOTH_STEPS} steps (report losses: steps with a target)", fontsize=9)
    for ax in (left, right):
        ax.set_xlabel("stage-2 step")
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)
    if not any(validation.values()):
        return ["curves.png"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, curve in validation.items():
        steps = [(0 if name == "stage 1" else stage1_steps) + row["step"] for row in curve]
        dsc = [100 * nanmean([v for k, v in row.items() if k.startswith("val/dice_")]) for row in curve]
        label = name if name == "stage 1" else f"{name}: {ARMS[name]}"
        ax.plot(steps, dsc, marker="o", markersize=3, linewidth=1, label=label)
    ax.set_xlabel("step (stage 1, then stage 2)")
    ax.set_ylabel("val DSC (%)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "validation.png", dpi=100)
    plt.close(fig)
    return ["curves.png", "validation.png"]


SMOOTH_STEPS = 50
"""Window of the running means in ``curves.png``."""


def _smoothed(rows: list[dict[str, float]], key: str) -> tuple[list[float], list[float]]:
    """``(steps, running means)`` of ``key`` over the steps that computed it (a report loss is 0 in a
    step without a report target; those steps are left out)."""
    points = [(row["step"], row[key]) for row in rows if row.get(key, 0.0) > 0 or key.startswith("mask")]
    steps, means, window = [], [], []
    for step, value in points:
        window = [*window[-(SMOOTH_STEPS - 1) :], value]
        steps.append(step)
        means.append(sum(window) / len(window))
    return steps, means


def _overlays(out: Path, cohort: Path, arms: list[str], n_cases: int = 3) -> list[str]:
    """PNG per test case (largest tumors first): axial CT slice, ground truth and each arm's prediction."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nibabel as nib
    import numpy as np

    with (cohort / "manifest.csv").open(newline="") as f:
        tests = [row for row in csv.DictReader(f) if row["split"] == "test"]
    scored = []
    for row in tests:
        truth = np.asarray(nib.load(str(cohort / row["tumor_mask"])).dataobj) > 0
        scored.append((int(truth.sum()), row, truth))
    scored.sort(key=lambda item: -item[0])
    names = []
    for voxels, row, truth in scored[:n_cases]:
        ct = np.asarray(nib.load(str(cohort / row["image"])).dataobj, dtype=np.float32)
        z = int(np.argmax(truth.sum(axis=(0, 1)))) if voxels else ct.shape[2] // 2
        panels = [("ground truth", truth)]
        for arm in arms:
            pred_path = out / "predictions" / f"arm-{arm}" / row["case_id"] / "tumors.nii.gz"
            panels.append((f"arm {arm}", np.asarray(nib.load(str(pred_path)).dataobj) > 0))
        fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.2))
        for ax, (title, mask) in zip(axes, panels, strict=True):
            ax.imshow(np.clip(ct[:, :, z].T, -175, 275), cmap="gray", origin="lower")
            ax.imshow(
                np.ma.masked_where(~mask[:, :, z].T, mask[:, :, z].T),
                cmap="autumn",
                alpha=0.6,
                origin="lower",
            )
            ax.invert_xaxis()  # radiological view: patient right on the image's left
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        fig.suptitle(f"{row['case_id']} (slice {z})", fontsize=9)
        fig.tight_layout()
        name = f"overlay_{row['case_id']}.png"
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        names.append(name)
    return names
