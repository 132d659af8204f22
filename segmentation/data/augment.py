"""Spatial and intensity augmentation of a training crop: image, tumor label and report target together.

Spatial ops are flips along any axis and in-plane (x, y) 90° rotations (as transpose + flip). Report
targets are built BEFORE augmentation, from the un-flipped organ / sub-segment masks, so a flip along x
(patient left ↔ right) keeps them consistent: the target's regions are flipped with the image and
``kidney_left`` / ``kidney_right`` never need swapping (the network sees no organ labels).

Every random draw comes from a ``numpy.random.Generator`` seeded per sample, so a sample is a pure
function of ``(seed, sample index)`` (exact resume, DDP-independent).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from segmentation.targets import Box, ChannelTarget, ReportTarget

__all__ = ["Op", "apply_ops", "draw_spatial_ops", "intensity_augment", "transform_target"]

Op = tuple[str, int] | tuple[str, int, int]
"""``("flip", axis)`` or ``("swap", axis_a, axis_b)`` over spatial axes 0..2."""


def draw_spatial_ops(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    spacing: tuple[float, ...],
    flip_prob: float,
    rot90_prob: float,
) -> list[Op]:
    """Random flips per axis, plus an in-plane 90° rotation when the x-y plane is square (voxels and mm)."""
    ops: list[Op] = [("flip", a) for a in range(3) if rng.random() < flip_prob]
    if shape[0] == shape[1] and abs(spacing[0] - spacing[1]) < 1e-6 and rng.random() < rot90_prob:
        ops += [("swap", 0, 1), ("flip", int(rng.integers(2)))]
    return ops


def apply_ops(array: torch.Tensor, ops: list[Op], lead: int = 1) -> torch.Tensor:
    """Apply ``ops`` to a tensor with ``lead`` leading non-spatial dims."""
    for op in ops:
        flip = op[0] == "flip"
        array = array.flip(lead + op[1]) if flip else array.transpose(lead + op[1], lead + op[2])  # type: ignore[misc]
    return array.contiguous()


def _box(box: Box, ops: list[Op], shape: list[int]) -> Box:
    b = [list(r) for r in box]
    for op in ops:
        if op[0] == "flip":
            a = op[1]
            b[a] = [shape[a] - b[a][1], shape[a] - b[a][0]]
        else:
            a, c = op[1], op[2]  # type: ignore[misc]
            b[a], b[c] = b[c], b[a]
            shape[a], shape[c] = shape[c], shape[a]
    return tuple(tuple(r) for r in b)  # type: ignore[return-value]


def transform_target(target: ReportTarget, ops: list[Op]) -> ReportTarget:
    """Apply ``ops`` to every tensor, box and the spacing of a report target."""
    if not ops:
        return target
    spacing = list(target.spacing)
    for op in ops:
        if op[0] == "swap":
            spacing[op[1]], spacing[op[2]] = spacing[op[2]], spacing[op[1]]  # type: ignore[misc]
    channels: list[ChannelTarget] = []
    for ct in target.channel_targets:
        channels.append(
            replace(
                ct,
                region_distance=apply_ops(ct.region_distance, ops, lead=1),
                exclude=None if ct.exclude is None else apply_ops(ct.exclude, ops, lead=0),
                region_boxes=tuple(_box(b, ops, list(target.shape)) for b in ct.region_boxes),
            )
        )
    return replace(
        target,
        spacing=tuple(spacing),  # type: ignore[arg-type]
        unknown=apply_ops(target.unknown, ops, lead=1),
        channel_targets=tuple(channels),
    )


def intensity_augment(image: torch.Tensor, rng: np.random.Generator, strength: float = 1.0) -> torch.Tensor:
    """Random contrast (x0.9-1.1), brightness (±0.05), gamma (0.8-1.25) and Gaussian noise (σ ≤ 0.03).

    Args:
        image: ``(1, H, W, D)`` float in [0, 1].
        strength: scales every perturbation (0 disables).
    """
    if strength <= 0:
        return image
    scale = 1.0 + strength * rng.uniform(-0.1, 0.1)
    shift = strength * rng.uniform(-0.05, 0.05)
    gamma = float(np.exp(strength * rng.uniform(np.log(0.8), np.log(1.25))))
    sigma = strength * rng.uniform(0.0, 0.03)
    noise = torch.from_numpy(rng.standard_normal(image.shape).astype(np.float32))
    out = image.clamp(0, 1) ** gamma * scale + shift
    return out + sigma * noise
