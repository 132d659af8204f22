"""Predict: sliding-window inference to NIfTI masks and probability maps in the input CT's space.

Each case is preprocessed exactly as in training (RAS, configured spacing, intensity window, padding),
predicted with MONAI's ``sliding_window_inference`` (EMA weights by default; optionally averaged over
mirrored copies of the input, nnU-Net's test-time mirroring), and the probabilities are resampled
back onto the input image's grid (the inverse of orientation + resampling + padding, from the two
affines) so every output has the input's shape and affine. Output layout::

    PRED/
      prediction.json               run, checkpoint, channels, threshold, tumor label values, mirror axes
      predictions.csv               case_id, split, role, tumor_mask, prob_<organ>, max_prob_<organ>
      <case_id>/tumors.nii.gz       uint8 tumor labels (labels.json "tumors" values), argmax over
                                    channels above ``threshold``
      <case_id>/prob_<organ>.nii.gz float32 lesion probability per channel
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from monai.inferers import sliding_window_inference
from scipy.ndimage import affine_transform, binary_dilation
from torch import nn

from segmentation.data.manifest import load_manifest
from segmentation.data.preprocess import PreparedCase, PreprocessConfig, prepare_case
from segmentation.networks import build_network
from segmentation.training.config import TrainConfig
from segmentation.training.state import load_checkpoint

__all__ = ["PredictResult", "check_mirror_axes", "load_run", "predict", "predict_prepared", "to_source_grid"]

logger = logging.getLogger(__name__)


@dataclass
class PredictResult:
    """Where the predictions went."""

    out_dir: Path
    cases: list[str]
    csv: Path


def load_run(
    run_dir: Path, checkpoint: Path | None = None, weights: str = "ema"
) -> tuple[TrainConfig, nn.Module]:
    """The run's config and network with ``weights`` ("ema" or "model") of ``checkpoint`` (default: last)."""
    cfg = TrainConfig.load(Path(run_dir) / "config.json")
    state = load_checkpoint(checkpoint or Path(run_dir) / "checkpoints" / "last.pt")
    if weights not in ("ema", "model"):
        raise ValueError(f"weights must be 'ema' or 'model', got {weights!r}.")
    net = build_network(cfg)
    net.load_state_dict(state[weights])
    return cfg, net.eval()


@torch.no_grad()
def predict_prepared(
    net: nn.Module,
    prepared: PreparedCase,
    roi_size: tuple[int, int, int],
    device: torch.device | str = "cpu",
    overlap: float = 0.25,
    sw_batch_size: int = 2,
    input_organs: tuple[str, ...] = (),
    mirror_axes: Sequence[int] = (),
) -> torch.Tensor:
    """``(C, H, W, D)`` float32 CPU lesion probabilities on the preprocessed grid.

    ``input_organs`` must be the run's ``TrainConfig.input_organs`` (the network's extra input channels).
    ``mirror_axes``: spatial axes (0, 1, 2 of ``(H, W, D)``) to mirror at test time; the probabilities
    are averaged over the ``2 ** len(mirror_axes)`` mirrored inputs, each mirrored back (meaningful for a
    network trained with flips along those axes, as ``SamplingConfig.flip_prob`` does on all three).
    """
    axes = check_mirror_axes(mirror_axes)
    net = net.to(device).eval()
    image = torch.from_numpy(np.ascontiguousarray(prepared.network_input(input_organs)))[None].to(device)
    use_amp = torch.device(device).type == "cuda"
    total: torch.Tensor | None = None
    flips = [c for k in range(len(axes) + 1) for c in itertools.combinations(axes, k)]
    for flip in flips:
        dims = [2 + a for a in flip]  # (1, C, H, W, D): spatial axis a is tensor dim 2 + a
        x = torch.flip(image, dims) if dims else image
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            logits = sliding_window_inference(
                x, roi_size, sw_batch_size, net, overlap=overlap, mode="gaussian"
            )
        prob = torch.sigmoid(torch.as_tensor(logits).float())
        prob = torch.flip(prob, dims) if dims else prob
        total = prob if total is None else total.add_(prob)
    assert total is not None
    return (total / len(flips))[0].cpu()


def check_mirror_axes(mirror_axes: Sequence[int]) -> tuple[int, ...]:
    """``mirror_axes`` as a sorted tuple.

    Raises:
        ValueError: unless they are a sequence of distinct integer spatial axes among 0, 1, 2.
    """
    if isinstance(mirror_axes, str | bytes) or not isinstance(mirror_axes, Sequence):
        raise ValueError(f"mirror_axes must be a list of axes among 0, 1, 2; got {mirror_axes!r}.")
    if any(isinstance(a, bool) or not isinstance(a, int) for a in mirror_axes):
        raise ValueError(f"mirror_axes must be integers among 0, 1, 2; got {list(mirror_axes)!r}.")
    axes = tuple(sorted(mirror_axes))
    if len(set(axes)) != len(axes) or any(a not in (0, 1, 2) for a in axes):
        raise ValueError(f"mirror_axes must be distinct spatial axes among 0, 1, 2; got {list(mirror_axes)}.")
    return axes


