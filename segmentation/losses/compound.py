"""Mask losses + R-Super report losses over deep-supervision heads (``docs/METHOD.md`` section 4).

Reference: Bassi et al., "Learning Segmentation from Radiology Reports", MICCAI 2025.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import torch
import torch.nn.functional as F
from monai.losses import DeepSupervisionLoss, DiceLoss
from torch import nn
from torch.nn.modules.loss import _Loss

from segmentation.losses._common import TargetReduction, check_batch, check_number, parse_option
from segmentation.losses.ball import BallLoss, BallVolume
from segmentation.losses.volume import VolumeLoss
from segmentation.networks import OUTSIDE_LOGIT
from segmentation.targets import ReportTarget

__all__ = ["LossPreset", "MaskedDiceBCELoss", "ReportSupervisionLoss", "known_mask"]


class LossPreset(StrEnum):
    """Named settings of :class:`ReportSupervisionLoss`.

    - ``default``: ours (t = 0.1, ellipsoid pseudo-mask size, mean over existing targets).
    - ``reference``: REF's published runs: t = 0.2 (its command lines), ``ball_volume=
      "max_diameter_sphere"`` (Q1) and the ``batch_channels`` reduction (Q4). Masking fixes (Q7-Q9)
      live in the targets and are kept.
    """

    DEFAULT = "default"
    REFERENCE = "reference"


def known_mask(targets: Sequence[ReportTarget | None], like: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W, D)`` bool mask of voxels with known truth (``None`` target: all known)."""
    known = torch.ones(like.shape, dtype=torch.bool, device=like.device)
    for b, target in enumerate(targets):
        if target is not None:
            known[b] = ~target.unknown.to(like.device, non_blocking=True)
    return known


