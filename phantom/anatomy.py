"""Phantom anatomy: body, bones, vessels and the labelled organs with their sub-segments.

Coordinates: array axes ``(i, j, k)`` map to RAS+ world millimetres ``(x, y, z)`` with a diagonal affine
(``x = (i - (X-1)/2)·sx``, ...): **+x = patient right**, +y = anterior, +z = superior. So the liver and
``kidney_right`` lie at larger ``i`` than the spleen and ``kidney_left``. Everything is scaled to the
field of view, so any shape/spacing gives a complete abdomen.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Final

import numpy as np
from scipy import ndimage

__all__ = [
    "KIDNEY_LABELS",
    "LIVER_LABELS",
    "ORGAN_LABELS",
    "PANCREAS_LABELS",
    "SPLEEN_LABEL",
    "Anatomy",
    "Tissue",
    "build_anatomy",
    "rotation_matrix",
    "smooth_field",
]

ORGAN_LABELS: Final[MappingProxyType[int, str]] = MappingProxyType(
    {
        **{k: f"liver_segment_{k}" for k in range(1, 9)},
        9: "pancreas_head",
        10: "pancreas_body",
        11: "pancreas_tail",
        12: "kidney_left",
        13: "kidney_right",
        14: "spleen",
    }
)
"""Label value → name of ``organs.nii.gz`` (also written to ``labels.json``)."""

LIVER_LABELS: Final[tuple[int, ...]] = tuple(range(1, 9))
PANCREAS_LABELS: Final[tuple[int, ...]] = (9, 10, 11)
KIDNEY_LABELS: Final[tuple[int, ...]] = (12, 13)
SPLEEN_LABEL: Final[int] = 14


class Tissue(IntEnum):
    """Tissue classes that drive the rendered attenuation (not written to disk)."""

    AIR = 0
    FAT = 1
    SUBCUT = 2
    MUSCLE = 3
    BOWEL = 4
    GAS = 5
    BONE = 6
    CANAL = 7
    AORTA = 8
    IVC = 9
    GALLBLADDER = 10
    ORGAN = 11


@dataclass
class Anatomy:
    """One phantom's anatomy.

    Attributes:
        labels: ``(X, Y, Z)`` uint8 organ / sub-segment label map (:data:`ORGAN_LABELS`, 0 = none).
        tissue: ``(X, Y, Z)`` uint8 :class:`Tissue` map (``ORGAN`` wherever ``labels > 0``).
        axes_mm: world coordinates (mm, RAS+) of the voxel centres along X, Y and Z, 1-D float32.
        affine: ``(4, 4)`` float64 voxel → RAS+ mm affine.
        pancreas_curve: ``(M, 3)`` float32 world points along the pancreas centre line, head → tail.
        has_gallbladder: whether a gallbladder was drawn (it is carved out of the liver, unlabelled).
    """

    labels: np.ndarray
    tissue: np.ndarray
    axes_mm: tuple[np.ndarray, np.ndarray, np.ndarray]
    affine: np.ndarray
    pancreas_curve: np.ndarray
    has_gallbladder: bool

    def voxel_to_mm(self, ijk: np.ndarray) -> np.ndarray:
        """World mm (RAS+) of voxel indices ``ijk`` (``(..., 3)``, float or int) → ``(..., 3)`` float64."""
        ijk = np.asarray(ijk, dtype=np.float64)
        return ijk @ self.affine[:3, :3].T + self.affine[:3, 3]


def rotation_matrix(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random 3-D rotation, ``(3, 3)`` float64 with determinant +1."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _interp_matrix(n: int, m: int) -> np.ndarray:
    """``(n, m)`` float32 linear-interpolation weights from ``m`` coarse cells to ``n`` fine voxels."""
    u = np.clip((np.arange(n) + 0.5) * m / n - 0.5, 0.0, m - 1.0)
    w = np.maximum(0.0, 1.0 - np.abs(u[:, None] - np.arange(m)[None, :]))
    return w.astype(np.float32)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int, int], factor: int = 4) -> np.ndarray:
    """A smooth random field of ``shape`` (float32, ~zero mean, ~unit std): coarse noise, blurred, upsampled.

    The upsampling is separable linear interpolation (three small matrix products), so it costs far less
    than ``scipy.ndimage.zoom``.
    """
    coarse_shape = tuple(max(2, -(-s // factor)) for s in shape)
    coarse = ndimage.gaussian_filter(rng.normal(size=coarse_shape).astype(np.float32), 1.0, mode="wrap")
    coarse -= coarse.mean()
    coarse /= max(float(coarse.std()), 1e-6)
    w = [_interp_matrix(n, m) for n, m in zip(shape, coarse_shape, strict=True)]
    field = np.tensordot(coarse, w[2], axes=(2, 1))  # (cx, cy, Z)
    field = np.tensordot(w[1], field, axes=(1, 1))  # (Y, cx, Z)
    field = np.ascontiguousarray(field.transpose(1, 0, 2))  # (cx, Y, Z)
    field = (w[0] @ field.reshape(coarse_shape[0], -1)).reshape(shape)  # (X, Y, Z)
    return np.ascontiguousarray(field, dtype=np.float32)


def _ellipsoid(
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    center: tuple[float, float, float],
    semi: tuple[float, float, float],
    rot: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean ``(X, Y, Z)`` mask of a (rotated) ellipsoid; ``grid`` holds broadcastable mm axes.

    Only the ellipsoid's bounding box is evaluated.
    """
    axes = [g.ravel() for g in grid]
    reach = max(semi) if rot is not None else None
    sl = []
    for d in range(3):
        r = reach if reach is not None else semi[d]
        lo = int(np.searchsorted(axes[d], center[d] - r))
        hi = int(np.searchsorted(axes[d], center[d] + r, side="right"))
        sl.append(slice(lo, max(lo, hi)))
    out = np.zeros((axes[0].size, axes[1].size, axes[2].size), dtype=bool)
    sub = [axes[d][sl[d]] - center[d] for d in range(3)]
    dd = [sub[0][:, None, None], sub[1][None, :, None], sub[2][None, None, :]]
    if rot is not None:
        dd = [rot[0, r] * dd[0] + rot[1, r] * dd[1] + rot[2, r] * dd[2] for r in range(3)]
    inside = (dd[0] / semi[0]) ** 2 + (dd[1] / semi[1]) ** 2 + (dd[2] / semi[2]) ** 2 <= 1.0
    out[sl[0], sl[1], sl[2]] = np.broadcast_to(inside, out[sl[0], sl[1], sl[2]].shape)
    return out


