"""ReportExtraction ⇄ table rows: the relational projection written next to the JSON record."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from schemas.records import Lesion, ReportExtraction
from store.engine import EncodedJSON
from store.errors import StoreError
from store.review import reviewer_of


def extraction_values(extraction: ReportExtraction) -> dict[str, Any]:
    """Column values of the ``extractions`` row for ``extraction`` (without keys set by the store).

    The JSON columns come encoded by pydantic (:class:`~store.engine.EncodedJSON`: one
    ``model_dump_json`` instead of ``model_dump`` plus ``json.dumps``).
    """
    prov = extraction.provenance
    return {
        "report_id": extraction.report_id,
        "text_sha256": extraction.text_sha256,
        "extractor_version": prov.extractor_version,
        "status": extraction.status.value,
        "error": extraction.error,
        "backend": prov.backend,
        "model": prov.model,
        "prompt_version": prov.prompt_version,
        "schema_version": prov.schema_version,
        "provenance": EncodedJSON(prov.model_dump_json()),
        "warnings": list(extraction.warnings),
        "record": EncodedJSON(extraction.model_dump_json()),
        "reviewer": reviewer_of(extraction),
    }


def finding_values(extraction: ReportExtraction, extraction_id: int) -> list[dict[str, Any]]:
    """``organ_findings`` rows: one per organ the report speaks about."""
    return [
        {
            "extraction_id": extraction_id,
            "organ": f.organ.value,
            "status": f.status.value,
            "count_kind": None if f.count is None else f.count.kind.value,
            "count_value": None if f.count is None else f.count.value,
        }
        for f in extraction.organs
    ]


def lesion_projection(lesion: Lesion) -> dict[str, Any]:
    """The flat columns of one lesion, shared by the ``lesions`` table and the exported lesion table
    (vocabulary values as strings, lists for segments / parts / poles / diameters, evidence split
    into quote, span and alignment)."""
    ev, size = lesion.evidence, lesion.size
    return {
        "organ": lesion.organ.value,
        "side": None if lesion.side is None else lesion.side.value,
        "liver_segments": list(lesion.liver_segments),
        "pancreas_parts": [p.value for p in lesion.pancreas_parts],
        "kidney_poles": [p.value for p in lesion.kidney_poles],
        "diameters_mm": None if size is None else list(size.diameters_mm),
        "size_qualifier": None if size is None else size.qualifier.value,
        "largest_mm": None if size is None else size.largest_mm,
        "size_class": None if lesion.size_class is None else lesion.size_class.value,
        "count_kind": lesion.count.kind.value,
        "count_value": lesion.count.value,
        "certainty": lesion.certainty.value,
        "kind": lesion.kind.value,
        "malignancy": lesion.malignancy.value,
        "evidence_quote": None if ev is None else ev.quote,
        "evidence_start": None if ev is None else ev.start,
        "evidence_end": None if ev is None else ev.end,
        "evidence_alignment": None if ev is None else ev.alignment.value,
        "confidence": lesion.confidence,
    }


def lesion_values(extraction: ReportExtraction, extraction_id: int) -> list[dict[str, Any]]:
    """``lesions`` rows, in report order."""
    return [
        {"extraction_id": extraction_id, "lesion_index": i, **lesion_projection(lesion)}
        for i, lesion in enumerate(extraction.lesions)
    ]


def record_to_extraction(record: dict[str, Any], *, row_id: int | None = None) -> ReportExtraction:
    """Rebuild a :class:`ReportExtraction` from its stored JSON record.

    Raises:
        StoreError: when the stored record no longer validates (e.g. written by an incompatible
            schema version); the message names the row, never the report text.
    """
    try:
        return ReportExtraction.model_validate(record)
    except ValidationError as e:
        where = f"extractions.id={row_id}" if row_id is not None else "a stored record"
        raise StoreError(
            f"{where} does not validate against the current record model "
            f"(schema_version {record.get('provenance', {}).get('schema_version')!r}): {e}"
        ) from e
