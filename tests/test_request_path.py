"""The request path every request shares (issue 16): what its shortcuts answer is what the
framework's own path answers, byte for byte.

- A route whose first dependency is the caller answers a missing, non-bearer or oversized
  Authorization header with its 401 before it runs (app/http/dispatch.py `refusals`): the same
  status, headers and problem+json body as raising it through FastAPI's dependency solving and
  the AppError handler."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.http.dispatch import PathDispatch
from app.http.problems import url_path
from tests.test_dispatch import METHODS, _paths, _sample

AUTHORIZATIONS: tuple[dict[str, str], ...] = (
    {}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "}, {"Authorization": ""},
    {"Authorization": "Bearer " + "x" * 9000},
)


def _answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


async def _answers(client: httpx.AsyncClient, requests: list[tuple[str, str, dict[str, str]]]) -> list[Any]:
    return [_answer(await client.request(method, path, headers=headers)) for method, path, headers in requests]


async def test_an_early_401_is_the_answer_fastapi_gives(app: Any, client: httpx.AsyncClient) -> None:
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PathDispatch)
    paths = [_sample(p) for p in _paths(app) if p.startswith("/api/")]
    requests = [(method, path, headers) for path in paths for method in METHODS if method != "HEAD"
                for headers in AUTHORIZATIONS[:2]]
    requests += [("GET", "/api/v1/cases", headers) for headers in AUTHORIZATIONS]
    requests += [("GET", "/api/v1/cases/%3Fx%23y", {}), ("GET", "/api/v1/cases/a%5Cb", {}),
                 ("GET", "/api/v1/cases/caf%C3%A9", {})]
    early = await _answers(client, requests)
    refused_early = {id(e) for entries in dispatch._current_table().values() for e in entries if e.refusal}
    assert len(refused_early) > 60  # the API's routes without a body that start with the caller
    saved = dispatch.refusals
    try:
        dispatch.refusals = {}
        dispatch._signature = None  # rebuilt without refusals: every 401 is FastAPI's
        assert not any(e.refusal for entries in dispatch._current_table().values() for e in entries)
        late = await _answers(client, requests)
    finally:
        dispatch.refusals = saved
        dispatch._signature = None
    assert sum(1 for status, _h, _b in early if status == 401) > 300
    for request, one, other in zip(requests, early, late, strict=True):
        if 401 in (one[0], other[0]):  # (others, such as the health check's figures, may vary)
            assert one == other, request


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/cases/%3F", "/a%23b", "/a\\b", "/a\tb", "//x",
                                  "/caf\u00e9", "/a b", "/"])
def test_url_path_is_starlettes(path: str) -> None:
    from starlette.datastructures import URL

    scope = {"type": "http", "scheme": "http", "path": path, "query_string": b"q=1",
             "headers": [(b"host", b"testserver")], "server": ("testserver", 80)}
    assert url_path(scope) == URL(scope=scope).path


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_request_line_is_the_line_logging_writes(log_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`log_request` writes, straight to our handler, the line the standard library's logging
    and structlog's formatter write for the same fields (the timestamp aside); with another
    handler in the way it goes through logging itself."""
    import io
    import logging
    import re
    import sys

    import structlog

    from app import logs
    from app.config import Settings

    root = logging.getLogger()
    others = [h for h in root.handlers if not getattr(h, "_casusoverleg", False)]
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logs.configure_logging(Settings(log_format=log_format, log_level="INFO"), force=True)
    for handler in others:  # (pytest's capture): ours must be the only reader for the direct line
        root.removeHandler(handler)
    fields: dict[str, Any] = {"method": "GET", "route": "/api/v1/cases/{case_id}", "status": 401,
                              "duration_ms": 0.4}
    structlog.contextvars.bind_contextvars(request_id="0f" * 16)
    try:
        assert logs._request_line is not None and logs._request_line.sole_reader()
        logs.log_request(**fields)
        logging.getLogger("casusoverleg.request").info("request", extra=fields)
        logs.log_request("GET", "/route/999996356", 200, 1.0)  # redaction runs over the values
        structlog.contextvars.bind_contextvars(job="nightly 999993653")  # more bound: the general way
        logs.log_request("PATCH", "/api/v1/cases/{case_id}", 200, 2.5)
        logging.getLogger("casusoverleg.request").info(
            "request", extra={"method": "PATCH", "route": "/api/v1/cases/{case_id}", "status": 200, "duration_ms": 2.5})
        structlog.contextvars.unbind_contextvars("job")
        logging.getLogger("casusoverleg.request").setLevel(logging.WARNING)
        logs.log_request(**fields)  # below the level: nothing
        logging.getLogger("casusoverleg.request").setLevel(logging.NOTSET)
        root.addHandler(logging.NullHandler())
        assert not logs._request_line.sole_reader()
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
        for handler in [h for h in root.handlers if isinstance(h, logging.NullHandler)]:
            root.removeHandler(handler)
        for handler in others:
            root.addHandler(handler)
        logs.configure_logging(Settings(log_format="text"), force=True)
    direct, logged, redacted, general, general_logged = stream.getvalue().splitlines()
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")
    assert stamp.search(direct) and stamp.sub("T", direct) == stamp.sub("T", logged)
    assert "0f0f0f0f" in direct and "999996356" not in redacted and "[redacted]" in redacted
    assert stamp.sub("T", general) == stamp.sub("T", general_logged) and "999993653" not in general


