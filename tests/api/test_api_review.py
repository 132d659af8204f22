"""The review API: queue, one report for review, accept / edit with validation, stats; the page's shell."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from api_cases import AUTH, AppFactory
from fastapi.testclient import TestClient

LIVER = "Liver: 2 cm cyst in segment VI. Pancreas unremarkable."
HEALTHY = "Liver and pancreas unremarkable."
R1, R2 = "acc-7781", "acc-7782"


def _seeded(make_client: AppFactory, **settings: Any) -> TestClient:
    client = make_client(backend="rules", **settings)
    for rid, text in ((R1, LIVER), (R2, HEALTHY)):
        r = client.post("/v1/extractions", json={"report_id": rid, "text": text}, headers=AUTH)
        assert r.status_code == 200, r.text
    return client


def _edit_diameter(client: TestClient, rid: str, diameters: list[float], **extra: Any) -> Any:
    record = client.get(f"/v1/review/reports/{rid}", headers=AUTH).json()["record"]
    lesions = record["lesions"]
    lesions[0]["size"] = {"diameters_mm": diameters, "qualifier": "="}
    body = {"reviewer": "alice", "action": "edit", "lesions": lesions, **extra}
    return client.post(f"/v1/reports/{rid}/review", json=body, headers=AUTH)


def test_review_view_has_the_kept_text_and_spans(make_client: AppFactory) -> None:
    client = _seeded(make_client, keep_text=True)
    r = client.get("/v1/review/reports/acc-7781", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["text"] == LIVER
    assert body["text_kept"] is True
    assert body["reviewer"] is None
    ev = body["record"]["lesions"][0]["evidence"]
    assert LIVER[ev["start"] : ev["end"]] == ev["quote"]
    assert [v["backend"] for v in body["versions"]] == ["rules"]


def test_review_view_without_kept_text(make_client: AppFactory) -> None:
    client = _seeded(make_client)
    body = client.get("/v1/review/reports/acc-7781", headers=AUTH).json()
    assert body["text"] is None
    assert body["text_kept"] is False
    missing = client.get("/v1/review/reports/nope", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no extraction for report 'nope'", "code": "not_found"}


def test_edit_becomes_current_and_is_counted(
    store_url: str, make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = _seeded(make_client, store_url=store_url)
    caplog.set_level(logging.INFO)
    version = client.get(f"/v1/reports/{R1}", headers=AUTH).json()["provenance"]["extractor_version"]
    r = _edit_diameter(client, R1, [31, 20], expected_version=version)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["changed"] == ["size"]
    assert body["record"]["provenance"]["backend"] == "reviewer:alice"
    current = client.get("/v1/reports/acc-7781", headers=AUTH).json()
    assert current["lesions"][0]["size"]["diameters_mm"] == [31.0, 20.0]
    server_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("api"))
    assert "review of id:" in server_log
    assert LIVER not in server_log
    assert R1 not in server_log
    queue = client.get("/v1/review/queue", headers=AUTH).json()
    assert queue["reviewed"] == 1
    assert [i["report_id"] for i in queue["items"]] == ["acc-7782"]
    stats = client.get("/v1/review/stats", headers=AUTH).json()
    assert stats["reviewed"] == 1
    (row,) = stats["rows"]
    assert row["backend"] == "rules"
    assert row["changed"]["size"] == 1
    assert row["changed_share"]["size"] == 1.0


def test_accept_and_conflict(make_client: AppFactory) -> None:
    client = _seeded(make_client)
    body = {"reviewer": "bob", "action": "accept"}
    r = client.post("/v1/reports/acc-7782/review", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == []
    stale = client.post(
        "/v1/reports/acc-7782/review", json={**body, "expected_version": "rules-old"}, headers=AUTH
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    assert client.post("/v1/reports/zz/review", json=body, headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    ("diameters", "detail"),
    [
        pytest.param(
            [-1], "body.lesions.0.size.diameters_mm: diameters_mm: every diameter must be > 0", id="negative"
        ),
        pytest.param(["x"], "body.lesions.0.size.diameters_mm.0: Input should be a valid number", id="nan"),
    ],
)
def test_bad_edit_is_422_naming_the_field(make_client: AppFactory, diameters: list[Any], detail: str) -> None:
    client = _seeded(make_client)
    r = _edit_diameter(client, "acc-7781", diameters)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(detail), r.json()
    assert client.get("/v1/reports/acc-7781", headers=AUTH).json()["provenance"]["backend"] == "rules"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"reviewer": "alice", "action": "edit"}, "body.edit.lesions: Field required"),
        ({"reviewer": "a b", "action": "accept"}, "body.accept.reviewer: String should match pattern"),
        ({"reviewer": "alice", "action": "accept", "lesions": []}, "body.accept.lesions: Extra inputs"),
        (
            {"reviewer": "alice", "action": "edit", "lesions": [1]},
            "body.edit.lesions: Input should be a list",
        ),
        (
            {"reviewer": "alice", "action": "edit", "lesions": [{"organ": "liver", "side": "left"}]},
            "body.lesions.0: side: only paired organs have a side; liver is not paired",
        ),
        (
            {"reviewer": "alice", "action": "edit", "lesions": [], "organs": [{"organ": "liver"}]},
            "body.organs.0.status: Field required",
        ),
    ],
)
def test_review_body_validation(make_client: AppFactory, body: dict[str, Any], detail: str) -> None:
    client = _seeded(make_client)
    r = client.post("/v1/reports/acc-7782/review", json=body, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(detail), r.json()


def test_queue_filters_and_validation(make_client: AppFactory) -> None:
    client = _seeded(make_client)
    everything = client.get("/v1/review/queue", headers=AUTH).json()
    assert everything["total"] == 2
    assert client.get("/v1/review/queue?organ=kidney", headers=AUTH).json()["total"] == 0
    assert client.get("/v1/review/queue?organ=liver", headers=AUTH).json()["total"] == 2
    bad = client.get("/v1/review/queue?limit=0", headers=AUTH)
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("query.limit:")
    assert client.get("/v1/review/queue?warning=nope", headers=AUTH).status_code == 422


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/review/queue"),
        ("get", "/v1/review/stats"),
        ("get", "/v1/review/reports/acc-7781"),
        ("post", "/v1/reports/acc-7781/review"),
    ],
)
def test_review_routes_need_a_key(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path, json={"reviewer": "a", "action": "accept"})
    assert r.status_code == 401


def test_page_and_assets_are_served_without_data(client: TestClient) -> None:
    page = client.get("/review")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/review/assets/review.js" defer></script>' in page.text
    assert "<option>adrenal_gland</option>" in page.text
    assert "{organ_options}" not in page.text
    assert "--keep-text" in page.text
    js = client.get("/review/assets/review.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert "sessionStorage" in js.text
    assert client.get("/review/assets/review.css").status_code == 200
    assert client.get("/review/assets/..%2Fapp.py").status_code == 404
    assert client.get("/review/assets/secret.txt").status_code == 404


def test_unknown_report_is_404_before_its_lesions_are_checked(client: TestClient) -> None:
    body = {"reviewer": "alice", "action": "edit", "lesions": [{"organ": "liver", "side": "left"}]}
    r = client.post("/v1/reports/unknown/review", json=body, headers=AUTH)
    assert r.status_code == 404
    assert r.json()["detail"] == "no extraction for report 'unknown'"
