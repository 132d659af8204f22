"""R-Super Volume Loss: the predicted lesion volume in a segment must match the report's.

Reference: Bassi et al., "Learning Segmentation from Radiology Reports", MICCAI 2025, eq. (1);
``docs/METHOD.md`` section 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from segmentation.geometry import ellipsoid_volume_mm3
from segmentation.losses._common import (
    TargetReduction,
    box_crops,
    check_batch,
    check_distance,
    check_number,
    expand_box,
    parse_option,
    reduce_targets,
)
from segmentation.targets import ReportTarget

__all__ = ["VolumeLoss", "ellipsoid_volume_mm3", "volume_penalty"]


def _relative_error(x: torch.Tensor, target: torch.Tensor, stabilizer: float) -> torch.Tensor:
    return (x - target).abs() / (x + target + stabilizer)


def volume_penalty(
    pred_volume: torch.Tensor,
    target_volume: torch.Tensor | float,
    tolerance: float = 0.1,
    stabilizer: float = 500.0,
    floor: float = 100.0,
) -> torch.Tensor:
    """Elementwise R-Super volume penalty with a dead zone around the target.

    ``r(x) = |x - V| / (x + V + E)``, ``v_lo = max((1 - t) V, min(V, floor))`` and
    ``L = clamp(r(V_hat) - r(v_lo), 0, 1)``: exactly 0 for ``V_hat`` in ``[v_lo, v_hi]`` with
    ``r(v_hi) = r(v_lo)`` (``v_hi`` ~ 1.11 V for t = 0.1), no dead zone when ``V <= floor``.

    Args:
        pred_volume: soft predicted volumes (voxels, >= 0), any shape; differentiable.
        target_volume: expected volumes (voxels, >= 0), broadcastable to ``pred_volume``.
        tolerance: relative tolerance ``t`` in [0, 1) (0.1 in the paper's figure, 0.2 in REF's runs).
        stabilizer: ``E`` > 0 (voxels), makes ``V = 0`` well defined and damps small volumes.
        floor: volumes up to this many voxels get no dead zone below the target.

    Returns:
        The penalty in [0, 1], same shape as the broadcast inputs.

    Example:
        >>> round(float(volume_penalty(torch.tensor(0.0), 1000.0)), 3)
        0.625
    """
    target = torch.as_tensor(target_volume, dtype=pred_volume.dtype, device=pred_volume.device)
    v_lo = torch.maximum((1.0 - tolerance) * target, torch.clamp(target, max=floor))
    excess = _relative_error(pred_volume, target, stabilizer) - _relative_error(v_lo, target, stabilizer)
    return excess.clamp(0.0, 1.0)


class VolumeLoss(nn.Module):
    """Volume Loss of R-Super (Bassi et al., MICCAI 2025).

    For every (sample, lesion channel) with a volume target, the soft volume
    ``V_hat = sum(sigmoid(logits) * S')`` over the segment region S dilated by
    ``segment_dilation_mm`` minus unmeasured lesions' regions (fixes REF's quirk Q7) is compared with
    the expected volume ``V`` (sum of the ellipsoid volumes of the lesions in S, in voxels of the
    case's spacing) by :func:`volume_penalty`.

    Args:
        tolerance: relative dead-zone half-width ``t`` in [0, 1).
        stabilizer: ``E`` > 0 in voxels.
        floor: no dead zone for ``V <= floor`` voxels (>= 0).
        segment_dilation_mm: radius (mm, >= 0) of the exact dilation of S (REF: 15 voxels).
        reduction: a :class:`TargetReduction`; ``"mean"`` averages over existing targets.

    Example:
        >>> loss = VolumeLoss()
        >>> value = loss(logits, [target_a, target_b])  # logits (2, C, H, W, D)
    """

    def __init__(
        self,
        tolerance: float = 0.1,
        stabilizer: float = 500.0,
        floor: float = 100.0,
        segment_dilation_mm: float = 15.0,
        reduction: TargetReduction | str = TargetReduction.MEAN,
    ) -> None:
        super().__init__()
        self.tolerance = check_number("tolerance", tolerance, 0.0, 1.0)
        self.stabilizer = check_number("stabilizer", stabilizer, 0.0, low_open=True)
        self.floor = check_number("floor", floor, 0.0)
        self.segment_dilation_mm = check_number("segment_dilation_mm", segment_dilation_mm, 0.0)
        self.reduction = parse_option(TargetReduction, reduction, "reduction")

    def predicted_volumes(
        self, input: torch.Tensor, targets: Sequence[ReportTarget | None]
    ) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, int]]]:
        """Soft predicted and expected volumes of every existing volume target.

        Args:
            input: logits ``(B, C, H, W, D)`` (sigmoid applied here); lower-resolution heads are
                upsampled trilinearly to the targets' shape.
            targets: one :class:`ReportTarget` (or ``None``: no target) per sample.

        Returns:
            ``(pred, expected, pairs)``: ``(T,)`` float32 volumes in voxels and the ``(b, c)`` pairs.
        """
        check_batch(input, targets)
        work = [
            (b, c, t)
            for b, t in enumerate(targets)
            if t is not None
            for c, ct in enumerate(t.channel_targets)
            if ct.has_volume_target
        ]
        pairs = [(b, c) for b, c, _ in work]
        if not work:
            empty = input.new_zeros((0,), dtype=torch.float32)
            return empty, empty, pairs
        shape = work[0][2].shape
        if tuple(input.shape[2:]) != shape:
            input = F.interpolate(input.float(), size=shape, mode="trilinear", align_corners=False)
        keys, regions, expected = [], [], []
        for b, c, target in work:
            check_distance(target, self.segment_dilation_mm)
            ct = target.channel_targets[c]
            index = ct.volume_region if ct.volume_region is not None else 0
            box = expand_box(ct.region_boxes[index], self.segment_dilation_mm, target.spacing, shape)
            region = ct.region_mask(index, self.segment_dilation_mm, box)
            if ct.exclude is not None:
                region = region & ~ct.exclude[box]
            keys.append((b, c, box))
            regions.append(region)
            expected.append(ct.volume_vox or 0.0)
        preds = [
            (torch.sigmoid(x) * region).sum()
            for x, region in zip(box_crops(input, keys), regions, strict=True)
        ]
        return torch.stack(preds), torch.tensor(expected, dtype=torch.float32, device=input.device), pairs

    def forward(self, input: torch.Tensor, targets: Sequence[ReportTarget | None]) -> torch.Tensor:
        """Volume Loss.

        Args:
            input: logits ``(B, C, H, W, D)``, any float dtype; sigmoid is applied inside.
            targets: one :class:`ReportTarget` or ``None`` per sample.

        Returns:
            A scalar (or ``(T,)`` with ``reduction="none"``), float32, in [0, 1].
        """
        pred, expected, _ = self.predicted_volumes(input, targets)
        if pred.numel() == 0:
            return reduce_targets([], self.reduction, 0, input)
        losses = volume_penalty(pred, expected, self.tolerance, self.stabilizer, self.floor)
        return reduce_targets(losses, self.reduction, input.shape[0] * input.shape[1], input)
