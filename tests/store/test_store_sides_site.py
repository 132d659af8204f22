"""Exports and review with schema 1.1: per-side organ statuses, the lesion ``site``, and the location of
unmeasured lesions (kept by every path that writes one)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from store_cases import finding, make

from schemas.records import (
    CountKind,
    Lesion,
    OrganFinding,
    OrganStatus,
    ReportExtraction,
    Size,
    SizeClass,
    combine_side_statuses,
)
from schemas.vocabulary import KidneyPole, Organ, PancreasPart, Side
from store import Store
from store.export import LESION_TABLE_SCHEMA, export, write_csv, write_jsonl, write_parquet
from store.review import build_correction, changed_fields, facts_signature
from store.rsuper_csv import LOCATION_COLUMNS, PER_TUMOR_COLUMNS, count_column, per_ct_row, per_tumor_rows
from store.rsuper_import import read_rsuper_csvs

L, N, A = OrganStatus.LESION, OrganStatus.NORMAL, OrganStatus.ABSENT

UNMEASURED = [
    pytest.param(
        Lesion(organ=Organ.LIVER, liver_segments=(2, 3)), "segment 2 / segment 3", "2 / 3", id="liver"
    ),
    pytest.param(
        Lesion(organ=Organ.PANCREAS, pancreas_parts=(PancreasPart.UNCINATE,), size_class=SizeClass.TINY),
        "head",
        "head",
        id="pancreas-size-class",
    ),
    pytest.param(
        Lesion(organ=Organ.KIDNEY, side=Side.LEFT, kidney_poles=(KidneyPole.UPPER_POLE,)),
        "left",
        "left",
        id="kidney",
    ),
    pytest.param(Lesion(organ=Organ.COLON, site="sigmoid"), "sigmoid", None, id="colon-site"),
    pytest.param(
        Lesion(organ=Organ.BONE, site="L3 vertebral body"), "L3 vertebral body", None, id="bone-site"
    ),
    pytest.param(Lesion(organ=Organ.LUNG, side=Side.RIGHT, site="lower lobe"), "right", None, id="lung-side"),
]


def _one(lesion: Lesion, report_id: str = "r1") -> ReportExtraction:
    return make(report_id, "text", organs=(finding(lesion.organ, L),), lesions=(lesion,))


def _kidney(left: OrganStatus | None, right: OrganStatus | None, *lesions: Lesion) -> ReportExtraction:
    organ = OrganFinding(
        organ=Organ.KIDNEY, status=combine_side_statuses(left, right), left=left, right=right
    )
    return make("k1", "text", organs=(organ, finding(Organ.LIVER, N)), lesions=lesions)


@pytest.mark.parametrize(("lesion", "location", "ct_location"), UNMEASURED)
def test_per_tumor_csv_keeps_the_location_of_an_unmeasured_lesion(
    lesion: Lesion, location: str, ct_location: str | None
) -> None:
    [row] = per_tumor_rows(_one(lesion))
    assert (row["Standardized Location"], row["Tumor Size (mm)"], row["Unknow Tumor Size"]) == (
        location,
        "u",
        "yes",
    )


@pytest.mark.parametrize(("lesion", "location", "ct_location"), UNMEASURED)
def test_per_ct_csv_keeps_the_location_of_an_unmeasured_lesion(
    lesion: Lesion, location: str, ct_location: str | None
) -> None:
    row = per_ct_row(_one(lesion))
    assert row is not None
    if lesion.organ in LOCATION_COLUMNS:
        assert row[LOCATION_COLUMNS[lesion.organ]] == ct_location
    assert row[count_column(lesion.organ)] == "1"


def test_per_ct_location_is_the_measured_lesion_when_one_is_measured() -> None:
    record = make(
        "r1",
        "text",
        organs=(finding(Organ.LIVER, L, CountKind.EXACT, 2),),
        lesions=(
            Lesion(organ=Organ.LIVER, liver_segments=(2,)),
            Lesion(organ=Organ.LIVER, liver_segments=(6,), size=Size(diameters_mm=(12,))),
        ),
    )
    row = per_ct_row(record)
    assert row is not None
    assert row[LOCATION_COLUMNS[Organ.LIVER]] == "6"


def test_left_nephrectomy_with_a_normal_right_kidney_is_lesion_free_in_both_csvs() -> None:
    record = _kidney(A, N)
    assert per_tumor_rows(record) == [
        dict(zip(PER_TUMOR_COLUMNS, ("k1", "no lesion", "", "", "", "no", "True"), strict=True))
    ]
    row = per_ct_row(record)
    assert row is not None
    assert (row["number of kidney lesion instances"], row["largest kidney lesion diameter (cm)"]) == (
        "0",
        "0",
    )
    assert (row[LOCATION_COLUMNS[Organ.KIDNEY]], row["no lesion"]) == ("", "True")


def test_a_lesion_on_the_remaining_kidney_is_written_on_its_side() -> None:
    record = _kidney(A, L, Lesion(organ=Organ.KIDNEY, side=Side.RIGHT, size=Size(diameters_mm=(21,))))
    [tumor] = per_tumor_rows(record)
    assert (tumor["Standardized Location"], tumor["Tumor Size (mm)"]) == ("right", "21")
    row = per_ct_row(record)
    assert row is not None
    assert (row["number of kidney lesion instances"], row[LOCATION_COLUMNS[Organ.KIDNEY]]) == ("1", "right")


def test_both_kidneys_resected_write_zeros() -> None:
    row = per_ct_row(_kidney(A, A))
    assert row is not None
    assert (row["number of kidney lesion instances"], row["no lesion"]) == ("0", "True")


def test_jsonl_and_parquet_carry_sides_and_site(tmp_path: Path) -> None:
    record = _kidney(A, L, Lesion(organ=Organ.KIDNEY, side=Side.RIGHT, site="renal sinus"))
    jsonl = tmp_path / "x.jsonl"
    write_jsonl([record], jsonl)
    line = json.loads(jsonl.read_text())
    assert (line["organs"][0]["left"], line["organs"][0]["right"]) == ("absent", "lesion")
    assert line["lesions"][0]["site"] == "renal sinus"
    assert ReportExtraction.model_validate(line) == record
    parquet = tmp_path / "x.parquet"
    assert write_parquet([record], parquet) == 1
    table = pq.read_table(parquet)
    assert table.schema.equals(LESION_TABLE_SCHEMA)
    [row] = table.to_pylist()
    assert (row["organ_status"], row["organ_left_status"], row["organ_right_status"]) == (
        "lesion",
        "absent",
        "lesion",
    )
    assert (row["site"], row["side"], row["diameters_mm"]) == ("renal sinus", "right", None)


def test_parquet_keeps_the_location_of_unmeasured_lesions(tmp_path: Path) -> None:
    record = make(
        "r1",
        "text",
        organs=(finding(Organ.LIVER, L), finding(Organ.COLON, L)),
        lesions=(Lesion(organ=Organ.LIVER, liver_segments=(8,)), Lesion(organ=Organ.COLON, site="cecum")),
    )
    out = tmp_path / "x.parquet"
    write_parquet([record], out)
    rows = pq.read_table(out).to_pylist()
    assert [(r["liver_segments"], r["site"], r["largest_mm"], r["organ_left_status"]) for r in rows] == [
        ([8], None, None, None),
        ([], "cecum", None, None),
    ]


def test_site_round_trips_through_the_per_tumor_csv(tmp_path: Path) -> None:
    records = [
        _one(Lesion(organ=Organ.COLON, site="sigmoid, distal"), "a"),
        _one(Lesion(organ=Organ.SPLEEN), "b"),
        _one(Lesion(organ=Organ.KIDNEY, side=Side.RIGHT), "c"),
    ]
    out = tmp_path / "t.csv"
    write_csv((row for r in records for row in per_tumor_rows(r)), PER_TUMOR_COLUMNS, out)
    back = read_rsuper_csvs(out)
    assert [(x.lesions[0].site, x.lesions[0].side, x.lesions[0].size) for x in back] == [
        ("sigmoid, distal", None, None),
        (None, None, None),
        (None, Side.RIGHT, None),
    ]


@pytest.mark.parametrize(
    ("cell", "site"),
    [
        pytest.param("u", None, id="unknown"),
        pytest.param("", None, id="empty"),
        pytest.param("  descending\tcolon ", "descending colon", id="cleaned"),
        pytest.param("word " * 40, ("word " * 16).strip(), id="cut"),
    ],
)
def test_import_reads_the_location_of_organs_without_sub_segments_as_site(
    tmp_path: Path, cell: str, site: str | None
) -> None:
    out = tmp_path / "t.csv"
    row = dict(zip(PER_TUMOR_COLUMNS, ("r", "1", "colon", cell, "u", "yes", "False"), strict=True))
    write_csv([row], PER_TUMOR_COLUMNS, out)
    [record] = read_rsuper_csvs(out)
    assert record.lesions[0].site == site
    assert not record.warnings


def test_export_of_a_store_carries_sides(store: Store, tmp_path: Path) -> None:
    store.save_many([_kidney(A, N)])
    out = tmp_path / "x.jsonl"
    export(store, "jsonl", out)
    assert json.loads(out.read_text())["organs"][0]["left"] == "absent"
    current = store.current_extraction("k1")
    assert current is not None
    assert current.finding(Organ.KIDNEY).right is N


def test_review_names_changed_sides_and_site() -> None:
    base = _kidney(A, L, Lesion(organ=Organ.KIDNEY, side=Side.RIGHT))
    kidney = OrganFinding(organ=Organ.KIDNEY, status=L, left=N, right=L)
    sides = build_correction(base, "alice", organs=[kidney, base.organs[1]])
    assert changed_fields(base, sides) == ("organs",)
    assert facts_signature(base) != facts_signature(sides)
    site = build_correction(
        base, "alice", lesions=[Lesion(organ=Organ.KIDNEY, side=Side.RIGHT, site="hilum")]
    )
    assert changed_fields(base, site) == ("site",)


@pytest.mark.parametrize(
    ("side", "left", "right"),
    [
        pytest.param(Side.LEFT, L, L, id="moved-to-the-absent-side"),
        pytest.param(None, A, L, id="side-removed-keeps-sides"),
        pytest.param(Side.BILATERAL, L, L, id="bilateral"),
    ],
)
def test_a_lesion_edit_updates_the_sides_it_lies_on(
    side: Side | None, left: OrganStatus, right: OrganStatus
) -> None:
    base = _kidney(A, L, Lesion(organ=Organ.KIDNEY, side=Side.RIGHT))
    corrected = build_correction(base, "alice", lesions=[Lesion(organ=Organ.KIDNEY, side=side)])
    kidney = corrected.finding(Organ.KIDNEY)
    assert (kidney.status, kidney.left, kidney.right) == (L, left, right)


def test_a_lesion_added_to_a_normal_kidney_with_sides() -> None:
    base = _kidney(A, N)
    corrected = build_correction(base, "alice", lesions=[Lesion(organ=Organ.KIDNEY, side=Side.RIGHT)])
    kidney = corrected.finding(Organ.KIDNEY)
    assert (kidney.status, kidney.left, kidney.right) == (L, A, L)
    unsided = build_correction(base, "alice", lesions=[Lesion(organ=Organ.KIDNEY)])
    kidney = unsided.finding(Organ.KIDNEY)
    assert (kidney.status, kidney.left, kidney.right) == (L, None, None)