async def test_the_stack_leaves_out_fastapis_idle_layers_and_answers_a_bug_with_500(app: Any) -> None:
    """No telemetry layer and no application-wide body limit layer (both idle in this service);
    an unexpected error still reaches the application's 500 handler."""
    from fastapi import APIRouter

    from app.http.middleware import RequestContextMiddleware

    layers = []
    stack = app.middleware_stack or app.build_middleware_stack()
    layer = stack
    while layer is not None and len(layers) < 10:
        layers.append(type(layer).__name__)
        layer = getattr(layer, "app", None)
    assert layers[:2] == ["ServerErrorMiddleware", "RequestContextMiddleware"], layers
    assert "ExceptionTelemetryMiddleware" not in layers and "AppBodyLimitMiddleware" not in layers
    assert isinstance(stack.app, RequestContextMiddleware)

    from app.main import create_app

    fresh = create_app(app.state.settings)
    bug = APIRouter()

    @bug.get("/api/v1/bug-for-test")
    async def broken() -> None:
        raise RuntimeError("a bug")

    fresh.include_router(bug)
    transport = httpx.ASGITransport(app=fresh, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        answer = await c.get("/api/v1/bug-for-test")
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("ns", [1_764_560_320_000_000_000, 1_764_560_320_000_001_999, 1_764_560_399_999_999_000,
                                946_684_800_123_456_000])
def test_the_request_lines_timestamp_is_structlogs(ns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from app import logs

    monkeypatch.setattr(logs.time, "time_ns", lambda: ns)
    expected = datetime.fromtimestamp(ns // 1000 / 1_000_000, UTC).isoformat().replace("+00:00", "Z")
    assert logs._timestamp() == expected


def test_a_cached_principal_is_copied_for_its_request_as_dataclasses_replace_copies_it() -> None:
    import dataclasses
    import uuid
    from datetime import UTC, datetime

    from app.auth.principal import GuestGrant, MembershipRef, Principal
    from app.deps import _for_request

    assert not hasattr(Principal, "__post_init__") and "__slots__" not in Principal.__dict__
    conference = uuid.uuid4()
    cached = Principal(
        kind="person", issuer="https://idp", subject="s1", display_name="A", organisation_id=uuid.uuid4(),
        organisation_kind="police", memberships=(MembershipRef(uuid.uuid4(), conference, uuid.uuid4(), "member"),),
        scopes=frozenset({"events:write"}), request_id="old", source_address="10.0.0.1", amr=("pwd",),
        organisation_admin=True,
        guest_grants=(GuestGrant(uuid.uuid4(), uuid.uuid4(), conference, "guest", datetime.now(UTC),
                                 datetime.now(UTC)),),
    )
    copied = _for_request(cached, "new", "10.0.0.2")
    assert copied == dataclasses.replace(cached, request_id="new", source_address="10.0.0.2")
    assert copied.__dict__ == dataclasses.replace(cached, request_id="new", source_address="10.0.0.2").__dict__
    assert cached.request_id == "old" and copied.roles_in(conference) == cached.roles_in(conference)


def test_a_path_asked_again_chooses_the_route_chosen_before(app: Any) -> None:
    import uuid

    from tests.test_dispatch import _fastapi_choice, _scope

    dispatch = app.router.middleware_stack
    case = str(uuid.uuid4())
    for method, path in (("GET", "/api/v1/cases"), ("GET", f"/api/v1/cases/{case}"), ("PATCH", f"/api/v1/cases/{case}"),
                         ("GET", "/web/static/app.css"), ("PUT", f"/api/v1/cases/{case}")):
        first = dispatch.resolve(_scope(method, path))
        again = dispatch.resolve(_scope(method, path))
        expected = _fastapi_choice(app, _scope(method, path))
        chosen = [None if found is None else (found[0].context or found[0].route) for found in (first, again)]
        assert chosen == [expected, expected], (method, path)
        if first is not None and again is not None:
            assert first[1] == again[1] and first[1]["path_params"] is not again[1]["path_params"]
    assert ("GET", f"/api/v1/cases/{case}") in dispatch._chosen
    assert ("GET", "/web/static/app.css") not in dispatch._chosen  # a mount: not by path and method alone


async def test_what_the_first_requests_built_is_frozen_once_more(
    monkeypatch: pytest.MonkeyPatch, database_urls: Any, tmp_path: Any
) -> None:
    """Start-up freezes what it built out of the cyclic collector's way; a while later (the first
    requests have built the route table and the lazy parts) it does so once more (app/main.py)."""
    import asyncio
    import gc

    from app import main
    from tests.conftest import make_settings

    monkeypatch.setattr(main, "WARM_FREEZE_SECONDS", 0.2)
    application = main.create_app(make_settings(database_urls, tmp_path))
    async with application.router.lifespan_context(application):
        after_start_up = gc.get_freeze_count()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
            assert (await c.get("/api/v1/cases")).status_code == 401  # the route table is built
        await asyncio.sleep(0.5)
        assert gc.get_freeze_count() > after_start_up
