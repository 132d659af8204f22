"""Batch jobs: JSON and file uploads, progress, streamed results, cancel, retry, restart recovery."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from api_cases import AUTH, AppFactory, make_settings, wait_for_job
from fastapi.testclient import TestClient

from api.app import create_app
from api.uploads import remove_orphan_uploads
from report_extractor.backends.base import Failure
from report_extractor.backends.fake import EMPTY_ANSWER, FakeBackend
from store import Store, init_store
from store.rsuper_csv import PER_CT_COLUMNS, PER_TUMOR_COLUMNS

LIVER = "Liver: 2 cm cyst in segment VI."


def _reports(n: int, text: str = LIVER) -> list[dict[str, str]]:
    return [{"report_id": f"r{i}", "text": text} for i in range(n)]


def test_json_job_runs_to_done_with_results_in_every_format(make_client: AppFactory) -> None:
    client = make_client(backend="rules")
    r = client.post("/v1/jobs", json=_reports(12), headers=AUTH)
    assert r.status_code == 202, r.text
    created = r.json()
    assert (created["status"], created["source"]) == ("creating", "json")  # rows stored after the 202
    assert created["status_url"] == f"/v1/jobs/{created['job_id']}"
    job = wait_for_job(client, created["job_id"])
    assert (job["status"], job["total"], job["done"], job["failed"], job["pending"]) == ("done", 12, 12, 0, 0)
    assert job["reports_per_s"] > 0
    assert job["eta_s"] == 0.0
    base = created["results_url"]
    lines = client.get(base, headers=AUTH).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [x["report_id"] for x in rows] == [f"r{i}" for i in range(12)]
    assert {x["item_status"] for x in rows} == {"done"}
    assert rows[0]["record"]["lesions"][0]["liver_segments"] == [6]
    summary = list(csv.DictReader(io.StringIO(client.get(f"{base}?format=csv", headers=AUTH).text)))
    assert (summary[0]["lesion_organs"], summary[0]["lesion_count"]) == ("liver", "1")
    tumor = client.get(f"{base}?format=rsuper-per-tumor", headers=AUTH)
    assert tumor.headers["content-type"].startswith("text/csv")
    tumor_rows = list(csv.reader(io.StringIO(tumor.text)))
    assert tuple(tumor_rows[0]) == PER_TUMOR_COLUMNS
    assert len(tumor_rows) == 13
    ct = list(csv.reader(io.StringIO(client.get(f"{base}?format=rsuper-per-ct", headers=AUTH).text)))
    assert tuple(ct[0]) == PER_CT_COLUMNS
    assert len(ct) == 13


def test_csv_upload_with_named_columns(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client()
    data = "Acc,Body\na1,No lesion.\na2,\na3,Also fine.\n"
    r = client.post(
        "/v1/jobs",
        files={"file": ("../../../evil.csv", data.encode())},
        data={"id_col": "Acc", "text_col": "Body"},
        headers=AUTH,
    )
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["columns"] == {"id_column": "Acc", "text_column": "Body", "detected": False}
    assert created["source"] == "evil.csv"
    assert not (tmp_path.parent / "evil.csv").exists()
    job = wait_for_job(client, created["job_id"])
    assert (job["status"], job["done"], job["failed"]) == ("done", 2, 1)
    assert list((tmp_path / "uploads").iterdir()) == []  # rows live in the store; the file is gone
    assert job["errors"] == [{"row_index": 1, "report_id": "a2", "error": "text: report text is empty"}]


def test_an_upload_is_answered_before_its_rows_are_stored_and_runs_meanwhile(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client()
    services = client.app.state.services  # type: ignore[attr-defined]
    services.creator.chunk_size = 2
    store: Store = services.store
    add_rows = store.add_job_rows
    release = threading.Event()

    def slow_add(job_id: str, rows: Any, *, start: int) -> bool:
        if start >= 2:  # the first chunk goes in at once, the rest waits for the test
            assert release.wait(10)
        return add_rows(job_id, rows, start=start)

    store.add_job_rows = slow_add  # type: ignore[method-assign]
    data = "report_id,text\n" + "".join(f"r{i},No lesion {i}.\n" for i in range(5))
    r = client.post("/v1/jobs", files={"file": ("reports.csv", data.encode())}, headers=AUTH)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.json()["status"] == "creating"
    deadline = time.monotonic() + 10
    while (body := client.get(f"/v1/jobs/{job_id}", headers=AUTH).json())["done"] < 2:
        assert time.monotonic() < deadline, body
        time.sleep(0.02)
    assert (body["status"], body["total"], body["done"]) == ("creating", 2, 2)  # ran while creating
    (upload,) = (tmp_path / "uploads").iterdir()  # still read from the upload, named after its job
    assert upload.name == f"{job_id}.csv"
    release.set()
    job = wait_for_job(client, job_id)
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("done", 5, 5, 0)
    assert list((tmp_path / "uploads").iterdir()) == []


def test_jsonl_and_xlsx_uploads_detect_columns(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client()
    jsonl = "\n".join(json.dumps({"Accession Number": f"j{i}", "Findings": "No lesion."}) for i in range(3))
    r = client.post("/v1/jobs", files={"file": ("reports.jsonl", jsonl.encode())}, headers=AUTH)
    assert r.status_code == 202, r.text
    assert r.json()["columns"] == {
        "id_column": "Accession Number",
        "text_column": "Findings",
        "detected": True,
    }
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["study id", "Report"])
    sheet.append(["x1", "No lesion."])
    buffer = io.BytesIO()
    book.save(buffer)
    r2 = client.post("/v1/jobs", files={"file": ("reports.xlsx", buffer.getvalue())}, headers=AUTH)
    assert r2.status_code == 202, r2.text
    assert wait_for_job(client, r2.json()["job_id"])["done"] == 1
    assert wait_for_job(client, r.json()["job_id"])["done"] == 3


@pytest.mark.parametrize(
    ("files", "data", "status", "detail"),
    [
        ({"file": ("a.exe", b"x")}, {}, 415, "body.file: unsupported file type '.exe'; use one of "
         "['.csv', '.tsv', '.xlsx', '.jsonl', '.ndjson', '.parquet']"),
        ({"file": (None, b"id,text\n")}, {}, 422, "body.file: an uploaded file is required"),
        ({"other": ("a.csv", b"id,text\n")}, {}, 422,
         "body: unknown form field; send only file, id_col and text_col"),
        ({"file": ("a.csv", b"id,text\nr1,x\n")}, {"id_col": "nope"}, 422,
         "body.file: id_col: column 'nope' not found; the file has ['id', 'text']"),
        ({"file": ("a.csv", b"id,text\n")}, {}, 422, "body.file: the file has no data rows"),
        ({"file": ("a.xlsx", b"not a zip")}, {}, 422, "body.file: could not read the file (BadZipFile)"),
    ],
    ids=["bad-suffix", "no-file", "unknown-field", "bad-column", "no-rows", "corrupt-xlsx"],
)  # fmt: skip
def test_bad_uploads(
    client: TestClient, tmp_path: Path, files: dict, data: dict, status: int, detail: str
) -> None:
    r = client.post("/v1/jobs", files=files, data=data, headers=AUTH)
    assert r.status_code == status, r.text
    assert r.json()["detail"] == detail
    assert list((tmp_path / "uploads").glob("*")) == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([{"report_id": "a", "text": "x"}, {"report_id": "b", "text": ""}],
         "body.1.text: String should have at least 1 character"),
        ([], "body: List should have at least 1 item after validation, not 0"),
        ({"report_id": "a"}, "body: Input should be a valid array"),
    ],
    ids=["bad-item", "empty", "not-array"],
)  # fmt: skip
def test_bad_json_jobs(client: TestClient, body: object, detail: str) -> None:
    r = client.post("/v1/jobs", json=body, headers=AUTH)
    assert r.status_code == 422
    assert r.json() == {"detail": detail, "code": "invalid_input"}


def test_unsupported_content_type(client: TestClient) -> None:
    r = client.post("/v1/jobs", content=b"id,text", headers={**AUTH, "Content-Type": "text/csv"})
    assert r.status_code == 415
    assert r.json() == {
        "detail": "send multipart/form-data (a file) or application/json (an array of reports)",
        "code": "unsupported_media_type",
    }


def test_unknown_job_and_bad_format(client: TestClient) -> None:
    for method, path in [("GET", "/v1/jobs/nope"), ("GET", "/v1/jobs/nope/results"),
                         ("POST", "/v1/jobs/nope/cancel"), ("POST", "/v1/jobs/nope/retry")]:  # fmt: skip
        r = client.request(method, path, headers=AUTH)
        assert (r.status_code, r.json()) == (404, {"detail": "no job 'nope'", "code": "not_found"})
    r = client.get("/v1/jobs/nope/results?format=xml", headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "query.format: Input should be 'jsonl', 'csv', 'rsuper-per-tumor' or 'rsuper-per-ct'"
    )


def test_cancel_stops_claiming(make_client: AppFactory) -> None:
    client = make_client(fake_delay_s=0.02, job_batch_size=2, backend_concurrency=1)
    job_id = client.post("/v1/jobs", json=_reports(200), headers=AUTH).json()["job_id"]
    r = client.post(f"/v1/jobs/{job_id}/cancel", headers=AUTH)
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    time.sleep(0.3)
    body = client.get(f"/v1/jobs/{job_id}", headers=AUTH).json()
    assert body["status"] == "cancelled"
    assert body["done"] < 200
    again = client.post(f"/v1/jobs/{job_id}/cancel", headers=AUTH)
    assert again.status_code == 409
    assert again.json() == {"detail": f"job '{job_id}' is already cancelled", "code": "conflict"}


def test_failed_items_are_kept_and_retried(make_client: AppFactory) -> None:
    answers = {f"r{i}": [Failure("upstream 503"), EMPTY_ANSWER] for i in range(5)}
    client = make_client(backend=FakeBackend(answers=answers))
    job_id = client.post("/v1/jobs", json=_reports(5), headers=AUTH).json()["job_id"]
    job = wait_for_job(client, job_id)
    assert (job["status"], job["done"], job["failed"]) == ("done", 0, 5)
    assert job["errors"][0] == {"row_index": 0, "report_id": "r0", "error": "upstream 503"}
    assert client.get("/v1/reports/r0", headers=AUTH).json()["status"] == "failed"
    r = client.post(f"/v1/jobs/{job_id}/retry", headers=AUTH)
    assert r.status_code == 200
    job = wait_for_job(client, job_id)
    assert (job["status"], job["done"], job["failed"]) == ("done", 5, 0)


def test_restart_resumes_interrupted_items_without_redoing_committed_ones(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = init_store(settings.store_url)
    job_id = store.create_job([(f"r{i}", f"text {i}") for i in range(10)], backend="fake")
    claimed = store.claim_items(job_id, 4)  # a server claimed 4 items ...
    backend = FakeBackend()
    from report_extractor.engine import Extractor, ReportInput

    first = Extractor(backend).extract_one(ReportInput(claimed[0].report_id, claimed[0].text or ""))
    store.mark_item_done(claimed[0].item_id, first)  # ... committed one, then died
    store.close()
    with TestClient(create_app(settings, backend=backend)) as client:
        job = wait_for_job(client, job_id)
    assert (job["status"], job["done"], job["failed"]) == ("done", 10, 0)
    assert sorted(c.report_id for c in backend.calls) == sorted(f"r{i}" for i in range(10))  # r0 once
    check = init_store(settings.store_url)
    assert check.stats()["stored"] == 10
    check.close()


@pytest.mark.parametrize(
    ("media_type", "content"),
    [
        ("text/csv", b"report_id,text\nr1,No lesion.\n"),
        ("application/x-ndjson", b'{"report_id": "r1", "text": "No lesion."}\n'),
    ],
    ids=["csv", "ndjson"],
)
def test_a_file_without_a_known_suffix_is_read_by_its_declared_media_type(
    client: TestClient, media_type: str, content: bytes
) -> None:
    r = client.post("/v1/jobs", files={"file": ("reports", content, media_type)}, headers=AUTH)
    assert r.status_code == 202, r.text
    assert wait_for_job(client, r.json()["job_id"])["done"] == 1
    r = client.post("/v1/jobs", files={"file": ("scan.png", b"\x89PNG", "image/png")}, headers=AUTH)
    assert r.status_code == 415


def test_a_job_left_creating_by_a_kill_is_failed_visibly_at_startup(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = init_store(settings.store_url)

    def upload_cut_short() -> Iterator[tuple[str, str | None]]:
        yield from ((f"r{i}", f"text {i}") for i in range(3))
        raise RuntimeError("server killed while storing the upload")

    with pytest.raises(RuntimeError):
        store.create_job(upload_cut_short(), backend="fake", chunk_size=2)
    (job,) = store.list_jobs()
    store.close()
    with TestClient(create_app(settings)) as client:
        body = client.get(f"/v1/jobs/{job.id}", headers=AUTH).json()
        assert (body["status"], body["total"], body["pending"]) == ("failed", 2, 2)
        assert body["error"] == (
            "job creation was interrupted after 2 rows were stored (the server stopped); create the job again"
        )
        assert client.post(f"/v1/jobs/{job.id}/cancel", headers=AUTH).status_code == 409


def test_a_row_that_does_not_encode_as_utf8_fails_alone_and_the_job_runs_on(
    store_url: str, make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A JSONL row whose text or ID holds a lone surrogate is a per-row failure with the reason; the rows
    after it are stored and run, and no report text reaches the log."""
    client = make_client(store_url=store_url)
    lines = [json.dumps({"report_id": f"r{i}", "text": f"No lesion {i}."}) for i in range(6)]
    lines[2] = '{"report_id": "bad", "text": "secret \\ud800 cyst"}'
    lines[4] = '{"report_id": "bad\\udfff", "text": "secret liver"}'
    data = ("\n".join(lines) + "\n").encode()
    with caplog.at_level(logging.DEBUG):
        r = client.post("/v1/jobs", files={"file": ("x.jsonl", data, "application/x-ndjson")}, headers=AUTH)
        assert r.status_code == 202, r.text
        job = wait_for_job(client, r.json()["job_id"])
    assert (job["status"], job["total"], job["done"], job["failed"]) == ("done", 6, 4, 2)
    assert job["errors"] == [
        {
            "row_index": 2,
            "report_id": "bad",
            "error": "text: holds a lone surrogate (not valid Unicode); it cannot be encoded as UTF-8",
        },
        {
            "row_index": 4,
            "report_id": "bad\ufffd",
            "error": "report_id: holds a lone surrogate (not valid Unicode); it cannot be encoded as UTF-8",
        },
    ]
    assert "secret" not in caplog.text


