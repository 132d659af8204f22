"""Readers and the resumable batch pipeline (with an in-memory sink; the store has its own tests)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest

from report_extractor.backends import Failure
from report_extractor.backends.fake import FakeBackend
from report_extractor.engine import Extractor
from report_extractor.errors import InputError
from report_extractor.ingest import ReportTable, Row, choose_columns
from report_extractor.pipeline import ResultSink, open_results_file, run_batch
from schemas.records import ExtractionStatus, ReportExtraction

ROWS = [
    {"Accession Number": "a1", "Findings": "Liver: 2 cm cyst in segment VI."},
    {"Accession Number": "a2", "Findings": ""},
    {"Accession Number": "a3", "Findings": "Pancreas unremarkable."},
    {"Accession Number": None, "Findings": "No ID."},
    {"Accession Number": "a5", "Findings": "x" * 500},
]


class MemorySink:
    """A dict-backed ResultSink."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], ReportExtraction] = {}
        self.writes = 0

    def existing_keys(
        self, keys: Iterable[tuple[str, str]], extractor_version: str, *, only_ok: bool = False
    ) -> set[tuple[str, str]]:
        return {
            k
            for k in keys
            if (r := self.records.get((*k, extractor_version))) is not None
            and (not only_ok or r.status is ExtractionStatus.OK)
        }

    def save_many(self, extractions: list[ReportExtraction], *, texts: list[str] | None = None) -> int:
        for e in extractions:
            self.records[(e.report_id, e.text_sha256, e.provenance.extractor_version)] = e
            self.writes += 1
        return len(extractions)


def _write(tmp_path: Path, suffix: str) -> Path:
    frame = pd.DataFrame(ROWS)
    path = tmp_path / f"reports{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    return path


def test_memory_sink_satisfies_protocol() -> None:
    assert isinstance(MemorySink(), ResultSink)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx", ".jsonl"])
def test_readers_stream_rows_and_detect_merlin_columns(tmp_path: Path, suffix: str) -> None:
    table = ReportTable(_write(tmp_path, suffix))
    assert (table.columns.id_column, table.columns.text_column) == ("Accession Number", "Findings")
    assert table.columns.detected
    rows = list(table)
    assert [r.row_number for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0] == Row(1, "a1", "Liver: 2 cm cyst in segment VI.")
    assert rows[1].text is None  # empty / NaN text is a row, not a crash
    assert rows[3].report_id is None


@pytest.mark.parametrize(
    ("columns", "id_col", "text_col", "message"),
    [
        pytest.param(["x", "y"], None, None, "--id-col: could not find the report ID column", id="none"),
        pytest.param(
            ["id", "Report"], "ID", None, "--id-col: column 'ID' not found; the file has", id="named"
        ),
        pytest.param(["id", "y"], None, None, "--text-col: could not find the report text column", id="text"),
    ],
)
def test_column_errors_name_the_flag(
    columns: list[str], id_col: str | None, text_col: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        choose_columns(columns, id_col, text_col)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="input: file not found"):
        ReportTable(tmp_path / "nope.csv")
    (tmp_path / "r.docx").write_text("x")
    with pytest.raises(InputError, match=r"input: unsupported file type '\.docx'"):
        ReportTable(tmp_path / "r.docx")


def test_batch_records_bad_rows_and_second_run_does_nothing_new(tmp_path: Path) -> None:
    table = ReportTable(_write(tmp_path, ".csv"))
    sink = MemorySink()
    out = io.StringIO()
    first = run_batch(table, Extractor(FakeBackend()), sink, batch_size=2, max_chars=100, out=out)
    assert first.rows == 5
    assert first.extracted == 2
    assert dict(first.error_kinds) == {"empty_text": 1, "missing_id": 1, "too_long": 1}
    assert {(e.row_number, e.kind) for e in first.errors} == {
        (2, "empty_text"),
        (4, "missing_id"),
        (5, "too_long"),
    }
    assert len(out.getvalue().splitlines()) == 2
    second = run_batch(table, Extractor(FakeBackend()), sink, batch_size=2, max_chars=100)
    assert (second.extracted, second.skipped_existing) == (0, 2)
    assert sink.writes == 2
    assert second.processed_anything


def test_failed_reports_are_retried_by_the_next_run(tmp_path: Path) -> None:
    table = ReportTable(_write(tmp_path, ".jsonl"))
    sink = MemorySink()
    flaky = FakeBackend(answers={"a1": Failure("timeout")})
    first = run_batch(table, Extractor(flaky), sink, max_chars=100)
    assert first.statuses == {"failed": 1, "ok": 1}
    assert first.error_kinds["backend_failure"] == 1
    second = run_batch(table, Extractor(FakeBackend()), sink, max_chars=100)
    assert (second.extracted, second.skipped_existing) == (1, 1)
    assert all(r.status is ExtractionStatus.OK for r in sink.records.values())


def test_nothing_processable_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("id,report\nx,\n")
    summary = run_batch(ReportTable(path), Extractor(FakeBackend()), MemorySink())
    assert not summary.processed_anything


def test_duplicate_rows_in_one_batch_are_extracted_once(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("id,report\nx,Liver normal.\nx,Liver normal.\n")
    sink = MemorySink()
    summary = run_batch(ReportTable(path), Extractor(FakeBackend()), sink)
    assert (summary.extracted, summary.skipped_existing, sink.writes) == (1, 1, 1)


def test_results_file_drops_partial_line_of_killed_run(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"a": 1}\n{"b": ')
    with open_results_file(path) as f:
        f.write('{"c": 3}\n')
    assert path.read_text() == '{"a": 1}\n{"c": 3}\n'
