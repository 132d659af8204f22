"""The segmentation network: any MONAI network by class name (``monai.networks.nets``)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import monai.networks.nets as monai_nets
import torch
from torch import nn

if TYPE_CHECKING:  # the config imports the data / loss packages; the network needs none of them
    from segmentation.training.config import TrainConfig

__all__ = ["OUTSIDE_LOGIT", "OrganGatedLesionNet", "build_network"]

OUTSIDE_LOGIT = -20.0
"""Logit of every voxel outside a channel's organ in :class:`OrganGatedLesionNet` (probability 2e-9)."""


class OrganGatedLesionNet(nn.Module):
    """One organ-agnostic lesion map, handed to each organ's channel inside that organ only.

    The wrapped network sees the CT and the organ masks (``TrainConfig.input_organs``) and predicts a
    single lesion logit per voxel (per deep-supervision head). Channel ``c`` is that logit inside organ
    ``c``'s input mask and :data:`OUTSIDE_LOGIT` elsewhere, so every lesion of every organ trains the
    same map ("is this voxel a lesion of the organ it lies in?") while the losses and the predictions
    keep one channel per organ. Organs do not overlap, so each voxel is trained by at most one channel.

    Args:
        net: a network with one output channel; in training it may return deep-supervision heads
            stacked as ``(B, K, 1, H, W, D)`` (MONAI DynUNet), else ``(B, 1, H, W, D)``.
        organ_inputs: for each output channel, the index of its organ mask among the input channels.
    """

    def __init__(self, net: nn.Module, organ_inputs: tuple[int, ...]) -> None:
        super().__init__()
        self.net = net
        self.organ_inputs = tuple(int(i) for i in organ_inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, 1 + K, H, W, D)`` → logits ``(B, C, H, W, D)`` (or ``(B, heads, C, H, W, D)``)."""
        logit = self.net(x)
        organs = x[:, list(self.organ_inputs)] > 0.5  # (B, C, H, W, D)
        if logit.ndim == x.ndim + 1:  # deep-supervision heads stacked on dim 1
            organs = organs.unsqueeze(1)
        return torch.where(organs, logit, torch.full_like(logit, OUTSIDE_LOGIT))


def build_network(cfg: TrainConfig) -> nn.Module:
    """Instantiate ``monai.networks.nets.<cfg.network.name>`` with the configured kwargs.

    ``spatial_dims`` (3), ``in_channels`` (1 + ``len(cfg.input_organs)``) and ``out_channels`` (one per
    lesion channel) are filled in when the constructor takes them and the kwargs do not set them. With
    ``cfg.network.init_bias`` set, the biases of the 1x1x1 output convolutions start at that value
    (a low lesion prior, so early training is not flooded by false positives). With
    ``cfg.network.organ_gated`` the network predicts one lesion map and :class:`OrganGatedLesionNet`
    gives each lesion channel its organ's part of it (every channel must be an input organ).
    """
    try:
        cls = getattr(monai_nets, cfg.network.name)
    except AttributeError as e:
        raise ValueError(f"network.name {cfg.network.name!r} is not a class of monai.networks.nets.") from e
    params = inspect.signature(cls).parameters
    kwargs = dict(cfg.network.kwargs)
    defaults = (
        ("spatial_dims", 3),
        ("in_channels", 1 + len(cfg.input_organs)),
        ("out_channels", 1 if cfg.network.organ_gated else len(cfg.channels)),
    )
    for key, value in defaults:
        if key in params:
            kwargs.setdefault(key, value)
    net = cls(**kwargs)
    if cfg.network.init_bias is not None:
        for m in net.modules():
            if (
                isinstance(m, nn.Conv3d)
                and m.out_channels == kwargs.get("out_channels", len(cfg.channels))
                and m.kernel_size == (1, 1, 1)
                and m.bias is not None
            ):
                nn.init.constant_(m.bias, cfg.network.init_bias)
    if cfg.network.organ_gated:
        inputs = {organ: 1 + i for i, organ in enumerate(cfg.input_organs)}
        return OrganGatedLesionNet(net, tuple(inputs[c] for c in cfg.channels))
    return net
