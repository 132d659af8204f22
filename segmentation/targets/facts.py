"""The report facts a target is built from: one reported lesion, what the report says about one organ.

The organ status is the record schema's own :class:`schemas.records.OrganStatus` (one enum for the
extraction side and the training side).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.records import OrganStatus
from segmentation.geometry import complete_diameters_mm

__all__ = ["LesionFact", "OrganFact", "OrganStatus"]


@dataclass(frozen=True)
class LesionFact:
    """One reported lesion.

    Attributes:
        organ: organ name, e.g. ``"liver"``, ``"pancreas"``, ``"kidney"``.
        diameters_mm: 1-3 diameters in mm, or ``None`` when the size is unknown.
        subsegments: mask labels of the sub-segments holding the lesion, e.g. ``("liver_segment_5",)``,
            ``("pancreas_head",)``, ``("kidney_left",)``; empty when the location is unknown.
    """

    organ: str
    diameters_mm: tuple[float, ...] | None = None
    subsegments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.organ:
            raise ValueError("LesionFact.organ must be a non-empty organ name, got ''.")
        if self.diameters_mm is not None:
            complete_diameters_mm(self.diameters_mm)  # raises a precise ValueError


@dataclass(frozen=True)
class OrganFact:
    """What the report says about one organ.

    Attributes:
        organ: organ name (as in :class:`LesionFact`).
        status: ``"lesion"``, ``"normal"``, ``"not_mentioned"`` or ``"absent"`` (resected).
        count: exact number of lesions when stated, else ``None`` (then the listed lesions are all).
        multiple: ``True`` for "multiple", "innumerable" or "at least N": no exact count.
    """

    organ: str
    status: OrganStatus | str
    count: int | None = None
    multiple: bool = False

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "status", OrganStatus(self.status))
        except ValueError as e:
            valid = ", ".join(s.value for s in OrganStatus)
            raise ValueError(f"OrganFact.status must be one of {valid}; got {self.status!r}.") from e
        if self.count is not None and self.count < 0:
            raise ValueError(f"OrganFact.count must be >= 0 or None, got {self.count}.")
