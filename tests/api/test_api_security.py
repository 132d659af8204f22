"""Auth, size limits, error shapes, CORS, health, readiness, metrics, and no report text in logs."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest
from api_cases import API_KEY, AUTH, AppFactory, make_settings, wait_for_job
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_store
from api.settings import SettingsError

MISSING = {
    "detail": "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
    "code": "unauthorized",
}
INVALID = {"detail": "invalid API key", "code": "unauthorized"}
REPORT = {"report_id": "r1", "text": "No lesion."}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/extractions"),
        ("post", "/v1/jobs"),
        ("get", "/v1/jobs/x"),
        ("get", "/v1/jobs/x/results"),
        ("post", "/v1/jobs/x/cancel"),
        ("post", "/v1/jobs/x/retry"),
        ("get", "/v1/reports/r1"),
        ("get", "/metrics"),
    ],
    ids=lambda v: str(v),
)
def test_every_resource_route_needs_a_key(client: TestClient, method: str, path: str) -> None:
    r = client.request(method.upper(), path)
    assert r.status_code == 401
    assert r.json() == MISSING
    assert r.headers["www-authenticate"] == "Bearer"
    bad = client.request(method.upper(), path, headers={"X-API-Key": "wrong-key-0123456789"})
    assert (bad.status_code, bad.json()) == (401, INVALID)


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": f"Bearer {API_KEY}"}, {"X-API-Key": API_KEY}, {"authorization": f"bearer {API_KEY}"}],
    ids=["bearer", "x-api-key", "lowercase-bearer"],
)
def test_valid_key_in_either_header(client: TestClient, headers: dict[str, str]) -> None:
    assert client.post("/v1/extractions", json=REPORT, headers=headers).status_code == 200


def test_second_configured_key_works(make_client: AppFactory) -> None:
    client = make_client(api_keys=f"{API_KEY}, other-key-0123456789abcdef")
    r = client.post("/v1/extractions", json=REPORT, headers={"X-API-Key": "other-key-0123456789abcdef"})
    assert r.status_code == 200


def test_health_and_ready_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "store": "sqlite", "backend": "fake"}


def test_refuses_to_start_without_keys(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"no API keys configured: set RSUPER_API_KEYS=key1,key2"):
        create_app(make_settings(tmp_path, api_keys=None))
    with pytest.raises(SettingsError, match=r"RSUPER_API_KEYS: key #1 has 5 characters; use at least 16"):
        create_app(make_settings(tmp_path, api_keys="short"))


def test_explicit_no_auth_mode(make_client: AppFactory) -> None:
    client = make_client(api_keys=None, allow_no_auth=True)
    assert client.post("/v1/extractions", json=REPORT).status_code == 200
    assert client.get("/metrics").status_code == 200


def test_metrics_public_opt_in(make_client: AppFactory) -> None:
    client = make_client(metrics_public=True)
    assert client.get("/metrics").status_code == 200
    assert client.get("/v1/reports/r1").status_code == 401


def test_metrics_count_requests_reports_and_errors(client: TestClient) -> None:
    client.post("/v1/extractions", json=REPORT, headers=AUTH)
    client.post("/v1/extractions", json={"report_id": "r2", "text": ""}, headers=AUTH)
    client.get("/v1/reports/secret-id-1", headers=AUTH)
    text = client.get("/metrics", headers=AUTH).text
    assert 'rsuper_http_requests_total{method="POST",route="/v1/extractions",status="200"} 1.0' in text
    assert 'rsuper_http_requests_total{method="POST",route="/v1/extractions",status="422"} 1.0' in text
    assert 'rsuper_http_requests_total{method="GET",route="/v1/reports/{report_id}",status="404"} 1.0' in text
    assert 'rsuper_reports_extracted_total{source="api",status="ok"} 1.0' in text
    assert "rsuper_http_request_duration_seconds_bucket" in text
    assert "rsuper_backend_errors_total" in text
    assert "rsuper_llm_tokens_total" in text or "rsuper_llm_tokens" in text
    assert "secret-id-1" not in text


def test_json_body_over_limit_is_413(make_client: AppFactory) -> None:
    client = make_client(max_body_bytes=1024)
    big = {"report_id": "r1", "text": "x" * 2000}
    r = client.post("/v1/extractions", json=big, headers=AUTH)
    assert r.status_code == 413
    assert r.json() == {"detail": "request body exceeds the limit of 1024 bytes", "code": "payload_too_large"}


def test_chunked_body_over_limit_is_413(make_client: AppFactory) -> None:
    client = make_client(max_body_bytes=1024)
    chunks = iter([b'{"report_id": "r1", "text": "', b"x" * 800, b"x" * 800, b'"}'])
    r = client.post("/v1/extractions", content=chunks, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_upload_over_limit_is_413(make_client: AppFactory, tmp_path: Path) -> None:
    client = make_client(max_upload_bytes=2048)
    data = "id,text\n" + "".join(f"r{i},No lesion seen in this organ.\n" for i in range(200))
    r = client.post("/v1/jobs", files={"file": ("a.csv", data.encode())}, headers=AUTH)
    assert r.status_code == 413
    assert r.json() == {"detail": "request body exceeds the limit of 2048 bytes", "code": "payload_too_large"}
    assert list((tmp_path / "uploads").glob("*")) == []


def test_unknown_route_and_method(client: TestClient) -> None:
    assert client.get("/v2/nothing").json() == {"detail": "Not Found", "code": "not_found"}
    r = client.delete("/v1/extractions", headers=AUTH)
    assert (r.status_code, r.json()) == (405, {"detail": "Method Not Allowed", "code": "method_not_allowed"})


def test_unexpected_error_is_500_without_details(make_client: AppFactory) -> None:
    client = make_client(raise_errors=False)

    def broken_store() -> None:
        raise RuntimeError("secret internals")

    app: FastAPI = client.app  # type: ignore[assignment]
    app.dependency_overrides[get_store] = broken_store
    r = client.get("/v1/reports/r1", headers=AUTH)
    assert r.status_code == 500
    assert r.json() == {"detail": "internal server error", "code": "internal_error"}


def test_cors_off_by_default_and_opt_in(make_client: AppFactory) -> None:
    preflight = {"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"}
    off = make_client()
    assert "access-control-allow-origin" not in off.options("/v1/extractions", headers=preflight).headers
    on = make_client(cors_origins="https://ui.example")
    r = on.options("/v1/extractions", headers=preflight)
    assert r.headers["access-control-allow-origin"] == "https://ui.example"


def test_no_report_text_in_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret = "PATIENT-JOHN-DOE hepatic lesion 2 cm"
    caplog.set_level(logging.DEBUG)
    client.post("/v1/extractions", json={"report_id": "r1", "text": secret}, headers=AUTH)
    client.post("/v1/extractions", json={"report_id": "r2", "text": secret + "x" * 60_000}, headers=AUTH)
    job = client.post("/v1/jobs", json=[{"report_id": "j1", "text": secret}], headers=AUTH).json()
    wait_for_job(client, job["job_id"])
    assert "PATIENT-JOHN-DOE" not in caplog.text
    assert any("POST /v1/extractions 200" in m for m in caplog.messages)


def _send_streamed(app: FastAPI, path: str, headers: dict[str, str], chunks: int) -> tuple[int, int]:
    """POST a body of ``chunks`` 64 KiB chunks (no Content-Length) straight through the ASGI
    interface; returns the status and how many chunks the server pulled from the stream."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, object]:
        nonlocal pulled
        if pulled >= chunks:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    return status, pulled


