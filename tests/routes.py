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


def _walk(routes: Any, prefix: str) -> Iterator[tuple[frozenset[str], str]]:
    for route in routes:
        context = getattr(route, "include_context", None)
        if context is not None:
            yield from _walk(context.included_router.routes, prefix + context.prefix)
        elif isinstance(route, APIRoute):
            # "{case_id:uuid}" (a path convertor) is "{case_id}" to a caller, as in the OpenAPI document
            yield frozenset(route.methods), re.sub(r"{(\w+):\w+}", r"{\1}", prefix + route.path)
