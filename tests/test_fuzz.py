"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis), over real
HTTP against a real server: nothing a client can send may cause a 5xx, and every answer must
match the documented schema."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance

from app.db import DatabaseUrls
from app.main import create_app
from tests.conftest import make_settings
from tests.idp import free_port


@pytest.fixture(scope="module")
def server(database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    application = create_app(make_settings(database_urls, tmp_path_factory.mktemp("fuzz")))
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


# The document is the application's own; building it needs no database.
schema = schemathesis.openapi.from_dict(create_app().openapi())


@pytest.fixture
def target(server: str, world) -> tuple[str, dict[str, str]]:  # noqa: ANN001
    return server, world.headers("chair")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_documented_answers(case, target) -> None:  # noqa: ANN001
    base_url, headers = target
    case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error, response_schema_conformance, ignored_auth])
