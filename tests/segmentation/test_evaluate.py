"""Metrics (hand-computed cases) and the evaluate driver on a perfect predictor."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from phantom import PhantomConfig, generate_cohort
from segmentation.evaluation import evaluate
from segmentation.metrics import (
    binary_scores,
    detection_counts,
    dice,
    lesion_volume_mm3,
    normalized_surface_dice,
    roc_auc,
)


def cube(shape: tuple[int, int, int], lo: int, hi: int) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    out[lo:hi, lo:hi, lo:hi] = True
    return out


def _write_prediction_index(pred: Path, rows: list[dict[str, str]], channels: list[str]) -> None:
    """``predictions.csv`` and ``prediction.json`` as ``rsuper predict`` writes them."""
    with (pred / "predictions.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (pred / "prediction.json").write_text(json.dumps({"channels": channels, "threshold": 0.5}))


def test_dice_and_nsd_hand_computed() -> None:
    a, b = cube((10, 10, 10), 2, 6), cube((10, 10, 10), 2, 6)
    assert dice(a, b) == 1.0
    assert normalized_surface_dice(a, b, (1.0, 1.0, 1.0)) == pytest.approx(1.0)
    b2 = np.zeros_like(a)
    b2[2:6, 2:6, 2:4] = True  # half of a
    assert dice(a, b2) == pytest.approx(2 * 32 / (64 + 32))
    assert np.isnan(dice(np.zeros_like(a), np.zeros_like(a)))
    assert normalized_surface_dice(a, np.zeros_like(a), (1.0, 1.0, 1.0)) == 0.0


def test_detection_counts_match_components() -> None:
    truth = cube((20, 20, 20), 1, 4) | cube((20, 20, 20), 10, 13)
    pred = cube((20, 20, 20), 2, 5) | cube((20, 20, 20), 15, 18)
    c = detection_counts(pred, truth)
    assert (c.found, c.missed, c.true_pred, c.false_pred) == (1, 1, 1, 1)
    assert c.sensitivity == 0.5
    assert c.precision == 0.5
    assert c.f1 == 0.5


@pytest.mark.parametrize(
    ("pred_cube", "truth_cube", "f1"),
    [
        pytest.param(None, (1, 4), 0.0, id="lesions-missed-nothing-predicted"),
        pytest.param((1, 4), None, 0.0, id="only-false-components"),
        pytest.param(None, None, float("nan"), id="nothing-to-score"),
    ],
)
def test_detection_f1_is_zero_not_undefined_when_one_side_is_empty(
    pred_cube: tuple[int, int] | None, truth_cube: tuple[int, int] | None, f1: float
) -> None:
    def volume(span: tuple[int, int] | None) -> np.ndarray:
        return cube((20, 20, 20), *span) if span else np.zeros((20, 20, 20), dtype=bool)

    value = detection_counts(volume(pred_cube), volume(truth_cube)).f1
    assert value == f1 or (np.isnan(value) and np.isnan(f1))


def test_report_level_helpers() -> None:
    prob = np.zeros((10, 10, 10), dtype=np.float32)
    prob[1:4, 1:4, 1:4] = 0.9  # 27 voxels
    prob[8, 8, 8] = 0.9  # a speck
    assert lesion_volume_mm3(prob, 0.5, voxel_mm3=2.0, speck_mm3=4.0) == 54.0
    s = binary_scores([True, True, False, False], [True, False, True, False])
    assert (s["sensitivity"], s["specificity"], s["f1"]) == (0.5, 0.5, 0.5)
    assert roc_auc([0.9, 0.8, 0.1], [True, False, False]) == 1.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5


def test_evaluate_a_perfect_predictor(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cfg = PhantomConfig(
        shape=(20, 20, 20),
        spacing=(6.0, 6.0, 6.0),
        lesion_diameter_mm=(15.0, 30.0),
        omission_prob=0.0,
        multiple_prob=0.0,
        healthy_fraction=0.4,
    )
    generate_cohort(data, n_mask=0, n_report=0, n_val=4, n_test=6, seed=5, config=cfg, progress=False)
    labels = json.loads((data / "labels.json").read_text())["tumors"]
    pred = tmp_path / "pred"
    rows = []
    for row in csv.DictReader((data / "manifest.csv").open()):
        tumors = nib.load(data / row["tumor_mask"])
        arr = np.asarray(tumors.dataobj)
        (pred / row["case_id"]).mkdir(parents=True)
        entry = {
            "case_id": row["case_id"],
            "split": row["split"],
            "role": row["role"],
            "tumor_mask": row["tumor_mask"],
        }
        for value, organ in labels.items():
            path = pred / row["case_id"] / f"prob_{organ}.nii.gz"
            nib.save(nib.Nifti1Image((arr == int(value)).astype(np.float32), tumors.affine), path)
            entry[f"prob_{organ}"] = str(path.relative_to(pred))
        rows.append(entry)
    _write_prediction_index(pred, rows, list(labels.values()))

    result = evaluate(pred, data, tmp_path / "eval", speck_mm3=0.0)
    assert result.chosen_on == "val"
    # per-voxel metrics are scored on the 6 test cases; the 4 val cases only tune the operating point
    assert {m["n_cases"] for m in result.pixel.values()} == {6.0}
    for organ, m in result.pixel.items():
        assert np.isnan(m["dsc"]) or m["dsc"] == 1.0, organ
        assert np.isnan(m["lesion_f1"]) or m["lesion_f1"] == 1.0, organ
    assert result.report, result.to_markdown()
    for organ, m in result.report.items():
        # the report mentions every lesion (no omissions): masks and reports agree
        assert np.isnan(m["sensitivity"]) or m["sensitivity"] == 1.0, (organ, m)
        assert np.isnan(m["specificity"]) or m["specificity"] == 1.0, (organ, m)
    md = result.to_markdown()
    assert "| pancreas |" in md
    assert "AUC" in md
    assert (tmp_path / "eval" / "roc.png").stat().st_size > 1000


def test_a_healthy_organs_false_positive_costs_lesion_f1_not_dsc(tmp_path: Path) -> None:
    """DSC / NSD average over lesion-positive organs; a blob in a healthy organ is a false detection."""
    data = tmp_path / "data"
    cfg = PhantomConfig(shape=(20, 20, 20), spacing=(6.0, 6.0, 6.0), lesion_diameter_mm=(15.0, 30.0))
    generate_cohort(data, n_mask=0, n_report=0, n_val=0, n_test=6, seed=5, config=cfg, progress=False)
    labels = json.loads((data / "labels.json").read_text())["tumors"]
    pred = tmp_path / "pred"
    rows, painted = [], None
    for row in csv.DictReader((data / "manifest.csv").open()):
        tumors = nib.load(data / row["tumor_mask"])
        arr = np.asarray(tumors.dataobj)
        (pred / row["case_id"]).mkdir(parents=True)
        entry = {k: row[k] for k in ("case_id", "split", "role", "tumor_mask")}
        for value, organ in labels.items():
            prob = (arr == int(value)).astype(np.float32)
            if painted is None and not prob.any():
                prob[1:4, 1:4, 1:4] = 1.0  # a false lesion in an organ that has none
                painted = organ
            path = pred / row["case_id"] / f"prob_{organ}.nii.gz"
            nib.save(nib.Nifti1Image(prob, tumors.affine), path)
            entry[f"prob_{organ}"] = str(path.relative_to(pred))
        rows.append(entry)
    _write_prediction_index(pred, rows, list(labels.values()))

    result = evaluate(pred, data, tmp_path / "eval", speck_mm3=0.0)
    assert painted is not None
    m = result.pixel[painted]
    assert m["dsc"] == 1.0  # every lesion-positive case is perfect; the healthy one has no DSC
    assert m["lesion_precision"] < 1.0
    assert m["lesion_f1"] < 1.0

    # the false lesion is 27 voxels of 216 mm³: a clean-up threshold above that drops it (with any true
    # lesion as small); one at a single voxel keeps every component
    def false_preds(out: Path) -> int:
        with (out / "pixel_cases.csv").open() as fh:
            return sum(int(r["false_pred"]) for r in csv.DictReader(fh) if r["organ"] == painted)

    assert false_preds(tmp_path / "eval") == 1
    kept = evaluate(pred, data, tmp_path / "eval-1vox", speck_mm3=0.0, min_lesion_mm3=216.0)
    assert kept.pixel[painted] == m
    evaluate(pred, data, tmp_path / "eval-clean", speck_mm3=0.0, min_lesion_mm3=28 * 216.0)
    assert false_preds(tmp_path / "eval-clean") == 0
