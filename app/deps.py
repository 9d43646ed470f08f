"""Annotated dependency aliases: the session, the caller, and the policy guard."""

from __future__ import annotations

import contextlib
import inspect
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar, get_type_hints

from fastapi import Depends, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import APIRoute
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Receive, Scope, Send

from app.audit import Access, AuditTrail, Read
from app.auth.cache import PrincipalCache
from app.auth.identity import principal_from_claims, registered_issuers
from app.auth.policy import Op, Target, authorize, interventions_allowed
from app.auth.principal import Principal
from app.auth.tokens import InvalidToken, TokenValidator, token_lifetime, unverified_parts
from app.clock import clock
from app.config import Settings
from app.db import Autocommit, Database, RequestSession
from app.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from app.models import AccessLogEntry
from app.models.enums import Role
from app.services.cases.clients import bsn_searches_since

log = logging.getLogger(__name__)
T = TypeVar("T")


async def get_settings_dep(request: Request) -> Settings:  # async: a sync dependency runs in a thread
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.db
    async for session in db.session():
        yield session


# scope="function": the commit (with the request's access-log rows) runs before the answer is
# sent, so a read whose log rows cannot be written is refused (500) instead of served unlogged,
# and a write is only confirmed once it is committed.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


_NO_BEARER = "A valid bearer token is required."  # (Unauthorized's own default detail)
_TOO_LARGE = "The Authorization header is too large."


def _bearer_refused(authorization: str | None, max_bytes: int) -> str | None:
    """Why the Authorization header carries no bearer token (the 401's detail), or None."""
    if not authorization:
        return _NO_BEARER
    if len(authorization) * 4 > max_bytes and len(authorization.encode("utf-8", "replace")) > max_bytes:
        return _TOO_LARGE
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _NO_BEARER
    return None


def _bearer(authorization: str | None, max_bytes: int) -> str:
    refused = _bearer_refused(authorization, max_bytes)
    if refused is not None or authorization is None:
        raise Unauthorized(refused or _NO_BEARER)
    return authorization.partition(" ")[2].strip()


async def _resolve_token(
    request: Request, session: AsyncSession, token: str
) -> tuple[Principal | None, dict[str, Any]]:
    """Validate a bearer token and map it to a Principal. Returns the principal (None: a valid
    token of a subject without membership) and the verified claims."""
    validator: TokenValidator = request.app.state.token_validator
    try:
        claimed = unverified_parts(token)[1].get("iss")  # selects the keys to try, nothing more
        if not isinstance(claimed, str):
            raise InvalidToken("no issuer")
        issuers = await registered_issuers(session, only=claimed)
        claims = await validator.validate(token, {k: cfg for k, (cfg, _org) in issuers.items()})
        org = issuers[claims["iss"]][1]
        principal = await principal_from_claims(
            session,
            claims,
            org,
            request_id=getattr(request.state, "request_id", None),
            source_address=request.client.host if request.client else None,
        )
        settings: Settings = request.app.state.settings
        if (
            principal is not None
            and principal.kind == "person"
            and token_lifetime(claims) > settings.token_max_lifetime_person_seconds
        ):
            raise InvalidToken("lifetime (exp - iat) longer than allowed for a person")
        return principal, claims
    except InvalidToken as exc:
        log.info("token refused: %s", exc)
        raise Unauthorized(_development_hint(request, token, str(exc))) from None
    except (SQLAlchemyError, OSError):
        raise  # the database is down, not the token bad: 503 (app/errors.py), so the client retries
    except Exception:  # hostile input can raise anything from the JOSE layer: never a 500
        log.warning("token refused after an unexpected error", exc_info=True)
        raise Unauthorized() from None


