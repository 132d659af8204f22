"""Property-based run of every operation in the OpenAPI document: no input may cause a 5xx.

The backend is the ``fake`` one (fast, deterministic), requests carry a valid API key, and each
operation gets a bounded number of generated examples so the run stays within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_cases import AUTH, make_settings
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app's OpenAPI schema, loaded through its ASGI interface (schemathesis runs the lifespan)."""
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    app = create_app(make_settings(tmp, max_body_bytes=64 * 1024, max_upload_bytes=64 * 1024))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    try:  # stop the app's worker before its temporary store goes away
        from schemathesis.python.asgi import shutdown_lifespans

        shutdown_lifespans()
    except ImportError:  # an older schemathesis: its atexit hook does it
        pass


def test_no_server_errors(api_schema: Any) -> None:
    """Every operation, ``MAX_EXAMPLES`` generated requests each (schemathesis' pytest plugin does not
    support pytest 9 yet, so hypothesis drives the strategies directly)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call_and_validate(headers=AUTH, checks=[not_a_server_error])
            statuses.append(response.status_code)

        check()
    # the run really reached the app: many requests, and both accepted and rejected ones
    assert len(statuses) >= len(operations) * 5
    assert any(200 <= s < 300 for s in statuses)
    assert any(400 <= s < 500 for s in statuses)
