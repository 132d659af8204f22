"""Training samples: mixed mask / report crops with report targets, as a pure function of the index.

Sample ``i`` draws everything (case, crop, augmentation) from ``numpy.random.default_rng([seed, i])``;
the :class:`StepSampler` hands rank ``r`` of ``W`` the indices ``step * B * W + r * B + j`` of each
step. Hence resuming at step ``s`` replays exactly the batches an uninterrupted run would have seen
(no sampler / worker state to save) and ranks never see the same sample.

- mask cases: crop centred on a tumor voxel / an organ voxel / anywhere (``mask_crop_probs``);
  label = tumor masks of the lesion channels; no report target (all voxels known).
- report cases: with probability ``report_segment_crop_prob`` the crop contains the whole segment
  group S of one randomly chosen channel with a report target; otherwise (and for cases without report
  targets) a random crop whose report losses are switched off (its unknown region is kept).
  label = zeros; the report target is built once per case on the whole volume (exact distances) and
  cropped (:meth:`ReportTarget.crop`).
- the two kinds are mixed ``report_fraction`` / ``1 - report_fraction`` whatever the set sizes
  (the smaller set is oversampled).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch.utils.data import Dataset, Sampler

from segmentation.data.augment import apply_ops, draw_spatial_ops, intensity_augment, transform_target
from segmentation.data.manifest import CaseRecord, LabelMap
from segmentation.data.preprocess import PreparedCase, PreprocessConfig, prepare_case
from segmentation.records import ReportFacts
from segmentation.targets import ChannelTarget, ReportTarget, build_report_target

__all__ = ["SamplingConfig", "StepSampler", "TrainCropDataset", "collate_samples"]

logger = logging.getLogger(__name__)


class SamplingConfig(BaseModel):
    """Crop sampling and augmentation options (defaults follow ``docs/METHOD.md`` section 4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crop_size: tuple[int, int, int] = (96, 96, 96)
    report_fraction: float = Field(0.5, ge=0.0, le=1.0)
    report_segment_crop_prob: float = Field(0.9, ge=0.0, le=1.0)
    mask_crop_probs: tuple[float, float, float] = (0.4, 0.3, 0.3)
    """Probabilities of tumor-centred, organ-centred and random crops for mask cases."""
    organ_balanced: bool = False
    """Organ-centred crops pick a lesion channel's organ uniformly first, then a voxel in it (instead of
    a voxel of any organ, which mostly lands in the liver)."""
    flip_prob: float = Field(0.5, ge=0.0, le=1.0)
    rot90_prob: float = Field(0.25, ge=0.0, le=1.0)
    intensity_strength: float = Field(1.0, ge=0.0)
    unknown_margin_mm: float = Field(2.0, ge=0.0)
    max_distance_mm: float = Field(20.0, ge=0.0)
    """Report-target distance maps are exact up to this radius (>= the loss's segment dilation)."""
    memory_cache: int = Field(64, ge=0)
    """Prepared cases (and their whole-volume report targets) kept in memory per worker."""


@dataclass(frozen=True)
class Sample:
    """One training crop: ``image (1 + K, h, w, d)`` (CT, then K input organ masks),
    ``label (C, h, w, d)``, report target or ``None``."""

    image: torch.Tensor
    label: torch.Tensor
    target: ReportTarget | None
    case_id: str
    kind: str


def collate_samples(samples: Sequence[Sample]) -> dict[str, Any]:
    """Stack a batch: ``image (B, 1, h, w, d)``, ``label (B, C, h, w, d)``, ``targets`` list, ids."""
    return {
        "image": torch.stack([s.image for s in samples]),
        "label": torch.stack([s.label for s in samples]),
        "targets": [s.target for s in samples],
        "case_ids": [s.case_id for s in samples],
        "kinds": [s.kind for s in samples],
    }


class StepSampler(Sampler[int]):
    """Sample indices of steps ``[start_step, total_steps)`` for one rank (module docstring)."""

    def __init__(
        self, start_step: int, total_steps: int, batch_size: int, rank: int = 0, world_size: int = 1
    ) -> None:
        self.start, self.total, self.batch = start_step, total_steps, batch_size
        self.rank, self.world = rank, world_size

    def __iter__(self) -> Iterator[int]:
        for step in range(self.start, self.total):
            base = (step * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return max(0, self.total - self.start) * self.batch


def _start_containing(lo: int, hi: int, n: int, size: int, rng: np.random.Generator) -> int:
    """A crop start so that ``[lo, hi)`` fits in ``[s, s + n)`` within ``[0, size)`` (centred if too big)."""
    first, last = max(0, hi - n), min(lo, size - n)
    if first > last:
        return int(np.clip((lo + hi) // 2 - n // 2, 0, size - n))
    return int(rng.integers(first, last + 1))


def _start_around(point: int, n: int, size: int, rng: np.random.Generator) -> int:
    jitter = int(rng.integers(-(n // 4), n // 4 + 1)) if n >= 4 else 0
    return int(np.clip(point - n // 2 + jitter, 0, size - n))


def _strip_report_losses(target: ReportTarget) -> ReportTarget:
    """Keep the unknown region, drop every Ball / Volume target."""
    empty = tuple(
        ChannelTarget(organ=ct.organ, region_distance=ct.region_distance[:0]) for ct in target.channel_targets
    )
    return replace(target, channel_targets=empty)


class TrainCropDataset(Dataset[Sample]):
    """Map-style dataset of training crops indexed by global sample number (module docstring).

    Args:
        mask_cases, report_cases: training cases by role (either may be empty, not both).
        facts: report facts by report ID (needed for every report case).
        labels: the dataset's label map.
        channels: lesion channel organs.
        preprocess: grid options (``min_shape`` must be >= ``sampling.crop_size``).
        sampling: crop / augmentation options.
        cache_dir: preprocessed-volume cache (``None``: recompute, for tests only).
        seed: base seed.
        input_organs: organ masks appended to the CT as input channels
            (:meth:`~segmentation.data.preprocess.PreparedCase.network_input`).
    """

    def __init__(
        self,
        mask_cases: Sequence[CaseRecord],
        report_cases: Sequence[CaseRecord],
        facts: dict[str, ReportFacts],
        labels: LabelMap,
        channels: tuple[str, ...],
        preprocess: PreprocessConfig,
        sampling: SamplingConfig,
        cache_dir: Path | None,
        seed: int = 0,
        input_organs: tuple[str, ...] = (),
    ) -> None:
        if not mask_cases and not report_cases:
            raise ValueError(
                "the training set is empty: the manifest has no train cases with role 'mask' or 'report'."
            )
        missing = [c.case_id for c in report_cases if c.report_id not in facts]
        if missing:
            raise ValueError(f"report cases without facts: {missing}")
        self.mask_cases, self.report_cases = list(mask_cases), list(report_cases)
        self.facts, self.labels, self.channels = facts, labels, channels
        self.preprocess, self.sampling, self.cache_dir, self.seed = preprocess, sampling, cache_dir, seed
        self.input_organs = tuple(input_organs)
        self._memory: OrderedDict[str, tuple[PreparedCase, ReportTarget | None]] = OrderedDict()

    def __len__(self) -> int:
        return 2**62

    def prepare_all(self, progress: bool = True) -> None:
        """Preprocess every case into the cache (a progress bar; later loads are cache reads)."""
        from tqdm import tqdm

        for case in tqdm(
            self.mask_cases + self.report_cases, desc="preprocess", unit="case", disable=not progress
        ):
            prepare_case(case, self.labels, self.preprocess, self.cache_dir)

    def _case(self, case: CaseRecord) -> tuple[PreparedCase, ReportTarget | None]:
        hit = self._memory.get(case.case_id)
        if hit is not None:
            self._memory.move_to_end(case.case_id)
            return hit
        prepared = prepare_case(case, self.labels, self.preprocess, self.cache_dir)
        target = None
        if case.report_id is not None and case in self.report_cases:
            facts = self.facts[case.report_id]
            target = build_report_target(
                facts.lesions,
                facts.organs,
                prepared.masks(),
                prepared.spacing,
                self.channels,
                unknown_margin_mm=self.sampling.unknown_margin_mm,
                max_distance_mm=self.sampling.max_distance_mm,
            )
        if self.sampling.memory_cache:
            self._memory[case.case_id] = (prepared, target)
            while len(self._memory) > self.sampling.memory_cache:
                self._memory.popitem(last=False)
        return prepared, target

    def _mask_crop(self, prepared: PreparedCase, rng: np.random.Generator) -> list[int]:
        size, shape = self.sampling.crop_size, prepared.organs.shape
        choice = rng.choice(
            3, p=np.asarray(self.sampling.mask_crop_probs) / sum(self.sampling.mask_crop_probs)
        )
        pool = None
        if choice == 0 and prepared.tumors is not None:
            pool = np.argwhere(prepared.tumors > 0)
        if (pool is None or not len(pool)) and choice <= 1:
            pool = self._organ_voxels(prepared, rng)
        if pool is not None and len(pool):
            point = pool[rng.integers(len(pool))]
            return [_start_around(int(p), n, s, rng) for p, n, s in zip(point, size, shape, strict=True)]
        return [int(rng.integers(0, s - n + 1)) for n, s in zip(size, shape, strict=True)]

    def _organ_voxels(self, prepared: PreparedCase, rng: np.random.Generator) -> np.ndarray:
        """``(N, 3)`` voxels of one lesion channel's organ, the organ drawn uniformly among those present
        (``organ_balanced``), else of any organ. Voxel-uniform over all organs, a small organ such as
        the pancreas is almost never seen without its lesions."""
        if self.sampling.organ_balanced:
            masks = [m for o in self.channels if (m := prepared.organ_mask(o)) is not None and m.any()]
            if masks:
                return np.argwhere(masks[int(rng.integers(len(masks)))])
        return np.argwhere(prepared.organs > 0)

    def __getitem__(self, index: int) -> Sample:
        rng = np.random.default_rng([self.seed, int(index)])
        use_report = bool(self.report_cases) and (
            not self.mask_cases or rng.random() < self.sampling.report_fraction
        )
        pool = self.report_cases if use_report else self.mask_cases
        case = pool[int(rng.integers(len(pool)))]
        prepared, full_target = self._case(case)
        size, shape = self.sampling.crop_size, prepared.organs.shape
        if any(n > s for n, s in zip(size, shape, strict=True)):
            raise ValueError(
                f"case {case.case_id}: volume {shape} smaller than crop {size}; set preprocess.min_shape."
            )
        target: ReportTarget | None = None
        if not use_report:
            start = self._mask_crop(prepared, rng)
            kind = "mask"
        else:
            assert full_target is not None
            with_target = [ct for ct in full_target.channel_targets if ct.has_target]
            if with_target and rng.random() < self.sampling.report_segment_crop_prob:
                ct = with_target[int(rng.integers(len(with_target)))]
                region = ct.volume_region if ct.volume_region is not None else ct.lesions[0].region
                box = ct.region_boxes[region]
                start = [
                    _start_containing(lo, hi, n, s, rng)
                    for (lo, hi), n, s in zip(box, size, shape, strict=True)
                ]
                kind = "report"
            else:
                start = [int(rng.integers(0, s - n + 1)) for n, s in zip(size, shape, strict=True)]
                kind = "report_random"
            slices = [slice(a, a + n) for a, n in zip(start, size, strict=True)]
            target = full_target.crop(slices)
            if kind == "report_random":
                target = _strip_report_losses(target)
        sl = tuple(slice(a, a + n) for a, n in zip(start, size, strict=True))
        image = torch.from_numpy(np.ascontiguousarray(prepared.network_input(self.input_organs, sl)))
        if use_report:
            label = torch.zeros((len(self.channels), *size), dtype=torch.float32)
        else:
            label = torch.from_numpy(
                prepared.tumor_channels(self.channels, self.labels)[(slice(None), *sl)].copy()
            )
        ops = draw_spatial_ops(
            rng, tuple(size), prepared.spacing, self.sampling.flip_prob, self.sampling.rot90_prob
        )
        image, label = apply_ops(image, ops), apply_ops(label, ops)
        if target is not None:
            target = transform_target(target, ops)
        ct = intensity_augment(image[:1], rng, self.sampling.intensity_strength)  # organ channels stay 0/1
        image = torch.cat([ct, image[1:]])
        return Sample(
            image=image.float(), label=label.float(), target=target, case_id=case.case_id, kind=kind
        )