def test_an_unexpected_error_while_storing_rows_fails_the_job_with_its_type_only(
    make_client: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Any exception (not only store errors) while storing an upload's rows fails its job, naming the
    exception's type only (never its message: it may quote report text); the upload is deleted."""
    client = make_client()
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]

    def broken(job_id: str, rows: Any, *, start: int) -> bool:
        raise ValueError("report text: secret liver cyst")

    store.add_job_rows = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.DEBUG):
        r = client.post("/v1/jobs", files={"file": ("x.csv", b"report_id,text\nr1,secret\n")}, headers=AUTH)
        job = wait_for_job(client, r.json()["job_id"])
    assert (job["status"], job["error"]) == (
        "failed",
        "storing the rows failed after row 0 (ValueError); create the job again",
    )
    assert "ValueError" in caplog.text
    assert "secret" not in caplog.text
    assert list((tmp_path / "uploads").iterdir()) == []


def test_shutdown_completes_when_failing_an_interrupted_creation_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``Services.close`` always completes: an error failing a job still being created at shutdown is
    logged (type name only), and the job worker is stopped after it all the same."""
    client = TestClient(create_app(make_settings(tmp_path)))
    client.__enter__()
    services = client.app.state.services  # type: ignore[attr-defined]
    store: Store = services.store
    release = threading.Event()
    add_rows = store.add_job_rows
    stopped: list[str] = []
    stop_worker = services.worker.stop

    def stuck(job_id: str, rows: Any, *, start: int) -> bool:
        release.wait(10)
        return add_rows(job_id, rows, start=start)

    def broken(job_id: str, **_: Any) -> bool:
        raise RuntimeError("secret detail")

    async def record_stop() -> None:
        await stop_worker()
        stopped.append("worker")

    store.add_job_rows = stuck  # type: ignore[method-assign]
    store.fail_creation = broken  # type: ignore[method-assign]
    services.worker.stop = record_stop
    r = client.post("/v1/jobs", files={"file": ("x.csv", b"report_id,text\nr1,a\n")}, headers=AUTH)
    assert r.status_code == 202
    with caplog.at_level(logging.DEBUG):
        threading.Timer(0.5, release.set).start()
        client.__exit__(None, None, None)
    assert "could not be failed at shutdown (RuntimeError)" in caplog.text
    assert "secret" not in caplog.text
    assert stopped == ["worker"]


def test_an_upload_left_by_a_kill_is_deleted_at_startup(tmp_path: Path) -> None:
    """A server killed while storing an upload leaves the file (report text at rest) and a
    ``creating`` job named after it: the next start fails the job and deletes every upload of no job
    being created."""
    settings = make_settings(tmp_path)
    store = init_store(settings.store_url)
    job_id = store.open_job(source="reports.csv", job_id="0b1c2d3e-0000-4000-8000-000000000001")
    store.add_job_rows(job_id, [("r0", "secret text")], start=0)
    uploads = tmp_path / "uploads"
    uploads.mkdir(exist_ok=True)
    leftover = uploads / f"{job_id}.csv"
    leftover.write_text("report_id,text\nr0,secret text\nr1,more secret text\n")
    stray = uploads / "5f0e9b2a-0000-4000-8000-000000000002.jsonl"  # received, no job opened yet
    stray.write_text('{"report_id": "r9", "text": "secret"}\n')
    store.close()
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/v1/jobs/{job_id}", headers=AUTH).json()["status"] == "failed"
        assert list(uploads.iterdir()) == []


def test_remove_orphan_uploads_keeps_uploads_of_jobs_being_created_and_fresh_ones(tmp_path: Path) -> None:
    old = time.time() - 3600
    names = {
        "creating": "0b1c2d3e-0000-4000-8000-00000000000a.csv",
        "orphan": "0b1c2d3e-0000-4000-8000-00000000000b.xlsx",
        "fresh": "0b1c2d3e-0000-4000-8000-00000000000c.csv",
    }
    for key, name in names.items():
        (tmp_path / name).write_text("report_id,text\nr,secret\n")
        if key != "fresh":
            os.utime(tmp_path / name, (old, old))
    creating = {"0b1c2d3e-0000-4000-8000-00000000000a"}
    assert remove_orphan_uploads(tmp_path, creating, older_than_s=60) == 1  # another process may serve
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names["creating"], names["fresh"]])
    assert remove_orphan_uploads(tmp_path, creating) == 1  # the only process: every other file goes
    assert [p.name for p in tmp_path.iterdir()] == [names["creating"]]
    assert remove_orphan_uploads(tmp_path / "missing", set()) == 0


def test_the_multi_process_sweep_deletes_old_orphan_uploads_only(tmp_path: Path) -> None:
    """With several processes (no requeue at start; a stale-claim sweep instead), nothing is deleted
    at start, and the sweep deletes uploads of no job being created once not touched for
    ``stale_claim_s``; one being received (fresh) stays."""
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    settings = make_settings(tmp_path, requeue_on_start=False, stale_claim_s=0.5, job_poll_s=0.05)
    old_orphan = uploads / "0b1c2d3e-0000-4000-8000-00000000000b.csv"
    old_orphan.write_text("report_id,text\nr,secret\n")
    os.utime(old_orphan, (time.time() - 3600, time.time() - 3600))
    with TestClient(create_app(settings)):
        assert old_orphan.exists()  # nothing is swept at the start of one of several processes
        fresh = uploads / "0b1c2d3e-0000-4000-8000-00000000000c.csv"  # being received
        fresh.write_text("report_id,text\nr,secret\n")
        deadline = time.monotonic() + 10
        while old_orphan.exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert fresh.exists()
