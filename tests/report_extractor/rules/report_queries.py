"""Small queries on an :class:`~schemas.llm.LLMReport` shared by the rules' failure-class tests."""

from __future__ import annotations

from schemas.llm import LLMLesion, LLMReport, to_millimetres
from schemas.vocabulary import Organ

__all__ = ["count_of", "largest_mm", "lesions_of", "status_of"]


def status_of(report: LLMReport, organ: Organ) -> str:
    """The organ's status, ``"not_mentioned"`` when the report leaves it out."""
    found = next((o for o in report.organs if o.organ is organ), None)
    return "not_mentioned" if found is None else found.status


def lesions_of(report: LLMReport, organ: Organ) -> list[LLMLesion]:
    """The organ's lesions, in report order."""
    return [lesion for lesion in report.lesions if lesion.organ is organ]


def count_of(report: LLMReport, organ: Organ) -> int | str | None:
    """The organ's lesion count: a number, ``"multiple"``, or ``None`` without lesion."""
    found = next((o for o in report.organs if o.organ is organ), None)
    if found is None or found.status != "lesion":
        return None
    return "multiple" if found.multiple else found.count


def largest_mm(lesion: LLMLesion) -> float | None:
    """The lesion's largest diameter in mm, ``None`` when unmeasured."""
    return max(to_millimetres(lesion.diameters, lesion.unit)) if lesion.diameters else None
