"""Training: config (pydantic, saved with the git SHA), trainer with small hooks, DDP, exact resume.

Python API::

    from segmentation.training import TrainConfig, train
    result = train(TrainConfig(data_dir=Path("phantom"), out_dir=Path("runs/masks"), steps=200))
"""

from __future__ import annotations

from segmentation.training.config import LossConfig, Mode, NetworkConfig, TrainConfig
from segmentation.training.trainer import TRAINERS, RunResult, Trainer, register_trainer

__all__ = [
    "TRAINERS",
    "LossConfig",
    "Mode",
    "NetworkConfig",
    "RunResult",
    "TrainConfig",
    "Trainer",
    "register_trainer",
    "train",
]


def train(config: TrainConfig, *, resume: bool = False) -> RunResult:
    """Train with the trainer named ``config.trainer`` (from ``last.pt`` when ``resume``)."""
    try:
        cls = TRAINERS[config.trainer]
    except KeyError as e:
        raise ValueError(f"trainer must be one of {sorted(TRAINERS)}, got {config.trainer!r}.") from e
    return cls(config, resume=resume).fit()
