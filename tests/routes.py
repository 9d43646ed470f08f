"""The application's own route list (API and web), for tests that must cover every route.

FastAPI 0.165 keeps included routers as lazily resolved entries; this walks them with their
prefixes, so the list is what the application serves, not what the OpenAPI document says."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute


def app_routes(app: Any) -> Iterator[tuple[frozenset[str], str]]:
    """(methods, full path) of every route the application serves."""
    yield from _walk(app.routes, "")


def gets_with_ids(app: Any, prefix: str, ids: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(route path, URL) of every GET route under `prefix` whose path ids all have a value in `ids`
    (routes of objects the caller has no id for are left out), for the crawls over the pages."""
    for methods, path in app_routes(app):
        if "GET" not in methods or not path.startswith(prefix):
            continue
        names = re.findall(r"{(\w+)}", path)
        if all(n in ids for n in names):
            yield path, path.format(**{n: ids[n] for n in names})


def _walk(routes: Any, prefix: str) -> Iterator[tuple[frozenset[str], str]]:
    for route in routes:
        context = getattr(route, "include_context", None)
        if context is not None:
            yield from _walk(context.included_router.routes, prefix + context.prefix)
        elif isinstance(route, APIRoute):
            # "{case_id:uuid}" (a path convertor) is "{case_id}" to a caller, as in the OpenAPI document
            yield frozenset(route.methods), re.sub(r"{(\w+):\w+}", r"{\1}", prefix + route.path)
