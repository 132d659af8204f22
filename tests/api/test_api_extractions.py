"""``POST /v1/extractions`` and ``GET /v1/reports/{id}``: records, idempotency, validation, failures."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from api_cases import AUTH, LOOKUP_FIRST, AppFactory
from fastapi.testclient import TestClient

from report_extractor.backends.base import Completion, CompletionRequest, Failure
from report_extractor.backends.fake import EMPTY_ANSWER, FakeBackend
from report_extractor.errors import BackendError
from store import Store

LIVER = "Liver: 2 cm cyst in segment VI. Pancreas unremarkable."


def test_rules_backend_returns_validated_record_with_evidence(make_client: AppFactory) -> None:
    client = make_client(backend="rules")  # built from settings, like `rsuper serve`
    r = client.post("/v1/extractions", json={"report_id": "r1", "text": LIVER}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report_id"] == "r1"
    assert body["status"] == "ok"
    assert body["provenance"]["backend"] == "rules"
    (lesion,) = body["lesions"]
    assert (lesion["organ"], lesion["liver_segments"], lesion["size"]["diameters_mm"]) == (
        "liver",
        [6],
        [20.0],
    )
    ev = lesion["evidence"]
    assert LIVER[ev["start"] : ev["end"]] == ev["quote"]
    stored = client.get("/v1/reports/r1", headers=AUTH)
    assert stored.status_code == 200
    assert stored.json()["lesions"][0]["evidence"] == ev


@pytest.mark.parametrize("uses_prompt", LOOKUP_FIRST)
def test_same_id_and_text_answers_the_stored_record(make_client: AppFactory, uses_prompt: bool) -> None:
    backend = FakeBackend()
    backend.uses_prompt = uses_prompt  # type: ignore[misc]
    calls = 1 if uses_prompt else 2
    client = make_client(backend=backend)
    first = client.post("/v1/extractions", json={"report_id": "r1", "text": "No lesion."}, headers=AUTH)
    second = client.post("/v1/extractions", json={"report_id": "r1", "text": "No lesion."}, headers=AUTH)
    assert first.status_code == second.status_code == 200
    assert "x-rsuper-cached" not in first.headers
    assert second.headers["x-rsuper-cached"] == "true"
    assert second.json() == first.json()
    assert len(backend.calls) == calls  # a model is not called again; a local backend is (cheaper)
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    assert store.stats()["stored"] == 1  # the re-POST upserted onto the stored record
    third = client.post("/v1/extractions", json={"report_id": "r1", "text": "Other text."}, headers=AUTH)
    assert third.status_code == 200
    assert len(backend.calls) == calls + 1
    assert third.json()["text_sha256"] != first.json()["text_sha256"]
    current = store.current_extraction("r1")
    assert current is not None
    assert current.text_sha256 == third.json()["text_sha256"]
    assert store.stats()["stored"] == 2


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"report_id": "r1", "text": ""}, "body.text: String should have at least 1 character"),
        ({"report_id": "r1"}, "body.text: Field required"),
        ({"report_id": "", "text": "x"}, "body.report_id: String should have at least 1 character"),
        ({"report_id": "r1", "text": "   "}, "body.text: must not be blank"),
        ({"report_id": "r1", "text": "x", "extra": 1}, "body.extra: Extra inputs are not permitted"),
        (
            {"report_id": "r1", "text": "x" * 11},
            "body.text: report has 11 characters, more than the limit of 10",
        ),
        ([], "body: Input should be a valid dictionary or object to extract fields from"),
    ],
    ids=["empty-text", "missing-text", "empty-id", "blank-text", "extra-field", "too-long", "not-object"],
)
def test_invalid_input_is_422_naming_the_field(make_client: AppFactory, body: object, detail: str) -> None:
    client = make_client(max_report_chars=10)
    r = client.post("/v1/extractions", json=body, headers=AUTH)
    assert r.status_code == 422
    assert r.json() == {"detail": detail, "code": "invalid_input"}


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.post(
        "/v1/extractions", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    assert r.json()["detail"].startswith("body.1: JSON decode error")


def test_backend_failure_is_502_and_kept_as_failed_then_retried(make_client: AppFactory) -> None:
    backend = FakeBackend(answers={"r1": [Failure("server said 500"), EMPTY_ANSWER]})
    client = make_client(backend=backend)
    r = client.post("/v1/extractions", json={"report_id": "r1", "text": "Some text."}, headers=AUTH)
    assert r.status_code == 502
    assert r.json() == {
        "detail": "backend failed; the report is kept as failed, retry later",
        "code": "backend_failed",
    }
    kept = client.get("/v1/reports/r1", headers=AUTH).json()
    assert (kept["status"], kept["error"]) == ("failed", "server said 500")
    retry = client.post("/v1/extractions", json={"report_id": "r1", "text": "Some text."}, headers=AUTH)
    assert retry.status_code == 200
    assert retry.json()["status"] == "ok"
    assert "x-rsuper-cached" not in retry.headers
    assert client.get("/v1/reports/r1", headers=AUTH).json()["status"] == "ok"
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    assert store.stats() == {"ok": 1, "failed": 0, "invalid": 0, "total": 1, "stored": 1}  # replaced


def test_invalid_answer_is_502(make_client: AppFactory) -> None:
    client = make_client(backend=FakeBackend(default="not json"))
    r = client.post("/v1/extractions", json={"report_id": "r1", "text": "Some text."}, headers=AUTH)
    assert r.status_code == 502
    assert r.json() == {
        "detail": "backend gave an invalid answer; the report is kept as failed, retry later",
        "code": "backend_failed",
    }
    assert client.get("/v1/reports/r1", headers=AUTH).json()["status"] == "invalid"


class DownBackend(FakeBackend):
    """A backend whose server is down: every call raises."""

    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        raise BackendError("connection refused")

    def check(self) -> None:
        raise BackendError("connection refused")


def test_backend_down_is_503_and_kept_as_failed(make_client: AppFactory) -> None:
    client = make_client(backend=DownBackend())
    r = client.post("/v1/extractions", json={"report_id": "r1", "text": "Some text."}, headers=AUTH)
    assert r.status_code == 503
    assert r.json() == {
        "detail": "backend unavailable; the report is kept as failed, retry later",
        "code": "backend_unavailable",
    }
    kept = client.get("/v1/reports/r1", headers=AUTH).json()
    assert (kept["status"], kept["error"]) == ("failed", "backend unavailable (BackendError)")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"detail": "backend 'fake' not reachable", "code": "not_ready"}


def test_unknown_report_is_404(client: TestClient) -> None:
    r = client.get("/v1/reports/nope", headers=AUTH)
    assert r.status_code == 404
    assert r.json() == {"detail": "no extraction for report 'nope'", "code": "not_found"}


def test_metadata_is_stored_not_echoed(make_client: AppFactory) -> None:
    client = make_client()
    body = {"report_id": "r9", "text": "No lesion.", "metadata": {"site": "A"}}
    r = client.post("/v1/extractions", json=body, headers=AUTH)
    assert r.status_code == 200
    assert "metadata" not in r.json()
    store = client.app.state.services.store  # type: ignore[attr-defined]
    assert store.report_metadata("r9", r.json()["text_sha256"]) == {"site": "A"}