class MaskedDiceBCELoss(_Loss):
    """BCE + soft Dice on voxels with known truth; sigmoid applied inside.

    ``forward(input, target)`` takes ``target = cat([label, known], dim=1)`` of shape ``(B, 2C, ...)``
    so that MONAI's :class:`~monai.losses.DeepSupervisionLoss` can resize label and mask together for
    lower-resolution heads. BCE is the mean over known voxels; Dice is MONAI's ``DiceLoss`` on
    ``sigmoid(input) * known`` vs ``label * known`` (masked voxels contribute nothing, no gradient).

    Args:
        bce_weight: weight (>= 0) of the BCE term. dice_weight: weight (>= 0) of the Dice term.
        batch_dice: one Dice per channel over the whole batch (nnU-Net's "batch Dice", MONAI
            ``DiceLoss(batch=True)``) instead of one per sample and channel. Most crops hold no lesion
            in most channels, and the per-sample Dice loss of an empty channel is ~1 whatever volume
            the network predicts there (no gradient against those false positives); over the batch,
            they count against the lesions of the other samples. Under DDP the batch is each rank's
            local batch.
        union_dice: one Dice on the union of the channels (the sum of the masked probabilities and
            labels, clipped to 1) instead of one per channel. Meant for an organ-gated network
            (:class:`~segmentation.networks.OrganGatedLesionNet`), whose channels are one lesion map
            inside disjoint organ masks: a channel with no lesion in the batch has a per-channel Dice
            loss of ~1 whatever it predicts (no gradient against its false positives, only the BCE
            sees them); in the union Dice every false positive counts against every lesion in the batch.
        gated_bce: BCE is the mean over the known voxels the network predicts, leaving out those an
            organ-gated network fixes at :data:`~segmentation.networks.OUTSIDE_LOGIT` (outside the
            channel's organ). They carry no gradient; left in, they only dilute the BCE, by the share
            of the crop outside each organ, against the Dice.
    """

    def __init__(
        self,
        bce_weight: float = 1.0,
        dice_weight: float = 1.0,
        batch_dice: bool = False,
        union_dice: bool = False,
        gated_bce: bool = False,
    ) -> None:
        super().__init__()
        self.bce_weight = check_number("bce_weight", bce_weight, 0.0)
        self.dice_weight = check_number("dice_weight", dice_weight, 0.0)
        self.union_dice = bool(union_dice)
        self.gated_bce = bool(gated_bce)
        self.dice = DiceLoss(sigmoid=False, reduction="mean", batch=bool(batch_dice))

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Args: input ``(B, C, ...)`` logits; target ``(B, 2C, ...)`` = label (0/1) and known (0/1)."""
        if target.shape[1] != 2 * input.shape[1]:
            raise ValueError(
                "target must stack label and known mask: "
                f"{2 * input.shape[1]} channels expected, got {target.shape[1]}."
            )
        label, known = target.float().chunk(2, dim=1)
        x = input.float()
        weight = known * (x != OUTSIDE_LOGIT) if self.gated_bce else known
        bce = F.binary_cross_entropy_with_logits(
            x, label, weight=weight, reduction="sum"
        ) / weight.sum().clamp(min=1)
        prob, truth = torch.sigmoid(x) * known, label * known
        if self.union_dice:  # (B, 1, ...): the channels are disjoint regions of one map
            prob = prob.sum(dim=1, keepdim=True).clamp(max=1.0)
            truth = truth.sum(dim=1, keepdim=True).clamp(max=1.0)
        dice = self.dice(prob, truth)
        return self.bce_weight * bce + self.dice_weight * dice


class ReportSupervisionLoss(nn.Module):
    """Mask losses on every head + Ball Loss on the last head + Volume Loss on auxiliary heads.

    ``total = sum_h w_h * mask_h + report_weight * (w_0 * ball_0 + sum_{h >= 1} w_h * volume_h)``;
    with a single head the Volume Loss goes on it too. Heads follow MONAI's convention: ``input[0]``
    is the final full-resolution output, ``input[1:]`` are auxiliary (lower-resolution) heads. Mask
    losses resize the targets (MONAI ``DeepSupervisionLoss``); the Volume Loss upsamples the head.

    Args:
        report_weight: ``lambda`` >= 0 (REF: 0.1).
        head_weights: one weight per head; default ``1 / n_heads`` each (0.5 / 0.5 for two heads).
        mask_loss, ball_loss, volume_loss: switch each part on or off.
        tolerance, stabilizer, floor: Volume Loss options (:func:`volume_penalty`).
        segment_dilation_mm: S dilation (mm) for both report losses.
        margin, ball_volume: Ball Loss options (:class:`BallLoss`).
        reduction: report-loss reduction over targets (:class:`TargetReduction`, not ``"none"``).
        batch_dice: mask Dice over the whole batch per channel (:class:`MaskedDiceBCELoss`).
        union_dice: mask Dice on the union of the channels (:class:`MaskedDiceBCELoss`).
        gated_bce: mask BCE over the voxels an organ-gated network predicts (:class:`MaskedDiceBCELoss`).

    Example:
        >>> loss = ReportSupervisionLoss()
        >>> value = loss([final_logits, aux_logits], label, [target_or_none, ...])
        >>> value.backward()
    """

    def __init__(
        self,
        report_weight: float = 0.1,
        head_weights: Sequence[float] | None = None,
        mask_loss: bool = True,
        ball_loss: bool = True,
        volume_loss: bool = True,
        tolerance: float = 0.1,
        stabilizer: float = 500.0,
        floor: float = 100.0,
        segment_dilation_mm: float = 15.0,
        margin: float = 0.2,
        ball_volume: BallVolume | str = BallVolume.ELLIPSOID,
        reduction: TargetReduction | str = TargetReduction.MEAN,
        batch_dice: bool = False,
        union_dice: bool = False,
        gated_bce: bool = False,
    ) -> None:
        super().__init__()
        self.report_weight = check_number("report_weight", report_weight, 0.0)
        if head_weights is not None:
            head_weights = [check_number(f"head_weights[{i}]", w, 0.0) for i, w in enumerate(head_weights)]
            if not head_weights:
                raise ValueError("head_weights must hold at least one weight or be None, got [].")
        self.head_weights = head_weights
        self.use_mask, self.use_ball, self.use_volume = bool(mask_loss), bool(ball_loss), bool(volume_loss)
        red = parse_option(TargetReduction, reduction, "reduction")
        if red is TargetReduction.NONE:
            raise ValueError(
                "reduction must reduce to a scalar ('mean', 'sum' or 'batch_channels'), got 'none'."
            )
        self.mask = DeepSupervisionLoss(
            MaskedDiceBCELoss(batch_dice=batch_dice, union_dice=union_dice, gated_bce=gated_bce), weights=None
        )
        self.ball = BallLoss(
            margin=margin, segment_dilation_mm=segment_dilation_mm, ball_volume=ball_volume, reduction=red
        )
        self.volume = VolumeLoss(tolerance, stabilizer, floor, segment_dilation_mm, reduction=red)

    @classmethod
    def from_preset(
        cls, preset: LossPreset | str = LossPreset.DEFAULT, **overrides: object
    ) -> ReportSupervisionLoss:
        """Build the loss from a :class:`LossPreset`; keyword ``overrides`` win."""
        chosen = parse_option(LossPreset, preset, "preset")
        settings: dict[str, object] = {}
        if chosen is LossPreset.REFERENCE:
            settings = {
                "tolerance": 0.2,
                "ball_volume": BallVolume.MAX_DIAMETER_SPHERE,
                "reduction": TargetReduction.BATCH_CHANNELS,
                "report_weight": 0.1,
                "segment_dilation_mm": 15.0,
            }
        settings.update(overrides)
        return cls(**settings)  # type: ignore[arg-type]

    def weights_for(self, n_heads: int) -> list[float]:
        """Head weights used for ``n_heads`` heads."""
        if self.head_weights is None:
            return [1.0 / n_heads] * n_heads
        if len(self.head_weights) < n_heads:
            raise ValueError(
                f"head_weights has {len(self.head_weights)} weights but the network gave {n_heads} heads."
            )
        return list(self.head_weights[:n_heads])

    def parts(
        self,
        input: torch.Tensor | Sequence[torch.Tensor],
        label: torch.Tensor,
        targets: Sequence[ReportTarget | None],
    ) -> dict[str, torch.Tensor]:
        """Unweighted loss terms, keyed ``"mask/h"``, ``"ball/0"``, ``"volume/h"``, plus ``"total"``.

        Args:
            input: logits ``(B, C, H, W, D)`` or a sequence of heads (first = full resolution).
            label: ``(B, C, H, W, D)`` 0/1 lesion masks (zeros for report cases), full resolution.
            targets: per sample a :class:`ReportTarget` (report case) or ``None`` (mask case).
        """
        heads = [input] if isinstance(input, torch.Tensor) else list(input)
        if not heads:
            raise ValueError("input must be a logits tensor or a non-empty sequence of heads, got [].")
        check_batch(heads[0], targets, "input[0]")
        if label.shape != heads[0].shape:
            raise ValueError(
                f"label shape {tuple(label.shape)} must equal input[0] shape {tuple(heads[0].shape)}."
            )
        weights = self.weights_for(len(heads))
        out: dict[str, torch.Tensor] = {}
        total = heads[0].new_zeros((), dtype=torch.float32)
        if self.use_mask:
            packed = torch.cat([label.float(), known_mask(targets, label).float()], dim=1)
            for h, head in enumerate(heads):
                out[f"mask/{h}"] = self.mask.get_loss(head.float(), packed)
                total = total + weights[h] * out[f"mask/{h}"]
        if self.use_ball:
            out["ball/0"] = self.ball(heads[0], targets)
            total = total + self.report_weight * weights[0] * out["ball/0"]
        if self.use_volume:
            for h in range(1, len(heads)) if len(heads) > 1 else (0,):
                out[f"volume/{h}"] = self.volume(heads[h], targets)
                total = total + self.report_weight * weights[h] * out[f"volume/{h}"]
        out["total"] = total
        return out

    def forward(
        self,
        input: torch.Tensor | Sequence[torch.Tensor],
        label: torch.Tensor,
        targets: Sequence[ReportTarget | None],
    ) -> torch.Tensor:
        """Weighted total loss (float32 scalar); see :meth:`parts` for the arguments."""
        return self.parts(input, label, targets)["total"]
