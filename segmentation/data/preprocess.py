"""Load, orient (RAS), resample, normalise and pad one case with MONAI transforms; cache the result.

The preprocessed arrays go to ``cache_dir/<case_id>-<key>.npz`` (uncompressed; ``key`` hashes the
source files' paths, sizes and mtimes and the preprocessing options), written atomically so that
several workers / ranks may race. Later epochs and runs read the cache instead of re-reading and
resampling NIfTIs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nibabel as nib
import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, Orientationd, ScaleIntensityRanged, Spacingd, SpatialPadd
from pydantic import BaseModel, ConfigDict

from segmentation.data.fallback import subsegment_fallback
from segmentation.data.manifest import CaseRecord, LabelMap

__all__ = ["PreparedCase", "PreprocessConfig", "load_nifti", "prepare_case"]

logger = logging.getLogger(__name__)
CACHE_VERSION = 1


class PreprocessConfig(BaseModel):
    """How volumes are brought to the network's grid.

    Attributes:
        spacing: target voxel size (mm) along RAS x, y, z; ``None`` keeps each case's own spacing.
        intensity_range: HU window clipped and scaled to [0, 1].
        normalize: ``"window"`` keeps the window's [0, 1]; ``"organ_zscore"`` then subtracts the mean
            and divides by the standard deviation of the case's voxels inside its organ masks
            (nnU-Net-style z-score, on the organs rather than the whole body). One unit is then the
            case's own within-organ spread (~30 HU on the phantom) instead of the window's 450 HU, and
            each case's enhancement level is taken out.
        min_shape: volumes are padded (background 0) to at least this shape (the crop size).
        subsegment_fallback: derive APPROXIMATE pancreas / kidney sub-segments from whole-organ labels
            (:mod:`segmentation.data.fallback`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    spacing: tuple[float, float, float] | None = None
    intensity_range: tuple[float, float] = (-175.0, 275.0)
    normalize: Literal["window", "organ_zscore"] = "window"
    min_shape: tuple[int, int, int] = (0, 0, 0)
    subsegment_fallback: bool = True


@dataclass
class PreparedCase:
    """One case on the network's grid (RAS, configured spacing).

    Attributes:
        image: ``(1, H, W, D)`` float32 in [0, 1] (``normalize="window"``) or organ z-scores.
        organs: ``(H, W, D)`` int16 organ label map; ``organ_names`` maps its values to names.
        tumors: ``(H, W, D)`` uint8 tumor label map (values per the label map's "tumors") or ``None``.
        affine: 4x4 voxel → world (mm) of the preprocessed grid.
        spacing: voxel size (mm).
        source_affine, source_shape: the original image grid (to write predictions back).
        approximate: sub-segment names made by the geometric fallback.
    """

    case_id: str
    image: np.ndarray
    organs: np.ndarray
    organ_names: dict[int, str]
    tumors: np.ndarray | None
    affine: np.ndarray
    spacing: tuple[float, float, float]
    source_affine: np.ndarray
    source_shape: tuple[int, int, int]
    approximate: list[str] = field(default_factory=list)

    def masks(self) -> dict[str, np.ndarray]:
        """``{structure name: (H, W, D) bool}`` for :func:`~segmentation.targets.build_report_target`."""
        out: dict[str, np.ndarray] = {}
        for value, name in self.organ_names.items():
            mask = self.organs == value
            if mask.any():
                out[name] = out[name] | mask if name in out else mask
        return out

    def organ_mask(self, organ: str) -> np.ndarray | None:
        """``(H, W, D)`` bool union of the structures named ``organ`` or ``organ_*`` (``None``: none)."""
        values = self._structure_values(organ)
        return np.isin(self.organs, values) if values else None

    def _structure_values(self, organ: str) -> list[int]:
        return [v for v, n in self.organ_names.items() if n == organ or n.startswith(organ + "_")]

    def network_input(
        self, organs: tuple[str, ...] = (), box: tuple[slice, slice, slice] | None = None
    ) -> np.ndarray:
        """``(1 + K, h, w, d)`` float32: the CT (window [0, 1] or organ z-scores, per ``normalize``), then
        one 0/1 mask per organ of ``organs``.

        ``box`` crops the spatial axes (default: the whole volume). With ``organs`` empty this is
        :attr:`image` (cropped). An organ without a mask in this case gives a zero channel.
        """
        box = box or (slice(None),) * 3
        image = self.image[(slice(None), *box)]
        if not organs:
            return image
        labels = self.organs[box]
        channels = [image[0]]
        for organ in organs:
            channels.append(np.isin(labels, self._structure_values(organ)).astype(np.float32))
        return np.stack(channels)

    def tumor_channels(self, channels: tuple[str, ...], labels: LabelMap) -> np.ndarray:
        """``(C, H, W, D)`` float32 0/1 tumor masks of the lesion channels (zeros without a mask)."""
        out = np.zeros((len(channels), *self.organs.shape), dtype=np.float32)
        if self.tumors is not None:
            for c, organ in enumerate(channels):
                value = labels.tumor_value(organ)
                if value is not None:
                    out[c] = self.tumors == value
        return out


def load_nifti(path: Path) -> MetaTensor:
    """``(1, H, W, D)`` MetaTensor with the file's affine (array order as stored)."""
    img = nib.load(str(path))
    data = np.asarray(img.dataobj)
    return MetaTensor(torch.from_numpy(np.ascontiguousarray(data))[None], affine=torch.as_tensor(img.affine))


def _organ_labels(case: CaseRecord, labels: LabelMap) -> tuple[MetaTensor, dict[int, str]]:
    if not case.organ_mask.is_dir():
        meta = load_nifti(case.organ_mask)
        return MetaTensor(meta.as_tensor().to(torch.int16), affine=meta.affine), dict(labels.organs)
    by_name = {n: v for v, n in labels.organs.items()}
    out: MetaTensor | None = None
    for path in sorted(case.organ_mask.glob("*.nii.gz")):
        name = path.name.removesuffix(".nii.gz")
        part = load_nifti(path)
        if out is None:
            out = MetaTensor(torch.zeros(part.shape, dtype=torch.int16), affine=part.affine)
        out[part.as_tensor() > 0] = by_name[name]
    if out is None:
        raise ValueError(f"case {case.case_id}: organ mask folder {case.organ_mask} holds no .nii.gz files.")
    return out, dict(labels.organs)


def _cache_key(case: CaseRecord, cfg: PreprocessConfig, labels: LabelMap) -> str:
    paths = [case.image, case.organ_mask, case.tumor_mask]
    stats = []
    for p in paths:
        if p is None:
            continue
        files = sorted(p.glob("*.nii.gz")) if p.is_dir() else [p]
        stats += [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    blob = json.dumps([CACHE_VERSION, stats, cfg.model_dump(mode="json"), sorted(labels.organs.items())])
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def _compute(case: CaseRecord, labels: LabelMap, cfg: PreprocessConfig) -> PreparedCase:
    image = load_nifti(case.image)
    source_affine = image.affine.numpy().astype(np.float64)
    source_shape = tuple(int(s) for s in image.shape[1:])
    organs, names = _organ_labels(case, labels)
    data = {"image": MetaTensor(image.as_tensor().float(), affine=image.affine), "organs": organs}
    if case.tumor_mask is not None:
        tumors = load_nifti(case.tumor_mask)
        data["tumors"] = MetaTensor(tumors.as_tensor().to(torch.int16), affine=tumors.affine)
    keys = list(data)
    lo, hi = cfg.intensity_range
    transforms: list = [Orientationd(keys=keys, axcodes="RAS", labels=(("L", "R"), ("P", "A"), ("I", "S")))]
    if cfg.spacing is not None:
        modes = ["bilinear" if k == "image" else "nearest" for k in keys]
        transforms.append(Spacingd(keys=keys, pixdim=cfg.spacing, mode=modes))
    transforms.append(ScaleIntensityRanged(keys="image", a_min=lo, a_max=hi, b_min=0.0, b_max=1.0, clip=True))
    if any(cfg.min_shape):
        transforms.append(SpatialPadd(keys=keys, spatial_size=cfg.min_shape, method="symmetric"))
    out = Compose(transforms)(data)
    affine = out["image"].affine.numpy().astype(np.float64)
    spacing = tuple(round(float(s), 6) for s in np.linalg.norm(affine[:3, :3], axis=0))
    organ_map = out["organs"].as_tensor().round().to(torch.int16).numpy()[0]
    img = out["image"].as_tensor().float().numpy()
    approximate: list[str] = []
    if cfg.subsegment_fallback:
        organ_map, names, approximate = subsegment_fallback(organ_map, names, spacing, body=img[0] > 0.05)
    if cfg.normalize == "organ_zscore":
        if np.count_nonzero(organ_map) < 2:
            raise ValueError(
                f"case {case.case_id}: preprocess.normalize 'organ_zscore' needs organ masks, and this "
                "case has no organ voxel; give it its organ masks or use normalize 'window'."
            )
        img = _organ_zscore(img, organ_map > 0)
    tumors_arr = out["tumors"].as_tensor().round().numpy()[0].astype(np.uint8) if "tumors" in out else None
    return PreparedCase(
        case_id=case.case_id,
        image=img.astype(np.float32),
        organs=organ_map.astype(np.int16),
        organ_names=names,
        tumors=tumors_arr,
        affine=affine,
        spacing=spacing,  # type: ignore[arg-type]
        source_affine=source_affine,
        source_shape=source_shape,  # type: ignore[arg-type]
        approximate=approximate,
    )


def _organ_zscore(image: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``(1, H, W, D)`` image minus its mean over ``inside`` ``(H, W, D)``, over its std there."""
    values = image[0][inside]
    return (image - values.mean()) / max(float(values.std()), 1e-3)


def _save(path: Path, case: PreparedCase) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    meta = {
        "case_id": case.case_id,
        "organ_names": {str(k): v for k, v in case.organ_names.items()},
        "spacing": case.spacing,
        "source_shape": case.source_shape,
        "approximate": case.approximate,
    }
    arrays = {
        "image": case.image,
        "organs": case.organs,
        "affine": case.affine,
        "source_affine": case.source_affine,
    }
    if case.tumors is not None:
        arrays["tumors"] = case.tumors
    np.savez(tmp, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    os.replace(tmp, path)


def _load(path: Path) -> PreparedCase:
    with np.load(path) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        return PreparedCase(
            case_id=meta["case_id"],
            image=z["image"],
            organs=z["organs"],
            organ_names={int(k): v for k, v in meta["organ_names"].items()},
            tumors=z["tumors"] if "tumors" in z.files else None,
            affine=z["affine"],
            spacing=tuple(meta["spacing"]),  # type: ignore[arg-type]
            source_affine=z["source_affine"],
            source_shape=tuple(meta["source_shape"]),  # type: ignore[arg-type]
            approximate=list(meta["approximate"]),
        )


def prepare_case(
    case: CaseRecord, labels: LabelMap, cfg: PreprocessConfig, cache_dir: Path | None = None
) -> PreparedCase:
    """Preprocess ``case`` (or read it from ``cache_dir``); see :class:`PreparedCase`."""
    if cache_dir is None:
        return _compute(case, labels, cfg)
    path = Path(cache_dir) / f"{case.case_id}-{_cache_key(case, cfg, labels)}.npz"
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError) as e:  # a torn / stale file: recompute
            logger.warning("cache file %s unreadable (%s); recomputing", path, e)
    prepared = _compute(case, labels, cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(path, prepared)
    return prepared