def _development_hint(request: Request, token: str, reason: str) -> str:
    """With the development providers on, a demo token minted for another port or base URL gets
    a hint instead of a bare 401 (its issuer is the caller's own claim: nothing leaks)."""
    settings: Settings = request.app.state.settings
    plain = "A valid bearer token is required."
    if not (settings.is_development and settings.dev_idp_enabled and reason == "unknown issuer"):
        return plain
    try:
        claimed = unverified_parts(token)[1].get("iss")
    except Exception:  # noqa: BLE001  (no hint for a token we cannot even read)
        return plain
    if not isinstance(claimed, str) or "/dev-idp/" not in claimed:
        return plain
    base = settings.public_base_url.rstrip("/")
    return (f"{plain} The token's issuer is not registered here (development: this server's providers "
            f"are under {base}/dev-idp/; mint a token for it with `casusoverleg token --base-url {base}`).")


async def principal_from_token(
    request: Request, session: AsyncSession, token: str
) -> Principal | None:
    """Validate a bearer token against the registered issuers and map it to a Principal (None:
    a valid token of a subject without membership). Uncached: the web sign-in uses it."""
    principal, _claims = await _resolve_token(request, session, token)
    return principal


async def current_principal(request: Request) -> Principal:
    """The caller of an API request, from its Authorization header (read here rather than as a
    FastAPI header parameter: the header is not in the OpenAPI document either way, and FastAPI's
    parameter machinery cost more than the look-up itself)."""
    return await _caller(request, request.headers.get("authorization"))


async def _caller(request: Request, authorization: str | None) -> Principal:
    """No database session is opened before the token is known: a missing or malformed token is
    refused without one, and a token seen within the cache's lifetime (app/auth/cache.py) is
    answered from memory without any SQL."""
    settings: Settings = request.app.state.settings
    token = _bearer(authorization, settings.max_authorization_header_bytes)
    cache: PrincipalCache = request.app.state.principal_cache
    cached = cache.get(token)
    if cached is not None:
        principal: Principal | None = _for_request(
            cached, getattr(request.state, "request_id", None), request.client.host if request.client else None
        )
    else:
        generation = cache.generation
        db: Database = request.app.state.db
        # Its own short transaction, committed before the request's work starts: the look-ups,
        # and a first sign-in's memberships seeded from the groups claim (then the commit empties
        # the cache, the generation moves on and this fill is dropped: the next request fills).
        async with db.sessions() as session:
            principal, claims = await _resolve_token(request, session, token)
            if session.in_transaction():
                await session.commit()
        if principal is not None:
            cache.put(token, principal, claims, generation)
    if principal is None:
        log.info("token of a subject without membership or partner-system registration")
        raise Unauthorized()
    request.state.principal = principal
    return principal


def _for_request(cached: Principal, request_id: str | None, source_address: str | None) -> Principal:
    """`dataclasses.replace(cached, request_id=..., source_address=...)` without running the
    dataclass's __init__ over every field again (a sixth of the cost of a warm authentication):
    Principal is a plain frozen dataclass (no __post_init__, no slots), so its fields are its
    instance dictionary (tests/test_request_path.py compares the two)."""
    principal = object.__new__(Principal)
    fields = principal.__dict__
    fields.update(cached.__dict__)
    fields["request_id"] = request_id
    fields["source_address"] = source_address
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def bearer_refusal(scope: Scope) -> Unauthorized | None:
    """The 401 that `current_principal` raises before it looks at the token itself (no
    Authorization header, another scheme, an empty or oversized one), from the request's scope;
    None when the header carries a bearer token. The route dispatch (app/http/dispatch.py) asks
    this for a route whose first dependency is the caller, and answers the refusal itself."""
    authorization = None
    for key, value in scope["headers"]:
        if key == b"authorization":  # as Starlette's Headers.get: the first, latin-1
            authorization = value.decode("latin-1")
            break
    settings: Settings = scope["app"].state.settings
    refused = _bearer_refused(authorization, settings.max_authorization_header_bytes)
    return None if refused is None else Unauthorized(refused)


def _noun(access: Access | None, op: Op) -> str:
    """The same noun the loaders use, so a hidden object reads exactly like a missing one."""
    resource = access.resource_type if access else op.value.split(":")[0]
    return "case" if resource in ("plan", "assessment") and access and access.case_id else resource


