"""Write a phantom cohort to disk: volumes, masks, reports, truth and manifest (layout: package docs)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import nibabel as nib
import numpy as np
from tqdm import tqdm

from phantom.anatomy import ORGAN_LABELS, SPLEEN_LABEL, Anatomy, build_anatomy
from phantom.config import PhantomConfig, ReportStyle
from phantom.intensity import render_ct
from phantom.lesions import TUMOR_LABELS, LesionSpec, Stone, place_lesions, place_stone
from phantom.reports import CaseFacts, ReportResult, write_report

__all__ = [
    "MANIFEST_COLUMNS",
    "REPORT_COLUMNS",
    "CohortSummary",
    "PhantomCase",
    "generate_case",
    "generate_cohort",
    "generate_cohort_simple",
]

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS: Final[tuple[str, ...]] = (
    "case_id",
    "image",
    "organ_mask",
    "tumor_mask",
    "report_id",
    "split",
    "role",
)
REPORT_COLUMNS: Final[tuple[str, ...]] = ("Accession Number", "Findings")
_STEATOSIS_PROB: Final[float] = 0.15
_STONE_PROB: Final[float] = 0.15


@dataclass
class PhantomCase:
    """One generated case in memory.

    Attributes:
        case_id / report_id: identifiers. ct: ``(X, Y, Z)`` int16 HU. organs: ``(X, Y, Z)`` uint8 labels
        (``labels.json``). tumors: ``(X, Y, Z)`` uint8 (1 liver, 2 pancreas, 3 kidney). affine: ``(4, 4)``
        RAS+ mm. lesions: mask-level lesions. stone / steatosis: non-lesion findings. report: text + truth.
    """

    case_id: str
    report_id: str
    ct: np.ndarray
    organs: np.ndarray
    tumors: np.ndarray
    affine: np.ndarray
    lesions: list[LesionSpec]
    stone: Stone | None
    steatosis: bool
    report: ReportResult


@dataclass
class CohortSummary:
    """What :func:`generate_cohort` wrote."""

    out_dir: Path
    n_cases: int
    roles: dict[str, int]
    splits: dict[str, int]
    n_healthy: int
    mask_lesions: dict[str, int]
    report_noise: dict[str, int]
    styles: dict[str, int]
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def seconds_per_case(self) -> float:
        """Mean wall time per case (generation + writing)."""
        return self.seconds / max(self.n_cases, 1)


def _spleen_length_mm(anatomy: Anatomy) -> float:
    zs = np.flatnonzero((anatomy.labels == SPLEEN_LABEL).any(axis=(0, 1)))
    return float((zs.max() - zs.min() + 1) * anatomy.affine[2, 2]) if zs.size else 100.0


def generate_case(index: int, seed: int, config: PhantomConfig | None = None) -> PhantomCase:
    """Generate case ``index`` of the cohort with ``seed`` (independent of every other case)."""
    cfg = config or PhantomConfig()
    rng = np.random.default_rng([seed, index])
    anatomy = build_anatomy(rng, cfg.shape, cfg.spacing)
    lesions, tumors = place_lesions(anatomy, rng, cfg)
    stone = place_stone(anatomy, tumors, rng) if rng.random() < _STONE_PROB else None
    steatosis = bool(rng.random() < _STEATOSIS_PROB)
    ct = render_ct(anatomy, lesions, stone, steatosis, rng, cfg)
    case_id, report_id = f"phantom_{index:05d}", f"PH{index:07d}"
    facts = CaseFacts(lesions, stone, steatosis, anatomy.has_gallbladder, _spleen_length_mm(anatomy))
    report = write_report(facts, report_id, rng, cfg)
    return PhantomCase(
        case_id, report_id, ct, anatomy.labels, tumors, anatomy.affine, lesions, stone, steatosis, report
    )


def _nifti_bytes(data: np.ndarray, affine: np.ndarray) -> bytes:
    """Gzipped NIfTI-1 bytes with a zero gzip timestamp (same data, same bytes)."""
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=1, mtime=0) as gz:
        gz.write(img.to_bytes())
    return buf.getvalue()


def _mask_record(case: PhantomCase, split: str, role: str) -> dict[str, Any]:
    lesions = []
    for i, les in enumerate(case.lesions):
        lesions.append(
            {
                "organ": les.organ.value,
                "tumor_label": les.tumor_label,
                "center_mm": [round(v, 2) for v in les.center_mm],
                "diameters_mm": [round(v, 2) for v in les.diameters_mm],
                "n_voxels": les.n_voxels,
                "contrast_hu": round(les.contrast_hu, 1),
                "segments": [ORGAN_LABELS[s] for s in les.segments],
                "side": les.side.value if les.side else None,
                "kidney_pole": les.pole.value if les.pole else None,
                "pancreas_part": les.pancreas_part.value if les.pancreas_part else None,
                "reported": case.report.reported[i],
                "truth_index": case.report.truth_index[i],
            }
        )
    stone = case.stone
    return {
        "case_id": case.case_id,
        "report_id": case.report_id,
        "split": split,
        "role": role,
        "style": case.report.style.value,
        "healthy": not case.lesions,
        "lesions": lesions,
        "stone": None
        if stone is None
        else {"side": stone.side.value, "pole": stone.pole.value, "diameter_mm": round(stone.diameter_mm, 1)},
        "steatosis": case.steatosis,
    }


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    if sum(counts.values()) < 1:
        raise ValueError(f"the cohort needs at least one case, got {counts}.")


def generate_cohort(
    out_dir: Path,
    *,
    n_mask: int,
    n_report: int,
    n_val: int,
    n_test: int,
    seed: int,
    config: PhantomConfig | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> CohortSummary:
    """Generate ``n_mask + n_report + n_val + n_test`` cases under ``out_dir`` (layout: package docs).

    Cases are numbered in the order mask (train/mask), report (train/report), val (val/test),
    test (test/test); case ``i`` depends only on ``(seed, i)``.

    Raises:
        ValueError: on a negative count, an empty cohort, or ``out_dir`` already holding a cohort
            (``manifest.csv``) while ``overwrite`` is False.
    """
    _check_counts(n_mask=n_mask, n_report=n_report, n_val=n_val, n_test=n_test)
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    cfg = config or PhantomConfig()
    out = Path(out_dir)
    if (out / "manifest.csv").exists() and not overwrite:
        raise ValueError(
            f"out_dir {out} already holds a cohort (manifest.csv); pass overwrite=True "
            "(CLI: --overwrite) or pick a new folder."
        )
    (out / "cases").mkdir(parents=True, exist_ok=True)
    assignment = [("train", "mask")] * n_mask + [("train", "report")] * n_report
    assignment += [("val", "test")] * n_val + [("test", "test")] * n_test
    start = time.perf_counter()
    manifest: list[list[str]] = []
    reports: list[list[str]] = []
    truth_lines: list[str] = []
    mask_lines: list[str] = []
    healthy = 0
    organ_counts: Counter[str] = Counter()
    noise: Counter[str] = Counter()
    styles: Counter[str] = Counter()
    for index, (split, role) in enumerate(
        tqdm(assignment, desc="phantom cases", unit="case", disable=not progress)
    ):
        case = generate_case(index, seed, cfg)
        rel = Path("cases") / case.case_id
        (out / rel).mkdir(parents=True, exist_ok=True)
        for name, data in (("ct", case.ct), ("organs", case.organs), ("tumors", case.tumors)):
            (out / rel / f"{name}.nii.gz").write_bytes(_nifti_bytes(data, case.affine))
        manifest.append(
            [
                case.case_id,
                f"{rel}/ct.nii.gz",
                f"{rel}/organs.nii.gz",
                f"{rel}/tumors.nii.gz",
                case.report_id,
                split,
                role,
            ]
        )
        reports.append([case.report_id, case.report.text])
        truth_lines.append(case.report.truth.model_dump_json())
        mask_lines.append(json.dumps(_mask_record(case, split, role)))
        healthy += not case.lesions
        organ_counts.update(les.organ.value for les in case.lesions)
        noise.update(case.report.reported)
        styles[case.report.style.value] += 1
    files = {
        "labels": out / "labels.json",
        "manifest": out / "manifest.csv",
        "reports": out / "reports.csv",
        "truth": out / "truth.jsonl",
        "truth_masks": out / "truth_masks.jsonl",
    }
    labels = {
        "organs": {str(k): v for k, v in ORGAN_LABELS.items()},
        "tumors": {str(v): k.value for k, v in TUMOR_LABELS.items()},
        "spacing_mm": list(cfg.spacing),
        "orientation": "RAS+ (+x patient right, +y anterior, +z superior)",
    }
    files["labels"].write_text(json.dumps(labels, indent=2) + "\n", encoding="utf-8")
    _write_csv(files["manifest"], MANIFEST_COLUMNS, manifest)
    _write_csv(files["reports"], REPORT_COLUMNS, reports)
    files["truth"].write_text("".join(line + "\n" for line in truth_lines), encoding="utf-8")
    files["truth_masks"].write_text("".join(line + "\n" for line in mask_lines), encoding="utf-8")
    seconds = time.perf_counter() - start
    summary = CohortSummary(
        out_dir=out,
        n_cases=len(assignment),
        roles=dict(Counter(role for _, role in assignment)),
        splits=dict(Counter(split for split, _ in assignment)),
        n_healthy=healthy,
        mask_lesions={o.value: organ_counts.get(o.value, 0) for o in TUMOR_LABELS},
        report_noise=dict(noise),
        styles={s.value: styles.get(s.value, 0) for s in ReportStyle},
        seconds=seconds,
        files=files,
    )
    logger.info(
        "phantom cohort: %d cases in %.1f s (%.2f s/case) -> %s",
        summary.n_cases,
        seconds,
        summary.seconds_per_case,
        out,
    )
    return summary


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def generate_cohort_simple(
    out_dir: Path,
    n_cases: int,
    seed: int,
    config: PhantomConfig | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> CohortSummary:
    """:func:`generate_cohort` with default splits: ~15 % mask, ~10 % val, ~15 % test, the rest report.

    At least one mask case; with two or more cases at least one report case.

    Raises:
        ValueError: when ``n_cases`` < 1 (and as :func:`generate_cohort`).
    """
    if not isinstance(n_cases, int) or n_cases < 1:
        raise ValueError(f"n_cases must be a positive integer, got {n_cases!r}.")
    n_mask = max(1, round(0.15 * n_cases))
    n_val = round(0.10 * n_cases)
    n_test = round(0.15 * n_cases)
    while n_cases >= 2 and n_mask + n_val + n_test > n_cases - 1:
        if n_val >= n_test and n_val > 0:
            n_val -= 1
        elif n_test > 0:
            n_test -= 1
        else:
            n_mask -= 1
    n_report = n_cases - n_mask - n_val - n_test
    return generate_cohort(
        Path(out_dir),
        n_mask=n_mask,
        n_report=n_report,
        n_val=n_val,
        n_test=n_test,
        seed=seed,
        config=config,
        progress=progress,
        overwrite=overwrite,
    )
