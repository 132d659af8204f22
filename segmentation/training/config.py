"""Training configuration: one pydantic model, written as JSON (with the git SHA) into every run folder.

Resume re-creates every object from ``RUN/config.json``. Defaults follow the paper's protocol
(``docs/METHOD.md`` section 4): stage 1 ``mode="masks"`` (lr 1e-3), stage 2 ``mode="reports"``
(lr 1e-4, ``init_from`` the stage-1 checkpoint), AdamW (weight decay 0.05), linear warm-up then poly
decay, gradient clipping 1.0, EMA 0.99, report-loss weight 0.1, head weights 0.5 / 0.5.
"""

from __future__ import annotations

import os
import subprocess
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from segmentation.data.dataset import SamplingConfig
from segmentation.data.preprocess import PreprocessConfig
from segmentation.losses import LossPreset

__all__ = ["LossConfig", "Mode", "NetworkConfig", "Optimizer", "TrainConfig", "git_sha"]


class Optimizer(StrEnum):
    """Optimiser of a run."""

    ADAMW = "adamw"
    """AdamW with ``weight_decay`` (the paper's choice)."""
    SGD = "sgd"
    """nnU-Net's SGD: Nesterov, momentum 0.99, ``weight_decay`` as L2."""


class Mode(StrEnum):
    """Training stage: ``masks`` (mask cases only) or ``reports`` (mask + report cases, R-Super losses)."""

    MASKS = "masks"
    REPORTS = "reports"


class NetworkConfig(BaseModel):
    """Any MONAI network by class name (``monai.networks.nets``).

    ``spatial_dims``, ``in_channels`` and ``out_channels`` are filled in when the constructor takes
    them. ``heads`` picks deep-supervision heads from a network returning ``(B, K, C, ...)`` in training
    (MONAI DynUNet): index 0 is the final head; the default ``(0, 2)`` keeps the full-resolution head
    (Ball Loss) and the 1/4-resolution head (Volume Loss), as in the paper.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = "DynUNet"
    kwargs: dict[str, Any] = Field(
        default_factory=lambda: {
            "kernel_size": [3, 3, 3, 3],
            "strides": [1, 2, 2, 2],
            "upsample_kernel_size": [2, 2, 2],
            "filters": [8, 16, 32, 64],
            "deep_supervision": True,
            "deep_supr_num": 2,
            "res_block": True,
        }
    )
    heads: tuple[int, ...] | None = (0, 2)
    init_bias: float | None = -2.0
    """Bias of the 1x1x1 output convolutions (lesion prior ~12%); ``None`` keeps MONAI's init."""
    organ_gated: bool = False
    """One organ-agnostic lesion map, gated per lesion channel by that organ's input mask
    (:class:`~segmentation.networks.OrganGatedLesionNet`); needs every channel in ``input_organs``."""


class LossConfig(BaseModel):
    """Options of :class:`~segmentation.losses.ReportSupervisionLoss`."""

    model_config = ConfigDict(extra="forbid")

    preset: LossPreset = LossPreset.DEFAULT
    report_weight: float = Field(0.1, ge=0.0)
    head_weights: tuple[float, ...] | None = None
    segment_dilation_mm: float = Field(15.0, ge=0.0)
    tolerance: float = Field(0.1, ge=0.0, lt=1.0)
    batch_dice: bool = False
    """Mask Dice over the whole batch per channel (nnU-Net's batch Dice) instead of per sample."""
    union_dice: bool = False
    """Mask Dice on the union of the lesion channels (organ-gated networks), not one per channel.
    Measured on the phantom's ceiling arm: worse than per-channel batch Dice on both calibration cohorts
    (``benchmarks/results/learning.md``); no setting uses it."""
    gated_bce: bool = False
    """Mask BCE averaged over the voxels an organ-gated network predicts (inside each channel's organ),
    not over the whole crop, where the fixed outside voxels only dilute it against the Dice. Measured on
    the phantom's ceiling arm: worse (calibration cohort 100: 55.0 -> 36.7 % DSC; predictions pushed
    down everywhere, ``benchmarks/results/learning.md``); no setting uses it."""


