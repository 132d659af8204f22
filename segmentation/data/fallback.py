"""APPROXIMATE sub-segments for users who only have whole-organ masks (``docs/METHOD.md`` section 1).

- pancreas → ``pancreas_head`` / ``pancreas_body`` / ``pancreas_tail``: thirds of the organ's extent
  along its principal axis (PCA of the voxel coordinates in mm), the head being the end at the
  patient's right (+x in RAS);
- kidney → ``kidney_right`` / ``kidney_left``: voxels right / left of the body midline (the x-centre of
  the body foreground, else of the volume).

Both are geometric approximations: real head/body boundaries follow the superior mesenteric vessels and
are not thirds. Cases that use them are logged; prefer an organ segmenter with sub-segments
(TotalSegmentator, an nnU-Net) when you can. Arrays must be in RAS orientation (the pipeline's).
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["split_kidneys", "split_pancreas", "subsegment_fallback"]

logger = logging.getLogger(__name__)

PANCREAS_PARTS = ("pancreas_head", "pancreas_body", "pancreas_tail")


def split_pancreas(pancreas: np.ndarray, spacing: tuple[float, float, float]) -> dict[str, np.ndarray]:
    """Split a ``(H, W, D)`` bool pancreas mask (RAS) into approximate head / body / tail thirds."""
    coords = np.argwhere(pancreas).astype(np.float64) * np.asarray(spacing)
    if len(coords) < 3:
        return {"pancreas_head": pancreas.copy()}
    centred = coords - coords.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axis = vt[0] if vt[0][0] >= 0 else -vt[0]  # oriented towards the patient's right (+x): head first
    t = centred @ axis
    lo, hi = t.min(), t.max()
    edges = (hi - (hi - lo) / 3.0, hi - 2.0 * (hi - lo) / 3.0)
    parts = {
        "pancreas_head": t >= edges[0],
        "pancreas_body": (t < edges[0]) & (t >= edges[1]),
        "pancreas_tail": t < edges[1],
    }
    out = {}
    idx = np.nonzero(pancreas)
    for name, sel in parts.items():
        mask = np.zeros_like(pancreas, dtype=bool)
        mask[tuple(i[sel] for i in idx)] = True
        out[name] = mask
    return out


def split_kidneys(kidney: np.ndarray, body: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Split a ``(H, W, D)`` bool kidney mask (RAS, axis 0 = +x = patient right) by the body midline."""
    ref = body if body is not None and body.any() else np.ones_like(kidney, dtype=bool)
    xs = np.nonzero(ref.any(axis=(1, 2)))[0]
    midline = (xs.min() + xs.max()) / 2.0
    right = np.zeros_like(kidney, dtype=bool)
    right[int(np.floor(midline)) + 1 :] = True
    return {"kidney_right": kidney & right, "kidney_left": kidney & ~right}


def subsegment_fallback(
    labels: np.ndarray,
    names: dict[int, str],
    spacing: tuple[float, float, float],
    body: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[int, str], list[str]]:
    """Replace whole ``pancreas`` / ``kidney`` labels by approximate sub-segments when those are missing.

    Args:
        labels: ``(H, W, D)`` integer organ label map (RAS).
        names: label value → structure name.
        spacing: voxel size in mm.
        body: optional ``(H, W, D)`` bool body foreground for the kidney midline.

    Returns:
        ``(labels, names, approximate)``: the new label map and names, and the sub-segment names that
        were approximated (empty when nothing changed).
    """
    present = set(names.values())
    labels, names = labels.copy(), dict(names)
    approximate: list[str] = []
    jobs = (("pancreas", PANCREAS_PARTS), ("kidney", ("kidney_left", "kidney_right")))
    for organ, parts in jobs:
        values = [v for v, n in names.items() if n == organ]
        if not values or any(p in present for p in parts):
            continue
        mask = np.isin(labels, values)
        split = split_pancreas(mask, spacing) if organ == "pancreas" else split_kidneys(mask, body)
        for v in values:
            del names[v]
        for part, part_mask in split.items():
            value = max([0, *names, *values]) + 1
            names[value] = part
            labels[part_mask] = value
            approximate.append(part)
    if approximate:
        logger.info("approximate (geometric) sub-segments used: %s", ", ".join(approximate))
    return labels, names, approximate
