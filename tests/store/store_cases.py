"""Hand-written ReportExtraction fixtures for the store tests (and the golden export files)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from schemas.records import (
    AlignmentKind,
    Certainty,
    Count,
    CountKind,
    Evidence,
    ExtractionStatus,
    Lesion,
    LesionKind,
    OrganFinding,
    OrganStatus,
    Provenance,
    Qualifier,
    ReportExtraction,
    Size,
    SizeClass,
    text_sha256,
)
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side

CREATED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
VERSION = "test-1"


def prov(version: str = VERSION, backend: str = "fake") -> Provenance:
    """A fixed provenance (deterministic JSON)."""
    return Provenance(
        backend=backend, model="canned", extractor_version=version, prompt_version="p1", created_at=CREATED
    )


def finding(
    organ: Organ, status: OrganStatus, kind: CountKind | None = None, value: int | None = None
) -> OrganFinding:
    """An organ finding with an optional count."""
    count = None if kind is None else Count(kind=kind, value=value)
    return OrganFinding(organ=organ, status=status, count=count)


def make(report_id: str, text: str, **kwargs: Any) -> ReportExtraction:
    """A record for ``text`` with the fixed provenance unless given."""
    kwargs.setdefault("provenance", prov())
    return ReportExtraction(report_id=report_id, text_sha256=text_sha256(text), **kwargs)


LIVER_TEXT = "Liver: 2.3 x 1.5 cm mass in segments 4/5. 8 mm lesion in segment VII. Three pulmonary nodules."
PANCREAS_TEXT = "1.8 x 1.2 cm hypodense lesion in the pancreatic neck. Pancreatic body and tail unremarkable."
KIDNEY_TEXT = "Multiple bilateral renal cysts up to 1.5 cm. 3.2 x 2.8 x 2.5 cm mass in the right lower pole."
MULTIPLE_TEXT = "Multiple hepatic metastases up to 2.4 cm. Left adrenal nodule 11 mm."
UNKNOWN_TEXT = "Subcentimeter splenic hypodensity, too small to characterize. 1.0 cm cyst in segment 6."
HEALTHY_TEXT = "Liver, spleen, kidneys and adrenals unremarkable. Status post cholecystectomy."
FAILED_TEXT = "Unreadable report."


def cases() -> list[ReportExtraction]:
    """Six exams covering the export edge cases, plus one failed extraction."""
    liver = make(
        "BDMAP_00000001",
        LIVER_TEXT,
        organs=(
            finding(Organ.LIVER, OrganStatus.LESION, CountKind.EXACT, 2),
            finding(Organ.LUNG, OrganStatus.LESION, CountKind.EXACT, 3),
            finding(Organ.PANCREAS, OrganStatus.NORMAL),
        ),
        lesions=(
            Lesion(
                organ=Organ.LIVER,
                liver_segments=(5, 4),
                size=Size(diameters_mm=(15, 23)),
                kind=LesionKind.MASS,
                evidence=Evidence(
                    quote="2.3 x 1.5 cm mass in segments 4/5", start=7, end=40, alignment=AlignmentKind.EXACT
                ),
            ),
            Lesion(organ=Organ.LIVER, liver_segments=(7,), size=Size(diameters_mm=(8,)), confidence=0.8),
        ),
    )
    pancreas = make(
        "BDMAP_00000002",
        PANCREAS_TEXT,
        organs=(finding(Organ.PANCREAS, OrganStatus.LESION, CountKind.EXACT, 1),),
        lesions=(
            Lesion(
                organ=Organ.PANCREAS,
                pancreas_parts=(PancreasPart.NECK,),
                size=Size(diameters_mm=(18, 12)),
                kind=LesionKind.HYPODENSITY,
                certainty=Certainty.PROBABLE,
            ),
        ),
    )
    kidney = make(
        "BDMAP_00000003",
        KIDNEY_TEXT,
        organs=(finding(Organ.KIDNEY, OrganStatus.LESION, CountKind.MULTIPLE),),
        lesions=(
            Lesion(
                organ=Organ.KIDNEY,
                side=Side.BILATERAL,
                count=Count(kind=CountKind.MULTIPLE, value=None),
                size=Size(diameters_mm=(15,), qualifier=Qualifier.UP_TO),
                kind=LesionKind.CYST,
            ),
            Lesion(
                organ=Organ.KIDNEY,
                side=Side.RIGHT,
                kidney_poles=(KidneyPole.LOWER_POLE,),
                size=Size(diameters_mm=(32, 28, 25)),
                kind=LesionKind.MASS,
            ),
        ),
    )
    multiple = make(
        "BDMAP_00000004",
        MULTIPLE_TEXT,
        organs=(
            finding(Organ.LIVER, OrganStatus.LESION, CountKind.MULTIPLE),
            finding(Organ.ADRENAL_GLAND, OrganStatus.LESION, CountKind.EXACT, 1),
        ),
        lesions=(
            Lesion(
                organ=Organ.LIVER,
                count=Count(kind=CountKind.MULTIPLE, value=None),
                size=Size(diameters_mm=(24,), qualifier=Qualifier.UP_TO),
                kind=LesionKind.METASTASIS,
            ),
            Lesion(
                organ=Organ.ADRENAL_GLAND,
                side=Side.LEFT,
                size=Size(diameters_mm=(11,)),
                kind=LesionKind.NODULE,
            ),
        ),
    )
    unknown = make(
        "BDMAP_00000005",
        UNKNOWN_TEXT,
        organs=(finding(Organ.SPLEEN, OrganStatus.LESION), finding(Organ.LIVER, OrganStatus.LESION)),
        lesions=(
            Lesion(
                organ=Organ.SPLEEN,
                size_class=SizeClass.SUBCENTIMETER,
                kind=LesionKind.HYPODENSITY,
                site="inferior tip",
            ),
            Lesion(
                organ=Organ.LIVER, liver_segments=(6,), size=Size(diameters_mm=(10,)), kind=LesionKind.CYST
            ),
        ),
    )
    healthy = make(
        "BDMAP_00000006",
        HEALTHY_TEXT,
        organs=(
            finding(Organ.LIVER, OrganStatus.NORMAL),
            finding(Organ.SPLEEN, OrganStatus.NORMAL),
            finding(Organ.KIDNEY, OrganStatus.NORMAL),
            finding(Organ.ADRENAL_GLAND, OrganStatus.NORMAL),
            finding(Organ.GALLBLADDER, OrganStatus.ABSENT),
        ),
    )
    failed = make("BDMAP_00000007", FAILED_TEXT, status=ExtractionStatus.FAILED, error="backend timed out")
    return [liver, pancreas, kidney, multiple, unknown, healthy, failed]


TEXTS = {
    "BDMAP_00000001": LIVER_TEXT,
    "BDMAP_00000002": PANCREAS_TEXT,
    "BDMAP_00000003": KIDNEY_TEXT,
    "BDMAP_00000004": MULTIPLE_TEXT,
    "BDMAP_00000005": UNKNOWN_TEXT,
    "BDMAP_00000006": HEALTHY_TEXT,
    "BDMAP_00000007": FAILED_TEXT,
}
"""Report text of each case (for hashing)."""


@contextmanager
def scratch_schema(base_url: str) -> Iterator[URL]:
    """A fresh, empty PostgreSQL schema (dropped afterwards); yields a URL whose search path is it."""
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    url = make_url(base_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
