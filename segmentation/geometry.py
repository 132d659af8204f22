"""Lesion geometry shared by report targets and losses: ellipsoid volumes and ball kernels.

Reference: Bassi et al., "Learning Segmentation from Radiology Reports", MICCAI 2025 (R-Super),
section 2.1; see ``docs/METHOD.md`` section 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "complete_diameters_mm",
    "ellipsoid_volume_mm3",
    "gaussian_ball_kernel",
    "validate_spacing",
]


def validate_spacing(spacing: Sequence[float], name: str = "spacing") -> tuple[float, float, float]:
    """Return ``spacing`` as three positive finite floats (mm per voxel along H, W, D).

    Raises:
        ValueError: when ``spacing`` does not hold exactly three positive finite numbers.
    """
    values = tuple(float(s) for s in spacing)
    if len(values) != 3 or not all(math.isfinite(s) and s > 0 for s in values):
        raise ValueError(
            f"{name} must be three positive finite voxel sizes in mm (sx, sy, sz), got {tuple(spacing)}."
        )
    return values[0], values[1], values[2]


def complete_diameters_mm(diameters_mm: Sequence[float]) -> tuple[float, float, float]:
    """Complete 1-3 reported diameters to the three axes of an ellipsoid, sorted a >= b >= c.

    One diameter ``d`` gives a sphere ``(d, d, d)``; two diameters ``(a, b)`` get the third
    ``c = (a + b) / 2`` (R-Super convention, METHOD.md section 1).

    Raises:
        ValueError: when there are not 1-3 diameters or one is not a positive finite number.
    """
    values = [float(d) for d in diameters_mm]
    if not 1 <= len(values) <= 3:
        raise ValueError(
            f"diameters_mm must hold 1 to 3 diameters, got {len(values)}: {tuple(diameters_mm)}."
        )
    if not all(math.isfinite(d) and d > 0 for d in values):
        raise ValueError(f"diameters_mm must be positive finite numbers (mm), got {tuple(diameters_mm)}.")
    if len(values) == 1:
        values = values * 3
    elif len(values) == 2:
        values.append((values[0] + values[1]) / 2.0)
    a, b, c = sorted(values, reverse=True)
    return a, b, c


def ellipsoid_volume_mm3(diameters_mm: Sequence[float]) -> float:
    """Expected lesion volume in mm³ from its reported diameters: ``V = pi / 6 * a * b * c``.

    Args:
        diameters_mm: 1, 2 or 3 diameters in mm, in any order. One diameter is a sphere; with two
            diameters ``(a, b)`` the third is ``(a + b) / 2``.

    Returns:
        The ellipsoid volume in mm³ (divide by ``sx * sy * sz`` for voxels).

    Example:
        >>> round(ellipsoid_volume_mm3((11.0, 10.0)), 1)  # "11 x 10 mm" -> c = 10.5
        604.8
    """
    a, b, c = complete_diameters_mm(diameters_mm)
    return math.pi / 6.0 * a * b * c


def gaussian_ball_kernel(
    diameter_mm: float,
    spacing: Sequence[float],
    sigma_factor: float = 1.5,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Gaussian-weighted ball kernel used to localise a lesion (R-Super's Ball Loss, step 2).

    The ball has the given diameter in mm, so it is an ellipsoid in voxels when the spacing is
    anisotropic. Weights are ``exp(-r² / (2 sigma²))`` with ``sigma = sigma_factor * radius``,
    zero outside the ball, normalised to sum 1.

    Args:
        diameter_mm: ball diameter in mm (> 0).
        spacing: voxel size in mm along the three axes.
        sigma_factor: Gaussian width relative to the radius.
        dtype: kernel dtype.
        device: kernel device.

    Returns:
        Kernel of shape ``(kh, kw, kd)``, odd sides, non-negative, summing to 1.
    """
    sx, sy, sz = validate_spacing(spacing)
    radius = diameter_mm / 2.0
    half = [max(0, math.floor(radius / s)) for s in (sx, sy, sz)]
    axes = [np.arange(-h, h + 1, dtype=np.float64) * s for h, s in zip(half, (sx, sy, sz), strict=True)]
    r2 = axes[0][:, None, None] ** 2 + axes[1][None, :, None] ** 2 + axes[2][None, None, :] ** 2
    sigma = max(sigma_factor * radius, 1e-6)
    weights = np.exp(-r2 / (2.0 * sigma**2)) * (r2 <= radius**2 + 1e-9)
    weights /= weights.sum()
    return torch.as_tensor(weights, dtype=dtype, device=device)