class Guard:
    """The one way routers ask the policy, and the one way access is written to the log."""

    def __init__(self, principal: Principal, session: AsyncSession | RequestSession, db: Database) -> None:
        self.principal = principal
        self._session = session
        self._db = db
        self._audit: AuditTrail | None = None

    @property
    def session(self) -> AsyncSession:
        """The request's session (opened on first use when the edge gave a RequestSession)."""
        session = self._session
        return session.get() if isinstance(session, RequestSession) else session

    @property
    def audit(self) -> AuditTrail:
        if self._audit is None:
            # The session only when a row goes into it: a read that appends its rows on its own
            # connection (deliver_now) opens none.
            self._audit = AuditTrail(lambda: self.session, self.principal, self._write_denied)
        return self._audit

    @property
    def db(self) -> Database:
        """The application's database, for hot paths that write outside the request's session
        (app/services/events/single.py)."""
        return self._db

    async def _write_denied(self, entries: list[AccessLogEntry]) -> None:
        async with self._db.sessions() as separate:
            separate.add_all(entries)
            await separate.commit()

    def record(self, *accesses: Access) -> None:
        """Rows of what a route did beyond a read path: a write and the object it created, a
        publication, the privacy officer's own queries. Labelled content is never shown this
        way: it goes through a read path (app/services/*/reads.py) and `deliver`."""
        self.audit.allowed(*accesses)

    def autocommit(self) -> contextlib.AbstractAsyncContextManager[Autocommit]:
        """A pool connection outside any transaction, for a read path of one statement whose
        access-log rows are appended right after it (`deliver_now`): two statements, no BEGIN and
        COMMIT, no session."""
        return self._db.autocommit()

    async def deliver_now(self, read: Read[T], connection: Autocommit) -> T:
        """As `deliver`, for a read made on `connection` (`autocommit`): its rows are appended at
        once, and the data is returned only when they are written."""
        await self.audit.append_now(connection.driver, connection.info, *read.access)
        return read.data

    def deliver(self, read: Read[T]) -> T:
        """The one way data leaves through a route: its access-log rows go into the request's
        transaction (they commit with it, or the answer is refused)."""
        self.audit.allowed(*read.access)
        return read.data

    async def require(
        self, op: Op, target: Target, access: Access | None = None, *, hidden_as: str | None = None,
        record: bool = False,
    ) -> str | None:
        """Allow or raise (403, or 404 where existence must not leak). Returns the role that
        granted the operation. Denials are logged even though the request is rolled back.
        `hidden_as` names the object of the path (its loader's noun) when the operation's noun
        differs, so that a hidden object reads exactly like a missing one."""
        decision = authorize(self.principal, op, target)
        if not decision.allowed:
            await self.audit.denied(
                access
                or Access(action=op.value.split(":")[1], resource_type=op.value.split(":")[0],
                          conference_id=target.conference_id)
            )
            if decision.hidden:
                raise NotFound(hidden_as or _noun(access, op))
            raise Forbidden(f"You may not do this: {decision.reason}.")
        if decision.role:
            self.audit.note_granted_role(target.conference_id, decision.role)
        if decision.basis and target.case_id is not None:
            self.audit.note_granted_basis(target.case_id, decision.basis)
        if record and access is not None:
            self.audit.allowed(access)  # a write's own row; reads return theirs with the data
        return decision.role

    async def require_bsn_lookup(self, conference_id: uuid.UUID, settings: Settings, *, part: str = "bsn") -> Access:
        """Every look-up by BSN, whatever route carries it (the look-up itself, a referral with a
        BSN): the role rule for look-ups, the per-person throttle, and a "search" row in the access
        log. Returns that row (without client) for the caller to complete."""
        access = Access(action="search", resource_type="client", conference_id=conference_id, part=part)
        await self.require(Op.client_lookup, Target(conference_id=conference_id), access)
        window = timedelta(seconds=settings.bsn_lookup_window_seconds)
        recent = await bsn_searches_since(self.session, issuer=self.principal.issuer,
                                          subject=self.principal.subject, since=clock.now() - window)
        if recent >= settings.bsn_lookup_limit:
            # Bulk look-ups are refused and flagged for the privacy officer (part "bsn:throttled").
            await self.audit.denied(Access(**{**access.__dict__, "part": "bsn:throttled"}))
            raise TooManyRequests(
                f"Too many look-ups by BSN: at most {settings.bsn_lookup_limit} per "
                f"{settings.bsn_lookup_window_seconds // 60} minutes. This has been recorded.",
                retry_after=settings.bsn_lookup_window_seconds,
            )
        return access

    async def require_member_somewhere(self, access: Access) -> None:
        """A person with a membership in some conference; refusals are logged like every denial."""
        if self.principal.kind != "person" or not self.principal.memberships:
            await self.audit.denied(access)
            raise Forbidden("Only members of a conference may do this.")

    async def require_system_scope(self, scope: str, access: Access) -> None:
        """A partner system with this scope; refusals are logged like every denial."""
        if self.principal.kind != "system" or scope not in self.principal.scopes:
            await self.audit.denied(access)
            raise Forbidden(f"This needs a partner system with the scope {scope}.")

    async def require_admin_somewhere(self, access: Access) -> None:
        """An administrator in some conference or of an organisation (creating organisations and
        conferences, the outbox: not bound to one); refusals are logged like every denial."""
        if self.principal.kind != "person" or not (
            self.principal.conference_ids(Role.admin) or self.principal.organisation_admin
        ):
            await self.audit.denied(access)
            raise Forbidden("Only an administrator may do this.")

    async def require_organisation_admin(self, organisation_id: uuid.UUID, access: Access) -> None:
        """An administrator of this very organisation (its identity settings and partner
        systems); an administrator of a conference or of another organisation is refused."""
        principal = self.principal
        if not (
            principal.kind == "person"
            and principal.organisation_admin
            and principal.organisation_id == organisation_id
        ):
            await self.audit.denied(access)
            raise Forbidden("Only an administrator of this organisation may do this.")

    async def require_interventions(self, access: Access, *, keeper_of: uuid.UUID | None = None) -> None:
        """Reading the catalogues of interventions, or (`keeper_of`) keeping one organisation's
        (the policy's `interventions_allowed`); refusals are logged like every denial."""
        if not interventions_allowed(self.principal, keeper_of):
            await self.audit.denied(access)
            raise Forbidden("Only this organisation's administrators, chairs and members keep its interventions."
                            if keeper_of else "Only members of a conference or administrators read interventions.")

    @contextlib.asynccontextmanager
    async def refusals_logged(self, access: Access, *also: type[Exception]) -> AsyncIterator[None]:
        """Refusals that a service decides (a self-grant, a borrowed mandate; with `also`, other
        refusals such as identifying content in a consultation) are written to the access log
        like the policy's own."""
        kinds: tuple[type[Exception], ...] = (Forbidden, *also)
        try:
            yield
        except kinds:
            await self.audit.denied(access)
            raise


