"""The segmentation network: any MONAI network by class name (``monai.networks.nets``)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import monai.networks.nets as monai_nets
from torch import nn

if TYPE_CHECKING:  # the config imports the data / loss packages; the network needs none of them
    from segmentation.training.config import TrainConfig

__all__ = ["build_network"]


def build_network(cfg: TrainConfig) -> nn.Module:
    """Instantiate ``monai.networks.nets.<cfg.network.name>`` with the configured kwargs.

    ``spatial_dims`` (3), ``in_channels`` (1 + ``len(cfg.input_organs)``) and ``out_channels`` (one per
    lesion channel) are filled in when the constructor takes them and the kwargs do not set them. With
    ``cfg.network.init_bias`` set, the biases of the 1x1x1 output convolutions start at that value
    (a low lesion prior, so early training is not flooded by false positives).
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
        ("out_channels", len(cfg.channels)),
    )
    for key, value in defaults:
        if key in params:
            kwargs.setdefault(key, value)
    net = cls(**kwargs)
    if cfg.network.init_bias is not None:
        for m in net.modules():
            if (
                isinstance(m, nn.Conv3d)
                and m.out_channels == len(cfg.channels)
                and m.kernel_size == (1, 1, 1)
                and m.bias is not None
            ):
                nn.init.constant_(m.bias, cfg.network.init_bias)
    return net
