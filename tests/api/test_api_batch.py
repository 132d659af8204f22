"""``POST /v1/extractions:batch``: many reports in one round trip, one result or error per report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from api_cases import AUTH, LOOKUP_FIRST, AppFactory
from fastapi.testclient import TestClient

from report_extractor.backends.base import Completion, CompletionRequest, Failure
from report_extractor.backends.fake import FakeBackend
from report_extractor.errors import BackendUnavailableError
from store import Store

LIVER = "Liver: 2 cm cyst in segment VI."
URL = "/v1/extractions:batch"


class CountingBackend(FakeBackend):
    """The fake backend, counting backend calls (one call may carry many reports)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batches: list[int] = []

    def complete(self, requests: Sequence[CompletionRequest]) -> list[Completion | Failure]:
        """Count the call, then answer as the fake backend does."""
        self.batches.append(len(requests))
        return super().complete(requests)


def _store(client: TestClient) -> Store:
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    return store


@pytest.mark.parametrize("uses_prompt", LOOKUP_FIRST)
def test_one_round_trip_per_item_results_and_one_transaction(
    store_url: str, make_client: AppFactory, monkeypatch: pytest.MonkeyPatch, uses_prompt: bool
) -> None:
    backend = CountingBackend(answers={"fails": Failure("server said 500")})
    backend.uses_prompt = uses_prompt  # type: ignore[misc]
    extracted = 3 if uses_prompt else 4
    client = make_client(backend=backend, store_url=store_url, max_report_chars=50)
    assert (
        client.post("/v1/extractions", json={"report_id": "old", "text": LIVER}, headers=AUTH).status_code
        == 200
    )
    store = _store(client)
    transactions: list[int] = []
    save_each = store.save_each
    monkeypatch.setattr(store, "save_each", lambda items: transactions.append(len(items)) or save_each(items))
    monkeypatch.setattr(store, "save_extraction", lambda *a, **kw: pytest.fail("saved one by one"))
    backend.batches.clear()
    reports: list[Any] = [
        {"report_id": "a", "text": LIVER, "metadata": {"site": "x"}},
        {"report_id": "b", "text": "Liver \x00 cyst."},
        {"report_id": "old", "text": LIVER},
        {"report_id": "fails", "text": LIVER},
        {"report_id": "r" * 300, "text": LIVER},
        "not an object",
        {"report_id": "c", "text": "x" * 51},
        {"report_id": "a", "text": LIVER},
        {"report_id": "d", "text": "No lesion."},
    ]
    r = client.post(URL, json={"reports": reports}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    got = [
        (x["index"], x["report_id"], x["status"], x["cached"], (x["error"] or {}).get("detail"))
        for x in body["results"]
    ]
    assert got == [
        (0, "a", "ok", False, None),
        (1, None, "rejected", False, "body.reports.1.text: must not contain NUL (\\x00) characters"),
        (2, "old", "ok", True, None),
        (3, "fails", "failed", False, "backend failed; the report is kept as failed, retry later"),
        (4, None, "rejected", False, "body.reports.4.report_id: String should have at most 256 characters"),
        (5, None, "rejected", False,
         "body.reports.5: Input should be a valid dictionary or object"),
        (6, "c", "rejected", False,
         "body.reports.6.text: report has 51 characters, more than the limit of 50"),
        (7, "a", "ok", True, None),
        (8, "d", "ok", False, None),
    ]  # fmt: skip
    assert (body["ok"], body["failed"], body["rejected"]) == (4, 1, 4)
    assert body["results"][0]["record"]["report_id"] == "a"
    assert body["results"][2]["record"]["report_id"] == "old"
    # one backend call for a, fails, d (a twice is once); a model backend skips old (stored), a local
    # one extracts it and the upsert keeps the stored record
    assert backend.batches == [extracted]
    assert transactions == [extracted]  # a, fails (kept as failed), d (and old), in one transaction
    assert store.stats()["stored"] == 4
    assert store.current_extraction("d") is not None
    failed = store.current_extraction("fails")
    assert failed is not None
    assert failed.status.value == "failed"
    assert store.report_metadata("a", body["results"][0]["record"]["text_sha256"]) == {"site": "x"}
    assert store.current_extraction("b") is None


@pytest.fixture
def small_batches(make_client: AppFactory) -> TestClient:
    """An app taking at most 3 reports per batch and texts of at most 50 characters."""
    return make_client(max_batch_reports=3, max_report_chars=50)


def test_more_reports_than_the_limit_is_422(small_batches: TestClient) -> None:
    reports = [{"report_id": f"r{i}", "text": LIVER} for i in range(4)]
    r = small_batches.post(URL, json={"reports": reports}, headers=AUTH)
    assert r.status_code == 422
    assert r.json() == {"detail": "body.reports: at most 3 reports per batch, got 4", "code": "invalid_input"}
    doc = small_batches.get("/openapi.json").json()
    assert doc["components"]["schemas"]["BatchIn"]["properties"]["reports"]["maxItems"] == 3


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"reports": []}, "body.reports: List should have at least 1 item after validation, not 0"),
        ([{"report_id": "a", "text": LIVER}],
         "body: Input should be a valid dictionary or object to extract fields from"),
        ({"reports": [], "x": 1},
         "body.reports: List should have at least 1 item after validation, not 0; "
         "body.x: Extra inputs are not permitted"),
    ],
    ids=["empty", "bare-array", "extra-field"],
)  # fmt: skip
def test_a_malformed_envelope_is_422(client: TestClient, body: object, detail: str) -> None:
    r = client.post(URL, json=body, headers=AUTH)
    assert (r.status_code, r.json()) == (422, {"detail": detail, "code": "invalid_input"})


def test_backend_down_fails_each_report_visibly_and_keeps_it(make_client: AppFactory) -> None:
    def down(request: CompletionRequest) -> str:
        raise BackendUnavailableError("connection refused")

    client = make_client(backend=FakeBackend(default=down))
    r = client.post(URL, json={"reports": [{"report_id": "a", "text": LIVER}]}, headers=AUTH)
    assert r.status_code == 200
    item = r.json()["results"][0]
    assert (item["status"], item["error"]["code"]) == ("failed", "backend_unavailable")
    kept = _store(client).current_extraction("a")
    assert kept is not None
    assert kept.status.value == "failed"


def test_store_down_is_503_for_the_whole_batch(client: TestClient, tmp_path: Any) -> None:
    (tmp_path / "store.db").unlink()
    r = client.post(URL, json={"reports": [{"report_id": "a", "text": LIVER}]}, headers=AUTH)
    assert (r.status_code, r.json().get("code")) == (503, "store_unavailable"), r.text
