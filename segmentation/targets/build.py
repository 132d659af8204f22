"""Building report targets: where report facts become tensors.

A report case carries, per organ, facts extracted from its radiology report (lesion status, count,
diameters, sub-segments). Together with the case's organ / sub-segment masks and voxel spacing they
become, per lesion channel (channel ``c`` = tumor of organ ``channels[c]``):

- ``unknown`` U: voxels whose per-voxel truth is unknown, excluded from the negative (mask) losses;
- the segment regions S of the measured lesions, stored as exact distance maps (mm) so that the
  losses can dilate them by any radius up to ``max_distance_mm`` (anisotropic spacing included);
- the lesion list (completed diameters, expected volume in voxels of *this* spacing) for the Ball
  Loss, and the summed expected volume for the Volume Loss when it is known.

Semantics (R-Super, Bassi et al., MICCAI 2025; ``docs/METHOD.md`` sections 1 and 6):

- ``normal`` and ``absent`` organs are known negatives (nothing unknown, no target).
- ``not_mentioned`` organs are *unknown*, not negative: the whole organ is masked. This is the
  conservative choice (reports often omit small incidental findings); it costs negative supervision
  inside unmentioned organs, never a wrong label.
- A lesion without location makes the whole organ unknown; a lesion without size still makes its
  region unknown but gives no volume. A count that is ``multiple`` or larger than the number of listed
  lesions means unlisted lesions anywhere in the organ: the organ is unknown and no volume target is
  given (the measured lesions still feed the Ball Loss).
- A volume target exists only when every lesion that can lie in S is measured.
- Lesions of organs that are not lesion channels mask their organ in *every* channel (they are never
  treated as negatives of a trained class) unless ``mask_untrained_lesion_organs=False``.
- A channel organ with lesions but no mask in the crop is unknown everywhere in that channel.
- Per-side statuses of a paired organ (``OrganFact.left`` / ``right``) are used when the case has
  per-side masks ``"<organ>_left"`` and ``"<organ>_right"``: a ``normal`` or ``absent`` side is a known
  negative (an absent side has no tissue to hold a lesion), so a lesion whose side is not given is
  restricted to the other side(s) (its region, and the organ-wide unknown region of an open count,
  leave the negative side out); in a ``normal`` / ``absent`` organ a side that is not stated is
  unknown (e.g. "left kidney unremarkable" says nothing of the right one). Without per-side masks the
  organ-level status decides, as before.

Everything here runs on CPU (numpy / scipy) when a case is loaded; the losses only read the result.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy.ndimage import distance_transform_edt

from segmentation.geometry import complete_diameters_mm, ellipsoid_volume_mm3, validate_spacing
from segmentation.targets.facts import LesionFact, OrganFact, OrganStatus
from segmentation.targets.tensors import (
    DISTANCE_STEP_MM,
    FAR,
    Box,
    ChannelTarget,
    LesionTarget,
    ReportTarget,
    quantise_distance,
)

__all__ = ["SUBSEGMENT_FALLBACKS", "build_report_target"]

logger = logging.getLogger(__name__)

MaskLike = np.ndarray | torch.Tensor

#: Fine labels whose mask is often missing, mapped to the coarser mask that contains them.
SUBSEGMENT_FALLBACKS: dict[str, str] = {
    "pancreas_neck": "pancreas_head",
    "pancreas_uncinate": "pancreas_head",
}


def _as_bool_array(name: str, mask: MaskLike) -> np.ndarray:
    array = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if array.ndim != 3:
        raise ValueError(f"masks[{name!r}] must be a 3D (H, W, D) array, got shape {array.shape}.")
    return array.astype(bool, copy=False)


def _bbox(mask: np.ndarray) -> Box | None:
    box = []
    for axis in range(mask.ndim):
        others = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=others))
        if hits.size == 0:
            return None
        box.append((int(hits[0]), int(hits[-1]) + 1))
    return tuple(box)  # type: ignore[return-value]


def _padded_box(
    box: Box, pad_mm: float, spacing: tuple[float, float, float], shape: Sequence[int]
) -> tuple[slice, ...]:
    pads = [math.ceil(pad_mm / s) + 1 for s in spacing]
    return tuple(
        slice(max(lo - p, 0), min(hi + p, n)) for (lo, hi), p, n in zip(box, pads, shape, strict=True)
    )


def _distance_mm(region: np.ndarray, spacing: tuple[float, float, float], max_mm: float) -> np.ndarray:
    """Exact distance (mm) to ``region`` up to ``max_mm`` (``inf`` beyond), computed in a padded box."""
    out = np.full(region.shape, np.inf, dtype=np.float32)
    box = _bbox(region)
    if box is None:
        return out
    sub = _padded_box(box, max_mm, spacing, region.shape)
    dist = distance_transform_edt(~region[sub], sampling=spacing).astype(np.float32)
    dist[dist > max_mm] = np.inf
    out[sub] = dist
    return out


#: Largest number of shifted ORs :func:`_dilate` spends before falling back to a distance transform.
_MAX_DILATION_SHIFTS = 400


def _ball_rows(spacing: tuple[float, float, float], radius_mm: float) -> dict[tuple[int, int], int]:
    """``{(o0, o1): e}``: the voxel offsets ``(o0, o1, o2)``, ``|o2| <= e``, within ``radius_mm``.

    Distances are evaluated exactly as :func:`_distance_mm` does (float64 sum of squared mm offsets,
    square root, float32, ``<= radius_mm``), so a union of shifts reproduces ``distance <= radius``.
    """
    half = [math.floor(radius_mm / s) + 1 for s in spacing]
    rows: dict[tuple[int, int], int] = {}
    for o0 in range(-half[0], half[0] + 1):
        for o1 in range(-half[1], half[1] + 1):
            o2 = np.arange(0, half[2] + 1, dtype=np.float64)
            d2 = (
                (np.float64(o0) * spacing[0]) ** 2
                + (np.float64(o1) * spacing[1]) ** 2
                + (o2 * spacing[2]) ** 2
            )
            inside = np.sqrt(d2).astype(np.float32) <= radius_mm
            if inside[0]:
                rows[(o0, o1)] = int(np.flatnonzero(inside)[-1])  # distances grow with |o2|
    return rows


def _shift_or(out: np.ndarray, src: np.ndarray, offset: Sequence[int]) -> None:
    """``out[x] |= src[x - offset]`` where both are inside the array, in place."""
    dst_sl, src_sl = [], []
    for o, n in zip(offset, src.shape, strict=True):
        dst_sl.append(slice(max(o, 0), n + min(o, 0)))
        src_sl.append(slice(max(-o, 0), n - max(o, 0)))
    out[tuple(dst_sl)] |= src[tuple(src_sl)]


def _dilate(mask: np.ndarray, spacing: tuple[float, float, float], radius_mm: float) -> np.ndarray:
    """``distance(mask) <= radius_mm`` (exact, anisotropic), without a distance transform when small.

    Small radii use the union of the mask shifted by every voxel offset of the ball (rows along the
    last axis share one 1D dilation), inside the mask's bounding box padded by the radius.
    """
    if radius_mm <= 0 or not mask.any():
        return mask.copy()
    rows = _ball_rows(spacing, radius_mm)
    extents = sorted(set(rows.values()))
    if len(rows) + 2 * extents[-1] > _MAX_DILATION_SHIFTS:
        return _distance_mm(mask, spacing, radius_mm) <= radius_mm
    box = _bbox(mask)
    assert box is not None
    sub = _padded_box(box, radius_mm, spacing, mask.shape)
    src = mask[sub]
    lines = {0: src}
    line = src
    for e in range(1, extents[-1] + 1):  # 1D dilations along the last axis, |o2| <= e
        line = line.copy()
        _shift_or(line, src, (0, 0, e))
        _shift_or(line, src, (0, 0, -e))
        lines[e] = line
    grown = np.zeros_like(src)
    for (o0, o1), e in rows.items():
        _shift_or(grown, lines[e], (o0, o1, 0))
    out = np.zeros_like(mask)
    out[sub] = grown
    return out


class _MaskLookup:
    """Resolves organ and sub-segment labels to boolean masks, with documented fallbacks."""

    def __init__(self, masks: Mapping[str, MaskLike]) -> None:
        if not masks:
            raise ValueError(
                "masks must hold at least one organ or sub-segment mask; use ReportTarget.empty(...)."
            )
        self.masks = {k: _as_bool_array(k, v) for k, v in masks.items()}
        shapes = {m.shape for m in self.masks.values()}
        if len(shapes) != 1:
            raise ValueError(f"all masks must share one (H, W, D) shape, got {sorted(shapes)}.")
        self.shape: tuple[int, int, int] = shapes.pop()

    def organ(self, organ: str) -> np.ndarray | None:
        """The organ mask, else the union of its ``"<organ>_*"`` sub-segments, else ``None``."""
        if organ in self.masks:
            return self.masks[organ]
        parts = [m for k, m in self.masks.items() if k.startswith(organ + "_")]
        return np.logical_or.reduce(parts) if parts else None

    def region(self, lesion: LesionFact) -> tuple[np.ndarray | None, tuple[str, ...]]:
        """Mask of the lesion's sub-segments (whole organ when unlocated or a label is missing)."""
        labels: list[str] = []
        for label in lesion.subsegments:
            resolved = label if label in self.masks else SUBSEGMENT_FALLBACKS.get(label, "")
            if resolved not in self.masks:
                logger.debug("no mask for sub-segment %r: using the whole %s", label, lesion.organ)
                labels = []
                break
            labels.append(resolved)
        if labels:
            key = tuple(sorted(set(labels)))
            return np.logical_or.reduce([self.masks[k] for k in key]), key
        return self.organ(lesion.organ), (lesion.organ,)


