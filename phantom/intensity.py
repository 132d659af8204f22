"""CT-like rendering: HU per tissue and organ, lesion contrast, stones, blur, bias field and noise."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from phantom.anatomy import SPLEEN_LABEL, Anatomy, Tissue, smooth_field
from phantom.config import PhantomConfig
from phantom.lesions import LesionSpec, Stone

__all__ = ["render_ct"]

HU_MIN, HU_MAX = -1024, 3071


def _organ_hu(enh: float, steatosis: bool, rng: np.random.Generator) -> np.ndarray:
    """Mean HU per organ label (index = label value, 0 unused), float32 ``(15,)``."""
    hu = np.zeros(15, dtype=np.float32)
    liver = 55.0 + 55.0 * enh + rng.normal(0, 5)
    if steatosis:
        liver -= rng.uniform(45.0, 75.0)
    hu[1:9] = liver
    hu[9:12] = 45.0 + 55.0 * enh + rng.normal(0, 5)
    hu[12:14] = 40.0 + 130.0 * enh + rng.normal(0, 8)
    hu[SPLEEN_LABEL] = 50.0 + 70.0 * enh + rng.normal(0, 5)
    return hu


def render_ct(
    anatomy: Anatomy,
    lesions: list[LesionSpec],
    stone: Stone | None,
    steatosis: bool,
    rng: np.random.Generator,
    cfg: PhantomConfig,
) -> np.ndarray:
    """Render the CT volume.

    Returns:
        ``(X, Y, Z)`` int16 HU, clipped to [-1024, 3071].
    """
    shape = anatomy.labels.shape
    enh = float(rng.uniform(*cfg.enhancement_range))
    lut = np.zeros(len(Tissue), dtype=np.float32)
    lut[Tissue.AIR] = -1000.0
    lut[Tissue.FAT] = -95.0 + rng.normal(0, 8)
    lut[Tissue.SUBCUT] = -105.0 + rng.normal(0, 8)
    lut[Tissue.MUSCLE] = 50.0 + rng.normal(0, 5)
    lut[Tissue.BOWEL] = 30.0 + 25.0 * enh
    lut[Tissue.GAS] = -950.0
    lut[Tissue.BONE] = rng.uniform(300.0, 550.0)
    lut[Tissue.CANAL] = 15.0
    lut[Tissue.AORTA] = 40.0 + 170.0 * enh + rng.normal(0, 10)
    lut[Tissue.IVC] = 40.0 + 110.0 * enh + rng.normal(0, 10)
    lut[Tissue.GALLBLADDER] = rng.uniform(0.0, 15.0)
    img = lut[anatomy.tissue]
    organ = anatomy.labels > 0
    img[organ] = _organ_hu(enh, steatosis, rng)[anatomy.labels[organ]]
    img += (6.0 * smooth_field(rng, shape, factor=4)) * organ  # parenchymal texture

    for lesion in lesions:
        sub = img[lesion.blob.bbox]
        weight = np.clip((1.0 - lesion.blob.rho) / cfg.lesion_edge + 0.5, 0.0, 1.0)
        weight *= anatomy.tissue[lesion.blob.bbox] == Tissue.ORGAN
        sub += lesion.contrast_hu * weight
    if stone is not None:
        img[stone.blob.bbox][stone.blob.mask] = rng.uniform(400.0, 1000.0)

    if cfg.blur_sigma_vox > 0:
        img = ndimage.gaussian_filter(img, cfg.blur_sigma_vox, mode="nearest")
    body = anatomy.tissue != Tissue.AIR
    img += (cfg.bias_field_hu * rng.uniform(0.3, 1.0)) * smooth_field(rng, shape, factor=16) * body
    sigma = float(rng.uniform(*cfg.noise_sigma_hu))
    img += sigma * rng.standard_normal(size=shape, dtype=np.float32)
    return np.clip(np.rint(img), HU_MIN, HU_MAX).astype(np.int16)
