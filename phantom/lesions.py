"""Lesions (rotated ellipsoids inside liver, pancreas and kidneys) and non-lesion findings (renal stones).

A lesion is placed so that it lies mostly (>= 60 %) inside its organ, never overlaps bone, vessels, another
organ or another lesion, and stays inside the volume; voxels that bulge out of the organ (exophytic part)
are added to the organ, labelled with the nearest sub-segment, so **every tumor voxel lies inside its
organ mask**. Its reported diameters are the ellipsoid's true principal diameters ``2·semi-axes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from phantom.anatomy import (
    KIDNEY_LABELS,
    LIVER_LABELS,
    PANCREAS_LABELS,
    Anatomy,
    Tissue,
    rotation_matrix,
)
from phantom.config import PhantomConfig
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side

__all__ = ["TUMOR_LABELS", "Blob", "LesionSpec", "Stone", "place_lesions", "place_stone"]

TUMOR_LABELS: dict[Organ, int] = {Organ.LIVER: 1, Organ.PANCREAS: 2, Organ.KIDNEY: 3}
"""Tumor label value per organ in ``tumors.nii.gz`` (also written to ``labels.json``)."""

_HOST: dict[Organ, tuple[int, ...]] = {
    Organ.LIVER: LIVER_LABELS,
    Organ.PANCREAS: PANCREAS_LABELS,
    Organ.KIDNEY: KIDNEY_LABELS,
}
_FREE = (Tissue.FAT, Tissue.BOWEL, Tissue.GAS)
_MIN_FRACTION = 0.15


@dataclass
class Blob:
    """Voxels of one rendered object: a bounding box and a boolean mask inside it.

    Attributes:
        bbox: three slices into the ``(X, Y, Z)`` volume.
        mask: boolean array of the bbox's shape.
        rho: float32 normalised ellipsoid radius in the bbox (``<= 1`` inside), for soft edges.
    """

    bbox: tuple[slice, slice, slice]
    mask: np.ndarray
    rho: np.ndarray


@dataclass
class LesionSpec:
    """One ground-truth lesion (mask level).

    Attributes:
        organ: host organ. tumor_label: its value in ``tumors.nii.gz``.
        center_mm: RAS+ world centre (mm). diameters_mm: true principal diameters, largest first.
        contrast_hu: lesion minus organ attenuation (negative = hypo-attenuating).
        n_voxels: voxels in the tumor mask. blob: where it is.
        segments: organ label values holding >= 15 % of its voxels, largest share first.
        side / pole / pancreas_part: kidney side and pole, pancreas fine part (head, uncinate, neck,
            body, tail) of its centre.
    """

    organ: Organ
    tumor_label: int
    center_mm: tuple[float, float, float]
    diameters_mm: tuple[float, float, float]
    contrast_hu: float
    n_voxels: int
    blob: Blob = field(repr=False)
    segments: tuple[int, ...] = ()
    side: Side | None = None
    pole: KidneyPole | None = None
    pancreas_part: PancreasPart | None = None


@dataclass
class Stone:
    """A renal calculus (not a lesion): side, pole, diameter (mm) and its voxels."""

    side: Side
    pole: KidneyPole
    diameter_mm: float
    blob: Blob = field(repr=False)


def _draw_count(rng: np.random.Generator, max_n: int) -> int:
    weights = np.array([0.45] + [0.55 * 0.5**k for k in range(1, max_n + 1)])
    return int(rng.choice(max_n + 1, p=weights / weights.sum()))


def _ellipsoid_blob(
    anatomy: Anatomy, center_vox: np.ndarray, semi_mm: np.ndarray, rot: np.ndarray
) -> Blob | None:
    """The ellipsoid's voxels, or None when its bounding box leaves the volume."""
    spacing = np.diag(anatomy.affine)[:3]
    reach = np.ceil(semi_mm.max() / spacing).astype(int) + 1
    c = np.round(center_vox).astype(int)
    lo, hi = c - reach, c + reach + 1
    if (lo < 0).any() or (hi > np.array(anatomy.labels.shape)).any():
        return None
    off = [(np.arange(lo[d], hi[d]) - center_vox[d]) * spacing[d] for d in range(3)]
    dd = [off[0][:, None, None], off[1][None, :, None], off[2][None, None, :]]
    local = [rot[0, r] * dd[0] + rot[1, r] * dd[1] + rot[2, r] * dd[2] for r in range(3)]
    rho = np.sqrt(sum((local[r] / semi_mm[r]) ** 2 for r in range(3))).astype(np.float32)
    bbox = (slice(lo[0], hi[0]), slice(lo[1], hi[1]), slice(lo[2], hi[2]))
    return Blob(bbox=bbox, mask=rho <= 1.0, rho=rho)


