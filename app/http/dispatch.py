"""Route dispatch by the path's first segments, in front of FastAPI's own routing.

FastAPI 0.165 (pinned in requirements.lock) keeps each included router as one entry of the app's
route list and, for every request, tries the routes in order: for each included router it sets
and restores scope keys around every route's regex, and it matches the chosen router twice. With
over 200 routes a request to a late router paid about a hundred `matches` calls before its own
code ran (issue 16, profile in docs/performance.md).

`PathDispatch` gives the same answer from a table: every route of the app, flattened in FastAPI's
order, is filed under the literal segments its path starts with (up to three: `/api/v1/cases`,
`/web/casussen`), and a request tries only the routes filed under a prefix of its own path, in
the same order. A route that cannot match the path (another literal prefix) is never tried; the
routes that can are tried in the order FastAPI tries them, so the first full match is the same
route. The chosen route is then run exactly as FastAPI's `_IncludedRouter` runs it (scope keys,
`scope["route"]`, telemetry's route, form limits, the route's own 405 and body limit).

Whatever the table does not answer with a full match (404, 405 for a known path with another
method, a trailing-slash redirect, websockets, lifespan) goes to FastAPI's routing unchanged, so
those answers are FastAPI's own.
The table is built at the first request and again when the app's route list changes (its length
or FastAPI's version counter of the app router); an included router whose routes changed (its
version counter) is noticed when one of its routes is chosen, and the table is rebuilt.
`tests/test_dispatch.py` checks, route by route, that the table picks what FastAPI picks.

The names used here are FastAPI's private routing internals, hence the pinned version: should
they change shape, `install_dispatch` leaves FastAPI's routing in place instead of guessing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError
from app.http.problems import refusal_messages

# A dependency's refusal that needs nothing but the request's scope (the caller's missing bearer
# token): given the scope, the error the dependency would raise, or None.
Refusal = Callable[[Scope], AppError | None]

# A route's endpoint run without FastAPI's request handling (dependency solving, the function's
# exit stacks, the request_response wrappers): an ASGI app that gives the endpoint what FastAPI
# would and runs it (app/deps.py `lane_for`). Its errors reach the same exception handlers (the
# application's ExceptionMiddleware sits above the dispatch). Made per route (from the route).
# True when it answered; False when it did nothing and leaves the request to the route.
Lane = Callable[[Scope, Receive, Send], Awaitable[bool]]
LaneMaker = Callable[[Any], Lane]

RESOLVED = "casusoverleg.route"  # scope key: the route PathDispatch.answer_early resolved
_UNRESOLVED = object()

log = logging.getLogger(__name__)

DEPTH = 3  # literal segments a route is filed under: "/api/v1/cases", "/web/casussen/nieuw"

_INTERNALS = ("_IncludedRouter", "_EffectiveRouteContext", "_get_fastapi_scope", "_update_scope",
              "_apply_router_form_limits", "_route_selected", "_FASTAPI_INCLUDED_ROUTER_KEY",
              "_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY")


def _literal_prefix(path: Any) -> tuple[str, ...]:
    """The leading segments of a route's path without a parameter, at most DEPTH of them."""
    if not isinstance(path, str) or not path.startswith("/"):
        return ()  # tried for every path
    literal = []
    for segment in path[1:].split("/")[:DEPTH]:
        if "{" in segment:
            break
        literal.append(segment)
    return tuple(literal)


@dataclass(frozen=True)
class _Entry:
    """One route, in FastAPI's order. `included` is the included router the route belongs to and
    `context` its effective route (an APIRoute with the inclusion's prefix); both None for a
    route of the app router itself (or an included router we do not look into), which is
    matched and run exactly as the app router's loop does."""

    key: tuple[str, ...]
    route: Any
    included: Any = None
    context: Any = None
    version: int = 0  # the included router's version counter when this entry was built
    refusal: Refusal | None = None  # asked before the route runs (see `_refusal_of`)
    first: Any = None  # the dependency `refusal` stands for (skipped while it is overridden)
    lane: Lane | None = None  # runs the route's endpoint without FastAPI's request handling


