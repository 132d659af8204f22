"""A single-valued query parameter given more than once is a 422 naming it, on every ``/v1`` route
(FastAPI alone would take the last value, so the answer depended on the order); list-valued ones
may repeat."""

from __future__ import annotations

from typing import Annotated

import pytest
from api_cases import AUTH, AppFactory
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.testclient import TestClient

from api.deps import reject_repeated_query
from api.errors import install_error_handlers


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        pytest.param(
            "job_id=&job_id=abc", "query.job_id: given 2 times, give it once", id="empty-then-value"
        ),
        pytest.param(
            "job_id=abc&job_id=", "query.job_id: given 2 times, give it once", id="value-then-empty"
        ),
        pytest.param("job_id=a&job_id=b&job_id=c", "query.job_id: given 3 times, give it once", id="three"),
        pytest.param("limit=0&limit=5", "query.limit: given 2 times, give it once", id="limit"),
        pytest.param("organ=nope&organ=liver", "query.organ: given 2 times, give it once", id="organ"),
        pytest.param(
            "organ=liver&limit=5&organ=liver&limit=5",
            "query.limit: given 2 times, give it once; query.organ: given 2 times, give it once",
            id="two-repeated",
        ),
    ],
)
def test_a_repeated_single_valued_query_parameter_is_422_naming_it(
    client: TestClient, query: str, detail: str
) -> None:
    r = client.get(f"/v1/review/queue?{query}", headers=AUTH)
    assert (r.status_code, r.json()) == (422, {"detail": detail, "code": "invalid_input"})


def test_the_rule_holds_on_every_v1_router(make_client: AppFactory) -> None:
    client = make_client()
    job_id = client.post("/v1/jobs", json=[{"report_id": "r1", "text": "No lesion."}], headers=AUTH).json()[
        "job_id"
    ]
    r = client.get(f"/v1/jobs/{job_id}/results?format=csv&format=jsonl", headers=AUTH)
    assert (r.status_code, r.json()["detail"]) == (422, "query.format: given 2 times, give it once")
    assert client.get(f"/v1/jobs/{job_id}/results?format=csv", headers=AUTH).status_code == 200
    # once each, or an unknown parameter repeated, is fine (unknown parameters are ignored)
    assert client.get("/v1/review/queue?job_id=abc&limit=5&x=1&x=2", headers=AUTH).status_code == 200


async def _page(size: Annotated[int, Query()] = 10) -> int:
    """A dependency with a single-valued query parameter of its own."""
    return size


_ROUTER = APIRouter(dependencies=[Depends(reject_repeated_query)])


@_ROUTER.get("/items")
async def _items(
    tag: Annotated[list[str], Query()], size: Annotated[int, Depends(_page)], sort: str = "id"
) -> dict[str, object]:
    """A route with a list-valued query parameter."""
    return {"tag": tag, "size": size, "sort": sort}


def test_list_valued_query_parameters_may_repeat() -> None:
    """The mechanism reads the matched route: ``list[...]`` parameters repeat, single-valued ones (of
    the route or of its dependencies) do not."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(_ROUTER)
    with TestClient(app) as c:
        r = c.get("/items?tag=a&tag=b&size=3&sort=x")
        assert (r.status_code, r.json()) == (200, {"tag": ["a", "b"], "size": 3, "sort": "x"})
        r = c.get("/items?tag=a&size=3&size=4")
        assert (r.status_code, r.json()["detail"]) == (422, "query.size: given 2 times, give it once")
        r = c.get("/items?tag=a&sort=x&sort=y")
        assert (r.status_code, r.json()["detail"]) == (422, "query.sort: given 2 times, give it once")


def test_the_openapi_document_states_the_rule(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    queue = doc["paths"]["/v1/review/queue"]["get"]
    assert "given more than once is invalid" in queue["responses"]["422"]["description"]