def _pole(anatomy: Anatomy, label: int, z_mm: float) -> KidneyPole:
    zs = anatomy.axes_mm[2][np.flatnonzero((anatomy.labels == label).any(axis=(0, 1)))]
    if zs.size == 0:
        return KidneyPole.INTERPOLAR
    frac = (z_mm - float(zs.min())) / max(float(zs.max() - zs.min()), 1e-6)
    return (
        KidneyPole.LOWER_POLE
        if frac < 1 / 3
        else KidneyPole.INTERPOLAR
        if frac < 2 / 3
        else KidneyPole.UPPER_POLE
    )


def _pancreas_part(anatomy: Anatomy, segments: tuple[int, ...], center_mm: np.ndarray) -> PancreasPart:
    if {9, 10} <= set(segments):
        return PancreasPart.NECK
    main = {9: PancreasPart.HEAD, 10: PancreasPart.BODY, 11: PancreasPart.TAIL}[segments[0]]
    if main is PancreasPart.HEAD:
        head_z = anatomy.axes_mm[2][np.flatnonzero((anatomy.labels == 9).any(axis=(0, 1)))]
        if head_z.size and center_mm[2] < np.quantile(head_z, 0.3):
            return PancreasPart.UNCINATE
    return main


def _try_place(
    anatomy: Anatomy,
    organ: Organ,
    occupied: np.ndarray,
    edt: tuple[np.ndarray, np.ndarray],
    rng: np.random.Generator,
    d_max: float,
) -> LesionSpec | None:
    """One placement attempt of a lesion with largest diameter ``d_max`` mm (None when it does not fit)."""
    host = _HOST[organ]
    semi = np.sort(d_max / 2.0 * np.array([1.0, rng.uniform(0.6, 1.0), rng.uniform(0.55, 1.0)]))[::-1]
    candidates = np.argwhere(edt[0] >= 0.5 * semi[-1])
    if candidates.shape[0] == 0:
        return None
    center = candidates[rng.integers(candidates.shape[0])] + edt[1] + rng.uniform(-0.3, 0.3, size=3)
    blob = _ellipsoid_blob(anatomy, center, semi, rotation_matrix(rng))
    if blob is None or blob.mask.sum() < 2:
        return None
    lab = anatomy.labels[blob.bbox]
    tis = anatomy.tissue[blob.bbox]
    in_host = np.isin(lab, host) & blob.mask
    outside = blob.mask & ~in_host
    if in_host.sum() < 0.6 * blob.mask.sum() or occupied[blob.bbox][blob.mask].any():
        return None
    if (outside & ((lab > 0) | ~np.isin(tis, _FREE))).any():
        return None
    if outside.any():  # exophytic part joins the organ, labelled by the nearest sub-segment
        _, idx = ndimage.distance_transform_edt(~np.isin(lab, host), return_indices=True)
        lab[outside] = lab[idx[0][outside], idx[1][outside], idx[2][outside]]
        tis[outside] = Tissue.ORGAN
    values, counts = np.unique(lab[blob.mask], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    frac = counts[order] / counts.sum()
    segments = tuple(int(values[order][i]) for i in range(len(order)) if frac[i] >= _MIN_FRACTION)
    center_mm = anatomy.voxel_to_mm(center)
    spec = LesionSpec(
        organ=organ,
        tumor_label=TUMOR_LABELS[organ],
        center_mm=(float(center_mm[0]), float(center_mm[1]), float(center_mm[2])),
        diameters_mm=(float(2 * semi[0]), float(2 * semi[1]), float(2 * semi[2])),
        contrast_hu=0.0,
        n_voxels=int(blob.mask.sum()),
        blob=blob,
        segments=segments or (int(values[order][0]),),
    )
    if organ is Organ.KIDNEY:
        spec.side = Side.LEFT if spec.segments[0] == 12 else Side.RIGHT
        spec.segments = spec.segments[:1]
        spec.pole = _pole(anatomy, spec.segments[0], spec.center_mm[2])
    elif organ is Organ.PANCREAS:
        spec.pancreas_part = _pancreas_part(anatomy, spec.segments, center_mm)
    return spec


def _organ_edt(mask: np.ndarray, spacing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (mm) to the organ's outside on the organ's bounding box, and the box's voxel offset."""
    idx = np.argwhere(mask)
    if idx.shape[0] == 0:
        return np.zeros((0, 0, 0)), np.zeros(3, dtype=int)
    lo = np.maximum(idx.min(0) - 1, 0)
    hi = np.minimum(idx.max(0) + 2, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    return ndimage.distance_transform_edt(mask[box], sampling=spacing), lo


def _contrast(rng: np.random.Generator, cfg: PhantomConfig, organ: str) -> float:
    lo, hi = cfg.organ_contrast_hu.get(organ, cfg.lesion_contrast_hu)
    if rng.random() < cfg.subtle_fraction:
        hi = max(lo, min(hi, cfg.subtle_contrast_hu))
    magnitude = rng.uniform(lo, hi)
    return float(magnitude if rng.random() < cfg.hyper_fraction else -magnitude)


def place_lesions(
    anatomy: Anatomy, rng: np.random.Generator, cfg: PhantomConfig
) -> tuple[list[LesionSpec], np.ndarray]:
    """Draw the case's lesions and return them with the tumor label map.

    Mutates ``anatomy.labels`` / ``anatomy.tissue`` where lesions bulge out of their organ.

    Returns:
        (lesions in placement order, ``(X, Y, Z)`` uint8 tumor map: 1 liver, 2 pancreas, 3 kidney).
    """
    tumors = np.zeros(anatomy.labels.shape, dtype=np.uint8)
    if rng.random() < cfg.healthy_fraction:
        return [], tumors
    organs = (Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY)
    counts = {organ: _draw_count(rng, cfg.max_lesions_per_organ) for organ in organs}
    if not any(counts.values()):
        counts[organs[int(rng.integers(3))]] = 1
    spacing = np.diag(anatomy.affine)[:3]
    lo, hi = cfg.lesion_diameter_mm
    lesions: list[LesionSpec] = []
    occupied = np.zeros(anatomy.labels.shape, dtype=bool)
    for organ in organs:
        if counts[organ] == 0:
            continue
        edt = _organ_edt(np.isin(anatomy.labels, _HOST[organ]), spacing)
        for _ in range(counts[organ]):
            d_max = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            spec = None
            for attempt in range(24):
                spec = _try_place(anatomy, organ, occupied, edt, rng, d_max)
                if spec is not None:
                    break
                if attempt % 3 == 2:
                    d_max = max(lo, d_max * 0.8)
            if spec is None:
                continue
            spec.contrast_hu = _contrast(rng, cfg, organ.value)
            grown = ndimage.binary_dilation(spec.blob.mask, iterations=1)
            occupied[spec.blob.bbox] |= grown
            tumors[spec.blob.bbox][spec.blob.mask] = spec.tumor_label
            lesions.append(spec)
    return lesions, tumors


def place_stone(anatomy: Anatomy, tumors: np.ndarray, rng: np.random.Generator) -> Stone | None:
    """A 2-8 mm renal calculus inside a kidney, away from lesions (None when it does not fit)."""
    side = Side.LEFT if rng.random() < 0.5 else Side.RIGHT
    label = 12 if side is Side.LEFT else 13
    kidney = (anatomy.labels == label) & (tumors == 0)
    spacing = np.diag(anatomy.affine)[:3]
    diameter = float(rng.uniform(2.0, 8.0))
    inner = ndimage.binary_erosion(kidney, iterations=2)
    candidates = np.argwhere(inner)
    if candidates.shape[0] == 0:
        return None
    center = candidates[rng.integers(candidates.shape[0])].astype(float)
    semi = np.full(3, max(diameter / 2.0, 0.6 * float(spacing.min())))
    blob = _ellipsoid_blob(anatomy, center, semi, np.eye(3))
    if blob is None:
        return None
    blob.mask &= kidney[blob.bbox]
    z_mm = float(anatomy.voxel_to_mm(center)[2])
    return Stone(side=side, pole=_pole(anatomy, label, z_mm), diameter_mm=diameter, blob=blob)