def _tilt(rng: np.random.Generator, degrees: float) -> np.ndarray:
    """A small random rotation (about each axis by up to ``degrees``), ``(3, 3)`` float64."""
    a, b, c = np.deg2rad(rng.uniform(-degrees, degrees, size=3))
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


def _pancreas(
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    allowed: np.ndarray,
    ctrl: np.ndarray,
    radii: np.ndarray,
    cuts: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Tube along a piecewise-linear centre line; returns (label map piece uint8, curve ``(M, 3)``)."""
    seg_len = np.linalg.norm(np.diff(ctrl, axis=0), axis=1)
    knots = np.concatenate([[0.0], np.cumsum(seg_len)]) / seg_len.sum()
    t = np.linspace(0.0, 1.0, 40)
    curve = np.stack([np.interp(t, knots, ctrl[:, d]) for d in range(3)], axis=1)
    radius = np.interp(t, knots, radii)
    lo = curve.min(0) - radii.max()
    hi = curve.max(0) + radii.max()
    sl = tuple(
        slice(int(np.searchsorted(ax.ravel(), lo[d])), int(np.searchsorted(ax.ravel(), hi[d])) + 1)
        for d, ax in enumerate(grid)
    )
    axes = [grid[d].ravel()[sl[d]] for d in range(3)]
    out = np.zeros(allowed.shape, dtype=np.uint8)
    if min(a.size for a in axes) == 0:
        return out, curve.astype(np.float32)
    best = np.full((axes[0].size, axes[1].size, axes[2].size), np.inf, dtype=np.float32)
    nearest = np.zeros(best.shape, dtype=np.int16)
    for k, (point, r) in enumerate(zip(curve, radius, strict=True)):
        d2 = (axes[0] - point[0])[:, None, None] ** 2 + (axes[1] - point[1])[None, :, None] ** 2
        d2 = (d2 + (axes[2] - point[2])[None, None, :] ** 2) / np.float32(r * r)  # radius-normalised
        closer = d2 < best
        best[closer] = d2[closer]
        nearest[closer] = k
    part = np.where(t[nearest] < cuts[0], 9, np.where(t[nearest] < cuts[1], 10, 11)).astype(np.uint8)
    piece = np.where(best <= 1.0, part, 0)
    out[sl] = piece
    out[~allowed] = 0
    return out, curve.astype(np.float32)


def _liver_segments(
    liver: np.ndarray,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    ivc: tuple[float, float],
    caudate: np.ndarray,
    scale: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Split a liver mask into Couinaud-like segments 1-8 (uint8 map, 0 outside the liver).

    Hepatic-vein planes are rays from the IVC in the axial plane (angle from patient right towards
    anterior): < ~35° right posterior (7/6), < ~75° right anterior (8/5), < ~110° left medial (4),
    else left lateral (2/3); the portal plane (median liver height) splits superior 7/8/2 from inferior
    6/5/3; the caudate (1) sits left-anterior of the IVC.
    """
    x, y, z = grid
    ang = np.degrees(np.arctan2((y - ivc[1]) / scale[1], (x - ivc[0]) / scale[0]))
    ang = np.broadcast_to(ang, liver.shape)
    zz = np.broadcast_to(z, liver.shape)
    z_split = float(np.median(zz[liver])) + rng.normal(0.0, 3.0) if liver.any() else 0.0
    a1, a2, a3 = 35 + rng.normal(0, 4), 75 + rng.normal(0, 4), 110 + rng.normal(0, 4)
    sup = zz >= z_split
    seg = np.zeros(liver.shape, dtype=np.uint8)
    right_post = (ang < a1) & (ang > -100)
    right_ant = (ang >= a1) & (ang < a2)
    left_med = (ang >= a2) & (ang < a3)
    left_lat = ~(right_post | right_ant | left_med)
    seg[right_post] = np.where(sup[right_post], 7, 6)
    seg[right_ant] = np.where(sup[right_ant], 8, 5)
    seg[left_med] = 4
    seg[left_lat] = np.where(sup[left_lat], 2, 3)
    seg[caudate] = 1
    seg[~liver] = 0
    return seg


def build_anatomy(
    rng: np.random.Generator, shape: tuple[int, int, int], spacing: tuple[float, ...]
) -> Anatomy:
    """Draw one abdomen (per-case jitter of body size, organ positions, sizes and tilts).

    Args:
        rng: the case's random generator (the only source of randomness).
        shape: ``(X, Y, Z)`` voxels. spacing: ``(sx, sy, sz)`` mm.
    """
    xs, ys, zs = (
        ((np.arange(n) - (n - 1) / 2.0) * sp).astype(np.float32) for n, sp in zip(shape, spacing, strict=True)
    )
    grid = (xs[:, None, None], ys[None, :, None], zs[None, None, :])
    hx, hy, hz = (n * sp / 2.0 for n, sp in zip(shape, spacing, strict=True))
    bx, by = hx * rng.uniform(0.84, 0.95), hy * rng.uniform(0.62, 0.74)
    s = (bx + by) / 2.0

    def at(px: float, py: float, pz: float, jit: float = 0.03) -> tuple[float, float, float]:
        return (
            (px + rng.normal(0, jit)) * bx,
            (py + rng.normal(0, jit)) * by,
            (pz + rng.normal(0, jit)) * hz,
        )

    def size(sx_: float, sy_: float, sz_: float) -> tuple[float, float, float]:
        f = rng.uniform(0.9, 1.1, size=3)
        return (sx_ * bx * f[0], sy_ * by * f[1], sz_ * hz * f[2])

    x, y, z = grid
    taper = 1.0 + 0.05 * z / hz
    full = np.ones(shape, dtype=bool)
    body = full & ((x / (bx * taper)) ** 2 + (y / (by * taper)) ** 2 <= 1.0)
    fat_mm, mus_mm = rng.uniform(6, 16), rng.uniform(5, 9)
    inner = full & ((x / (bx * taper - fat_mm)) ** 2 + (y / (by * taper - fat_mm)) ** 2 <= 1.0)
    cav_x, cav_y = bx * taper - fat_mm - mus_mm, by * taper - fat_mm - mus_mm
    cavity = full & ((x / cav_x) ** 2 + (y / cav_y) ** 2 <= 1.0)

    tissue = np.zeros(shape, dtype=np.uint8)
    tissue[body] = Tissue.SUBCUT
    tissue[inner] = Tissue.MUSCLE
    tissue[cavity] = Tissue.FAT
    bowel_field = smooth_field(rng, shape, factor=6)
    bowel = cavity & (bowel_field > 0.3)
    tissue[bowel] = Tissue.BOWEL
    tissue[bowel & (bowel_field > 2.0)] = Tissue.GAS
    for side in (-1.0, 1.0):
        tissue[_ellipsoid(grid, (side * 0.2 * bx, -0.8 * by, 0.0), (0.13 * bx, 0.11 * by, 1e6))] = (
            Tissue.MUSCLE
        )
    vb_c = (0.0, -0.6 * by, 0.0)
    tissue[_ellipsoid(grid, vb_c, (0.16 * s, 0.14 * s, 1e6))] = Tissue.BONE
    tissue[_ellipsoid(grid, (0.0, -0.6 * by - 0.2 * s, 0.0), (0.06 * s, 0.06 * s, 1e6))] = Tissue.CANAL
    aorta_c = (-0.08 * bx, -0.6 * by + 0.23 * s, 0.0)
    tissue[_ellipsoid(grid, aorta_c, (0.09 * s, 0.09 * s, 1e6))] = Tissue.AORTA
    ivc = (0.15 * bx + rng.normal(0, 2), -0.32 * by + rng.normal(0, 2))
    tissue[_ellipsoid(grid, (ivc[0], ivc[1], 0.0), (0.1 * s, 0.08 * s, 1e6))] = Tissue.IVC

    free = cavity & np.isin(tissue, (Tissue.FAT, Tissue.BOWEL, Tissue.GAS))
    labels = np.zeros(shape, dtype=np.uint8)

    def paint(mask: np.ndarray, value: int | np.ndarray) -> None:
        where = mask & free & (labels == 0)
        labels[where] = value if isinstance(value, int) else value[where]

    # Kidneys: right (label 13, +x) a little lower than left (label 12, -x); long axis ~ superior.
    paint(_ellipsoid(grid, at(0.45, -0.48, -0.38), size(0.19, 0.2, 0.45), _tilt(rng, 12)), 13)
    paint(_ellipsoid(grid, at(-0.45, -0.48, -0.28), size(0.19, 0.2, 0.45), _tilt(rng, 12)), 12)
    paint(_ellipsoid(grid, at(-0.62, -0.3, 0.4), size(0.19, 0.3, 0.42), _tilt(rng, 20)), SPLEEN_LABEL)
    ctrl = np.array(
        [at(0.22, -0.08, -0.32), at(0.04, 0.06, -0.24), at(-0.22, 0.02, -0.16), at(-0.5, -0.22, -0.06)]
    )
    radii = np.array([0.15, 0.09, 0.1, 0.09]) * s * rng.uniform(0.9, 1.1)
    cuts = (0.3 + rng.normal(0, 0.02), 0.66 + rng.normal(0, 0.02))
    pancreas, curve = _pancreas(grid, free & (labels == 0), ctrl, radii, cuts)
    paint(_ellipsoid(grid, at(0.2, -0.14, -0.42), size(0.09, 0.08, 0.12)), 9)  # uncinate bulge
    paint(pancreas > 0, pancreas)

    has_gb = bool(rng.random() < 0.85)
    if has_gb:
        gb = _ellipsoid(grid, at(0.3, 0.55, 0.05), size(0.09, 0.1, 0.14)) & free & (labels == 0)
        tissue[gb] = Tissue.GALLBLADDER
        free &= ~gb
    liver = _ellipsoid(grid, at(0.38, 0.0, 0.45), size(0.6, 0.72, 0.52), _tilt(rng, 8))
    liver |= _ellipsoid(grid, at(-0.2, 0.3, 0.6), size(0.42, 0.33, 0.28), _tilt(rng, 8))
    liver &= free & (labels == 0)
    caudate = _ellipsoid(grid, (ivc[0] - 0.1 * bx, ivc[1] + 0.16 * by, 0.45 * hz), size(0.1, 0.1, 0.22))
    labels[liver] = _liver_segments(liver, grid, ivc, caudate, (bx, by), rng)[liver]
    tissue[labels > 0] = Tissue.ORGAN

    affine = np.diag([*map(float, spacing), 1.0])
    affine[:3, 3] = [float(xs[0]), float(ys[0]), float(zs[0])]
    return Anatomy(
        labels=labels,
        tissue=tissue,
        axes_mm=(xs, ys, zs),
        affine=affine,
        pancreas_curve=curve,
        has_gallbladder=has_gb,
    )