class TrainConfig(BaseModel):
    """Everything a run needs; saved as ``RUN/config.json``."""

    model_config = ConfigDict(extra="forbid")

    data_dir: Path
    out_dir: Path
    store_url: str | None = None
    reports_jsonl: Path | None = None
    mode: Mode = Mode.MASKS
    trainer: str = "default"
    channels: tuple[str, ...] = ("liver", "pancreas", "kidney")
    reviewed_only: bool = False
    """``reports`` mode: train only on report cases whose current extraction a reviewer corrected or
    accepted (``rsuper serve``'s ``/review``); the others are left out."""
    all_masks: bool = False
    """The ceiling arm (``masks`` mode only): every training case with a tumor mask trains as a mask
    case, whatever its manifest role, i.e. the report cases' masks are used too."""
    input_organs: tuple[str, ...] = ()
    """Organ masks appended to the CT as network input channels (one 0/1 channel each; a structure
    belongs to organ X when it is named X or ``X_*``). Empty: the CT alone. The report losses need the
    organ masks anyway, so a report-supervised model never needs more than it was trained with."""
    preprocess: PreprocessConfig = PreprocessConfig()
    sampling: SamplingConfig = SamplingConfig()
    network: NetworkConfig = NetworkConfig()
    loss: LossConfig = LossConfig()
    steps: int = Field(1000, ge=1)
    batch_size: int = Field(2, ge=1)
    optimizer: Optimizer = Optimizer.ADAMW
    lr: float | None = Field(None, gt=0.0)
    """``None``: 1e-3 for ``masks``, 1e-4 for ``reports``."""
    weight_decay: float = Field(0.05, ge=0.0)
    warmup_steps: int = Field(50, ge=0)
    poly_power: float = Field(0.9, ge=0.0)
    grad_clip: float | None = Field(1.0, gt=0.0)
    ema_decay: float = Field(0.99, ge=0.0, lt=1.0)
    amp: bool = True
    """Mixed precision (bfloat16 autocast) on CUDA only; ignored on CPU."""
    checkpoint_every: int = Field(100, ge=1)
    val_every: int = Field(0, ge=0)
    val_max_cases: int = Field(8, ge=1)
    num_workers: int = Field(0, ge=0)
    seed: int = 0
    init_from: Path | None = None
    device: str = "auto"
    cache_dir: Path | None = None
    """Preprocessed-volume cache; default ``DATA/.rsuper_cache`` (shared by runs), else ``RUN/cache``."""
    progress: bool = True
    git_sha: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.store_url is not None and self.reports_jsonl is not None:
            raise ValueError(
                "give one report source: store_url (--store) or reports_jsonl (--reports-jsonl), not both."
            )
        if self.mode is Mode.REPORTS and self.store_url is None and self.reports_jsonl is None:
            raise ValueError("mode 'reports' needs report facts: pass --store URL or --reports-jsonl FILE.")
        if self.loss.segment_dilation_mm > self.sampling.max_distance_mm:
            raise ValueError(
                f"loss.segment_dilation_mm ({self.loss.segment_dilation_mm}) must be <= "
                f"sampling.max_distance_mm "
                f"({self.sampling.max_distance_mm}): raise the latter."
            )
        if self.all_masks and self.mode is Mode.REPORTS:
            raise ValueError("all_masks (the ceiling arm) trains on masks only: use mode 'masks'.")
        missing = [c for c in self.channels if c not in self.input_organs]
        if self.network.organ_gated and missing:
            raise ValueError(
                f"network.organ_gated gates each lesion channel by its organ's input mask: add {missing} "
                f"to input_organs (now {list(self.input_organs)})."
            )
        if self.loss.gated_bce and not self.network.organ_gated:
            raise ValueError("loss.gated_bce needs network.organ_gated: no voxel is fixed outside an organ.")
        if self.preprocess.normalize != "window" and self.sampling.intensity_strength > 0:
            raise ValueError(
                "sampling.intensity_strength > 0 perturbs images in the window's [0, 1] range: set it to 0 "
                f"with preprocess.normalize {self.preprocess.normalize!r}."
            )
        crop = self.sampling.crop_size
        if any(m < c for m, c in zip(self.preprocess.min_shape, crop, strict=True)):
            self.preprocess = self.preprocess.model_copy(
                update={
                    "min_shape": tuple(
                        max(m, c) for m, c in zip(self.preprocess.min_shape, crop, strict=True)
                    )
                }
            )
        return self

    @property
    def learning_rate(self) -> float:
        """The configured lr, else the stage default (1e-3 masks, 1e-4 reports)."""
        if self.lr is not None:
            return self.lr
        return 1e-3 if self.mode is Mode.MASKS else 1e-4

    @property
    def resolved_cache_dir(self) -> Path:
        """Where preprocessed volumes are cached."""
        if self.cache_dir is not None:
            return self.cache_dir
        return (
            self.data_dir / ".rsuper_cache" if os.access(self.data_dir, os.W_OK) else self.out_dir / "cache"
        )

    def save(self, path: Path) -> None:
        """Write the config as JSON (with the current git SHA when known)."""
        sha = self.git_sha or git_sha()
        path.write_text(self.model_copy(update={"git_sha": sha}).model_dump_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        """Read a config written by :meth:`save`."""
        return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))


def git_sha() -> str | None:
    """The SHA of the checkout's HEAD, or ``None`` outside git / without commits."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
