"""Repository: idempotent upserts, keys for resumable batches, current records, organ queries."""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from store_cases import TEXTS, VERSION, cases, finding, make, prov

from schemas.phi import report_ref
from schemas.records import ExtractionStatus, Lesion, OrganStatus, ReportExtraction, text_sha256
from schemas.vocabulary import Organ
from store import ExtractionSink, SaveRequest, Store, StoreInputError, StoreUnavailableError, init_store
from store.models import ExtractionRow, LesionRow, OrganFindingRow, ReportRow
from store.repository import IN_CHUNK


def _failed(report_id: str = "R1", text: str = "liver lesion", error: str = "timeout") -> ReportExtraction:
    return make(report_id, text, status=ExtractionStatus.FAILED, error=error)


def _ok(report_id: str = "R1", text: str = "liver lesion", version: str = VERSION) -> ReportExtraction:
    return make(
        report_id,
        text,
        organs=(finding(Organ.LIVER, OrganStatus.LESION),),
        lesions=(Lesion(organ=Organ.LIVER, liver_segments=(2,)),),
        provenance=prov(version),
    )


def _rows(store: Store, model: type) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_store_satisfies_the_sink_protocol(store: Store) -> None:
    assert isinstance(store, ExtractionSink)


def test_store_satisfies_the_pipeline_result_sink() -> None:
    pipeline = pytest.importorskip("report_extractor.pipeline")
    for name, member in inspect.getmembers(pipeline.ResultSink, inspect.isfunction):
        if name.startswith("_"):
            continue
        wanted = inspect.signature(member).parameters
        have = inspect.signature(getattr(Store, name)).parameters
        for param in wanted.values():
            assert param.name in have, f"Store.{name} lacks parameter {param.name!r}"
            assert have[param.name].kind == param.kind, f"Store.{name}({param.name}) kind differs"
        extra = [p for p in have.values() if p.name not in wanted and p.default is inspect.Parameter.empty]
        assert extra == [], f"Store.{name} has required parameters the sink does not pass: {extra}"


def test_save_many_with_parallel_texts(store: Store) -> None:
    records = cases()[:2]
    texts = [TEXTS[r.report_id] for r in records]
    assert store.save_many(records, texts=texts) == 2
    assert store.report_text(records[0].report_id, records[0].text_sha256) == texts[0]
    with pytest.raises(StoreInputError, match=r"texts: must have one entry per extraction \(2\), got 1"):
        store.save_many(records, texts=texts[:1])


def test_same_key_twice_writes_one_row(store: Store) -> None:
    assert store.save_extraction(_ok()) is True
    assert store.save_extraction(_ok()) is False
    assert _rows(store, ExtractionRow) == 1
    assert _rows(store, LesionRow) == 1
    assert _rows(store, OrganFindingRow) == 1


def test_ok_replaces_failed_for_the_same_key(store: Store) -> None:
    assert store.save_extraction(_failed()) is True
    assert store.save_extraction(_ok()) is True
    assert _rows(store, ExtractionRow) == 1
    current = store.current_extraction("R1")
    assert current is not None
    assert current.status is ExtractionStatus.OK


def test_failed_never_replaces_ok(store: Store) -> None:
    store.save_extraction(_ok())
    assert store.save_extraction(_failed()) is False
    assert store.current_extraction("R1") == _ok()


def test_failed_replaces_failed_with_the_newer_error(store: Store) -> None:
    store.save_extraction(_failed(error="first"))
    assert store.save_extraction(_failed(error="second")) is True
    current = store.current_extraction("R1")
    assert current is not None
    assert current.error == "second"
    assert _rows(store, ExtractionRow) == 1


def test_record_round_trips_exactly(store: Store) -> None:
    for extraction in cases():
        store.save_extraction(extraction)
    for extraction in cases():
        assert store.current_extraction(extraction.report_id) == extraction


def test_text_is_stored_only_when_given(store: Store) -> None:
    store.save_extraction(_ok("R1", "first text"))
    store.save_extraction(_ok("R2", "second text"), text="second text", metadata={"site": "A"})
    assert store.report_text("R1", text_sha256("first text")) is None
    assert store.report_text("R2", text_sha256("second text")) == "second text"
    assert store.report_metadata("R2", text_sha256("second text")) == {"site": "A"}


