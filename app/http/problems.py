"""The AppError hierarchy (app/errors.py) and the framework's own errors, mapped to
application/problem+json (RFC 9457). Also the database's outages: 503 with Retry-After."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.datastructures import URL
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Scope

from app.db import database_fault
from app.errors import AppError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://casusoverleg.nl/problems/"


class ProblemResponse(JSONResponse):
    """JSONResponse's bytes (compact, UTF-8), rendered by orjson instead of the standard library."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # a value orjson does not know: as JSONResponse renders it
            return super().render(content)


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_slug: str = "about:blank",
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + type_slug if type_slug != "about:blank" else type_slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return ProblemResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# A path that Starlette's `request.url.path` gives back unchanged (it escapes ?, # and \\ and
# drops tabs and line breaks; a path starting with // may read differently): printable ASCII
# without those. Anything else is asked of Starlette's URL itself.
_PLAIN_PATH = re.compile(r"/(?!/)[!$-\[\]-~]*\Z")


def url_path(scope: Scope) -> str:
    """`request.url.path` for this scope (a problem's `instance`), without building the URL when
    the path is plain."""
    path: str = scope["path"]
    if _PLAIN_PATH.match(path) and "?" not in path:
        return path
    return URL(scope=scope).path


def refusal_messages(exc: AppError, scope: Scope) -> tuple[Message, Message] | None:
    """The ASGI messages of `exc` as the AppError handler of `install_error_handlers` renders it
    for an API path (ProblemResponse's status, headers and bytes), for answering it without
    raising it through the framework's layers. None for a /web path: the browser's page is the
    handler's to render."""
    instance = url_path(scope)
    if instance == "/web" or instance.startswith("/web/"):
        return None
    try:
        if exc.extra:
            raise TypeError("extra members: as problem() renders them")
        key = (exc.type_slug, exc.title, exc.status, exc.detail, *exc.headers.items())
        start = _RENDERED.get(key)
        if start is None:
            if len(_RENDERED) >= 256:  # (a detail may name a value: do not keep them all)
                _RENDERED.clear()
            head = orjson.dumps({
                "type": PROBLEM_BASE + exc.type_slug if exc.type_slug != "about:blank" else exc.type_slug,
                "title": exc.title, "status": exc.status, "detail": exc.detail,
            })[:-1]  # without its closing brace: the instance follows, as the last member
            start = _RENDERED[key] = (head, [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                             for k, v in exc.headers.items()])
        head, given = start
        body = head + b',"instance":' + orjson.dumps(instance) + b"}" if instance else head + b"}"
        headers = [*given, (b"content-length", str(len(body)).encode("latin-1")), _PROBLEM_CONTENT_TYPE]
    except TypeError:
        response = problem(exc.status, exc.title, exc.detail, type_slug=exc.type_slug, headers=exc.headers,
                           instance=instance, **exc.extra)
        body, headers = bytes(response.body), response.raw_headers
    return ({"type": "http.response.start", "status": exc.status, "headers": headers},
            {"type": "http.response.body", "body": body})


_PROBLEM_CONTENT_TYPE = (b"content-type", PROBLEM_JSON.encode("latin-1"))
# What refusal_messages renders of an error apart from its instance: the body up to it, and the
# error's own headers.
_RENDERED: dict[tuple[Any, ...], tuple[bytes, list[tuple[bytes, bytes]]]] = {}


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
        prefix = "#/"
    elif parts:
        prefix = f"#{parts[0]}:" if parts[0] in {"query", "path", "header", "cookie"} else "#/"
        parts = parts[1:] if parts[0] in {"query", "path", "header", "cookie"} else parts
    else:
        prefix = "#/"
    return prefix + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


_SAFE_CTX_KEYS = {"ge", "gt", "le", "lt", "max_length", "min_length", "pattern", "expected"}


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        # Never echo the input back: it may hold a BSN or a name.
        errors.append({"pointer": _pointer(err.get("loc", ())), "detail": err.get("msg", "invalid")})
    return errors


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        regex = getattr(context, "path_regex", None)
        if context.methods and regex is not None and regex.match(request.url.path):
            methods |= set(context.methods)
    return sorted(methods)


def _sqlstate(exc: Exception) -> str:
    if isinstance(exc, asyncpg.PostgresError):  # raised by asyncpg itself (RetryingSession.driver())
        return str(exc.sqlstate or "")
    orig = getattr(exc, "orig", None)
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


# Data exceptions that only a request's value causes: a character the database cannot store
# (NUL, 22021; untranslatable, 22P05), a number out of range (22003), a date out of range (22008).
# Not "value too long" (22001): a row the service builds itself can hit that, and it is a bug.
_INPUT_SQLSTATES = ("22021", "22P05", "22003", "22008")


def _input_the_database_refused(exc: Exception) -> bool:
    """A data exception caused by a request's value, or the driver refusing an argument before
    sending it (asyncpg's DataError: an integer beyond its column)."""
    if isinstance(exc, asyncpg.DataError):  # the driver refused an argument before sending it
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return _sqlstate(exc) in _INPUT_SQLSTATES
    if not isinstance(exc, DBAPIError) or isinstance(exc, OperationalError | InterfaceError):
        return False
    if _sqlstate(exc) in _INPUT_SQLSTATES:
        return True
    cause = getattr(exc.orig, "__cause__", None)
    return type(cause).__name__ == "DataError" and type(cause).__module__.startswith("asyncpg") and not getattr(
        cause, "sqlstate", None
    )


