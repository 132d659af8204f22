"""Export the store's current extractions: JSONL, Parquet (flat lesion table), R-Super CSVs.

Everything streams: extractions are read in batches and written row by row, so exports of any size
run in flat memory. Row builders (:func:`lesion_table_rows`, :func:`store.rsuper_csv.per_tumor_rows`,
:func:`store.rsuper_csv.per_ct_row`) are pure, so the API can stream the same rows.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.records import ExtractionStatus, ReportExtraction
from store.convert import lesion_projection
from store.errors import StoreInputError
from store.repository import Store
from store.rsuper_csv import PER_CT_COLUMNS, PER_TUMOR_COLUMNS, per_ct_row, per_tumor_rows


class ExportFormat(StrEnum):
    """Export formats of :func:`export`."""

    JSONL = "jsonl"
    PARQUET = "parquet"
    RSUPER_PER_TUMOR = "rsuper-per-tumor"
    RSUPER_PER_CT = "rsuper-per-ct"


LESION_TABLE_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        ("report_id", pa.string()),
        ("text_sha256", pa.string()),
        ("extractor_version", pa.string()),
        ("backend", pa.string()),
        ("model", pa.string()),
        ("lesion_index", pa.int32()),
        ("organ", pa.string()),
        ("organ_status", pa.string()),
        ("organ_left_status", pa.string()),
        ("organ_right_status", pa.string()),
        ("side", pa.string()),
        ("liver_segments", pa.list_(pa.int8())),
        ("pancreas_parts", pa.list_(pa.string())),
        ("pancreas_mask_parts", pa.list_(pa.string())),
        ("kidney_poles", pa.list_(pa.string())),
        ("site", pa.string()),
        ("diameters_mm", pa.list_(pa.float64())),
        ("largest_mm", pa.float64()),
        ("size_qualifier", pa.string()),
        ("size_class", pa.string()),
        ("count_kind", pa.string()),
        ("count_value", pa.int32()),
        ("certainty", pa.string()),
        ("kind", pa.string()),
        ("malignancy", pa.string()),
        ("evidence_quote", pa.string()),
        ("evidence_start", pa.int32()),
        ("evidence_end", pa.int32()),
        ("evidence_alignment", pa.string()),
        ("confidence", pa.float64()),
    ]
)
"""Schema of the Parquet lesion table (one row per lesion of an ``ok`` extraction). ``organ_status`` and
``organ_left_status`` / ``organ_right_status`` are the lesion's organ finding (the sides null when not
stated); ``site`` is the lesion's free-text location."""


def lesion_table_rows(extraction: ReportExtraction) -> list[dict[str, Any]]:
    """Flat lesion-table rows of one extraction (``[]`` for non-``ok`` ones or lesion-free exams)."""
    if extraction.status is not ExtractionStatus.OK:
        return []
    prov = extraction.provenance
    rows = []
    for i, lesion in enumerate(extraction.lesions):
        finding = extraction.finding(lesion.organ)
        rows.append(
            {
                "report_id": extraction.report_id,
                "text_sha256": extraction.text_sha256,
                "extractor_version": prov.extractor_version,
                "backend": prov.backend,
                "model": prov.model,
                "lesion_index": i,
                "organ_status": finding.status.value,
                "organ_left_status": None if finding.left is None else finding.left.value,
                "organ_right_status": None if finding.right is None else finding.right.value,
                "pancreas_mask_parts": list(dict.fromkeys(p.mask_part.value for p in lesion.pancreas_parts)),
                "site": lesion.site,
                **lesion_projection(lesion),
            }
        )
    return rows


def write_jsonl(extractions: Iterable[ReportExtraction], out_path: Path) -> int:
    """Write one ReportExtraction JSON object per line; returns the number of lines."""
    n = 0
    with out_path.open("w", encoding="utf-8", newline="\n") as f:
        for extraction in extractions:
            f.write(extraction.model_dump_json())
            f.write("\n")
            n += 1
    return n


def write_csv(rows: Iterable[dict[str, str]], columns: tuple[str, ...], out_path: Path) -> int:
    """Write dict rows as CSV with ``columns`` as header (``\\n`` line ends); returns the row count."""
    n = 0
    with out_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    return n


def write_parquet(
    extractions: Iterable[ReportExtraction], out_path: Path, *, batch_rows: int = 10_000
) -> int:
    """Write the flat lesion table (:data:`LESION_TABLE_SCHEMA`) to Parquet; returns the row count."""
    n = 0
    with pq.ParquetWriter(str(out_path), LESION_TABLE_SCHEMA) as writer:
        for batch in _batched(_flat(lesion_table_rows(e) for e in extractions), batch_rows):
            writer.write_table(pa.Table.from_pylist(batch, schema=LESION_TABLE_SCHEMA))
            n += len(batch)
    return n


def export(
    store: Store, fmt: ExportFormat | str, out_path: str | Path, *, reviewed_only: bool = False
) -> int:
    """Export the current extraction of every report to ``out_path``.

    Args:
        store: the store to read.
        fmt: ``jsonl`` (every current record, failed ones included), ``parquet`` (lesion table of
            ``ok`` records), ``rsuper-per-tumor`` or ``rsuper-per-ct`` (``ok`` records; see
            :mod:`store.rsuper_csv` for the exact conventions).
        out_path: file to write (its folder must exist; an existing file is replaced).
        reviewed_only: only reports whose current extraction is a reviewer's correction.

    Returns:
        The number of rows (lines) written, header excluded.

    Raises:
        StoreInputError: for an unknown format or a missing output folder.
    """
    try:
        kind = ExportFormat(fmt)
    except ValueError:
        raise StoreInputError(
            f"fmt: unknown export format {fmt!r}; expected one of {[f.value for f in ExportFormat]}"
        ) from None
    path = Path(out_path)
    if not path.parent.is_dir():
        raise StoreInputError(f"out_path: folder {str(path.parent)!r} does not exist")
    if kind is ExportFormat.JSONL:
        return write_jsonl(store.iter_current_extractions(reviewed_only=reviewed_only), path)
    ok = store.iter_current_extractions(status=ExtractionStatus.OK, reviewed_only=reviewed_only)
    if kind is ExportFormat.PARQUET:
        return write_parquet(ok, path)
    if kind is ExportFormat.RSUPER_PER_TUMOR:
        return write_csv(_flat(per_tumor_rows(e) for e in ok), PER_TUMOR_COLUMNS, path)
    return write_csv((r for e in ok if (r := per_ct_row(e)) is not None), PER_CT_COLUMNS, path)


def _flat(groups: Iterable[list[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    for group in groups:
        yield from group


def _batched(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