def test_text_must_match_the_hash(store: Store) -> None:
    """The error names the report by its reference (a hash, as in logs), never by its full ID."""
    with pytest.raises(StoreInputError) as caught:
        store.save_extraction(_ok("acc-0001-R1", "the text"), text="another text")
    assert str(caught.value) == (
        f"text: does not hash to text_sha256 of report {report_ref('acc-0001-R1')}; pass the exact text "
        "the record was extracted from (or no text)."
    )
    assert "acc-0001" not in str(caught.value)
    assert store.count() == 0


def test_existing_keys(store: Store) -> None:
    store.save_extraction(_ok("R1", "a"))
    store.save_extraction(_failed("R2", "b"))
    store.save_extraction(_ok("R3", "c", version="other"))
    keys = [
        ("R1", text_sha256("a")),
        ("R2", text_sha256("b")),
        ("R3", text_sha256("c")),
        ("R1", text_sha256("z")),
    ]
    assert store.existing_keys(keys, VERSION) == {keys[0], keys[1]}
    assert store.existing_keys(keys, VERSION, only_ok=True) == {keys[0]}
    assert store.existing_keys(iter(keys), "other") == {keys[2]}
    assert store.existing_keys([], VERSION) == set()


def test_existing_keys_beyond_one_in_chunk(store: Store) -> None:
    n = IN_CHUNK * 2 + 7
    written = store.save_many(_ok(f"R{i:05d}", f"text {i}") for i in range(n))
    assert written == n
    keys = [(f"R{i:05d}", text_sha256(f"text {i}")) for i in range(n + 10)]
    assert store.existing_keys(keys, VERSION) == set(keys[:n])


def test_find_extractions_by_key(store: Store) -> None:
    store.save_extraction(_ok("R1", "a"))
    store.save_extraction(_failed("R2", "b"))
    store.save_extraction(_ok("R3", "c", version="other"))
    keys = [("R1", text_sha256("a")), ("R2", text_sha256("b")), ("R3", text_sha256("c")), ("R1", "zz")]
    found = store.find_extractions(keys, VERSION)
    assert list(found) == [keys[0]]
    assert found[keys[0]].status is ExtractionStatus.OK
    assert found[keys[0]].text_sha256 == text_sha256("a")
    anything = store.find_extractions(iter(keys), VERSION, only_ok=False)
    assert sorted(anything) == sorted(keys[:2])
    assert anything[keys[1]].status is ExtractionStatus.FAILED
    assert store.find_extractions([], VERSION) == {}
    store.save_extraction(_ok("R2", "b", version="other"))
    any_version = store.find_extractions(keys, None, only_ok=False)
    assert any_version[keys[1]].status is ExtractionStatus.OK  # an ok one preferred
    assert any_version[keys[2]].provenance.extractor_version == "other"


def test_current_is_latest_ok_else_latest(store: Store) -> None:
    store.save_extraction(_ok("R1", "v1 text", version="v1"))
    store.save_extraction(
        make("R1", "v2 text", status=ExtractionStatus.FAILED, error="x", provenance=prov("v2"))
    )
    current = store.current_extraction("R1")
    assert current is not None
    assert current.provenance.extractor_version == "v1"
    store.save_extraction(_ok("R1", "v3 text", version="v3"))
    current = store.current_extraction("R1")
    assert current is not None
    assert current.provenance.extractor_version == "v3"
    store.save_extraction(_failed("R9"))
    failed = store.current_extraction("R9")
    assert failed is not None
    assert failed.status is ExtractionStatus.FAILED
    assert store.current_extraction("nope") is None
    assert store.count() == 2
    assert store.stats() == {"ok": 1, "invalid": 0, "failed": 1, "total": 2, "stored": 4}


def test_iter_current_extractions_streams_in_report_order(store: Store) -> None:
    records = cases()
    store.save_many(reversed(records), batch_size=2)
    assert list(store.iter_current_extractions(batch_size=2)) == sorted(records, key=lambda r: r.report_id)
    ok = list(store.iter_current_extractions(status=ExtractionStatus.OK))
    assert [r.report_id for r in ok] == [r.report_id for r in records if r.status is ExtractionStatus.OK]


