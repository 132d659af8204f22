"""Report targets, the one import path for their types (``docs/METHOD.md`` section 1).

- :mod:`~segmentation.targets.facts`: the inputs, :class:`LesionFact` and :class:`OrganFact` (with the
  record schema's :class:`OrganStatus`); :mod:`segmentation.records` makes them from extractions.
- :mod:`~segmentation.targets.build`: :func:`build_report_target`, facts + organ masks + spacing →
  a :class:`ReportTarget` (unknown voxels, segment distance maps, lesion list, volume target).
- :mod:`~segmentation.targets.tensors`: the containers the data pipeline crops and augments and the
  losses read (:class:`ReportTarget`, :class:`ChannelTarget`, :class:`LesionTarget`, :data:`Box`).
"""

from segmentation.targets.build import SUBSEGMENT_FALLBACKS, build_report_target
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

__all__ = [
    "DISTANCE_STEP_MM",
    "FAR",
    "SUBSEGMENT_FALLBACKS",
    "Box",
    "ChannelTarget",
    "LesionFact",
    "LesionTarget",
    "OrganFact",
    "OrganStatus",
    "ReportTarget",
    "build_report_target",
    "quantise_distance",
]
