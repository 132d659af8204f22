"""Issue 14 defects: bad rows never stop a lane, retry keeps a cancel, NUL bytes are 422, readiness
means "a write would succeed now", report IDs are logged as hashes."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from pathlib import Path

import pytest
from api_cases import AUTH, AppFactory, wait_for_job

from api.schemas import TEXT_PATTERN
from report_extractor.backends.base import Failure
from report_extractor.backends.fake import FakeBackend
from schemas.phi import report_ref

LIVER = "Liver: 2 cm cyst in segment VI."


def test_over_long_report_ids_are_per_row_failures_and_lanes_keep_working(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client(backend="rules", backend_concurrency=2, job_batch_size=1)
    long_ids = [f"{c}" * 1000 for c in "abcd"]
    for long_id in long_ids:  # four uploads, one bad row each (more than the two lanes)
        csv_text = f"report_id,text\n{long_id},{LIVER}\nok-{long_id[0]},{LIVER}\n"
        r = client.post("/v1/jobs", files={"file": ("r.csv", csv_text.encode(), "text/csv")}, headers=AUTH)
        assert r.status_code == 202, r.text
        job = wait_for_job(client, r.json()["job_id"], timeout=15)
        assert (job["status"], job["done"], job["failed"]) == ("done", 1, 1)
        assert job["errors"][0]["error"] == "report_id: has 1000 characters, more than the limit of 256"
    later = client.post("/v1/jobs", json=[{"report_id": "z", "text": LIVER}], headers=AUTH).json()
    assert wait_for_job(client, later["job_id"], timeout=15)["done"] == 1


def test_retry_of_a_job_whose_creation_failed_is_409_with_the_reason(
    store_url: str, make_client: AppFactory
) -> None:
    client = make_client(store_url=store_url)
    store = client.app.state.services.store  # type: ignore[attr-defined]
    job_id = store.open_job(source="upload.csv", backend="fake")
    store.add_job_rows(job_id, [("a", LIVER), ("b", LIVER)], start=0)
    store.fail_job(job_id, "storing the rows failed after row 2 (OSError); create the job again")
    r = client.post(f"/v1/jobs/{job_id}/retry", headers=AUTH)
    assert (r.status_code, r.json()) == (
        409,
        {
            "detail": f"job {job_id!r} is failed: its upload was not fully stored; create the job again",
            "code": "conflict",
        },
    )
    body = client.get(f"/v1/jobs/{job_id}", headers=AUTH).json()
    assert (body["status"], body["error"]) == (
        "failed",
        "storing the rows failed after row 2 (OSError); create the job again",
    )


def test_retry_of_a_cancelled_job_is_refused_and_runs_nothing(make_client: AppFactory) -> None:
    backend = FakeBackend(default=lambda req: (time.sleep(0.02), Failure("down"))[1])
    client = make_client(backend=backend, backend_concurrency=1, job_batch_size=1)
    created = client.post(
        "/v1/jobs", json=[{"report_id": f"r{i}", "text": LIVER} for i in range(200)], headers=AUTH
    ).json()
    deadline = time.monotonic() + 10
    while client.get(f"/v1/jobs/{created['job_id']}", headers=AUTH).json()["failed"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert client.post(f"/v1/jobs/{created['job_id']}/cancel", headers=AUTH).status_code == 200
    time.sleep(0.2)  # a batch in flight finishes
    before = client.get(f"/v1/jobs/{created['job_id']}", headers=AUTH).json()
    r = client.post(f"/v1/jobs/{created['job_id']}/retry", headers=AUTH)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "conflict"
    time.sleep(0.3)
    after = client.get(f"/v1/jobs/{created['job_id']}", headers=AUTH).json()
    assert after["status"] == "cancelled"
    assert (after["done"], after["failed"]) == (before["done"], before["failed"])


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param(
            {"report_id": "r1", "text": "Liver \x00 cyst."},
            "body.text: must not contain NUL (\\x00) characters",
            id="nul-text",
        ),
        pytest.param(
            {"report_id": "r\x001", "text": LIVER},
            "body.report_id: must not contain NUL (\\x00) characters",
            id="nul-id",
        ),
    ],
)
def test_nul_bytes_are_422_naming_the_field(
    make_client: AppFactory, body: dict[str, str], detail: str
) -> None:
    r = make_client(backend="rules").post("/v1/extractions", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    assert r.json() == {"detail": detail, "code": "invalid_input"}


def test_readyz_is_503_when_the_sqlite_file_is_deleted(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client()
    assert client.get("/readyz").status_code == 200
    (tmp_path / "store.db").unlink()
    assert client.get("/readyz").status_code == 503
    r = client.post("/v1/extractions", json={"report_id": "r1", "text": LIVER}, headers=AUTH)
    assert r.status_code == 503, r.text  # never a 200 written into the deleted file


def test_readyz_answers_503_within_a_second_while_another_process_holds_the_write_lock(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client()
    other = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        r = client.get("/readyz")
        assert (r.status_code, r.json()["code"]) == (503, "not_ready")
        assert time.monotonic() - started < 1.5
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_upload_folder_cannot_be_written(
    make_client: AppFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the upload folder should be")
    client = make_client(upload_dir=blocker)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["detail"] == "upload folder not writable"


def test_logs_carry_a_hash_of_the_report_id_never_the_id(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    backend = FakeBackend(default=lambda req: Failure("server said no"))
    client = make_client(backend=backend)
    report_id = "MRN-123456-secret"
    with caplog.at_level(logging.INFO):
        r = client.post("/v1/extractions", json={"report_id": report_id, "text": LIVER}, headers=AUTH)
    assert r.status_code == 502
    assert report_ref(report_id) in caplog.text
    assert report_id not in caplog.text


NUL = "must not contain NUL (\\x00) characters"


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        pytest.param("get", "/v1/reports/r%001", None, f"path.report_id: {NUL}", id="report-path-nul"),
        pytest.param(
            "get",
            "/v1/reports/" + "r" * 257,
            None,
            "path.report_id: String should have at most 256 characters",
            id="report-path-long",
        ),
        pytest.param("get", "/v1/jobs/j%00", None, f"path.job_id: {NUL}", id="job-path-nul"),
        pytest.param("get", "/v1/review/queue?job_id=a%00b", None, f"query.job_id: {NUL}", id="queue-nul"),
        pytest.param(
            "get", "/v1/review/queue?job_id=%20", None, "query.job_id: must not be blank", id="queue-blank"
        ),
        pytest.param(
            "get",
            "/v1/review/queue?job_id=" + "j" * 65,
            None,
            "query.job_id: String should have at most 64 characters",
            id="queue-long",
        ),
        pytest.param("get", "/v1/jobs/j%00/results", None, f"path.job_id: {NUL}", id="results-path-nul"),
        pytest.param("post", "/v1/jobs/j%00/cancel", None, f"path.job_id: {NUL}", id="cancel-path-nul"),
        pytest.param("post", "/v1/jobs/j%00/retry", None, f"path.job_id: {NUL}", id="retry-path-nul"),
        pytest.param(
            "get",
            "/v1/jobs/" + "j" * 65,
            None,
            "path.job_id: String should have at most 64 characters",
            id="job-path-long",
        ),
        pytest.param(
            "post",
            "/v1/extractions",
            {"report_id": "r1", "text": LIVER, "metadata": {"site": "a\x00b"}},
            f"body.metadata: {NUL}",
            id="metadata-value-nul",
        ),
        pytest.param(
            "post",
            "/v1/extractions",
            {"report_id": "r1", "text": LIVER, "metadata": {"a": [{"k\x00": 1}]}},
            f"body.metadata: {NUL}",
            id="metadata-key-nul",
        ),
        pytest.param(
            "post",
            "/v1/extractions",
            {"report_id": "r" * 257, "text": LIVER},
            "body.report_id: String should have at most 256 characters",
            id="body-id-long",
        ),
        pytest.param(
            "post",
            "/v1/jobs",
            [{"report_id": "a", "text": LIVER}, {"report_id": "b\x00", "text": LIVER}],
            f"body.1.report_id: {NUL}",
            id="json-job-id-nul",
        ),
    ],
)
def test_nul_bytes_and_over_long_ids_are_422_naming_the_field_on_every_route(
    store_url: str, make_client: AppFactory, method: str, path: str, body: object, detail: str
) -> None:
    client = make_client(backend="rules", store_url=store_url, raise_errors=False)
    r = client.request(method.upper(), path, json=body, headers=AUTH)
    assert (r.status_code, r.json()) == (422, {"detail": detail, "code": "invalid_input"})
    assert client.get("/readyz").status_code == 200  # the store is still fine afterwards


def test_documented_text_pattern_is_exactly_the_servers_rule() -> None:
    """The OpenAPI pattern and the server's check (``strip()``, NUL) agree on every BMP character."""
    pattern = re.compile(TEXT_PATTERN)
    for code in range(0x10000):
        c = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # lone surrogates are refused separately (not encodable)
        server_accepts = c != "\x00" and bool(c.strip())
        assert bool(pattern.fullmatch(f"ab{c}")) == (c != "\x00"), hex(code)
        assert bool(pattern.fullmatch(c)) == server_accepts, hex(code)
        assert bool(pattern.fullmatch(f" {c}\t")) == server_accepts, hex(code)
