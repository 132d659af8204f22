"""Report-target containers: what :func:`segmentation.targets.build_report_target` produces.

The losses read these objects; they never see report facts. Tensors are CPU tensors until
:meth:`ReportTarget.to` moves them; metadata (boxes, volumes, diameters) stays on the host so that the
losses branch on it without device synchronisation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from segmentation.geometry import validate_spacing

__all__ = [
    "DISTANCE_STEP_MM",
    "FAR",
    "Box",
    "ChannelTarget",
    "LesionTarget",
    "ReportTarget",
    "quantise_distance",
]

Box = tuple[tuple[int, int], tuple[int, int], tuple[int, int]]

#: Resolution of stored distance maps (mm); dilations by multiples of it are exact.
DISTANCE_STEP_MM = 0.25
#: Stored value meaning "farther than ``max_distance_mm``".
FAR = 255


def quantise_distance(distance_mm: np.ndarray) -> np.ndarray:
    """Distances in mm (``inf`` = far) to uint8 steps of :data:`DISTANCE_STEP_MM`, rounded up."""
    steps = np.ceil(np.minimum(distance_mm, FAR * DISTANCE_STEP_MM) / DISTANCE_STEP_MM - 1e-6)
    return np.clip(steps, 0, FAR).astype(np.uint8)


@dataclass(frozen=True)
class LesionTarget:
    """A measured lesion as the Ball Loss sees it.

    Attributes:
        diameters_mm: the three ellipsoid diameters ``a >= b >= c`` in mm.
        volume_vox: expected volume in voxels of the case's spacing (ellipsoid).
        sphere_volume_vox: volume in voxels of a sphere of the largest diameter (REF's choice, Q1).
        region: index of the lesion's region in :attr:`ChannelTarget.region_distance`.
    """

    diameters_mm: tuple[float, float, float]
    volume_vox: float
    sphere_volume_vox: float
    region: int

    @property
    def max_diameter_mm(self) -> float:
        """Largest diameter in mm."""
        return self.diameters_mm[0]


@dataclass(frozen=True)
class ChannelTarget:
    """Report target of one lesion channel of one case.

    Attributes:
        organ: the channel's organ.
        region_distance: ``(R, H, W, D)`` uint8 distance to each region in steps of
            :data:`DISTANCE_STEP_MM`, rounded up (0 inside, 255 beyond ``max_distance_mm``); use
            :meth:`region_mask`. Region ``volume_region`` is S, the union of the measured lesions'
            regions; the others are the lesions' own regions.
        region_boxes: per region, the half-open bounding box ``((h0, h1), (w0, w1), (d0, d1))`` of its
            undilated voxels (CPU metadata, lets the losses work on sub-volumes without host syncs).
        region_voxels: per region, its undilated voxel count (detects regions clipped by a crop).
        exclude: ``(H, W, D)`` bool, voxels of unmeasured / unlisted lesions of this organ: removed
            from S' and never supervised as negatives by the Ball Loss. ``None`` when there are none.
        lesions: the measured lesions, in report order.
        volume_vox: expected volume in S (voxels), or ``None`` when there is no volume target.
        volume_region: index of S in ``region_distance`` (``None`` without measured lesions).
    """

    organ: str
    region_distance: torch.Tensor
    region_boxes: tuple[Box, ...] = ()
    region_voxels: tuple[int, ...] = ()
    exclude: torch.Tensor | None = None
    lesions: tuple[LesionTarget, ...] = ()
    volume_vox: float | None = None
    volume_region: int | None = None

    def region_mask(
        self, index: int, radius_mm: float = 0.0, box: Sequence[slice] | None = None
    ) -> torch.Tensor:
        """Region ``index`` dilated by ``radius_mm`` (exact for multiples of :data:`DISTANCE_STEP_MM`).

        Returns:
            ``(H, W, D)`` bool, or the ``box`` sub-volume of it; on the target's device, no host sync.
        """
        steps = min(math.floor(radius_mm / DISTANCE_STEP_MM + 1e-9), FAR - 1)
        key: tuple[int | slice, ...] = (index,) if box is None else (index, *box)
        dist = self.region_distance[key]
        return dist <= steps if radius_mm > 0 else dist == 0

    @property
    def has_volume_target(self) -> bool:
        """Whether the Volume Loss applies (all lesions that can lie in S are measured)."""
        return self.volume_vox is not None and self.volume_region is not None

    @property
    def has_lesions(self) -> bool:
        """Whether the Ball Loss applies (at least one measured lesion)."""
        return len(self.lesions) > 0

    @property
    def has_target(self) -> bool:
        """Whether any report loss applies to this channel."""
        return self.has_volume_target or self.has_lesions


@dataclass(frozen=True)
class ReportTarget:
    """All report targets of one case (crop).

    Attributes:
        channels: lesion channel organs; channel ``c`` is the tumor of ``channels[c]``.
        spacing: voxel size in mm along H, W, D.
        unknown: ``(C, H, W, D)`` bool, voxels with unknown truth (masked out of the mask losses).
        channel_targets: one :class:`ChannelTarget` per channel.
        max_distance_mm: distance maps are exact up to this radius (largest usable dilation).
    """

    channels: tuple[str, ...]
    spacing: tuple[float, float, float]
    unknown: torch.Tensor
    channel_targets: tuple[ChannelTarget, ...]
    max_distance_mm: float = 30.0

    @property
    def shape(self) -> tuple[int, int, int]:
        """Spatial shape ``(H, W, D)``."""
        h, w, d = self.unknown.shape[1:]
        return int(h), int(w), int(d)

    @property
    def voxel_volume_mm3(self) -> float:
        """Volume of one voxel in mm³."""
        return math.prod(self.spacing)

    @property
    def has_target(self) -> bool:
        """Whether any channel carries a report (Ball or Volume) target."""
        return any(t.has_target for t in self.channel_targets)

    @classmethod
    def empty(
        cls, shape: Sequence[int], channels: Sequence[str], spacing: Sequence[float] = (1.0, 1.0, 1.0)
    ) -> ReportTarget:
        """Target of a case with full truth (mask case, or report case with every organ normal)."""
        h, w, d = (int(s) for s in shape)
        return cls(
            channels=tuple(channels),
            spacing=validate_spacing(spacing),
            unknown=torch.zeros((len(channels), h, w, d), dtype=torch.bool),
            channel_targets=tuple(
                ChannelTarget(organ=o, region_distance=torch.zeros((0, h, w, d), dtype=torch.uint8))
                for o in channels
            ),
        )

    def to(self, device: torch.device | str, non_blocking: bool = True) -> ReportTarget:
        """Copy the tensors to ``device`` (metadata stays on the host)."""

        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device, non_blocking=non_blocking)

        return replace(
            self,
            unknown=self.unknown.to(device, non_blocking=non_blocking),
            channel_targets=tuple(
                replace(
                    ct,
                    region_distance=ct.region_distance.to(device, non_blocking=non_blocking),
                    exclude=move(ct.exclude),
                )
                for ct in self.channel_targets
            ),
        )

    def crop(self, slices: Sequence[slice]) -> ReportTarget:
        """Crop to ``slices`` (three ``slice`` objects with step 1); call it on CPU tensors.

        Distance maps stay exact (they were computed on the full volume). A channel whose S or lesion
        region is clipped by the crop loses its report targets (a lesion could lie outside the crop);
        its unknown region is kept.
        """
        if len(slices) != 3 or any(s.step not in (None, 1) for s in slices):
            raise ValueError(f"slices must be three slices with step 1, got {tuple(slices)}.")
        starts = [s.indices(n)[0] for s, n in zip(slices, self.shape, strict=True)]
        stops = [s.indices(n)[1] for s, n in zip(slices, self.shape, strict=True)]
        new_shape = [max(0, b - a) for a, b in zip(starts, stops, strict=True)]
        sl = tuple(slice(a, a + n) for a, n in zip(starts, new_shape, strict=True))
        out: list[ChannelTarget] = []
        for ct in self.channel_targets:
            dist = ct.region_distance[(slice(None), *sl)]
            kept = tuple(int((dist[r] == 0).sum()) for r in range(dist.shape[0]))
            if kept != ct.region_voxels:
                out.append(ChannelTarget(organ=ct.organ, region_distance=dist[:0]))
                continue
            boxes = tuple(_shift_box(box, starts, new_shape) for box in ct.region_boxes)
            exclude = None if ct.exclude is None else ct.exclude[sl]
            out.append(replace(ct, region_distance=dist, region_boxes=boxes, exclude=exclude))
        unknown = self.unknown[(slice(None), *sl)]
        return replace(self, unknown=unknown, channel_targets=tuple(out))


def _shift_box(box: Box, starts: Sequence[int], shape: Sequence[int]) -> Box:
    (h0, h1), (w0, w1), (d0, d1) = box
    return (
        (max(h0 - starts[0], 0), min(h1 - starts[0], shape[0])),
        (max(w0 - starts[1], 0), min(w1 - starts[1], shape[1])),
        (max(d0 - starts[2], 0), min(d1 - starts[2], shape[2])),
    )