async def get_guard(request: Request) -> AsyncIterator[Guard]:
    """The caller (`current_principal`, from the Authorization header) and the request's session
    (`get_session`: committed on success, rolled back on error), in one dependency: FastAPI
    solves each dependency of a tree with its own bookkeeping on every request, and every API
    route asks for these two. The principal comes first: no session is opened for a refused token."""
    principal = await _caller(request, request.headers.get("authorization"))
    db: Database = request.app.state.db
    async with RequestSession(db).edge() as opened:  # a session only when the route asks for one
        yield Guard(principal, opened, db)


# What `get_guard` gives a route, for a lane that runs an endpoint without FastAPI's dependency
# solving (app/http/dispatch.py): the same caller, the same session edge.
guard_for = contextlib.asynccontextmanager(get_guard)


# scope="function", as SessionDep: the commit runs before the answer is sent.
GuardDep = Annotated[Guard, Depends(get_guard, scope="function")]



# --- lanes: an endpoint run without FastAPI's request handling ---------------------------------

Endpoint = Callable[..., Awaitable[Response]]
Lane = Callable[[Scope, Receive, Send], Awaitable[bool]]


def lane_for(endpoint: Endpoint, route: APIRoute) -> Lane:
    """The endpoint as an ASGI app that gives it what FastAPI would, without FastAPI's request
    handling (dependency solving, the function-scoped exit stacks, the request_response wrappers:
    a sixth of a single partner event's CPU): the caller and the session edge (`guard_for`, as
    GuardDep: committed before the answer is sent), the settings, the request, path parameters
    that the route's own convertor already made the annotated type (`{case_id:uuid}` for
    `case_id: uuid.UUID`), query parameters, validated by FastAPI's own `request_params_to_args`,
    and dependencies of query parameters and the request alone (PagingDep). The endpoint must
    answer a Response itself (no response_model to serialize). Anything else is refused here, at
    start-up: the route then needs FastAPI. The lane answers True; False, having done nothing,
    when a query parameter fails validation: the route then runs and FastAPI answers its 422.
    app/http/dispatch.py runs the lane for the route; errors reach the same exception handlers."""
    name_of = endpoint.__qualname__
    hints = get_type_hints(endpoint, include_extras=True)
    if hints.get("return") is not Response:
        raise TypeError(f"{name_of}: a lane needs an endpoint that answers a Response")
    dependant = route.dependant
    if dependant.header_params or dependant.cookie_params or dependant.body_params:
        raise TypeError(f"{name_of}: a lane gives no headers, cookies or body as parameters")
    subs = {sub.call: sub for sub in dependant.dependencies}
    queries = {field.name: field for field in dependant.query_params}
    kinds: list[tuple[str, Any]] = []
    for name in inspect.signature(endpoint).parameters:
        hint = hints.get(name)
        depends = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, params.Depends)), None)
        if hint == GuardDep:
            kinds.append((name, "guard"))
        elif hint == SettingsDep:
            kinds.append((name, "settings"))
        elif hint is Request:
            kinds.append((name, "request"))
        elif hint is uuid.UUID and "{" + name + ":uuid}" in route.path:
            kinds.append((name, "path"))
        elif name in queries:
            kinds.append((name, "query"))
        elif depends is not None and depends.dependency in subs and _query_only(subs[depends.dependency]):
            kinds.append((name, subs[depends.dependency]))
        else:
            raise TypeError(f"{name_of}: no lane for its parameter {name!r} ({hint!r})")
    fields = list(dependant.query_params)
    for _name, kind in kinds:
        if not isinstance(kind, str):
            fields += kind.query_params

    async def lane(scope: Scope, receive: Receive, send: Send) -> bool:
        request = Request(scope, receive)
        query: dict[str, Any] = {}
        if fields:
            query, errors = request_params_to_args(fields, request.query_params)
            if errors:
                return False  # FastAPI's own 422
        given: dict[str, Any] = {}
        for name, kind in kinds:
            if kind == "query":
                given[name] = query[name]
            elif kind == "path":
                given[name] = scope["path_params"][name]
            elif not isinstance(kind, str):
                own = {field.name: query[field.name] for field in kind.query_params}
                if kind.request_param_name:
                    own[kind.request_param_name] = request
                given[name] = await kind.call(**own)
        async with guard_for(request) as guard:
            values = {"guard": guard, "settings": request.app.state.settings, "request": request}
            response = await endpoint(**{
                name: given[name] if name in given else values[kind] for name, kind in kinds})
        await response(scope, receive, send)
        return True

    lane.__qualname__ = f"lane_for({name_of})"
    return lane


def _query_only(dependant: Dependant) -> bool:
    """A dependency a lane can run itself: an async function of query parameters and the request."""
    return (inspect.iscoroutinefunction(dependant.call) and not dependant.dependencies
            and not (dependant.path_params or dependant.header_params or dependant.cookie_params
                     or dependant.body_params))
