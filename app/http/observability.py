"""Per request: one log line and the request metrics (route template, status, duration).

Run by RequestContextMiddleware, which gives the request its id; the route template is known
only after routing, so it is read from the scope once the app has answered."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import sqlalchemy as sa
import structlog
from starlette.types import Scope

from app.db import Database
from app.logs import log_request
from app.metrics import HTTP_LATENCY, HTTP_REQUESTS, OUTBOX_SQL, set_outbox

_CONVERTOR = re.compile(r"{(\w+):\w+}")
_TEMPLATES: dict[str, str] = {}  # a route's declared path -> its template (a route's path is fixed)


def _template(path: str) -> str:
    template = _TEMPLATES.get(path)
    if template is None:
        template = _TEMPLATES[path] = _CONVERTOR.sub(r"{\1}", path)  # "{case_id:uuid}" is "{case_id}" to a reader
    return template


def route_template(scope: Scope, prefixes: tuple[str, ...] = ()) -> str:
    """The matched route's template, with the prefix of the router that included it (FastAPI
    hands us the route as declared, without that prefix). Only known, static prefixes are used,
    so nothing of the requested path itself can end up in a label."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    raw = str(scope.get("path", ""))
    if isinstance(path, str):
        template = _template(path)
        if regex is None or regex.match(raw):
            return template
        for prefix in prefixes:
            if raw.startswith(prefix) and regex.match(raw[len(prefix) :]):
                return prefix + template
        return "unmatched"
    # Mounted apps (static files) have no route object: name the mount, never the file asked for.
    return "/web/static" if raw.startswith("/web/static/") else "unmatched"


class RequestObservation:
    """The request metrics and the request's log line, for RequestContextMiddleware
    (app/http/middleware.py): `begin` when the application is called, `end` when it has answered."""

    def __init__(self, prefixes: tuple[str, ...] = ()) -> None:
        self.prefixes = prefixes
        # The metrics' children by label values, so a request does not look them up by label
        # (prometheus-client builds the key and takes a lock on every `labels` call).
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def _count(self, method: str, route: str, status: int, elapsed: float) -> None:
        counter = self._counted.get((method, route, status))
        if counter is None:
            counter = self._counted[(method, route, status)] = HTTP_REQUESTS.labels(method, route, str(status))
        timer = self._timed.get((method, route))
        if timer is None:
            timer = self._timed[(method, route)] = HTTP_LATENCY.labels(method, route)
        counter.inc()
        timer.observe(elapsed)

    @staticmethod
    def begin(request_id: str) -> float:
        """Binds the request id to what is logged during the request; the start time."""
        structlog.contextvars.bind_contextvars(request_id=request_id)
        return time.perf_counter()

    def end(self, scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = route_template(scope, self.prefixes)
        method = str(scope.get("method", ""))
        self._count(method, route, status, elapsed)
        if route != "/metrics":
            log_request(method, route, status, round(elapsed * 1000, 1))
        structlog.contextvars.unbind_contextvars("request_id")


async def refresh_database_gauges(db: Database) -> None:
    async with db.engine.connect() as conn:
        backlog, dead, oldest = (await conn.execute(sa.text(OUTBOX_SQL))).one()
    set_outbox(int(backlog), int(dead), float(oldest))


async def refresh_forever(db: Database, interval: float = 30.0) -> None:
    """For METRICS_PORT, where no request of ours refreshes the database-wide gauges."""
    while True:
        try:
            await refresh_database_gauges(db)
        except Exception:  # noqa: BLE001  (a failed refresh keeps the last figures)
            logging.getLogger(__name__).warning("metrics: could not read the outbox figures", exc_info=True)
        await asyncio.sleep(interval)
