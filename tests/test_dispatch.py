"""The route dispatch table (app/http/dispatch.py) chooses, for every route the application
serves and every method, the route FastAPI's own routing chooses; what it does not answer (404,
405, a trailing-slash redirect) FastAPI answers as before."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import routing as fastapi_routing
from starlette.routing import Match

from app.db import DatabaseUrls
from app.http.dispatch import PathDispatch
from app.main import create_app
from tests.conftest import make_settings
from tests.test_observability import PRODUCTION

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
SAMPLES = {"uuid": lambda: str(uuid.uuid4()), "int": lambda: "7", "path": lambda: "a/b.css", "str": lambda: "x1"}


def _sample(path: str) -> str:
    return re.sub(r"{\w+(?::(\w+))?}", lambda m: SAMPLES[m.group(1) or "str"](), path)


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": [],
            "state": {}}


def _fastapi_choice(app: Any, scope: dict[str, Any]) -> Any:
    """What FastAPI's app router runs for this request when a route matches in full, else None."""
    for route in app.router.routes:
        match, _child = route.matches(dict(scope))
        if match is Match.FULL:
            if isinstance(route, fastapi_routing._IncludedRouter):
                return route._match(dict(scope))[3]
            return route
    return None


def _table_choice(dispatch: PathDispatch, scope: dict[str, Any]) -> Any:
    found = dispatch.resolve(dict(scope))
    if found is None:
        return None
    entry, _child = found
    return entry.context if entry.context is not None else entry.route


def _paths(app: Any) -> list[str]:
    paths = []
    for route in app.router.routes:
        if isinstance(route, fastapi_routing._IncludedRouter):
            paths += [context.path for context in route.effective_route_contexts()]
        else:
            paths.append(getattr(route, "path", "/"))
    return paths


@pytest.mark.parametrize("production", [False, True])
def test_the_table_chooses_what_fastapi_chooses(database_urls: DatabaseUrls, tmp_path: Path,
                                                production: bool) -> None:
    settings = make_settings(database_urls, tmp_path, **(PRODUCTION if production else {"dev_idp_enabled": True}))
    app = create_app(settings)
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PathDispatch)
    paths = [_sample(p) for p in _paths(app)]
    assert len(paths) > 150
    paths += ["/", "/nowhere", "/web", "/web/", "/api", "/api/v1", "/api/v1/", "/api/v1/cases/", "/web/static",
              "/web/static/app.css", "/api/v1/docs/static/swagger-ui.css", "/api/v1/cases/not-a-uuid",
              f"/api/v1/cases/{uuid.uuid4()}/nothing", "/web/casussen/", "/metrics"]
    compared = answered = 0
    for path in paths:
        for method in METHODS:
            scope = _scope(method, path)
            expected = _fastapi_choice(app, scope)
            assert _table_choice(dispatch, scope) is expected, (method, path)
            compared += 1
            answered += expected is not None
    assert answered > 200  # the table answers every route's own method


async def test_what_the_table_leaves_to_fastapi_is_answered_as_before(client: httpx.AsyncClient) -> None:
    case = uuid.uuid4()
    assert (await client.put(f"/api/v1/cases/{case}")).status_code == 405  # PATCH and GET exist
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert (await client.get("/web/static/nothing.css")).status_code == 404
    redirected = await client.get("/api/v1/me/", follow_redirects=False)
    assert redirected.status_code in (307, 404)
    assert (await client.get(f"/api/v1/cases/{case}")).status_code == 401


async def test_routes_added_after_the_first_request_are_served(database_urls: DatabaseUrls, tmp_path: Path) -> None:
    from fastapi import APIRouter

    app = create_app(make_settings(database_urls, tmp_path))
    extra = APIRouter()

    @extra.get("/extra/one")
    async def one() -> dict[str, int]:
        return {"one": 1}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        assert (await c.get("/extra/one")).status_code == 404  # the table is built here
        app.include_router(extra)
        assert (await c.get("/extra/one")).json() == {"one": 1}

        @extra.get("/extra/two")
        async def two() -> dict[str, int]:
            return {"two": 2}

        assert (await c.get("/extra/two")).json() == {"two": 2}
        assert (await c.get("/extra/one")).json() == {"one": 1}
