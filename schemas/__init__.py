"""Tumor-record schemas: vocabularies, the record model and the LLM-facing schema.

Layer 0 of rsuper: pure pydantic, imports nothing else from the project.
"""

from schemas.records import (
    SCHEMA_VERSION,
    AlignmentKind,
    Certainty,
    Count,
    CountKind,
    Evidence,
    ExtractionStatus,
    Lesion,
    LesionKind,
    Malignancy,
    OrganFinding,
    OrganStatus,
    Provenance,
    Qualifier,
    ReportExtraction,
    Size,
    SizeClass,
    text_sha256,
)
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side, resolve_organ, resolve_side

__all__ = [
    "SCHEMA_VERSION",
    "AlignmentKind",
    "Certainty",
    "Count",
    "CountKind",
    "Evidence",
    "ExtractionStatus",
    "KidneyPole",
    "Lesion",
    "LesionKind",
    "Malignancy",
    "Organ",
    "OrganFinding",
    "OrganStatus",
    "PancreasPart",
    "Provenance",
    "Qualifier",
    "ReportExtraction",
    "Side",
    "Size",
    "SizeClass",
    "resolve_organ",
    "resolve_side",
    "text_sha256",
]
