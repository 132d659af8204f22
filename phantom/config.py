"""Configuration of the phantom cohort generator: geometry, difficulty knobs and report noise."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["PhantomConfig", "ReportStyle"]


class ReportStyle(StrEnum):
    """How a phantom report is written."""

    TEMPLATED = "templated"
    """Organ headings: ``LIVER: ... PANCREAS: ...``."""
    NARRATIVE = "narrative"
    """Prose ``FINDINGS:`` followed by a numbered ``IMPRESSION:``."""
    FOLLOWUP = "followup"
    """Oncology follow-up narrative: comparison line and prior sizes ("previously 1.4 cm")."""
    ED = "ed"
    """Short emergency-department note: a few terse lines."""


def _range(name: str, value: tuple[float, float], low: float, high: float = math.inf) -> None:
    lo, hi = value
    if not (low <= lo <= hi <= high):
        raise ValueError(f"{name} must be a (min, max) pair with {low} <= min <= max <= {high}, got {value}.")


def _prob(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}.")


@dataclass(frozen=True)
class PhantomConfig:
    """Knobs of one phantom cohort. Every default is documented; all sizes are in mm, intensities in HU.

    Geometry:
        shape: volume shape ``(X, Y, Z)`` in voxels (array axes; see the package docstring for RAS).
        spacing: voxel size ``(sx, sy, sz)`` in mm, written into the NIfTI header and affine.

    Lesions (difficulty knobs):
        healthy_fraction: probability that a case has no lesion at all (default 0.27).
        max_lesions_per_organ: lesions per organ (liver, pancreas, kidneys) are drawn uniformly
            from ``0..max`` in lesion cases (at least one lesion per lesion case).
        lesion_diameter_mm: range of the largest diameter, drawn log-uniformly (default 5-50 mm);
            lesions that do not fit their organ are shrunk.
        lesion_contrast_hu: range of ``|lesion - organ|`` attenuation difference (default 10-70 HU).
        organ_contrast_hu: per-organ ranges (``"liver"``, ``"pancreas"``, ``"kidney"``) that replace
            ``lesion_contrast_hu`` for that organ's lesions (default: none). The kidney's parenchyma
            enhances far more than the liver's, so its cysts and masses differ from it by more HU.
        subtle_fraction: probability that a lesion's contrast is drawn from the low end instead,
            ``[lesion_contrast_hu[0], subtle_contrast_hu]`` (default 0.3, up to 20 HU: hard to see
            under the default noise).
        hyper_fraction: probability that a lesion is hyper- rather than hypo-attenuating (0.25).
        lesion_edge: width of the lesion's soft edge as a fraction of its radius (default 0.3): the
            contrast ramps linearly from 0 to full across ``1 ± edge / 2`` of the normalised radius,
            so it is half its value at the mask border. Smaller values give lesions that keep their
            stated attenuation up to the border (partial volume then comes from ``blur_sigma_vox``).

    Image quality:
        noise_sigma_hu: per-case range of the Gaussian noise standard deviation (default 10-25 HU).
        bias_field_hu: amplitude of the smooth additive bias field (default 25 HU).
        enhancement_range: per-case factor on organ enhancement above 40 HU (contrast phase/timing).
        blur_sigma_vox: Gaussian blur (voxels) for partial-volume edges before noise (default 0.6).

    Reports (report noise):
        omission_prob: probability that a lesion is not mentioned in the report (default 0.05).
        multiple_prob: probability that an organ with >= 2 lesions is reported only as "multiple ...
            up to N cm" (default 0.05).
        subcentimeter_word_prob: probability that a lesion under 10 mm is reported as
            "subcentimeter"/"tiny" without a number (default 0.4).
        style_weights: relative frequency of each :class:`ReportStyle`.
    """

    shape: tuple[int, int, int] = (96, 96, 64)
    spacing: tuple[float, float, float] = (2.5, 2.5, 3.0)
    healthy_fraction: float = 0.27
    max_lesions_per_organ: int = 3
    lesion_diameter_mm: tuple[float, float] = (5.0, 50.0)
    lesion_contrast_hu: tuple[float, float] = (10.0, 70.0)
    organ_contrast_hu: dict[str, tuple[float, float]] = field(default_factory=dict)
    subtle_contrast_hu: float = 20.0
    subtle_fraction: float = 0.3
    hyper_fraction: float = 0.25
    lesion_edge: float = 0.3
    noise_sigma_hu: tuple[float, float] = (10.0, 25.0)
    bias_field_hu: float = 25.0
    enhancement_range: tuple[float, float] = (0.6, 1.25)
    blur_sigma_vox: float = 0.6
    omission_prob: float = 0.05
    multiple_prob: float = 0.05
    subcentimeter_word_prob: float = 0.4
    style_weights: dict[ReportStyle, float] = field(
        default_factory=lambda: {
            ReportStyle.TEMPLATED: 0.35,
            ReportStyle.NARRATIVE: 0.3,
            ReportStyle.FOLLOWUP: 0.15,
            ReportStyle.ED: 0.2,
        }
    )

    def __post_init__(self) -> None:
        if len(self.shape) != 3 or not all(isinstance(s, int) and s >= 16 for s in self.shape):
            raise ValueError(f"shape must be three integers >= 16 (X, Y, Z voxels), got {self.shape}.")
        if len(self.spacing) != 3 or not all(math.isfinite(s) and s > 0 for s in self.spacing):
            raise ValueError(f"spacing must be three positive voxel sizes in mm, got {self.spacing}.")
        _prob("healthy_fraction", self.healthy_fraction)
        if not 1 <= self.max_lesions_per_organ <= 10:
            raise ValueError(f"max_lesions_per_organ must be in [1, 10], got {self.max_lesions_per_organ}.")
        _range("lesion_diameter_mm", self.lesion_diameter_mm, 1.0, 200.0)
        _range("lesion_contrast_hu", self.lesion_contrast_hu, 0.0, 500.0)
        for organ, value in self.organ_contrast_hu.items():
            if organ not in ("liver", "pancreas", "kidney"):
                raise ValueError(f"organ_contrast_hu keys must be liver, pancreas or kidney, got {organ!r}.")
            _range(f"organ_contrast_hu[{organ!r}]", tuple(value), 0.0, 500.0)  # type: ignore[arg-type]
        if not self.subtle_contrast_hu >= self.lesion_contrast_hu[0]:
            raise ValueError(
                f"subtle_contrast_hu must be >= lesion_contrast_hu[0] ({self.lesion_contrast_hu[0]}), "
                f"got {self.subtle_contrast_hu}."
            )
        if not 0.0 < self.lesion_edge <= 1.0:
            raise ValueError(f"lesion_edge must be a share of the radius in (0, 1], got {self.lesion_edge}.")
        for name in ("subtle_fraction", "hyper_fraction", "omission_prob", "multiple_prob"):
            _prob(name, getattr(self, name))
        _prob("subcentimeter_word_prob", self.subcentimeter_word_prob)
        _range("noise_sigma_hu", self.noise_sigma_hu, 0.0, 500.0)
        _range("enhancement_range", self.enhancement_range, 0.0, 5.0)
        if self.bias_field_hu < 0 or self.blur_sigma_vox < 0:
            raise ValueError(
                f"bias_field_hu and blur_sigma_vox must be >= 0, got {self.bias_field_hu}, "
                f"{self.blur_sigma_vox}."
            )
        weights = {ReportStyle(k): float(v) for k, v in self.style_weights.items()}
        if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(
                f"style_weights must map report styles {[s.value for s in ReportStyle]} to non-negative "
                f"weights with a positive sum, got {self.style_weights}."
            )

    @property
    def fov_mm(self) -> tuple[float, float, float]:
        """Field of view (mm) along X, Y, Z."""
        return (
            self.shape[0] * self.spacing[0],
            self.shape[1] * self.spacing[1],
            self.shape[2] * self.spacing[2],
        )
