"""Reviews as data: a correction is a new current extraction by ``reviewer:<name>``, the original is
kept; exports say which rows were reviewed; the queue orders by need of review; agreement figures."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from store_cases import TEXTS, cases, make, prov
from store_cases import finding as organ_finding

from schemas.records import (
    AlignmentKind,
    Evidence,
    ExtractionStatus,
    Lesion,
    OrganStatus,
    ReportExtraction,
    Size,
)
from schemas.vocabulary import Organ
from store import ExtractionNotFoundError, ReviewConflictError, ReviewInputError, Store
from store.export import export
from store.review import (
    ReviewReason,
    WarningKind,
    build_correction,
    changed_fields,
    is_reviewed,
    review_reasons,
    size_missing_from_evidence,
    warning_kind,
)
from store.rsuper_csv import REVIEWED_COLUMN

AT = datetime(2026, 12, 5, 11, 30, 0, tzinfo=UTC)
LIVER = "BDMAP_00000001"


def _lesions_with_first_diameters(record: ReportExtraction, diameters: tuple[float, ...]) -> list[Lesion]:
    first = record.lesions[0].model_copy(update={"size": Size(diameters_mm=diameters)})
    return [first, *record.lesions[1:]]


def test_a_correction_becomes_current_and_keeps_the_original(store: Store) -> None:
    store.save_many(cases())
    original = store.current_extraction(LIVER)
    assert original is not None
    saved = store.save_review(
        LIVER, "alice", lesions=_lesions_with_first_diameters(original, (31, 20)), at=AT
    )
    assert saved.changed == ("size",)
    assert saved.reviewed_version == "test-1"
    current = store.current_extraction(LIVER)
    assert current == saved.record
    assert current.provenance.backend == "reviewer:alice"
    assert current.provenance.extractor_version == "reviewer:alice@2026-12-05T11:30:00.000000Z"
    assert current.provenance.created_at == AT
    assert current.lesions[0].size == Size(diameters_mm=(31, 20))
    assert current.lesions[0].evidence == original.lesions[0].evidence
    assert {x.confidence for x in current.lesions} == {1.0}
    assert is_reviewed(current)
    assert not is_reviewed(original)
    versions = {v.extractor_version: v for v in store.review_view(LIVER).versions}  # type: ignore[union-attr]
    assert set(versions) == {"test-1", current.provenance.extractor_version}
    assert not versions["test-1"].is_current
    assert store.stats()["stored"] == 8


def test_a_later_machine_extraction_does_not_override_a_review(store: Store) -> None:
    store.save_many(cases())
    store.save_review(LIVER, "alice", at=AT)
    newer = cases()[0].model_copy(update={"provenance": prov("test-2")})
    assert store.save_extraction(newer)
    current = store.current_extraction(LIVER)
    assert current is not None
    assert current.provenance.backend == "reviewer:alice"


def test_a_second_review_supersedes_the_first(store: Store) -> None:
    store.save_many(cases())
    store.save_review(LIVER, "alice", at=AT)
    later = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    store.save_review(LIVER, "bob", expected_version="reviewer:alice@2026-12-05T11:30:00.000000Z", at=later)
    assert store.current_extraction(LIVER).provenance.backend == "reviewer:bob"  # type: ignore[union-attr]


def test_review_conflict_and_unknown_report(store: Store) -> None:
    store.save_many(cases())
    with pytest.raises(ReviewConflictError, match="reload the record"):
        store.save_review(LIVER, "alice", expected_version="other-version")
    with pytest.raises(ExtractionNotFoundError, match="no extraction for report 'nope'"):
        store.save_review("nope", "alice")


@pytest.mark.parametrize(
    ("lesions", "field"),
    [
        pytest.param(
            [{"organ": "liver", "side": "left"}], "lesions.0: side: only", id="side-on-unpaired-organ"
        ),
        pytest.param([{"organ": "liver", "size": {"diameters_mm": [-3]}}], "lesions.0.size", id="negative"),
        pytest.param(
            [{"organ": "liver", "size": {"diameters_mm": [3]}, "size_class": "tiny"}],
            "lesions.0: size_class: give either",
            id="size-and-size-class",
        ),
    ],
)
def test_an_invalid_correction_names_the_field_and_writes_nothing(
    store: Store, lesions: list[dict[str, object]], field: str
) -> None:
    store.save_many(cases())
    with pytest.raises(ReviewInputError, match=field):
        store.save_review(LIVER, "alice", lesions=lesions)  # type: ignore[arg-type]
    assert store.stats()["stored"] == 7


def test_a_failed_extraction_cannot_be_accepted_but_can_be_edited(store: Store) -> None:
    store.save_many(cases())
    with pytest.raises(ReviewInputError, match="action: a 'failed' extraction"):
        store.save_review("BDMAP_00000007", "alice")
    saved = store.save_review(
        "BDMAP_00000007", "alice", organs=[organ_finding(Organ.LIVER, OrganStatus.NORMAL)], at=AT
    )
    assert saved.record.status is ExtractionStatus.OK
    assert saved.changed == ("status", "organs")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("a b", id="space"),
        pytest.param("x" * 49, id="too-long"),
        pytest.param("../etc", id="path"),
        pytest.param("-lead", id="leading-dash"),
    ],
)
def test_reviewer_names_are_checked(store: Store, name: str) -> None:
    store.save_many(cases())
    with pytest.raises(ReviewInputError, match="reviewer: must be"):
        store.save_review(LIVER, name)


def test_exports_mark_reviewed_rows_and_filter_them(store: Store, tmp_path: Path) -> None:
    store.save_many(cases())
    original = store.current_extraction(LIVER)
    assert original is not None
    store.save_review(LIVER, "alice", lesions=_lesions_with_first_diameters(original, (31, 20)), at=AT)
    out = tmp_path / "per_ct.csv"
    assert export(store, "rsuper-per-ct", out) == 6
    rows = {r["BDMAP ID"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows[LIVER][REVIEWED_COLUMN] == "True"
    assert rows[LIVER]["largest liver lesion diameter (cm)"] == "3.1"
    assert {r[REVIEWED_COLUMN] for rid, r in rows.items() if rid != LIVER} == {"False"}
    assert export(store, "rsuper-per-ct", out, reviewed_only=True) == 1
    tumors = tmp_path / "per_tumor.csv"
    assert export(store, "rsuper-per-tumor", tumors, reviewed_only=True) == 3
    sizes = [r["Tumor Size (mm)"] for r in csv.DictReader(tumors.open(encoding="utf-8"))]
    assert sizes == ["31 x 20", "8", "multiple"]


def test_queue_orders_by_need_of_review_and_counts(store: Store) -> None:
    records = cases()
    unaligned = make(
        "R-unaligned",
        "Liver: 4 cm mass.",
        organs=(organ_finding(Organ.LIVER, OrganStatus.LESION),),
        lesions=(Lesion(organ=Organ.LIVER, size=Size(diameters_mm=(40,)), confidence=0.5),),
        warnings=("lesions[0].evidence: quote not found in the report",),
    )
    store.save_many([*records, unaligned])
    queue = store.review_queue(limit=3)
    assert queue.total == 8
    assert [i.report_id for i in queue.items] == ["BDMAP_00000007", "R-unaligned", LIVER]
    assert queue.items[0].reasons == (ReviewReason.FAILED,)
    assert queue.items[1].reasons == (ReviewReason.UNALIGNED_EVIDENCE, ReviewReason.LOW_CONFIDENCE)
    assert queue.by_warning == {"unaligned_evidence": 1}
    assert queue.reviewed == 0
    assert store.review_queue(warning=WarningKind.UNALIGNED_EVIDENCE).total == 1
    store.save_review("R-unaligned", "alice")
    after = store.review_queue()
    assert after.total == 7
    assert after.reviewed == 1
    assert "R-unaligned" not in [i.report_id for i in after.items]
    assert store.review_queue(include_reviewed=True).total == 8
    assert [i.report_id for i in store.review_queue(organ=Organ.PANCREAS).items] == [
        LIVER,
        "BDMAP_00000002",
    ]


def test_queue_filters_by_job(store: Store) -> None:
    store.save_many(cases())
    job_id = store.create_job([("BDMAP_00000002", TEXTS["BDMAP_00000002"])])
    assert [i.report_id for i in store.review_queue(job_id=job_id).items] == ["BDMAP_00000002"]


def test_queue_flags_disagreeing_extractor_versions(store: Store) -> None:
    first = cases()[1]
    other = first.model_copy(update={"lesions": (), "provenance": prov("test-2", backend="rules")})
    other = ReportExtraction.model_validate(
        {**other.model_dump(), "organs": [{"organ": "pancreas", "status": "normal"}]}
    )
    store.save_many([first, other])
    (item,) = store.review_queue().items
    assert ReviewReason.DISAGREEMENT in item.reasons
    view = store.review_view(first.report_id)
    assert view is not None
    assert ReviewReason.DISAGREEMENT in view.reasons
    assert view.text is None


def test_review_view_shows_kept_text_only(store: Store) -> None:
    records = cases()
    store.save_many(records[:1], texts=[TEXTS[LIVER]])
    store.save_many(records[1:2])
    assert store.review_view(LIVER).text == TEXTS[LIVER]  # type: ignore[union-attr]
    assert store.review_view("BDMAP_00000002").text is None  # type: ignore[union-attr]
    assert store.review_view("unknown") is None


def test_agreement_per_backend_and_field(store: Store) -> None:
    store.save_many(cases())
    original = store.current_extraction(LIVER)
    assert original is not None
    store.save_review(LIVER, "alice", lesions=_lesions_with_first_diameters(original, (31, 20)), at=AT)
    store.save_review("BDMAP_00000002", "alice", at=AT)
    (row,) = store.review_agreement()
    assert (row.backend, row.extractor_version, row.reviewed) == ("fake", "test-1", 2)
    assert row.changed["size"] == 1
    assert row.share("size") == 0.5
    assert row.changed["organ"] == 0
    assert row.changed["lesion_count"] == 0


def test_changed_fields_and_reasons_by_hand() -> None:
    base = cases()[0]
    fewer = build_correction(base, "bob", lesions=[base.lesions[0]], at=AT)
    assert changed_fields(base, fewer) == ("organs", "lesion_count")  # the stated count no longer holds
    measured = Lesion(
        organ=Organ.LIVER,
        size=Size(diameters_mm=(23, 15)),
        evidence=Evidence(quote="2.3 x 1.5 cm mass", start=0, end=17, alignment=AlignmentKind.EXACT),
    )
    assert not size_missing_from_evidence(measured)
    wrong = measured.model_copy(update={"size": Size(diameters_mm=(36,))})
    assert size_missing_from_evidence(wrong)
    assert warning_kind("lesions[1].size: 36 not in the evidence text") is WarningKind.SIZE_NOT_IN_EVIDENCE
    assert warning_kind("something new") is WarningKind.OTHER
    record = make(
        "R",
        "x",
        organs=(organ_finding(Organ.LIVER, OrganStatus.LESION),),
        lesions=(wrong,),
    )
    assert review_reasons(record) == (ReviewReason.SIZE_NOT_IN_EVIDENCE,)
    assert review_reasons(record, disagreement=True)[0] is ReviewReason.DISAGREEMENT


def test_a_lesion_moved_to_an_unmentioned_organ_needs_the_old_organs_status(store: Store) -> None:
    store.save_many(cases())
    # the pancreatic lesion becomes a splenic one: the pancreas would keep status 'lesion' with no lesion
    with pytest.raises(ReviewInputError, match="pancreas would have no lesion left") as caught:
        store.save_review("BDMAP_00000002", "alice", lesions=[{"organ": "spleen"}], at=AT)
    assert caught.value.errors[0]["loc"] == ("organs",)
    organs = [
        {"organ": "pancreas", "status": "normal", "count": None},
        {"organ": "spleen", "status": "lesion", "count": None},
    ]
    saved = store.save_review("BDMAP_00000002", "alice", lesions=[{"organ": "spleen"}], organs=organs, at=AT)
    statuses = {f.organ: f.status for f in saved.record.organs}
    assert statuses[Organ.PANCREAS] is OrganStatus.NORMAL
    # an organ that gains a lesion it was not said to have gets status 'lesion' by itself
    again = store.save_review(
        "BDMAP_00000002",
        "bob",
        lesions=[{"organ": "spleen"}, {"organ": "pancreas"}],
        at=datetime(2026, 12, 5, 12, 0, tzinfo=UTC),
    )
    statuses = {f.organ: f.status for f in again.record.organs}
    assert statuses == {Organ.PANCREAS: OrganStatus.LESION, Organ.SPLEEN: OrganStatus.LESION}
    assert {f.organ: f.count for f in again.record.organs}[Organ.PANCREAS] is None


def test_a_review_of_an_old_text_does_not_hide_the_edited_report(store: Store) -> None:
    store.save_many(cases())
    store.save_review(LIVER, "alice", at=AT)
    edited = cases()[0].model_copy(update={"text_sha256": "f" * 64, "provenance": prov("test-2")})
    assert store.save_extraction(edited)
    current = store.current_extraction(LIVER)
    assert current is not None
    assert current.text_sha256 == "f" * 64  # the new text's machine extraction, not the old review
    assert not is_reviewed(current)


def test_the_same_review_version_twice_is_a_conflict(store: Store) -> None:
    store.save_many(cases())
    store.save_review(LIVER, "alice", at=AT)
    with pytest.raises(ReviewConflictError, match="already exists"):
        store.save_review(LIVER, "alice", at=AT)