# What a client is told per cause of a temporary database fault (app.db.database_fault).
_FAULT_DETAILS = {
    "lock_timeout": "The data this request needs is locked by another change; retry shortly.",
    "statement_timeout": "The database did not answer in time; retry shortly.",
    "pool_timeout": "The service is busy; retry shortly.",
    "deadlock": "This request collided with another change; retry shortly.",
    "serialization_failure": "This request collided with another change; retry shortly.",
    "connection": "The database is temporarily unavailable; retry shortly.",
}
RETRY_AFTER_SECONDS = 2
_RACE_LOST = frozenset({"23505", "23P01"})  # unique_violation, exclusion_violation


# The HTML page for an error on a path that is a browser's (app.web's /web pages): given the request
# and the status, a page, or None where the path is the API's (problem+json).
HtmlErrorPage = Callable[[Request, int], Response | None]


def install_error_handlers(app: FastAPI, html_page: HtmlErrorPage | None = None) -> None:
    def as_page(request: Request, status: int) -> Response | None:
        return html_page(request, status) if html_page is not None else None

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if (page := as_page(request, exc.status)) is not None:
            for key, value in (exc.headers or {}).items():
                page.headers[key] = value
            return page
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            type_slug=exc.type_slug,
            headers=exc.headers,
            instance=request.url.path,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        # A malformed id in a page's path is a page that does not exist.
        in_path = any(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors())
        if (page := as_page(request, 404 if in_path else 422)) is not None:
            return page
        errors = validation_errors(exc)
        first = errors[0] if errors else {"pointer": "#/", "detail": "invalid"}
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem(
                400,
                "Malformed JSON",
                "The request body is not valid JSON.",
                type_slug="malformed-json",
                instance=request.url.path,
            )
        return problem(
            422,
            "Validation failed",
            f"{first['pointer']}: {first['detail']}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            type_slug="validation-error",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
        detail = exc.detail if isinstance(exc.detail, str) else "Request refused."
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource."
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names the methods of the first route with this path only; a path served
            # by several routes (GET in one, PATCH in another) allows all of theirs.
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = f"{request.method} is not allowed here; allowed: {', '.join(allowed)}."
        if (page := as_page(request, exc.status_code)) is not None:
            for key, value in headers.items():
                page.headers[key] = value
            return page
        return problem(
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            detail,
            headers=headers or None,
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        if (page := as_page(request, 500)) is not None:
            return page
        return problem(
            500, "Internal server error", "Something went wrong on our side.", instance=request.url.path
        )

    # The database is unreachable or restarting, a lock or a statement took longer than its bound,
    # or no connection was free in time: a temporary condition, so 503 with Retry-After (never
    # 500, never a hang), logged with its cause; clients with idempotent requests retry safely.
    async def _database_fault(request: Request, exc: Exception) -> Response:
        if _input_the_database_refused(exc):
            # The request schemas refuse such input first (app/schemas/common.py); this is the net
            # behind them, so that input never gets a 500. The value stays out of the log.
            log.warning("database refused a value on %s %s: %s", request.method, request.url.path,
                        _sqlstate(exc) or type(exc).__name__)
            if (page := as_page(request, 422)) is not None:
                return page
            return problem(
                422,
                "Validation failed",
                "A value in the request cannot be stored: it is out of range or contains a character "
                "(such as \\u0000) that is not accepted. Correct it and try again.",
                type_slug="validation-error",
                instance=request.url.path,
            )
        if _sqlstate(exc) in _RACE_LOST:
            # An "only one" rule held by the database (a unique index or an exclusion constraint)
            # refused a change that a concurrent request beat: a conflict, not a bug.
            constraint = getattr(getattr(exc, "orig", None), "__cause__", None)
            log.warning("conflict on %s %s: %s", request.method, request.url.path,
                        getattr(constraint, "constraint_name", None) or _sqlstate(exc))
            if (page := as_page(request, 409)) is not None:
                return page
            return problem(
                409,
                "Conflict",
                "This change conflicts with another one made at the same time; reload and try again.",
                type_slug="conflict",
                instance=request.url.path,
            )
        cause = database_fault(exc)
        if cause is None:  # e.g. an integrity error, or an OSError that is not the driver's: a bug
            return await _unexpected(request, exc)
        log.warning("database fault on %s %s: %s (%s)", request.method, request.url.path, cause,
                    type(exc).__name__)
        if (page := as_page(request, 503)) is not None:
            page.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return page
        return problem(
            503,
            "Service unavailable",
            _FAULT_DETAILS[cause],
            type_slug="unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            instance=request.url.path,
            cause=cause,
        )

    # OSError: a refused or missing socket while connecting is raised unwrapped by the driver.
    # asyncpg's own errors: the hot paths that run their SQL on RetryingSession.driver().
    for db_error in (DBAPIError, PoolTimeoutError, OSError,
                     asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
        app.add_exception_handler(db_error, _database_fault)

