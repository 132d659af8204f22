"""Streaming readers for report tables: CSV, XLSX, Parquet and JSONL.

Each reader yields one :class:`Row` at a time (memory does not grow with the file), with its 1-based
data-row number for error messages. ID and text columns are named by the user or auto-detected from
the usual Merlin / R-Super names; the choice is reported back so the user can check it.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from report_extractor.errors import InputError

ID_COLUMN_CANDIDATES: Final[tuple[str, ...]] = (
    "Encrypted Accession Number",
    "Accession Number",
    "study id",
    "study_id",
    "report_id",
    "BDMAP ID",
    "BDMAP_ID",
    "id",
)
TEXT_COLUMN_CANDIDATES: Final[tuple[str, ...]] = (
    "Findings",
    "Report Text",
    "Report",
    "report",
    "text",
    "report_text",
    "narrative report",
)


class InputFormat(StrEnum):
    """Supported input formats (chosen from the file suffix)."""

    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"
    JSONL = "jsonl"


_SUFFIXES: Final[dict[str, InputFormat]] = {
    ".csv": InputFormat.CSV,
    ".tsv": InputFormat.CSV,
    ".xlsx": InputFormat.XLSX,
    ".parquet": InputFormat.PARQUET,
    ".pq": InputFormat.PARQUET,
    ".jsonl": InputFormat.JSONL,
    ".ndjson": InputFormat.JSONL,
}


@dataclass(frozen=True, slots=True)
class Row:
    """One input row: ``text`` is None when the cell is empty or NaN (a per-row error downstream)."""

    row_number: int
    report_id: str | None
    text: str | None


@dataclass(frozen=True, slots=True)
class ColumnChoice:
    """Which columns were used, and whether they were auto-detected."""

    id_column: str
    text_column: str
    detected: bool


def detect_format(path: Path) -> InputFormat:
    """The input format from the file suffix.

    Raises:
        InputError: unknown suffix (the message lists the supported ones).
    """
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"input: unsupported file type {path.suffix!r}; use one of {sorted(_SUFFIXES)}")
    return fmt


def choose_columns(columns: Sequence[str], id_col: str | None, text_col: str | None) -> ColumnChoice:
    """Pick the ID and text columns: the user's names, else the first known name present.

    Matching of known names ignores case and surrounding spaces.

    Raises:
        InputError: a named column is missing, or none could be detected; lists the columns found.
    """
    stripped = {c.strip().lower(): c for c in columns}

    def pick(given: str | None, candidates: Sequence[str], what: str, flag: str) -> str:
        if given is not None:
            if given in columns:
                return given
            raise InputError(f"{flag}: column {given!r} not found; the file has {list(columns)}")
        for cand in candidates:
            if cand.lower() in stripped:
                return stripped[cand.lower()]
        raise InputError(
            f"{flag}: could not find the {what} column (looked for {list(candidates)}); the file has "
            f"{list(columns)}. Name it with {flag}."
        )

    chosen_id = pick(id_col, ID_COLUMN_CANDIDATES, "report ID", "--id-col")
    chosen_text = pick(text_col, TEXT_COLUMN_CANDIDATES, "report text", "--text-col")
    if chosen_id == chosen_text:
        raise InputError(f"--id-col/--text-col: both resolve to the same column {chosen_id!r}")
    return ColumnChoice(chosen_id, chosen_text, detected=id_col is None or text_col is None)


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    text = str(value)
    return text if text.strip() else None


class ReportTable:
    """A report table on disk, read row by row.

    Args:
        path: the file (CSV/TSV, XLSX, Parquet or JSONL).
        id_col, text_col: column names; None auto-detects (see :attr:`columns`).

    Raises:
        InputError: missing file, unsupported type, or columns not found.
    """

    def __init__(self, path: str | Path, id_col: str | None = None, text_col: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"input: file not found: {self.path}")
        self.format = detect_format(self.path)
        self.columns = choose_columns(self._header(), id_col, text_col)

    def _header(self) -> list[str]:
        if self.format is InputFormat.CSV:
            with self.path.open(newline="", encoding="utf-8-sig") as f:
                return next(csv.reader(f, dialect=self._dialect()), [])
        if self.format is InputFormat.PARQUET:
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(self.path).schema_arrow.names)
        if self.format is InputFormat.XLSX:
            import openpyxl

            book = openpyxl.load_workbook(self.path, read_only=True)
            try:
                first = next(book.active.iter_rows(max_row=1, values_only=True), ())
            finally:
                book.close()
            return [str(c) for c in first if c is not None]
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    try:
                        return list(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise InputError(f"input: line 1 of {self.path.name} is not JSON ({e.msg})") from e
        return []

    def _dialect(self) -> type[csv.Dialect]:
        return csv.excel_tab if self.path.suffix.lower() == ".tsv" else csv.excel

    def __iter__(self) -> Iterator[Row]:
        """Rows in file order; memory stays flat (readers stream)."""
        id_col, text_col = self.columns.id_column, self.columns.text_column
        if self.format is InputFormat.CSV:
            csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
            with self.path.open(newline="", encoding="utf-8-sig") as f:
                for n, rec in enumerate(csv.DictReader(f, dialect=self._dialect()), start=1):
                    yield Row(n, _cell(rec.get(id_col)), _cell(rec.get(text_col)))
        elif self.format is InputFormat.JSONL:
            with self.path.open(encoding="utf-8") as f:
                n = 0
                for line in f:
                    if not line.strip():
                        continue
                    n += 1
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        yield Row(n, None, None)
                        continue
                    yield Row(n, _cell(rec.get(id_col)), _cell(rec.get(text_col)))
        elif self.format is InputFormat.PARQUET:
            import pyarrow.parquet as pq

            n = 0
            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=1024, columns=[id_col, text_col]):
                for rid, text in zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True):
                    n += 1
                    yield Row(n, _cell(rid), _cell(text))
        else:
            import openpyxl

            book = openpyxl.load_workbook(self.path, read_only=True)
            try:
                rows = book.active.iter_rows(values_only=True)
                header = [str(c) if c is not None else "" for c in next(rows)]
                i_id, i_text = header.index(id_col), header.index(text_col)
                for n, values in enumerate(rows, start=1):
                    values = tuple(values) + (None,) * max(0, len(header) - len(values))
                    yield Row(n, _cell(values[i_id]), _cell(values[i_text]))
            finally:
                book.close()
