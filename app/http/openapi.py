"""The OpenAPI document tells the truth about errors: every operation lists the error answers it
can give, each as application/problem+json with the Problem schema, and the headers that come
with them (WWW-Authenticate on 401, Retry-After on 429 and 503, ETag on versioned reads).

Which errors an operation can give follows from what it is: one that needs a principal can be
refused with 401/403 and hides foreign objects as 404; one with a body can get malformed JSON
(400) or a body that is too large (413); one with If-Match can get 412 and 428; every operation
validates its input (422) and needs the database (503). The few specific ones are listed in
EXTRA_STATUSES."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.http.problems import PROBLEM_JSON
from app.services.common import IF_MATCH_PATTERN

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457). `errors` lists what to change, by JSON pointer into the request.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["detail"],
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}

DESCRIPTIONS = {
    304: "Not modified: the If-None-Match header names the current ETag.",
    400: "Malformed request (the body is not valid JSON).",
    401: "No valid bearer token.",
    403: "The caller may not do this.",
    404: "No such object, or it is not visible to the caller.",
    409: "Conflicts with the current state.",
    412: "The If-Match header does not name the current ETag.",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    422: "Invalid input; `errors` points at what to change.",
    428: "An If-Match header with the current ETag is required.",
    429: "Too many requests; retry after the time in Retry-After.",
    503: "Temporarily unavailable (the database); retry after the time in Retry-After.",
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    429: {"Retry-After": {"schema": {"type": "string"}, "required": True}},
    503: {"Retry-After": {"schema": {"type": "string"}}},
}

# Answers only some operations give, beyond what follows from their shape.
EXTRA_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/api/v1/conferences/{conference_id}/clients/lookup"): (429,),
    ("post", "/api/v1/conferences/{conference_id}/known-elsewhere"): (429,),
    # a referral, a worry from the surroundings or a consultation turned into a referral with a
    # BSN is a look-up by BSN, throttled like one (Guard.require_bsn_lookup)
    ("post", "/api/v1/conferences/{conference_id}/referrals"): (429,),
    ("post", "/api/v1/conferences/{conference_id}/concerns"): (429,),
    ("post", "/api/v1/consultations/{consultation_id}/referral"): (429,),
    ("post", "/api/v1/events"): (400, 413, 415),
}


def _needs(dependant: Dependant, dependencies: tuple[Callable[..., Any], ...]) -> bool:
    return dependant.call in dependencies or any(_needs(d, dependencies) for d in dependant.dependencies)


def _statuses(method: str, path: str, operation: dict[str, Any], authenticated: bool) -> set[int]:
    statuses = {422, 503}
    if authenticated:
        statuses |= {401, 403, 404}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413}
    if method in ("post", "put", "patch", "delete"):
        statuses.add(409)
    headers = {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}
    if "if-match" in headers:
        statuses |= {412, 428}
    if "if-none-match" in headers:
        statuses.add(304)
    statuses.update(EXTRA_STATUSES.get((method, path), ()))
    return statuses


def _problem_response(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": (existing or {}).get("description") or DESCRIPTIONS.get(status, "Error."),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def _etag_reads(document: dict[str, Any]) -> set[str]:
    """Paths whose GET returns a versioned representation: the same path is updated with If-Match."""
    found = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("patch", "put") and any(
                p.get("in") == "header" and p["name"].lower() == "if-match" for p in operation.get("parameters", [])
            ):
                found.add(path)
    return {p for p in found if "get" in document["paths"][p]}


def _mark_if_match_required(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter["name"].lower() == "if-match":
            # Optional in the code only so that its absence gets a 428 that says what to send.
            parameter["required"] = True
            parameter["schema"] = {"type": "string", "minLength": 1, "pattern": IF_MATCH_PATTERN,
                                   "description": 'The ETag read, e.g. "v3", or *.'}


# "{case_id:uuid}" (a path convertor) is "{case_id}" in the OpenAPI document.
_CONVERTOR = re.compile(r"{(\w+):\w+}")


def document_errors(app: FastAPI, document: dict[str, Any],
                    principal: tuple[Callable[..., Any], ...]) -> dict[str, Any]:
    """`principal`: the dependencies that authenticate the caller (app.deps.current_principal, and
    app.deps.get_guard, which calls it)."""
    authenticated = {
        (method.lower(), _CONVERTOR.sub(r"{\1}", context.path))
        for context in iter_route_contexts(app.routes)
        if isinstance(route := context.original_route, APIRoute)
        and route.include_in_schema
        and _needs(route.dependant, principal)
        for method in context.methods or ()
    }
    etag_reads = _etag_reads(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _mark_if_match_required(operation)
            if method == "get" and path in etag_reads:
                operation.setdefault("parameters", []).append({
                    "name": "If-None-Match", "in": "header", "required": False,
                    "schema": {"type": "string"},
                    "description": "An ETag read before: 304 (no body) while it is still current.",
                })
                for status, response in operation["responses"].items():
                    if str(status).startswith("2"):
                        response.setdefault("headers", {})["ETag"] = {"schema": {"type": "string"}, "required": True}
            responses = operation["responses"]
            for status in _statuses(method, path, operation, (method, path) in authenticated):
                existing = responses.get(str(status))
                if status == 304:
                    responses["304"] = {"description": DESCRIPTIONS[304],
                                        "headers": {"ETag": {"schema": {"type": "string"}, "required": True}}}
                else:
                    responses[str(status)] = _problem_response(status, existing)
            for status, response in list(responses.items()):  # errors declared by hand, too
                if str(status)[0] in "45" and PROBLEM_JSON not in response.get("content", {}):
                    responses[status] = _problem_response(int(status), response)
    return document


def install_openapi(app: FastAPI, *, principal: tuple[Callable[..., Any], ...]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            app.openapi_schema = document_errors(app, document, principal)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