def build_report_target(
    lesions: Sequence[LesionFact],
    organs: Sequence[OrganFact],
    masks: Mapping[str, MaskLike],
    spacing: Sequence[float],
    channels: Sequence[str] = ("liver", "pancreas", "kidney"),
    *,
    unknown_margin_mm: float = 2.0,
    max_distance_mm: float = 30.0,
    mask_untrained_lesion_organs: bool = True,
) -> ReportTarget:
    """Turn one case's report facts into per-channel report targets.

    Args:
        lesions: the reported lesions (any organs).
        organs: per-organ status; a channel organ without an :class:`OrganFact` is ``lesion`` when it
            has lesions, else ``not_mentioned``.
        masks: ``{label: (H, W, D) bool array or tensor}`` for organs (``"liver"``) and sub-segments
            (``"liver_segment_5"``, ``"pancreas_head"``, ``"kidney_left"``); all of one shape. A missing
            organ mask is the union of its ``"<organ>_*"`` sub-segments.
        spacing: voxel size in mm along H, W, D.
        channels: lesion channel organs, channel ``c`` = tumor of ``channels[c]``.
        unknown_margin_mm: dilation (mm) of unknown regions, covering lesions that cross mask borders.
        max_distance_mm: distance maps are exact up to this radius; the largest dilation the losses
            may ask for (``segment_dilation_mm``).
        mask_untrained_lesion_organs: mask organs with lesions outside ``channels`` in every channel.

    Returns:
        The case's :class:`ReportTarget` (CPU tensors).

    Raises:
        ValueError: on invalid spacing, channels, masks, margins or duplicate organ facts.
    """
    sp = validate_spacing(spacing)
    channels = tuple(channels)
    if not channels or len(set(channels)) != len(channels):
        raise ValueError(f"channels must be a non-empty sequence of distinct organ names, got {channels}.")
    for name, value in (("unknown_margin_mm", unknown_margin_mm), ("max_distance_mm", max_distance_mm)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value}.")
    if max_distance_mm > (FAR - 1) * DISTANCE_STEP_MM:
        raise ValueError(f"max_distance_mm must be <= {(FAR - 1) * DISTANCE_STEP_MM}, got {max_distance_mm}.")
    lookup = _MaskLookup(masks)
    facts: dict[str, OrganFact] = {}
    for fact in organs:
        if fact.organ in facts:
            raise ValueError(f"organs holds two facts for {fact.organ!r}; give one OrganFact per organ.")
        facts[fact.organ] = fact
    by_organ: dict[str, list[LesionFact]] = {}
    for lesion in lesions:
        by_organ.setdefault(lesion.organ, []).append(lesion)

    voxel_mm3 = math.prod(sp)
    unknown = np.zeros((len(channels), *lookup.shape), dtype=bool)
    targets: list[ChannelTarget] = []
    for c, organ in enumerate(channels):
        ct, unknown[c] = _channel_target(
            organ, by_organ.get(organ, []), facts.get(organ), lookup, sp, voxel_mm3, max_distance_mm
        )
        targets.append(ct)

    if mask_untrained_lesion_organs:
        untrained = {o for o in by_organ if o not in channels}
        untrained |= {o for o, f in facts.items() if o not in channels and f.status is OrganStatus.LESION}
        for organ in sorted(untrained):
            region = lookup.organ(organ)
            if region is None:
                logger.warning("lesion reported in %r, which has no mask: it cannot be masked out", organ)
                continue
            unknown |= region[None]

    for c in range(len(channels)):
        unknown[c] = _dilate(unknown[c], sp, unknown_margin_mm)
    return ReportTarget(
        channels=channels,
        spacing=sp,
        unknown=torch.from_numpy(unknown),
        channel_targets=tuple(targets),
        max_distance_mm=float(max_distance_mm),
    )


