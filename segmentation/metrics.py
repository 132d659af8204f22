"""Segmentation and detection metrics (``docs/METHOD.md`` section 5): pure functions on arrays.

- per-voxel: Dice (DSC), normalised surface Dice (NSD, MONAI ``compute_surface_dice``);
- lesion-wise detection: connected components, a component counts as found when it overlaps;
- report-based: lesion volume at a probability threshold after removing specks, ROC AUC.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from monai.metrics import compute_surface_dice
from scipy.ndimage import label as connected_components

__all__ = [
    "DetectionCounts",
    "binary_scores",
    "detection_counts",
    "dice",
    "dice_per_channel",
    "lesion_volume_mm3",
    "normalized_surface_dice",
    "remove_specks",
    "roc_auc",
    "roc_curve",
]

_STRUCTURE = np.ones((3, 3, 3), dtype=bool)


def dice(pred: np.ndarray | torch.Tensor, truth: np.ndarray | torch.Tensor) -> float:
    """DSC of two bool volumes; ``nan`` when both are empty (no lesion to score)."""
    p, t = np.asarray(pred, dtype=bool), np.asarray(truth, dtype=bool)
    denom = p.sum() + t.sum()
    return float("nan") if denom == 0 else float(2.0 * (p & t).sum() / denom)


def dice_per_channel(pred: torch.Tensor, truth: torch.Tensor) -> list[float]:
    """DSC of each channel of ``(C, H, W, D)`` bool tensors (``nan`` for empty pairs)."""
    return [dice(pred[c].numpy(), truth[c].numpy()) for c in range(pred.shape[0])]


def normalized_surface_dice(
    pred: np.ndarray, truth: np.ndarray, spacing: Sequence[float], tolerance_mm: float = 2.0
) -> float:
    """NSD at ``tolerance_mm`` of two bool ``(H, W, D)`` volumes; ``nan`` when both are empty, 0 if one is."""
    p, t = np.asarray(pred, dtype=bool), np.asarray(truth, dtype=bool)
    if not p.any() and not t.any():
        return float("nan")
    if not p.any() or not t.any():
        return 0.0
    value = compute_surface_dice(
        torch.from_numpy(p)[None, None].float(),
        torch.from_numpy(t)[None, None].float(),
        class_thresholds=[tolerance_mm],
        include_background=True,
        spacing=[float(s) for s in spacing],
    )
    return float(value.reshape(-1)[0])


@dataclass(frozen=True)
class DetectionCounts:
    """Lesion-wise detection counts: truth lesions found / missed, predicted components true / false."""

    found: int
    missed: int
    true_pred: int
    false_pred: int

    def __add__(self, other: DetectionCounts) -> DetectionCounts:
        return DetectionCounts(
            self.found + other.found,
            self.missed + other.missed,
            self.true_pred + other.true_pred,
            self.false_pred + other.false_pred,
        )

    @property
    def sensitivity(self) -> float:
        """Found truth lesions / all truth lesions."""
        n = self.found + self.missed
        return self.found / n if n else float("nan")

    @property
    def precision(self) -> float:
        """Predicted components touching a truth lesion / all predicted components."""
        n = self.true_pred + self.false_pred
        return self.true_pred / n if n else float("nan")

    @property
    def f1(self) -> float:
        """Harmonic mean of sensitivity and precision.

        ``nan`` only when there is nothing to score (no truth lesion and no predicted component); a
        model that predicts nothing where lesions exist, or only false components, scores 0 (so a
        silent channel cannot drop out of a mean over organs).
        """
        s, p = self.sensitivity, self.precision
        if math.isnan(s) and math.isnan(p):
            return float("nan")
        if math.isnan(s) or math.isnan(p):
            return 0.0
        return 0.0 if s + p == 0 else 2 * s * p / (s + p)


def detection_counts(pred: np.ndarray, truth: np.ndarray) -> DetectionCounts:
    """Match 26-connected components of two bool volumes by overlap."""
    t_lab, n_t = connected_components(np.asarray(truth, dtype=bool), structure=_STRUCTURE)
    p_lab, n_p = connected_components(np.asarray(pred, dtype=bool), structure=_STRUCTURE)
    found = len(set(np.unique(t_lab[(t_lab > 0) & (p_lab > 0)]).tolist()))
    true_pred = len(set(np.unique(p_lab[(p_lab > 0) & (t_lab > 0)]).tolist()))
    return DetectionCounts(found, n_t - found, true_pred, n_p - true_pred)


def remove_specks(mask: np.ndarray, min_voxels: int) -> np.ndarray:
    """Drop 26-connected components smaller than ``min_voxels``."""
    if min_voxels <= 1 or not mask.any():
        return mask
    lab, _ = connected_components(mask, structure=_STRUCTURE)
    sizes = np.bincount(lab.ravel())
    keep = sizes >= min_voxels
    keep[0] = False
    return keep[lab]


def lesion_volume_mm3(prob: np.ndarray, threshold: float, voxel_mm3: float, speck_mm3: float) -> float:
    """Volume (mm³) of ``prob > threshold`` after removing components under ``speck_mm3``."""
    mask = remove_specks(prob > threshold, math.ceil(speck_mm3 / voxel_mm3))
    return float(mask.sum() * voxel_mm3)


def binary_scores(pred: Sequence[bool], truth: Sequence[bool]) -> dict[str, float]:
    """Sensitivity, specificity, precision, F1 and counts of a binary decision."""
    p, t = np.asarray(pred, dtype=bool), np.asarray(truth, dtype=bool)
    tp, fp = int((p & t).sum()), int((p & ~t).sum())
    fn, tn = int((~p & t).sum()), int((~p & ~t).sum())
    sens = tp / (tp + fn) if tp + fn else float("nan")
    spec = tn / (tn + fp) if tn + fp else float("nan")
    prec = tp / (tp + fp) if tp + fp else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return {
        "sensitivity": sens,
        "specificity": spec,
        "precision": prec,
        "f1": f1,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def roc_auc(scores: Sequence[float], truth: Sequence[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); ``nan`` without both classes."""
    s, t = np.asarray(scores, dtype=float), np.asarray(truth, dtype=bool)
    pos, neg = s[t], s[~t]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def roc_curve(scores: Sequence[float], truth: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """``(false positive rate, true positive rate)`` over all score thresholds, from (0, 0) to (1, 1)."""
    s, t = np.asarray(scores, dtype=float), np.asarray(truth, dtype=bool)
    fpr, tpr = [0.0], [0.0]
    n_pos, n_neg = max(int(t.sum()), 1), max(int((~t).sum()), 1)
    for th in sorted(set(s.tolist()), reverse=True):
        chosen = s >= th
        tpr.append(float((chosen & t).sum() / n_pos))
        fpr.append(float((chosen & ~t).sum() / n_neg))
    fpr.append(1.0)
    tpr.append(1.0)
    return np.asarray(fpr), np.asarray(tpr)