def to_source_grid(volume: np.ndarray, prepared: PreparedCase, order: int) -> np.ndarray:
    """Resample a ``(H, W, D)`` volume on the preprocessed grid onto the source image's grid."""
    m = np.linalg.inv(prepared.affine) @ prepared.source_affine
    return affine_transform(
        volume, m[:3, :3], offset=m[:3, 3], output_shape=prepared.source_shape, order=order, mode="nearest"
    )


def _organ_mask(prepared: PreparedCase, organ: str, margin_mm: float) -> np.ndarray | None:
    mask = prepared.organ_mask(organ)
    if mask is None:
        return None
    iterations = max(1, round(margin_mm / min(prepared.spacing)))
    return binary_dilation(mask, iterations=iterations) if margin_mm > 0 else mask


def prediction_preprocess(train: PreprocessConfig) -> PreprocessConfig:
    """The preprocessing of prediction: training's, with or without its padding to the crop size.

    Sliding windows pad the image themselves with 0, the window's floor, so with the window's [0, 1]
    prediction needs no train-time padding. Z-scored images keep it: they are padded before the
    z-score, as in training, so the padding is air; the windows' 0 would be the organs' mean intensity.
    """
    if train.normalize == "window":
        return train.model_copy(update={"min_shape": (0, 0, 0)})
    return train


def predict(
    run_dir: Path,
    data_dir: Path,
    out_dir: Path,
    *,
    split: str | None = "test",
    checkpoint: Path | None = None,
    threshold: float = 0.5,
    restrict_to_organs: bool = False,
    organ_margin_mm: float = 5.0,
    device: str = "auto",
    overlap: float = 0.25,
    mirror_axes: Sequence[int] = (),
    progress: bool = True,
) -> PredictResult:
    """Predict every case of ``split`` (``None``: all) of the dataset at ``data_dir``.

    Args:
        restrict_to_organs: zero each lesion channel outside its organ (given organ mask, dilated by
            ``organ_margin_mm``).
        mirror_axes: test-time mirroring (:func:`predict_prepared`); ``(0, 1, 2)``: 8 passes per case.
    """
    axes = check_mirror_axes(mirror_axes)
    from tqdm import tqdm

    dev = (
        torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if device == "auto"
        else torch.device(device)
    )
    cfg, net = load_run(run_dir, checkpoint)
    manifest = load_manifest(data_dir)
    splits = None if split is None else {s.strip() for s in split.split(",")}
    cases = [c for c in manifest.cases if splits is None or c.split in splits]
    if not cases:
        raise ValueError(f"no cases of split {split!r} in {data_dir}/manifest.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tumor_values = [manifest.labels.tumor_value(o) or c + 1 for c, o in enumerate(cfg.channels)]
    rows = []
    pre = prediction_preprocess(cfg.preprocess)
    for case in tqdm(cases, desc="predict", unit="case", disable=not progress):
        prepared = prepare_case(case, manifest.labels, pre, None)
        probs = predict_prepared(
            net,
            prepared,
            cfg.sampling.crop_size,
            dev,
            overlap=overlap,
            input_organs=cfg.input_organs,
            mirror_axes=axes,
        ).numpy()
        folder = out_dir / case.case_id
        folder.mkdir(exist_ok=True)
        row: dict[str, object] = {
            "case_id": case.case_id,
            "split": case.split,
            "role": case.role.value,
            "tumor_mask": "" if case.tumor_mask is None else str(case.tumor_mask),
        }
        source: list[np.ndarray] = []
        for c, organ in enumerate(cfg.channels):
            p = probs[c]
            if restrict_to_organs:
                organ_mask = _organ_mask(prepared, organ, organ_margin_mm)
                p = p * organ_mask if organ_mask is not None else p
            src = np.clip(to_source_grid(p.astype(np.float32), prepared, order=1), 0.0, 1.0).astype(
                np.float32
            )
            source.append(src)
            path = folder / f"prob_{organ}.nii.gz"
            nib.save(nib.Nifti1Image(src, prepared.source_affine), str(path))
            row[f"prob_{organ}"] = str(path.relative_to(out_dir))
            row[f"max_prob_{organ}"] = float(src.max())
        stack = np.stack(source)
        labels = np.zeros(prepared.source_shape, dtype=np.uint8)
        best = stack.argmax(axis=0)
        above = stack.max(axis=0) > threshold
        for c, value in enumerate(tumor_values):
            labels[above & (best == c)] = value
        nib.save(nib.Nifti1Image(labels, prepared.source_affine), str(folder / "tumors.nii.gz"))
        rows.append(row)
    csv_path = out_dir / "predictions.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    info = {
        "run_dir": str(run_dir),
        "checkpoint": str(checkpoint or Path(run_dir) / "checkpoints" / "last.pt"),
        "channels": list(cfg.channels),
        "threshold": threshold,
        "tumor_values": dict(zip(cfg.channels, tumor_values, strict=True)),
        "restrict_to_organs": restrict_to_organs,
        "mirror_axes": list(axes),
        "data_dir": str(data_dir),
    }
    (out_dir / "prediction.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    logger.info("predicted %d case(s) into %s", len(rows), out_dir)
    return PredictResult(out_dir, [str(r["case_id"]) for r in rows], csv_path)