class PathDispatch:
    """ASGI app in place of the app router's own routing (see the module docstring)."""

    def __init__(self, router: fastapi_routing.APIRouter, refusals: Mapping[Any, Refusal] | None = None,
                 lanes: Mapping[Any, LaneMaker] | None = None) -> None:
        self.router = router
        self.refusals = dict(refusals or {})
        self.lanes = dict(lanes or {})  # endpoint -> what makes its lane from the route's path
        self._lanes: dict[tuple[Any, Any], Lane] = {}
        self.fallback: ASGIApp = router.middleware_stack
        self._signature: tuple[int, int] | None = None
        self._table: dict[tuple[str, ...], tuple[_Entry, ...]] = {}
        # (method, path) -> the route chosen for it and its child scope (see `resolve`)
        self._chosen: dict[tuple[str, str], tuple[_Entry, Scope]] = {}

    # --- the table ---------------------------------------------------------------------------

    def _entries(self) -> list[_Entry]:
        included_type = fastapi_routing._IncludedRouter
        entries = []
        for route in self.router.routes:
            if isinstance(route, included_type):
                candidates = route.effective_candidates()
                contexts = [c for c in candidates if isinstance(c, fastapi_routing._EffectiveRouteContext)
                            and isinstance(c.original_route, fastapi_routing.APIRoute)]
                if len(contexts) == len(candidates):  # no nested router: its own counter is its version
                    version = route.original_router._routes_version
                    entries += [_Entry(_literal_prefix(c.path), c.original_route, route, c, version,
                                       *self._refusal_of(c.dependant, c), self._lane_of(c.original_route, c.dependant))
                                for c in contexts]
                    continue
                entries.append(_Entry((), route))  # nested routers, mounts in a router: as FastAPI does
            else:
                refusal = self._refusal_of(getattr(route, "dependant", None), route)
                entries.append(_Entry(_literal_prefix(getattr(route, "path", None)), route, None, None, 0, *refusal,
                                      self._lane_of(route, getattr(route, "dependant", None))))
        return entries

    def _lane_of(self, route: Any, dependant: Any) -> Lane | None:
        """The endpoint's lane, where the route runs nothing but the endpoint's own dependencies
        (which the lane runs itself): none of its router's, none of an inclusion's."""
        if not isinstance(route, fastapi_routing.APIRoute) or route.dependencies or dependant is None:
            return None
        if [d.call for d in dependant.dependencies] != [d.call for d in route.dependant.dependencies]:
            return None
        make = self.lanes.get(route.endpoint)
        if make is None:
            return None
        key = (make, route.path)
        if key not in self._lanes:
            self._lanes[key] = make(route)
        return self._lanes[key]

    def _refusal_of(self, dependant: Any, route: Any) -> tuple[Refusal | None, Any]:
        """The refusal to ask before running a route, and the dependency it stands for: only
        where that dependency is the first thing FastAPI solves for the route (its first
        dependency, no request body read before it, no body limit of the route's own), so that
        answering the refusal directly answers exactly what FastAPI would have answered."""
        if not isinstance(route, fastapi_routing.APIRoute | fastapi_routing._EffectiveRouteContext):
            return None, None
        if dependant is None or not dependant.dependencies or route.body_field is not None:
            return None, None
        if getattr(route, "max_body_size", None) is not None:
            return None, None
        first = dependant.dependencies[0].call
        refusal = self.refusals.get(first)
        return (refusal, first) if refusal is not None else (None, None)

    def _current_table(self) -> dict[tuple[str, ...], tuple[_Entry, ...]]:
        router = self.router
        signature = (len(router.routes), router._routes_version)
        if signature != self._signature:
            entries = self._entries()
            keys = {entry.key[:n] for entry in entries for n in range(len(entry.key) + 1)}
            self._table = {
                key: tuple(e for e in entries if len(e.key) <= len(key) and key[: len(e.key)] == e.key)
                for key in keys
            }
            self._signature = signature
            self._chosen.clear()
        return self._table

    def candidates(self, path: str) -> tuple[_Entry, ...]:
        """The routes that can match `path`, in FastAPI's order."""
        return self._candidates(self._current_table(), path)

    @staticmethod
    def _candidates(table: dict[tuple[str, ...], tuple[_Entry, ...]], path: str) -> tuple[_Entry, ...]:
        segments = tuple(path[1:].split("/", DEPTH)[:DEPTH])
        for n in range(len(segments), -1, -1):
            found = table.get(segments[:n] if n < len(segments) else segments)
            if found is not None:
                return found
        return ()

    # --- a request ---------------------------------------------------------------------------

    def resolve(self, scope: Scope) -> tuple[_Entry, Scope] | None:
        """The route FastAPI would choose for this request when it matches in full (with its
        child scope), or None: then FastAPI's own routing answers (404, 405, a redirect).

        A path asked again (a list, the event intake, a page polled) is answered from the last
        choices: remembered only where every route tried for it matches on the path and the
        method alone (an included APIRoute), so the same path and method choose the same route."""
        path = fastapi_routing.get_route_path(scope)
        if not path.startswith("/"):
            return None
        table = self._current_table()  # (a rebuilt table forgets the remembered choices)
        key = (scope["method"], path)
        remembered = self._chosen.get(key) if "path_params" not in scope else None
        if remembered is not None:
            entry, child_scope = remembered
            if entry.included.original_router._routes_version == entry.version:
                return entry, {"endpoint": child_scope["endpoint"], "path_params": dict(child_scope["path_params"])}
        by_path_alone = "path_params" not in scope
        for entry in self._candidates(table, path):
            context = entry.context
            if context is None:
                by_path_alone = False
                match, child_scope = entry.route.matches(scope)
            elif context.path_regex.match(path) is None:
                continue
            else:
                match, child_scope = context.matches(scope)
            if match is not Match.FULL:
                continue  # none, or the wrong method: a later route may match in full, else FastAPI's 405
            if context is not None and entry.included.original_router._routes_version != entry.version:
                self._signature = None  # that router's routes changed: rebuild, and let FastAPI answer
                return None
            if by_path_alone and set(child_scope) == {"endpoint", "path_params"}:
                if len(self._chosen) >= 1024:
                    self._chosen.clear()
                self._chosen[key] = (entry, {"endpoint": child_scope["endpoint"],
                                             "path_params": dict(child_scope["path_params"])})
            return entry, child_scope
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = scope.pop(RESOLVED, _UNRESOLVED)
        refusal_asked = found is not _UNRESOLVED  # RequestContextMiddleware resolved it and asked
        if found is _UNRESOLVED:
            found = self.resolve(scope) if scope["type"] == "http" else None
        if found is None:
            await self.fallback(scope, receive, send)
            return
        self._selected(found, scope)
        entry = found[0]
        if entry.refusal is not None and not refusal_asked:
            messages = self._refusal_messages(entry, scope)
            if messages is not None:
                for message in messages:
                    await send(message)
                return
        if entry.lane is not None and not getattr(self.router.dependency_overrides_provider,
                                                  "dependency_overrides", None):
            if await entry.lane(scope, receive, send):
                return
        if entry.context is None:  # as the app router's own loop runs a route of its own
            await entry.route.handle(scope, receive, send)
        else:
            await entry.context.original_route.handle(scope, receive, send)

    async def answer_early(self, scope: Scope, send: Send) -> bool:
        """For the outermost middleware (RequestContextMiddleware): resolves the request's route
        once (left in the scope for `__call__`) and, where its first dependency refuses the
        request from the scope alone (a 401 for a missing bearer token), answers that refusal
        right there, without the framework's layers in between (they do nothing observable for
        a request that raises nothing). True when it answered."""
        if scope["type"] != "http":
            return False
        found = self.resolve(scope)
        scope[RESOLVED] = found
        if found is None or found[0].refusal is None:
            return False
        messages = self._refusal_messages(found[0], scope)
        if messages is None:
            return False
        del scope[RESOLVED]
        # The route for the metrics and the log line (what FastAPI's routing would also leave in
        # the scope besides is read by nothing once the answer is given).
        entry = found[0]
        scope["route"] = entry.route if entry.context is None else entry.context.original_route
        for message in messages:
            await send(message)
        return True

    def _selected(self, found: tuple[_Entry, Scope], scope: Scope) -> None:
        """The scope as FastAPI's routing leaves it for the chosen route, before running it."""
        router = self.router
        fastapi_routing._apply_router_form_limits(scope, router.form_limits)
        if "router" not in scope:
            scope["router"] = router
        entry, child_scope = found
        if entry.context is None:  # as the app router's own loop selects a route of its own
            fastapi_routing._update_scope(scope, child_scope)
            fastapi_routing._route_selected(scope=scope, path=getattr(entry.route, "path_format", None),
                                            mount=isinstance(entry.route, Mount))
        else:
            self._select(entry.included, entry.context, child_scope, scope)

    def _refusal_messages(self, entry: _Entry, scope: Scope) -> tuple[Message, Message] | None:
        """The answer to the route's first dependency's refusal (a 401 for a missing bearer
        token), or None: FastAPI would solve that dependency first, see it raise, and hand the
        error to the application's handler, which renders the same problem+json."""
        overrides = getattr(self.router.dependency_overrides_provider, "dependency_overrides", None)
        if overrides and entry.first in overrides:
            return None
        assert entry.refusal is not None
        refusal = entry.refusal(scope)
        return refusal_messages(refusal, scope) if refusal is not None else None

    @staticmethod
    def _select(included: Any, context: Any, child_scope: Scope, scope: Scope) -> None:
        """What `_IncludedRouter.handle` and `_handle_selected` do with the route they matched,
        up to running it."""
        route = context.original_route
        child_scope["route"] = route  # as APIRoute.matches adds it
        fastapi_routing._apply_router_form_limits(scope, included.include_context.form_limits)
        fastapi_scope = fastapi_routing._get_fastapi_scope(scope)
        fastapi_scope[fastapi_routing._FASTAPI_INCLUDED_ROUTER_KEY] = included
        fastapi_routing._update_scope(scope, child_scope)
        fastapi_routing._route_selected(scope=scope, path=context.path_format, mount=False)
        fastapi_scope[fastapi_routing._FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = context
        scope["route"] = route


def install_dispatch(app: FastAPI, refusals: Mapping[Any, Refusal] | None = None,
                     lanes: Mapping[Any, LaneMaker] | None = None) -> PathDispatch | None:
    """Route the app's requests through a PathDispatch; FastAPI's routing stays the fallback.
    `refusals`: per dependency, the refusal answered before a route whose first dependency it is
    runs (see `PathDispatch.answer_early`). `lanes`: per endpoint, what makes the ASGI app that runs
    it without FastAPI's request handling from the route's path (not while any dependency is
    overridden).
    Returns None (and leaves FastAPI's routing alone) if this FastAPI lacks what it relies on."""
    router = app.router
    missing = [name for name in _INTERNALS if not hasattr(fastapi_routing, name)]
    if missing or not hasattr(router, "_routes_version") or router.middleware_stack != router.app:
        log.warning("route dispatch table not installed: FastAPI's routing internals differ (%s)",
                    ", ".join(missing) or "router")
        return None
    dispatch = PathDispatch(router, refusals, lanes)
    router.middleware_stack = dispatch
    return dispatch
