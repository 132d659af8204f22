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
        left, right: per-side status of a paired organ when the report states it (``None``: not
            stated). Used where the case has per-side masks ``"<organ>_left"`` / ``"<organ>_right"``.
    """

    organ: str
    status: OrganStatus | str
    count: int | None = None
    multiple: bool = False
    left: OrganStatus | str | None = None
    right: OrganStatus | str | None = None

    def __post_init__(self) -> None:
        for name in ("status", "left", "right"):
            value = getattr(self, name)
            if value is None and name != "status":
                continue
            try:
                object.__setattr__(self, name, OrganStatus(value))
            except ValueError as e:
                valid = ", ".join(s.value for s in OrganStatus)
                raise ValueError(f"OrganFact.{name} must be one of {valid}; got {value!r}.") from e
        if self.count is not None and self.count < 0:
            raise ValueError(f"OrganFact.count must be >= 0 or None, got {self.count}.")
