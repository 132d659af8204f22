"""Exports: golden files for JSONL and the R-Super CSVs, Parquet lesion table, CSV import round trip.

Regenerate the golden files with ``RSUPER_UPDATE_GOLDEN=1 pytest tests/store`` and review the diff
against EXTRACTION.md before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_cases import TEXTS, cases, finding, make

from schemas.records import Count, CountKind, Lesion, OrganStatus, Qualifier, Size
from schemas.vocabulary import RSUPER_ORGAN_NAMES, KidneyPole, Organ, PancreasPart, Side
from store import ImportFormatError, Store, StoreInputError, init_store
from store.export import LESION_TABLE_SCHEMA, export
from store.rsuper_csv import PER_CT_COLUMNS, PER_TUMOR_COLUMNS, per_ct_row, per_tumor_rows
from store.rsuper_import import BACKEND, UNKNOWN_TEXT_SHA256, import_rsuper_csvs, read_rsuper_csvs

GOLDEN = Path(__file__).parent / "golden"
FILES = {
    "jsonl": "extractions.jsonl",
    "rsuper-per-tumor": "per_tumor.csv",
    "rsuper-per-ct": "per_ct.csv",
}


@pytest.mark.parametrize("fmt", list(FILES))
def test_export_matches_golden(store: Store, tmp_path: Path, fmt: str) -> None:
    store.save_many(cases())
    out = tmp_path / FILES[fmt]
    export(store, fmt, out)
    golden = GOLDEN / FILES[fmt]
    if os.environ.get("RSUPER_UPDATE_GOLDEN") == "1":
        golden.write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
    assert out.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8")


def test_column_names_are_exactly_the_reference_ones() -> None:
    assert PER_TUMOR_COLUMNS[:7] == (
        "BDMAP ID",
        "Tumor ID",
        "Standardized Organ",
        "Standardized Location",
        "Tumor Size (mm)",
        "Unknow Tumor Size",
        "no lesion",
    )
    for name in RSUPER_ORGAN_NAMES.values():
        assert f"number of {name} lesion instances" in PER_CT_COLUMNS
        assert f"largest {name} lesion diameter (cm)" in PER_CT_COLUMNS
    assert "number of pancreatic lesion instances" in PER_CT_COLUMNS
    assert "largest adrenal gland lesion diameter (cm)" in PER_CT_COLUMNS
    for col in (
        "largest liver lesion location (1-8)",
        "largest pancreatic lesion location (head, body, tail)",
        "largest kidney lesion location (left, right)",
        "no lesion",
    ):
        assert col in PER_CT_COLUMNS
    assert len(PER_CT_COLUMNS) == 1 + 2 * 17 + 3 + 3


def test_failed_extractions_have_no_csv_rows() -> None:
    failed = cases()[-1]
    assert per_tumor_rows(failed) == []
    assert per_ct_row(failed) is None


def test_parquet_lesion_table(store: Store, tmp_path: Path) -> None:
    store.save_many(cases())
    out = tmp_path / "lesions.parquet"
    assert export(store, "parquet", out) == sum(len(c.lesions) for c in cases())
    table = pq.read_table(out)
    assert table.schema.equals(LESION_TABLE_SCHEMA)
    rows = table.to_pylist()
    pancreas = next(r for r in rows if r["organ"] == "pancreas")
    assert (pancreas["pancreas_parts"], pancreas["pancreas_mask_parts"]) == (["neck"], ["head"])
    assert pancreas["diameters_mm"] == [18.0, 12.0]


def test_unknown_format_and_folder(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreInputError, match=r"fmt: unknown export format 'xml'; expected one of"):
        export(sqlite_store, "xml", tmp_path / "x")
    with pytest.raises(StoreInputError, match=r"out_path: folder .* does not exist"):
        export(sqlite_store, "jsonl", tmp_path / "missing" / "x.jsonl")


def _round_trip(source: Store, tmp_path: Path) -> tuple[str, str]:
    first_t, first_c = tmp_path / "t1.csv", tmp_path / "c1.csv"
    export(source, "rsuper-per-tumor", first_t)
    export(source, "rsuper-per-ct", first_c)
    target = init_store("sqlite://")
    try:
        import_rsuper_csvs(target, first_t, first_c)
        second_t, second_c = tmp_path / "t2.csv", tmp_path / "c2.csv"
        export(target, "rsuper-per-tumor", second_t)
        export(target, "rsuper-per-ct", second_c)
    finally:
        target.close()
    assert second_t.read_text() == first_t.read_text()
    assert second_c.read_text() == first_c.read_text()
    return first_t.read_text(), first_c.read_text()


def test_export_import_export_is_identical(store: Store, tmp_path: Path) -> None:
    store.save_many(cases())
    _round_trip(store, tmp_path)


def test_import_fills_provenance_and_hashes() -> None:
    records = read_rsuper_csvs(GOLDEN / "per_tumor.csv", GOLDEN / "per_ct.csv", texts=TEXTS)
    assert [r.report_id for r in records] == [f"BDMAP_0000000{i}" for i in range(1, 7)]
    assert {r.provenance.backend for r in records} == {BACKEND}
    assert records[0].text_sha256 == cases()[0].text_sha256
    assert read_rsuper_csvs(GOLDEN / "per_tumor.csv")[0].text_sha256 == UNKNOWN_TEXT_SHA256
    kidney = records[2]
    assert kidney.lesions[0].side is Side.BILATERAL
    assert kidney.finding(Organ.KIDNEY).count == Count(kind=CountKind.AT_LEAST, value=3)
    healthy = records[5]
    assert not healthy.lesions
    assert healthy.finding(Organ.BREAST).status is OrganStatus.NORMAL


def test_import_reference_style_rows(tmp_path: Path) -> None:
    path = tmp_path / "ref.csv"
    path.write_text(
        "BDMAP_ID,Tumor ID,Standardized Organ,Standardized Location,Tumor Size (mm),"
        "Unknow Tumor Size,no lesion\n"
        "A,1,pancreas,body / head,20.0 x 10.0,no,False\n"
        "A,2,ovary,left,30,no,False\n"
        "B,1,ovary,left,30,no,False\n"
        "C,no lesion,,,,no,True\n"
    )
    a, b, c = read_rsuper_csvs(path)
    assert a.lesions[0].pancreas_parts == (PancreasPart.BODY, PancreasPart.HEAD)
    assert a.lesions[0].size == Size(diameters_mm=(20, 10))
    assert any("ovary" in w for w in a.warnings)
    assert b.status.value == "invalid"
    assert c.lesions == ()


def test_import_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("BDMAP ID,Tumor ID\nA,1\n")
    with pytest.raises(
        ImportFormatError, match=r"missing column\(s\) \['Standardized Organ', 'Tumor Size \(mm\)'\]"
    ):
        read_rsuper_csvs(path)


_ORGANS = st.sampled_from(
    [Organ.LIVER, Organ.PANCREAS, Organ.KIDNEY, Organ.SPLEEN, Organ.LUNG, Organ.ADRENAL_GLAND]
)


@st.composite
def _lesion(draw: st.DrawFn) -> Lesion:
    organ = draw(_ORGANS)
    fields: dict[str, object] = {"organ": organ}
    if organ is Organ.LIVER:
        fields["liver_segments"] = tuple(draw(st.sets(st.integers(1, 8), max_size=3)))
    if organ is Organ.PANCREAS:
        fields["pancreas_parts"] = tuple(draw(st.sets(st.sampled_from(list(PancreasPart)), max_size=2)))
    if organ is Organ.KIDNEY:
        fields["kidney_poles"] = tuple(draw(st.sets(st.sampled_from(list(KidneyPole)), max_size=1)))
    if organ in (Organ.KIDNEY, Organ.LUNG, Organ.ADRENAL_GLAND):
        fields["side"] = draw(st.sampled_from([None, *Side]))
    if draw(st.booleans()):
        dims = draw(st.lists(st.integers(1, 2000).map(lambda v: v / 10), min_size=1, max_size=3))
        fields["size"] = Size(diameters_mm=tuple(dims), qualifier=draw(st.sampled_from(list(Qualifier))))
    fields["count"] = draw(
        st.sampled_from(
            [
                Count(),
                Count(kind=CountKind.MULTIPLE, value=None),
                Count(kind=CountKind.AT_LEAST, value=3),
                Count(value=2),
            ]
        )
    )
    return Lesion.model_validate(fields)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lesions=st.lists(st.lists(_lesion(), max_size=4), min_size=1, max_size=4))
def test_round_trip_property(tmp_path_factory: pytest.TempPathFactory, lesions: list[list[Lesion]]) -> None:
    tmp = tmp_path_factory.mktemp("rt")
    source = init_store("sqlite://")
    try:
        for i, exam in enumerate(lesions):
            organs = tuple(dict.fromkeys(lesion.organ for lesion in exam))
            source.save_extraction(
                make(
                    f"P{i}",
                    f"text {i}",
                    organs=tuple(finding(o, OrganStatus.LESION) for o in organs),
                    lesions=tuple(exam),
                )
            )
        _round_trip(source, tmp)
    finally:
        source.close()