@pytest.mark.parametrize(
    ("organ", "status", "expected"),
    [
        pytest.param(
            Organ.LIVER,
            OrganStatus.LESION,
            ["BDMAP_00000001", "BDMAP_00000004", "BDMAP_00000005"],
            id="liver-lesion",
        ),
        pytest.param(Organ.LIVER, OrganStatus.NORMAL, ["BDMAP_00000006"], id="liver-normal"),
        pytest.param(Organ.GALLBLADDER, OrganStatus.ABSENT, ["BDMAP_00000006"], id="gallbladder-absent"),
        pytest.param(Organ.PANCREAS, None, ["BDMAP_00000001", "BDMAP_00000002"], id="pancreas-mentioned"),
        pytest.param(
            Organ.LUNG,
            OrganStatus.NOT_MENTIONED,
            ["BDMAP_00000002", "BDMAP_00000003", "BDMAP_00000004", "BDMAP_00000005", "BDMAP_00000006"],
            id="lung-not-mentioned",
        ),
    ],
)
def test_cases_by_organ(store: Store, organ: Organ, status: OrganStatus | None, expected: list[str]) -> None:
    store.save_many(cases())
    assert store.cases_by_organ(organ, status) == expected


def test_cases_by_organ_ignores_superseded_extractions(store: Store) -> None:
    store.save_extraction(_ok("R1", "old", version="v1"))
    store.save_extraction(
        make("R1", "new", organs=(finding(Organ.LIVER, OrganStatus.NORMAL),), provenance=prov("v2"))
    )
    assert store.cases_by_organ(Organ.LIVER, OrganStatus.LESION) == []
    assert store.cases_by_organ(Organ.LIVER, OrganStatus.NORMAL) == ["R1"]


def test_save_many_counts_writes_and_keeps_texts(store: Store) -> None:
    records = cases()
    requests = [SaveRequest(r, TEXTS[r.report_id]) for r in records]
    assert store.save_many(requests, batch_size=3) == len(records)
    assert store.save_many(requests, batch_size=3) == 1  # only the failed one is re-written
    assert _rows(store, ReportRow) == len(records)
    assert store.report_text("BDMAP_00000002", records[1].text_sha256) == TEXTS["BDMAP_00000002"]
    with pytest.raises(StoreInputError, match=r"batch_size: must be in \[1, 5000\], got 0"):
        store.save_many(requests, batch_size=0)


def test_concurrent_saves_of_one_report_keep_one_current(store: Store) -> None:
    records = [_ok("R1", f"text {i}", version=f"v{i}") for i in range(8)]
    records += [_failed("R1", f"fail {i}") for i in range(4)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(store.save_extraction, records))
    with store.engine.connect() as conn:
        current = conn.execute(select(ExtractionRow.status).where(ExtractionRow.is_current)).scalars().all()
    assert current == ["ok"]
    assert _rows(store, ExtractionRow) == 12


def test_reads_of_a_deleted_sqlite_file_fail_instead_of_creating_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    store = init_store(f"sqlite:///{path}")
    store.save_extraction(_ok("R1", "a"))
    path.unlink()
    with pytest.raises(StoreUnavailableError, match="no longer exists"):
        store.existing_keys([("R1", text_sha256("a"))], VERSION)
    with pytest.raises(StoreUnavailableError, match="no longer exists"):
        store.current_extraction("R1")
    assert not path.exists()
    store.close()


def test_save_each_says_which_records_were_written(store: Store) -> None:
    store.save_extraction(_ok("R1", "a"))
    store.save_extraction(_failed("R2", "b"))
    requests = [
        SaveRequest(_ok("R1", "a")),  # already stored ok
        SaveRequest(_ok("R2", "b")),  # replaces the failed one
        SaveRequest(_ok("R3", "c")),
        SaveRequest(_ok("R3", "c")),  # the same key again in the batch
        SaveRequest(_ok("R4", "d"), "d", {"site": "x"}),
    ]
    assert store.save_each(requests) == [False, True, True, False, True]
    assert store.save_each([]) == []
    assert store.count(status=ExtractionStatus.OK) == 4
    assert store.report_text("R4", text_sha256("d")) == "d"
    with pytest.raises(StoreInputError, match="does not hash"):
        store.save_each([SaveRequest(_ok("R5", "e")), SaveRequest(_ok("R6", "f"), "other text")])
    assert store.current_extraction("R5") is None  # nothing of a refused batch is written
