"""R-Super Ball Loss: a per-voxel pseudo-mask from "a 2.3 x 1.8 cm lesion in the pancreatic head".

Reference: Bassi et al., "Learning Segmentation from Radiology Reports", MICCAI 2025, section 2.2;
``docs/METHOD.md`` section 3.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import torch
import torch.nn.functional as F
from monai.losses import DiceLoss
from torch import nn

from segmentation.geometry import gaussian_ball_kernel
from segmentation.losses._common import (
    TargetReduction,
    box_crops,
    check_batch,
    check_distance,
    check_number,
    expand_box,
    parse_option,
    reduce_targets,
    relative_box,
)
from segmentation.losses._localize import conv3d_same, rank_weights
from segmentation.targets import LesionTarget, ReportTarget

__all__ = ["BallLoss", "BallVolume", "PseudoMask"]


class BallVolume(StrEnum):
    """Number of voxels the pseudo-mask of a lesion gets.

    - ``ellipsoid``: the ellipsoid volume from all reported diameters (ours).
    - ``max_diameter_sphere``: a sphere of the largest diameter (REF, quirk Q1: a 30 x 10 x 20 mm
      lesion gets ~5x its volume).
    """

    ELLIPSOID = "ellipsoid"
    MAX_DIAMETER_SPHERE = "max_diameter_sphere"


@dataclass(frozen=True)
class PseudoMask:
    """Ball-Loss pseudo-mask of one (sample, channel) target, restricted to ``box``.

    Attributes:
        box: slices ``(h, w, d)`` of the sub-volume (S' bounding box) in the crop.
        weight: ``(h, w, d)`` float32 per-voxel BCE weight: rank weight on positives, 1 on supervised
            negatives, 0 on ignored voxels (shell, unmeasured lesions, unknown).
        positive: ``(h, w, d)`` bool positives ``Y``.
        outer: ``(h, w, d)`` bool outer sets ``O`` (top ``(1 + margin) N`` per lesion), before dilation.
        supervised: ``(h, w, d)`` bool voxels with a (pseudo-)label.
    """

    box: tuple[slice, ...]
    weight: torch.Tensor
    positive: torch.Tensor
    outer: torch.Tensor
    supervised: torch.Tensor


def _dilate_cube(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Dilation of ``(h, w, d)`` by a ``(2 radius + 1)³`` cube, clipped at the borders.

    Bool masks use shifted in-place ORs (``2 radius`` per axis, separable, no float copy); other dtypes
    a grey dilation by three separable 1D max-pools.
    """
    if radius == 0:
        return x
    if x.dtype == torch.bool:
        y = x
        for axis in range(3):
            n = y.shape[axis]
            out = y.clone()
            for shift in range(1, min(radius, n - 1) + 1):
                out.narrow(axis, shift, n - shift).logical_or_(y.narrow(axis, 0, n - shift))
                out.narrow(axis, 0, n - shift).logical_or_(y.narrow(axis, shift, n - shift))
            y = out
        return y
    y = x[None, None]
    for axis in range(3):
        kernel = [1, 1, 1]
        kernel[axis] = 2 * radius + 1
        padding = [0, 0, 0]
        padding[axis] = radius
        y = F.max_pool3d(y, kernel, stride=1, padding=padding)
    return y[0, 0]


def _unravel(flat_indices: torch.Tensor, shape: Sequence[int]) -> tuple[torch.Tensor, ...]:
    _, w, d = shape
    return (flat_indices // (w * d), (flat_indices // d) % w, flat_indices % d)


def _put(view: torch.Tensor, flat_indices: torch.Tensor, values: torch.Tensor) -> None:
    """``view.flatten()[flat_indices] += values`` for a (possibly non-contiguous) 3D view, in place."""
    view.index_put_(_unravel(flat_indices, view.shape), values, accumulate=True)


def _mark(view: torch.Tensor, flat_indices: torch.Tensor, values: torch.Tensor) -> None:
    """``view.flatten()[flat_indices] |= values`` for a bool 3D view and distinct indices, in place."""
    idx = _unravel(flat_indices, view.shape)
    view.index_put_(idx, view[idx] | values)


class BallLoss(nn.Module):
    """Ball Loss of R-Super (Bassi et al., MICCAI 2025).

    For each (sample, lesion channel) with measured lesions, the network's own (detached)
    probabilities inside S' place each lesion, largest first: a Gaussian ball kernel of the lesion's
    largest diameter is correlated with the probabilities (FFT for large kernels), the argmax is the
    centre, and the ``N`` most probable voxels of a ball of diameter ``(1 + margin) d_max`` around it
    (grown when clipped) become the lesion (``N`` = expected volume in voxels). Positives are the top
    ``max((1 - margin) N, min(100, N))``; the top ``(1 + margin) N`` dilated by ``shell_voxels`` minus
    the positives is ignored. The loss is a rank-weighted BCE over supervised voxels plus a soft Dice
    (MONAI ``DiceLoss``), averaged over the targets that exist (no constant for target-less cases: Q3).

    All localisation runs under ``torch.no_grad`` with no host synchronisation; work is restricted to
    the bounding box of S' (voxels farther away are negatives already covered by the mask loss).

    Args:
        margin: ``m`` in [0, 1): positive / shell split around the expected volume.
        segment_dilation_mm: exact dilation (mm) of each lesion's segment (REF: 15 voxels).
        ball_volume: a :class:`BallVolume`.
        min_positives: positives are at least ``min(min_positives, N)`` voxels.
        shell_voxels: dilation (voxels, cube) of the outer set before removing the positives.
        rank_last_ratio: weight of the last positive relative to the first, in (0, 1].
        sigma_factor: Gaussian width of the localisation kernel relative to the lesion radius.
        bce_weight: weight (>= 0) of the BCE term. dice_weight: weight (>= 0) of the Dice term.
        reduction: a :class:`~segmentation.losses.TargetReduction` over targets.

    Example:
        >>> loss = BallLoss()
        >>> value = loss(logits, targets)  # logits (B, C, H, W, D), targets: list of ReportTarget | None
    """

    def __init__(
        self,
        margin: float = 0.2,
        segment_dilation_mm: float = 15.0,
        ball_volume: BallVolume | str = BallVolume.ELLIPSOID,
        min_positives: int = 100,
        shell_voxels: int = 3,
        rank_last_ratio: float = 0.5,
        sigma_factor: float = 1.5,
        bce_weight: float = 1.0,
        dice_weight: float = 1.0,
        reduction: TargetReduction | str = TargetReduction.MEAN,
    ) -> None:
        super().__init__()
        self.margin = check_number("margin", margin, 0.0, 1.0)
        self.segment_dilation_mm = check_number("segment_dilation_mm", segment_dilation_mm, 0.0)
        self.ball_volume = parse_option(BallVolume, ball_volume, "ball_volume")
        self.min_positives = int(check_number("min_positives", min_positives, 0.0))
        self.shell_voxels = int(check_number("shell_voxels", shell_voxels, 0.0))
        self.rank_last_ratio = check_number(
            "rank_last_ratio", rank_last_ratio, 0.0, 1.0, low_open=True, high_open=False
        )
        self.sigma_factor = check_number("sigma_factor", sigma_factor, 0.0, low_open=True)
        self.bce_weight = check_number("bce_weight", bce_weight, 0.0)
        self.dice_weight = check_number("dice_weight", dice_weight, 0.0)
        self.reduction = parse_option(TargetReduction, reduction, "reduction")
        self.dice = DiceLoss(sigmoid=False, reduction="none")
        self.grow_steps = 3

    def lesion_voxels(self, lesion: LesionTarget) -> int:
        """Expected voxel count ``N`` of a lesion's pseudo-mask under ``ball_volume``."""
        volume = lesion.volume_vox if self.ball_volume is BallVolume.ELLIPSOID else lesion.sphere_volume_vox
        return max(1, round(volume))

    @torch.no_grad()
    def pseudo_mask(self, logits: torch.Tensor, target: ReportTarget, channel: int) -> PseudoMask:
        """Pseudo-mask of one channel of one case (no gradient, no host synchronisation).

        Args:
            logits: ``(H, W, D)`` logits of that sample and channel (sigmoid applied here).
            target: the case's :class:`ReportTarget`; the channel must have lesions.
            channel: lesion channel index.
        """
        box = self._box(target, channel)
        return self._pseudo_mask(torch.sigmoid(logits[box].float()), target, channel, box)

    def _box(self, target: ReportTarget, channel: int) -> tuple[slice, ...]:
        """Bounding box of S' (S dilated by ``segment_dilation_mm``) in the crop (host metadata only)."""
        ct = target.channel_targets[channel]
        check_distance(target, self.segment_dilation_mm)
        index = ct.volume_region if ct.volume_region is not None else 0
        return expand_box(ct.region_boxes[index], self.segment_dilation_mm, target.spacing, target.shape)

    @torch.no_grad()
    def _pseudo_mask(
        self, q: torch.Tensor, target: ReportTarget, channel: int, box: tuple[slice, ...]
    ) -> PseudoMask:
        """:meth:`pseudo_mask` from the probabilities ``q`` (float32) of the S' box ``box``."""
        ct = target.channel_targets[channel]
        r = self.segment_dilation_mm
        index = ct.volume_region if ct.volume_region is not None else 0
        exclude = ct.exclude[box] if ct.exclude is not None else None  # host-side branch, no sync
        weight_pos = torch.zeros_like(q)
        outer = torch.zeros(q.shape, dtype=torch.bool, device=q.device)
        for lesion in sorted(ct.lesions, key=lambda les: -self.lesion_voxels(les)):
            own = expand_box(ct.region_boxes[lesion.region], r, target.spacing, target.shape)
            sub = relative_box(own, box)
            # own dilated segment, minus unmeasured lesions' regions outside it, minus voxels already taken
            available = ct.region_mask(lesion.region, r, own)
            available &= ~outer[sub]
            if exclude is not None:
                available &= ~(exclude[sub] & ~ct.region_mask(lesion.region, 0.0, own))
            self._place(q[sub], available, lesion, target.spacing, weight_pos[sub], outer[sub])
        positive = weight_pos > 0
        ignored = _dilate_cube(outer, self.shell_voxels)
        ignored = ignored | (target.unknown[channel][box] & ~ct.region_mask(index, r, box))
        if exclude is not None:
            ignored |= exclude
        supervised = ~ignored
        supervised |= positive
        # rank weight on positives (weight_pos is 0 elsewhere), 1 on the other supervised voxels
        weight = weight_pos.masked_fill_(supervised ^ positive, 1.0)
        return PseudoMask(box=box, weight=weight, positive=positive, outer=outer, supervised=supervised)

    def _locate(
        self, q: torch.Tensor, available: torch.Tensor, diameter_mm: float, spacing: Sequence[float]
    ) -> torch.Tensor:
        """Flat index (device tensor) of the centre of the most probable ball of ``diameter_mm``.

        Large kernels are applied on a grid pooled by ``f`` (the kernel keeps >= ~8 voxels across):
        the centre is then known to +-f/2 voxels, well inside the ``(1 + margin) d`` candidate ball.
        """
        side = min(diameter_mm / s for s in spacing)
        f = max(1, min(int(side // 8), *q.shape))
        q_avail = torch.where(available, q, 0.0)
        if f > 1:
            coarse_q = F.avg_pool3d(q_avail[None, None], f, ceil_mode=True)[0, 0]
            coarse_ok = F.max_pool3d(available[None, None].float(), f, ceil_mode=True)[0, 0] > 0
            kernel = gaussian_ball_kernel(
                diameter_mm, [s * f for s in spacing], self.sigma_factor, device=q.device
            )
            score = torch.where(coarse_ok, conv3d_same(coarse_q, kernel), -math.inf)
            flat = torch.argmax(score)
            _, cw, cd = coarse_q.shape
            coarse = (flat // (cw * cd), (flat // cd) % cw, flat % cd)
            h, w, d = q.shape
            i, j, k = ((c * f + f // 2).clamp(max=n - 1) for c, n in zip(coarse, (h, w, d), strict=True))
            return (i * w + j) * d + k
        kernel = gaussian_ball_kernel(diameter_mm, spacing, self.sigma_factor, device=q.device)
        return torch.argmax(torch.where(available, conv3d_same(q_avail, kernel), -math.inf))

    def _place(
        self,
        q: torch.Tensor,
        available: torch.Tensor,
        lesion: LesionTarget,
        spacing: Sequence[float],
        weight_pos: torch.Tensor,
        outer: torch.Tensor,
    ) -> None:
        """Localise one lesion in ``q`` (a view) and write its positives / outer set in place."""
        flat = self._locate(q, available, lesion.max_diameter_mm, spacing)
        h, w, d = q.shape
        centre = (flat // (w * d), (flat // d) % w, flat % d)
        terms = [
            ((torch.arange(n, device=q.device) - c).float() * sp)
            .square()
            .view(*(-1 if a == axis else 1 for a in range(3)))
            for axis, (n, c, sp) in enumerate(zip((h, w, d), centre, spacing, strict=True))
        ]
        dist2 = (terms[0] + terms[1]) + terms[2]
        dist2.masked_fill_(~available, math.inf)
        n = self.lesion_voxels(lesion)
        n_out = min(math.ceil((1.0 + self.margin) * n), q.numel())
        n_pos = min(max(math.ceil((1.0 - self.margin) * n), min(self.min_positives, n)), n_out)
        radius = torch.tensor((1.0 + self.margin) * lesion.max_diameter_mm / 2.0, device=q.device)
        for _ in range(self.grow_steps):  # grow the ball while the crop / segment clips it (no host sync)
            ratio = n_out / (dist2 <= radius.square()).sum().clamp(min=1).float()
            radius = radius * torch.where(ratio > 1.0, 1.05 * ratio.pow(1.0 / 3.0), 1.0).clamp(max=4.0)
        values, indices = torch.topk(torch.where(dist2 <= radius.square(), q, -math.inf).reshape(-1), n_out)
        valid = torch.isfinite(values)
        ranks = rank_weights(n_pos, self.rank_last_ratio, device=q.device)
        _put(weight_pos, indices[:n_pos], ranks * valid[:n_pos])
        _mark(outer, indices, valid)

    def forward(self, input: torch.Tensor, targets: Sequence[ReportTarget | None]) -> torch.Tensor:
        """Ball Loss.

        Args:
            input: logits ``(B, C, H, W, D)`` at the targets' resolution; sigmoid applied inside.
            targets: one :class:`ReportTarget` or ``None`` per sample.

        Returns:
            A float32 scalar (or ``(T,)`` with ``reduction="none"``), >= 0.
        """
        check_batch(input, targets)
        work: list[tuple[int, int, ReportTarget, tuple[slice, ...]]] = []
        for b, target in enumerate(targets):
            if target is None:
                continue
            if tuple(input.shape[2:]) != target.shape:
                raise ValueError(
                    f"input spatial shape {tuple(input.shape[2:])} must equal the target shape "
                    f"{target.shape} "
                    "(apply the Ball Loss to the full-resolution head)."
                )
            for c, ct in enumerate(target.channel_targets):
                if ct.has_lesions:
                    work.append((b, c, target, self._box(target, c)))
        crops = box_crops(input, [(b, c, box) for b, c, _, box in work])
        losses = []
        for (_, c, target, box), x in zip(work, crops, strict=True):
            p = torch.sigmoid(x)
            losses.append(self._target_loss(x, p, self._pseudo_mask(p.detach(), target, c, box)))
        return reduce_targets(losses, self.reduction, input.shape[0] * input.shape[1], input)

    def _target_loss(self, x: torch.Tensor, p: torch.Tensor, pm: PseudoMask) -> torch.Tensor:
        """Loss of one target from its S'-box logits ``x`` (float32) and ``p = sigmoid(x)``."""
        y = pm.positive.float()
        bce = F.binary_cross_entropy_with_logits(x, y, weight=pm.weight, reduction="sum")
        bce = bce / pm.supervised.sum().clamp(min=1)
        # Dice of sigmoid(x) * supervised vs y * supervised; positives are supervised, so the latter is y
        dice = self.dice(torch.where(pm.supervised, p, 0.0)[None, None], y[None, None]).reshape(())
        return self.bce_weight * bce + self.dice_weight * dice
