"""Tiny synthetic cases shared by the segmentation tests (imported as ``seg_cases``)."""

from __future__ import annotations

import numpy as np

from segmentation.targets import LesionFact, OrganFact, ReportTarget, build_report_target


def ball_mask(
    shape: tuple[int, int, int],
    centre: tuple[float, float, float],
    radius_mm: float,
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> np.ndarray:
    """Boolean ball of ``radius_mm`` around ``centre`` (voxel coordinates)."""
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre, spacing, strict=True))
    return d2 <= radius_mm**2


def pancreas_masks(shape: tuple[int, int, int] = (32, 32, 32)) -> dict[str, np.ndarray]:
    """A box "pancreas" split into head (first half along H) and tail."""
    organ = np.zeros(shape, dtype=bool)
    organ[4:-4, 6:-6, 6:-6] = True
    head = organ.copy()
    head[shape[0] // 2 :] = False
    return {"pancreas_head": head, "pancreas_tail": organ & ~head}


def head_case(spacing: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> ReportTarget:
    """One 10 mm pancreatic-head lesion, channels (liver, pancreas)."""
    return build_report_target(
        [LesionFact("pancreas", (10.0,), ("pancreas_head",))],
        [OrganFact("pancreas", "lesion", count=1), OrganFact("liver", "normal")],
        pancreas_masks(),
        spacing,
        ("liver", "pancreas"),
    )
