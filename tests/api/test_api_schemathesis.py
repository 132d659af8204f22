"""Property-based run of every operation in the OpenAPI document, with every schemathesis check
(server errors, status codes, content types, response schemas, positive data accepted, negative
data rejected, authentication not ignored, ...), on SQLite and on PostgreSQL.

The backend is the ``fake`` one (fast, deterministic), requests carry a valid API key, and each
operation gets :data:`MAX_EXAMPLES` positive and as many negative examples (schemathesis' pytest
plugin does not support pytest 9 yet, so hypothesis drives the strategies directly).

Runs stay randomized (each run explores new requests) but are reproducible: the seed is drawn once
per session, printed, and named in every failure; ``RSUPER_SCHEMATHESIS_SEED=<seed>`` replays a run.
A fixed ``derandomize=True`` would replay one set of requests forever and never find what it misses.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_cases import AUTH, make_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.media_types import MEDIA_TYPE_STRATEGIES
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app

JSON = {"Content-Type": "application/json"}
MAX_EXAMPLES = 50
"""Generated requests per operation and generation mode."""

SEED = int(os.environ.get("RSUPER_SCHEMATHESIS_SEED") or random.SystemRandom().randrange(2**32))
"""The hypothesis seed of this session's runs (``RSUPER_SCHEMATHESIS_SEED`` replays one)."""

_IDS = st.text("abcdefghij0123456789-", min_size=1, max_size=12)
_TEXTS = st.text("abcdefghij ,.0123456789", min_size=1, max_size=60).filter(str.strip)
_ROWS = st.lists(st.tuples(_IDS, _TEXTS), min_size=1, max_size=5)


def _csv(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["report_id", "text"])
    writer.writerows(rows)
    return out.getvalue().encode()


def _ndjson(rows: list[tuple[str, str]]) -> bytes:
    return "".join(json.dumps({"report_id": i, "text": t}) + "\n" for i, t in rows).encode()


# What a file of each declared upload type holds: a table with a report ID and a text column (the
# OpenAPI document can name the media types but not describe a valid table).
UPLOAD_STRATEGIES = {"text/csv": _ROWS.map(_csv), "application/x-ndjson": _ROWS.map(_ndjson)}


@pytest.fixture
def api_schema(store_url: str, tmp_path: Path) -> Iterator[Any]:
    """The app's OpenAPI schema, loaded through its ASGI interface (schemathesis runs the lifespan)."""
    app = create_app(
        make_settings(tmp_path, store_url=store_url, max_body_bytes=64 * 1024, max_upload_bytes=64 * 1024)
    )
    saved = dict(MEDIA_TYPE_STRATEGIES)
    for media_type, strategy in UPLOAD_STRATEGIES.items():
        schemathesis.openapi.media_type(media_type, strategy)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # A body over the byte limit is refused (the documented 413) whatever it holds: JSON Schema
    # cannot state a limit in bytes, so 413 is an expected answer to any generated request.
    for check in (
        schema.config.checks.positive_data_acceptance,
        schema.config.checks.negative_data_rejection,
    ):
        check.expected_statuses = [*check.expected_statuses, "413"]
    yield schema
    MEDIA_TYPE_STRATEGIES.clear()
    MEDIA_TYPE_STRATEGIES.update(saved)
    from schemathesis.python.asgi import shutdown_lifespans  # stop the worker before the store goes

    shutdown_lifespans()


REVIEW_POST = "POST /v1/reports/{report_id}/review"
"""The operation whose schema-valid bodies may still fail the record model's cross-field rules."""


def _pin_columns(case: Any) -> None:
    """In a schema-valid upload, name the columns the generated file really has: that ``id_col`` /
    ``text_col`` must name columns of the file is a cross-field rule JSON Schema cannot state."""
    if case.meta.generation.mode.is_positive and isinstance(case.body, dict) and "file" in case.body:
        for field, column in (("id_col", "report_id"), ("text_col", "text")):
            if field in case.body:
                case.body[field] = column


def _run(operation: Any, mode: GenerationMode, seen: list[int], run_seed: int = SEED) -> None:
    """``MAX_EXAMPLES`` generated requests of one mode, every check on each response; the examples
    are drawn from ``run_seed`` (a failure names it, so that it can be replayed)."""

    @seed(run_seed)
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        _pin_columns(case)
        semantic = mode is GenerationMode.POSITIVE and operation.label == REVIEW_POST
        # every check (schemathesis' default); a review's corrected record is then validated by the record
        # model, whose cross-field rules (segments 1-8, liver segments only on liver lesions, a status
        # that matches the lesions) JSON Schema cannot state: a schema-valid correction may be a 422
        excluded = [positive_data_acceptance] if semantic else []
        response = case.call_and_validate(headers=AUTH, excluded_checks=excluded)
        if semantic:
            assert response.status_code in (200, 404, 409, 413, 422), response.status_code
        seen.append(response.status_code)

    try:
        check()
    except Unsatisfiable:  # nothing to negate (no parameters, or only free-form ones)
        assert mode is GenerationMode.NEGATIVE, operation.label
    except BaseException as e:
        e.add_note(f"{operation.label} ({mode.value}): replay with RSUPER_SCHEMATHESIS_SEED={run_seed}")
        raise


def test_openapi_contract_holds_with_every_check(api_schema: Any) -> None:
    print(f"schemathesis seed: {SEED} (replay: RSUPER_SCHEMATHESIS_SEED={SEED})")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    statuses: dict[str, list[int]] = {}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, statuses.setdefault(operation.label, []))
    # the run really reached the app: every operation, accepted and rejected requests
    assert set(statuses) == {op.label for op in operations}
    counts = {label: len(found) for label, found in statuses.items()}
    assert all(n >= MAX_EXAMPLES for label, n in counts.items() if "/v1/" in label), counts
    everything = [s for found in statuses.values() for s in found]
    assert any(200 <= s < 300 for s in statuses["POST /v1/jobs"])
    assert any(200 <= s < 300 for s in statuses["POST /v1/extractions"])
    assert any(s == 422 for s in everything)


def test_openapi_states_the_rules_the_server_applies(client: TestClient) -> None:
    """Issue 14, defect 8, one by one: each rule the server applies is in the document."""
    doc = client.get("/openapi.json").json()
    extractions = doc["paths"]["/v1/extractions"]["post"]
    # a JSON body that is not UTF-8: a documented 400
    r = client.post("/v1/extractions", content=b'{"report_id": "\xff"}', headers={**AUTH, **JSON})
    assert (r.status_code, r.json()["code"]) == (400, "bad_request")
    assert "400" in extractions["responses"]
    # whitespace-only text is refused by the schema itself
    pattern = re.compile(doc["components"]["schemas"]["ReportIn"]["properties"]["text"]["pattern"])
    assert pattern.search("Liver cyst.")
    assert not pattern.search(" \t\n\u3000")
    # upload types: the part's media types are declared, and nothing else is read
    multipart = doc["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["multipart/form-data"]
    declared = {t.strip() for t in multipart["encoding"]["file"]["contentType"].split(",")}
    assert {"text/csv", "application/x-ndjson"} <= declared
    assert "image/png" not in declared
    assert multipart["schema"]["additionalProperties"] is False
    # the key schemes are declared on every protected operation (and checked before the body)
    for path, item in doc["paths"].items():
        for operation in item.values():
            protected = path.startswith("/v1/") or path == "/metrics"
            assert bool(operation.get("security")) == protected, path
