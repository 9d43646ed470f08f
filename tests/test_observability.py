"""What an operator sees: Prometheus metrics at /metrics (a counter that a request raised, route
templates and never raw paths, the outbox figures), protected in production; structured JSON
log lines with request id, route, status and duration, and never client data."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.db import DatabaseUrls
from app.logs import configure_logging
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import World, add_case
from tests.test_settings import SECRETS

PRODUCTION = {"environment": "production", "dev_idp_enabled": False, "load_demo_data": False,
              **{k: v for k, v in SECRETS.items() if k != "database_url"}}


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _count(text: str, route: str, status: str) -> float:
    key = (("method", "GET"), ("route", route), ("status", status))
    return _samples(text, "casusoverleg_http_requests_total").get(key, 0.0)


async def test_metrics_count_requests_by_route_template_and_status(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    before = (await client.get("/metrics")).text
    answer = await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))
    assert answer.status_code == 200
    assert (await client.get(f"/api/v1/cases/{case.id}")).status_code == 401
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    after = response.text
    route = "/api/v1/cases/{case_id}"
    assert _count(after, route, "200") == _count(before, route, "200") + 1
    assert _count(after, route, "401") == _count(before, route, "401") + 1
    assert str(case.id) not in after  # templates, never the path as requested
    assert _samples(after, "casusoverleg_http_request_duration_seconds_count")
    assert _samples(after, "casusoverleg_access_log_rows_total")[(("outcome", "allowed"),)] >= 1
    names = {f.name for f in text_string_to_metric_families(after)}
    assert {"casusoverleg_outbox_backlog", "casusoverleg_outbox_dead_letters",
            "casusoverleg_partner_events", "casusoverleg_job_runs"} <= names


async def test_metrics_in_production_need_the_token(database_urls: DatabaseUrls, tmp_path: Path) -> None:
    async def get(settings: Settings, **headers: str) -> int:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return (await c.get("/metrics", headers=headers)).status_code

    production = make_settings(database_urls, tmp_path, **PRODUCTION)
    assert await get(production) == 404  # no token: not on the public port at all
    guarded = make_settings(database_urls, tmp_path, **PRODUCTION, metrics_token="scrape-" + "x" * 30)
    assert await get(guarded) == 401
    assert await get(guarded, Authorization="Bearer wrong") == 401
    assert await get(guarded, Authorization="Bearer scrape-" + "x" * 30) == 200
    separate = make_settings(database_urls, tmp_path, metrics_port=9464)
    assert await get(separate) == 404  # served on its own port by `serve`


def test_json_logs_carry_request_fields_and_no_client_data(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json"), force=True)
    ours = next(h for h in logging.getLogger().handlers if getattr(h, "_casusoverleg", False))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ours.formatter)
    logging.getLogger().addHandler(handler)
    try:
        logging.getLogger("casusoverleg.request").info(
            "request", extra={"method": "GET", "route": "/api/v1/cases/{case_id}", "status": 200,
                              "duration_ms": 3.2}
        )
        logging.getLogger("app.test").warning("lookup for %s failed", "999996356")
    finally:
        logging.getLogger().removeHandler(handler)
        configure_logging(Settings(log_format="text"), force=True)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "request" and lines[0]["route"] == "/api/v1/cases/{case_id}"
    assert lines[0]["status"] == 200 and lines[0]["duration_ms"] == 3.2 and lines[0]["level"] == "info"
    assert "timestamp" in lines[0]
    assert "999996356" not in stream.getvalue() and "[redacted]" in lines[1]["event"]


async def test_every_request_gets_one_log_line_with_its_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="casusoverleg.request")
    response = await client.get("/api/v1/health")
    lines = [r for r in caplog.records if r.name == "casusoverleg.request"]
    assert len(lines) == 1
    assert lines[0].route == "/api/v1/health" and lines[0].status == 200  # type: ignore[attr-defined]
    assert response.headers["x-request-id"]


def test_request_ids_are_uuid4_in_hex() -> None:
    import uuid

    from app.http.middleware import new_request_id

    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.hex == value and parsed.version == 4 and parsed.variant == uuid.RFC_4122
