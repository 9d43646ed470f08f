"""ASGI middleware: request ids, body-size limit, no-store on API answers, the request's metrics and
log line."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.dispatch import PathDispatch
from app.http.observability import RequestObservation
from app.http.problems import PROBLEM_JSON, HtmlErrorPage, problem
from app.schemas.common import NUL_DETAIL

# A request id is a random UUID (version 4) in hex, as uuid.uuid4().hex gives it, without
# building a UUID object per request.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    return "%032x" % (int.from_bytes(os.urandom(16), "big") & _UUID4_CLEAR | _UUID4_SET)


class RequestContextMiddleware:
    """Gives each request an id (echoed as X-Request-ID), refuses bodies over the limit with 413,
    marks every API answer `Cache-Control: no-store` (client data must not be cached) and answers
    304 for a matching If-None-Match; counts the request in the metrics and writes its one log
    line (app/http/observability.py: route template, status, duration).

    One ASGI layer for what were two (the request context outside, the observation inside): the
    observation sees the status the application sent (before a 200 becomes a 304) and does not
    see a body refused before the application ran."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, html_page: HtmlErrorPage | None = None,
                 prefixes: tuple[str, ...] = (), dispatch: PathDispatch | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.html_page = html_page  # the browser's page for a refused URL on a /web path
        self.observed = RequestObservation(prefixes)
        # The app router's routing table: it resolves the route here, and answers a refusal that
        # needs nothing but the scope (a missing bearer token) without the layers below.
        self.dispatch = dispatch

    async def _refuse_as_page(self, scope: Scope, receive: Receive, send: Send, status: int) -> bool:
        page = self.html_page(Request(scope), status) if self.html_page is not None else None
        if page is None:
            return False
        await page(scope, receive, send)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        declared = if_none_match = None
        for key, value in scope["headers"]:  # as dict(headers).get: the last of each
            if key == b"content-length":
                declared = value
            elif key == b"if-none-match":
                if_none_match = value
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _too_large(send, self.max_body_bytes, web=_is_web(scope))
            return
        nul_at = _nul_in_url(scope)
        if nul_at is not None:  # (request bodies: app/schemas/common.py Strict)
            if await self._refuse_as_page(scope, receive, send, 422):
                return
            response = problem(422, "Validation failed", f"{nul_at}: {NUL_DETAIL}", type_slug="validation-error",
                               instance=None, errors=[{"pointer": nul_at, "detail": NUL_DETAIL}])
            await response(scope, receive, send)
            return

        received = 0
        limit = self.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        if scope["method"] not in ("GET", "HEAD"):
            if_none_match = None
        not_modified = False
        status = 500
        request_header = (b"x-request-id", request_id.encode())

        async def send_with_headers(message: Message) -> None:
            nonlocal not_modified, status
            if not_modified:  # a 304 carries no body: the first body message ends it
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = message.get("headers", [])
                if if_none_match is not None and status == 200:
                    etag = next((v for k, v in headers if k.lower() == b"etag"), None)
                    if etag is not None and _none_match_fails(if_none_match, etag):
                        not_modified = True
                        headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
                        message = {**message, "status": 304, "headers": headers}
                if any(k.lower() == b"cache-control" for k, _ in headers):
                    extra = [request_header, _NOSNIFF]
                else:
                    extra = [request_header, _NO_STORE, _NOSNIFF]
                message["headers"] = [*headers, *extra]
            await send(message)

        observed = self.observed
        started = observed.begin(request_id)
        try:
            if self.dispatch is None or not await self.dispatch.answer_early(scope, send_with_headers):
                await self.app(scope, limited_receive, send_with_headers)
        except _BodyTooLarge:
            observed.end(scope, status, started)
            await _too_large(send, limit, web=_is_web(scope))
            return
        except BaseException:
            observed.end(scope, status, started)
            raise
        observed.end(scope, status, started)


_NO_STORE = (b"cache-control", b"no-store")
_NOSNIFF = (b"x-content-type-options", b"nosniff")


def _opaque(tag: bytes) -> bytes:
    return tag.strip().removeprefix(b"W/")


def _none_match_fails(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 13.1.2: weak comparison; `*` matches any current representation."""
    candidates = [c.strip() for c in if_none_match.split(b",")]
    return b"*" in candidates or _opaque(etag) in {_opaque(c) for c in candidates}


def _nul_in_url(scope: Scope) -> str | None:
    """The pointer of a path or query parameter holding a NUL character (it cannot be stored nor
    compared in the database), or None."""
    if "\x00" in scope.get("path", ""):
        return "#path:"
    query = scope.get("query_string") or b""
    if b"%00" in query.lower() or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return f"#query:{name.replace(chr(0), '')}"
    return None


class _BodyTooLarge(Exception):
    pass


def _is_web(scope: Scope) -> bool:
    path = scope.get("path", "")
    return bool(path == "/web" or path.startswith("/web/"))


# A browser that posts too much (a large scan on the agreement page) gets a Dutch page, never
# problem+json; it is plain, without the web client's templates (they sit above this layer).
_TOO_LARGE_PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Te groot \u00b7 Casusoverleg</title></head>
<body><main><h1>Het formulier is te groot</h1>
<p>Wat u verstuurde is groter dan {kb} kB en is niet opgeslagen. Ga terug, kies een kleiner bestand
(bijvoorbeeld een scan als PDF of als JPEG met een lagere resolutie) en probeer het opnieuw.</p>
<p><a href="/web/">Naar Mijn acties</a></p></main></body></html>
"""


async def _too_large(send: Send, limit: int, *, web: bool = False) -> None:
    import json

    if web:
        page = _TOO_LARGE_PAGE.format(kb=limit // 1024).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode()),
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        ]})
        await send({"type": "http.response.body", "body": page})
        return
    body = json.dumps(
        {
            "type": "https://casusoverleg.nl/problems/payload-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"The request body is larger than {limit} bytes.",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install_middleware_stack(app: FastAPI) -> None:
    """FastAPI's middleware stack without its two layers that pass every request through
    untouched in this service: the telemetry exception layer (only records an exception for
    FastAPI's native OpenTelemetry, switched off in app/main.py) and the application-wide body
    limit (only acts with `max_body_size`, unset: RequestContextMiddleware limits bodies).
    Every other layer is FastAPI's own, in FastAPI's order; should the app use either feature,
    or FastAPI's stack look different from what this expects, FastAPI's own stack is used."""
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        stack = build()
        telemetry = getattr(app, "_telemetry", None) or {}
        if getattr(app, "max_body_size", None) is not None or any(telemetry.get(k) for k in ("tracing", "metrics", "logs")):
            return stack
        if not isinstance(stack, ServerErrorMiddleware):
            return stack
        telemetry_layer = stack.app
        limit_layer: Any = getattr(telemetry_layer, "app", None)
        if not (_is_fastapi_layer(telemetry_layer, "ExceptionTelemetryMiddleware")
                and _is_fastapi_layer(limit_layer, "AppBodyLimitMiddleware")):
            return stack
        stack.app = limit_layer.app  # (without a limit that layer holds its inner app as it is)
        return stack

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def _is_fastapi_layer(layer: object, name: str) -> bool:
    kind = type(layer)
    return kind.__name__ == name and kind.__module__.startswith("fastapi.")