def _side_masks(
    organ: str, fact: OrganFact | None, lookup: _MaskLookup
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(known-negative sides, sides not stated)`` of an organ with per-side statuses and per-side
    masks (``"<organ>_left"``, ``"<organ>_right"``); None when either is missing."""
    if fact is None or (fact.left is None and fact.right is None):
        return None
    masks = [lookup.masks.get(f"{organ}_{side}") for side in ("left", "right")]
    if masks[0] is None or masks[1] is None:
        return None
    negative = np.zeros(lookup.shape, dtype=bool)
    unstated = np.zeros(lookup.shape, dtype=bool)
    for mask, status in zip(masks, (fact.left, fact.right), strict=True):
        if status in (OrganStatus.NORMAL, OrganStatus.ABSENT):
            negative |= mask
        elif status is None:
            unstated |= mask
    return negative, unstated


def _channel_target(
    organ: str,
    lesions: list[LesionFact],
    fact: OrganFact | None,
    lookup: _MaskLookup,
    spacing: tuple[float, float, float],
    voxel_mm3: float,
    max_distance_mm: float,
) -> tuple[ChannelTarget, np.ndarray]:
    """One channel's target and its (undilated) unknown region."""
    shape = lookup.shape
    no_target = ChannelTarget(organ=organ, region_distance=torch.zeros((0, *shape), dtype=torch.uint8))
    organ_mask = lookup.organ(organ)
    status = (
        fact.status if fact is not None else (OrganStatus.LESION if lesions else OrganStatus.NOT_MENTIONED)
    )
    if lesions and status is not OrganStatus.LESION:
        logger.warning(
            "%s has %d lesion(s) but status %r: treated as 'lesion'", organ, len(lesions), str(status)
        )
        status = OrganStatus.LESION
    sides = _side_masks(organ, fact, lookup)
    if status in (OrganStatus.NORMAL, OrganStatus.ABSENT):
        return no_target, (sides[1].copy() if sides is not None else np.zeros(shape, dtype=bool))
    if status is OrganStatus.NOT_MENTIONED:
        return no_target, (organ_mask.copy() if organ_mask is not None else np.zeros(shape, dtype=bool))
    if organ_mask is None:
        logger.warning("%s has reported lesions but no mask in this crop: channel unknown everywhere", organ)
        return no_target, np.ones(shape, dtype=bool)
    if sides is not None:  # the lesions lie outside the normal / absent side(s)
        organ_mask = organ_mask & ~sides[0]

    count = fact.count if fact is not None else None
    if count is not None and count < len(lesions):
        logger.warning("%s: count %d < %d listed lesions; using the listed ones", organ, count, len(lesions))
    complete = (
        bool(lesions)
        and not (fact is not None and fact.multiple)
        and (count is None or count <= len(lesions))
    )
    exclude = np.zeros(shape, dtype=bool) if complete else organ_mask.copy()
    unknown = exclude.copy()
    region_keys: dict[tuple[str, ...], int] = {}
    regions: list[np.ndarray] = []
    measured: list[tuple[LesionFact, int]] = []
    for lesion in lesions:
        region, key = lookup.region(lesion)
        region = organ_mask if region is None or key == (organ,) else region
        unknown |= region
        if lesion.diameters_mm is None:
            exclude |= region
            continue
        if key not in region_keys:
            region_keys[key] = len(regions)
            regions.append(region)
        measured.append((lesion, region_keys[key]))
    if not measured:
        return no_target, unknown
    if any(not regions[i].any() for _, i in measured):
        logger.debug("%s: a measured lesion's region is outside this crop; no report target", organ)
        return no_target, unknown

    segment = np.logical_or.reduce([regions[i] for i in sorted({r for _, r in measured})])
    same = [i for i, r in enumerate(regions) if np.array_equal(r, segment)]
    if same:
        volume_region = same[0]
    else:
        volume_region = len(regions)
        regions.append(segment)
    has_volume = complete and not (exclude & segment).any()
    lesion_targets = []
    for lesion, region_index in measured:
        diameters = complete_diameters_mm(lesion.diameters_mm or ())
        lesion_targets.append(
            LesionTarget(
                diameters_mm=diameters,
                volume_vox=ellipsoid_volume_mm3(diameters) / voxel_mm3,
                sphere_volume_vox=ellipsoid_volume_mm3((diameters[0],)) / voxel_mm3,
                region=region_index,
            )
        )
    distances = np.empty((len(regions), *shape), dtype=np.uint8)
    for i, r in enumerate(regions):
        if i == volume_region and not same:
            # S is the union of the other regions: its distance is their minimum (exact, no EDT)
            np.minimum.reduce(distances[:i], axis=0, out=distances[i])
        else:
            distances[i] = quantise_distance(_distance_mm(r, spacing, max_distance_mm))
    target = ChannelTarget(
        organ=organ,
        region_distance=torch.from_numpy(distances),
        region_boxes=tuple(_bbox(r) or ((0, 0), (0, 0), (0, 0)) for r in regions),
        region_voxels=tuple(int(r.sum()) for r in regions),
        exclude=torch.from_numpy(exclude) if exclude.any() else None,
        lesions=tuple(lesion_targets),
        volume_vox=sum(t.volume_vox for t in lesion_targets) if has_volume else None,
        volume_region=volume_region,
    )
    return target, unknown