MULTIPART = {"Content-Type": "multipart/form-data; boundary=xyz"}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/extractions", MULTIPART),
        ("/v1/extractions", {"Content-Type": "application/json"}),
        ("/v1/jobs", MULTIPART),
        ("/v1/jobs", {**MULTIPART, "X-API-Key": "wrong-key-0123456789"}),
    ],
    ids=["extractions-multipart", "extractions-json", "jobs-multipart", "jobs-wrong-key"],
)
def test_a_big_body_without_a_valid_key_is_401_before_any_of_it_is_read(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    status, pulled = _send_streamed(app, path, headers, chunks=160)  # 10 MiB if read
    assert (status, pulled) == (401, 0)


def test_a_declared_big_body_without_a_key_is_401_not_413(make_client: AppFactory) -> None:
    client = make_client(max_body_bytes=1024)
    r = client.post("/v1/extractions", content=b"x" * 4096, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (401, MISSING)


def test_a_malformed_body_without_a_key_is_401_not_422(client: TestClient) -> None:
    r = client.post("/v1/extractions", content=b"{not json", headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (401, MISSING)


def test_multipart_to_the_single_report_route_gets_the_small_body_limit(make_client: AppFactory) -> None:
    client = make_client(max_body_bytes=1024, max_upload_bytes=1024 * 1024)
    body = b"--xyz\r\n" + b"x" * 4096 + b"\r\n--xyz--\r\n"
    r = client.post("/v1/extractions", content=body, headers={**AUTH, **MULTIPART})
    assert r.status_code == 413
    assert r.json() == {"detail": "request body exceeds the limit of 1024 bytes", "code": "payload_too_large"}
    app: FastAPI = client.app  # type: ignore[assignment]
    status, pulled = _send_streamed(app, "/v1/extractions", {**AUTH, **MULTIPART}, chunks=160)
    assert (status, pulled) == (413, 1)  # cut off at the first chunk past 1 KiB, not after 10 MiB
