"""R-Super losses (Bassi et al., "Learning Segmentation from Radiology Reports", MICCAI 2025).

MONAI-style ``nn.Module`` losses taking logits ``(B, C, H, W, D)`` and per-case
:class:`~segmentation.targets.ReportTarget` objects built by :mod:`segmentation.targets`.
"""

from segmentation.geometry import ellipsoid_volume_mm3
from segmentation.losses._common import TargetReduction
from segmentation.losses._localize import rank_weights
from segmentation.losses.ball import BallLoss, BallVolume, PseudoMask
from segmentation.losses.compound import LossPreset, MaskedDiceBCELoss, ReportSupervisionLoss, known_mask
from segmentation.losses.volume import VolumeLoss, volume_penalty

__all__ = [
    "BallLoss",
    "BallVolume",
    "LossPreset",
    "MaskedDiceBCELoss",
    "PseudoMask",
    "ReportSupervisionLoss",
    "TargetReduction",
    "VolumeLoss",
    "ellipsoid_volume_mm3",
    "known_mask",
    "rank_weights",
    "volume_penalty",
]
