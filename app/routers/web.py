"""The web client: server-rendered Dutch pages for liaisons and members, signed in through their
own organisation's provider (OIDC authorization code + PKCE, via authlib).

Every page builds the same Guard as the API from the session's principal, so the policy and the
access log are the API's. Thin like the other routers: the work is in the services."""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from app.audit import Access
from app.auth.policy import Op, Target, label_visibility, visible_actions, visible_referrals
from app.auth.principal import Principal
from app.auth.tokens import IssuerConfig, TokenValidator
from app.clock import clock
from app.config import Settings
from app.deps import Guard, get_session, principal_from_token
from app.errors import AppError, PreconditionFailed, UnprocessableEntity
from app.models import Organisation
from app.models.enums import ActionStatus, Role
from app.schemas.cases import ActionUpdate, ReferralCreate
from app.services.access import web_sessions as web_auth
from app.services.agreements.sharing import sharing_bases
from app.services.cases import actions as action_service
from app.services.cases import lifecycle as case_service
from app.services.cases import plans as plan_service
from app.services.cases import referrals as referral_service
from app.web import LIFE_DOMAINS, templates

log = logging.getLogger(__name__)

SESSION_COOKIE = "casusoverleg_sessie"
STATE_COOKIE = "casusoverleg_aanmelden"
OPEN_STATUSES = [ActionStatus.open.value, ActionStatus.in_progress.value, ActionStatus.blocked.value]
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self' http: https:; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class _Redirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class _CsrfRefused(Exception):
    pass


ERROR_TEXT = {
    400: ("Ongeldig verzoek", "Dit verzoek kon niet worden verwerkt."),
    401: ("Aanmelden mislukt", "Uw aanmelding kon niet worden bevestigd. Probeer het opnieuw."),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina of deze handeling."),
    404: ("Niet gevonden", "Deze pagina bestaat niet, of u heeft er geen toegang toe."),
    409: ("Niet mogelijk", "Deze wijziging is nu niet mogelijk."),
    422: ("Ongeldige invoer", "De invoer is niet geldig."),
}


def _error_page(request: Request, status: int, detail: str | None = None) -> HTMLResponse:
    title, text = ERROR_TEXT.get(status, ("Er ging iets mis", "Probeer het later opnieuw."))
    ctx = getattr(request.state, "web", None)
    return templates.TemplateResponse(
        request, "error.html",
        {"title": title, "text": detail or text, "user": ctx.principal if ctx else None,
         "csrf": ctx.csrf if ctx else None},
        status_code=status,
    )


class WebRoute(APIRoute):
    """Turns redirects and application errors into pages (never problem+json in the browser),
    rolls the request's transaction back on any error, and adds the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except (_Redirect, _CsrfRefused, AppError) as exc:
                db_session: AsyncSession | None = getattr(request.state, "web_db_session", None)
                if db_session is not None:
                    await db_session.rollback()
                if isinstance(exc, _Redirect):
                    response = RedirectResponse(exc.url, status_code=303)
                elif isinstance(exc, _CsrfRefused):
                    response = _error_page(
                        request, 403, "Dit formulier is verlopen of niet van deze site afkomstig. "
                        "Open de pagina opnieuw en probeer het nog eens.")
                else:
                    # A hidden object reads exactly like a missing one: no detail from the policy.
                    response = _error_page(request, exc.status)
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            return response

        return handler


router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)


async def _web_db(request: Request) -> Any:
    async for session in get_session(request):
        request.state.web_db_session = session
        yield session


# Function scope: the transaction commits before the response leaves, so a redirect never
# overtakes its own write.
WebDb = Annotated[AsyncSession, Depends(_web_db, scope="function")]


@dataclass
class WebContext:
    principal: Principal
    guard: Guard
    csrf: str
    token: str


def _next_for(request: Request) -> str:
    if request.method == "GET":
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return web_auth.safe_next(path)
    return web_auth.DEFAULT_NEXT


async def web_context(request: Request, session: WebDb) -> WebContext:
    token = request.cookies.get(SESSION_COOKIE, "")
    row = await web_auth.load_web_session(session, token) if token else None
    principal = None
    if row is not None:
        principal = await web_auth.principal_for_session(
            session, row, request_id=getattr(request.state, "request_id", None),
            source_address=request.client.host if request.client else None,
        )
    if row is None or principal is None:
        raise _Redirect("/web/inloggen?" + urlencode({"next": _next_for(request), "verlopen": "1" if token else ""}))
    request.state.principal = principal
    ctx = WebContext(principal, Guard(principal, session, request.app.state.db), row.csrf_secret, token)
    request.state.web = ctx
    return ctx


Ctx = Annotated[WebContext, Depends(web_context)]


async def _checked_form(request: Request, ctx: WebContext) -> FormData:
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), ctx.csrf.encode()):
        log.info("web form refused: missing or wrong CSRF token")
        raise _CsrfRefused()
    return form


def _page(request: Request, name: str, ctx: WebContext | None, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("user", ctx.principal if ctx else None)
    values.setdefault("csrf", ctx.csrf if ctx else None)
    return templates.TemplateResponse(request, name, values, status_code=status)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- sign-in and sign-out ---------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home() -> Response:
    return RedirectResponse("/web/acties", status_code=303)


@router.get("/inloggen", response_class=HTMLResponse)
async def sign_in_page(request: Request, session: WebDb, next: str = "", verlopen: str = "") -> HTMLResponse:
    orgs = await web_auth.sign_in_organisations(session)
    return _page(request, "sign_in.html", None, organisations=orgs, next=web_auth.safe_next(next),
                 expired=bool(verlopen))


async def _provider_endpoints(org: Organisation) -> tuple[str, str]:
    assert org.issuer is not None
    url = org.discovery_url or f"{org.issuer.rstrip('/')}/.well-known/openid-configuration"
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url)
        response.raise_for_status()
        doc = response.json()
    if doc.get("issuer") != org.issuer:
        raise ValueError("the provider's discovery document names another issuer")
    return str(doc["authorization_endpoint"]), str(doc["token_endpoint"])


def _oauth_client(settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.web_oidc_client_id,
        client_secret=settings.web_oidc_client_secret,
        token_endpoint_auth_method="client_secret_basic" if settings.web_oidc_client_secret else "none",
        redirect_uri=settings.public_base_url.rstrip("/") + "/web/callback",
        scope="openid",
        code_challenge_method="S256",
        timeout=5.0,
    )


@router.post("/inloggen")
async def sign_in_start(request: Request, session: WebDb) -> Response:
    form = await request.form()
    settings = _settings(request)
    org = await web_auth.organisation_by_slug(session, str(form.get("organisatie") or ""))
    if org is None:
        orgs = await web_auth.sign_in_organisations(session)
        return _page(request, "sign_in.html", None, status=422, organisations=orgs,
                     next=web_auth.safe_next(str(form.get("next") or "")), expired=False,
                     error="Kies uw organisatie.")
    try:
        authorization_endpoint, _token = await _provider_endpoints(org)
    except (httpx.HTTPError, ValueError, KeyError):
        log.warning("identity provider of an organisation unreachable", exc_info=True)
        return _error_page(request, 503, "De aanmeldvoorziening van uw organisatie is nu niet bereikbaar.")
    pending = await web_auth.start_sign_in(session, org, next_path=str(form.get("next") or ""),
                                           minutes=settings.web_sign_in_minutes)
    async with _oauth_client(settings) as oauth:
        url, _state = oauth.create_authorization_url(
            authorization_endpoint, state=pending.state, code_verifier=pending.code_verifier, nonce=pending.nonce
        )
    response = RedirectResponse(url, status_code=303)
    # Binds the sign-in to this browser (against login CSRF).
    response.set_cookie(STATE_COOKIE, pending.state, max_age=settings.web_sign_in_minutes * 60, httponly=True,
                        samesite="lax", secure=not settings.is_development, path="/web/callback")
    return response


@router.get("/callback")
async def sign_in_callback(
    request: Request, session: WebDb, code: str = "", state: str = "", error: str = ""
) -> Response:
    settings = _settings(request)
    cookie_state = request.cookies.get(STATE_COOKIE, "")
    if error or not code or not state or not cookie_state or not hmac.compare_digest(
        cookie_state.encode(), state.encode()
    ):
        return _error_page(request, 400, "Het aanmelden is afgebroken of verlopen. Begin opnieuw.")
    pending = await web_auth.consume_sign_in(session, state)
    org = await web_auth.get_organisation(session, pending.organisation_id if pending else None)
    if pending is None or org is None or not org.issuer:
        return _error_page(request, 400, "Het aanmelden is afgebroken of verlopen. Begin opnieuw.")
    try:
        _auth, token_endpoint = await _provider_endpoints(org)
        async with _oauth_client(settings) as oauth:
            tokens = await oauth.fetch_token(token_endpoint, grant_type="authorization_code", code=code,
                                             code_verifier=pending.code_verifier)
    except Exception:  # the provider's answer is untrusted input: never a 500  # noqa: BLE001
        log.warning("code exchange with an organisation's provider failed", exc_info=True)
        return _error_page(request, 401)
    access_token = str(tokens.get("access_token") or "")
    # The same validation and mapping as every API call.
    principal = await principal_from_token(request, session, access_token)
    if principal is None or principal.kind != "person" or principal.issuer != org.issuer:
        return _error_page(request, 403, "U bent (nog) geen deelnemer van een casusoverleg via deze organisatie.")
    validator: TokenValidator = request.app.state.token_validator
    issuers = {org.issuer: _id_token_config(org, settings)}
    try:
        id_claims = await validator.validate(str(tokens.get("id_token") or ""), issuers)
    except Exception:  # noqa: BLE001
        log.info("id token refused", exc_info=True)
        return _error_page(request, 401)
    if id_claims.get("nonce") != pending.nonce or id_claims.get("sub") != principal.subject:
        return _error_page(request, 401)
    token, _row = await web_auth.create_web_session(session, principal, minutes=settings.web_session_minutes)
    response = RedirectResponse(pending.next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.web_session_minutes * 60, httponly=True,
                        samesite="lax", secure=not settings.is_development, path="/")
    response.delete_cookie(STATE_COOKIE, path="/web/callback")
    return response


def _id_token_config(org: Organisation, settings: Settings) -> IssuerConfig:
    """The ID token is addressed to the web client (aud = client id), signed by the same issuer."""
    assert org.issuer is not None
    return IssuerConfig(issuer=org.issuer, audience=settings.web_oidc_client_id, jwks_uri=org.jwks_uri,
                        discovery_url=org.discovery_url)


@router.post("/uitloggen")
async def sign_out(request: Request, ctx: Ctx, session: WebDb) -> Response:
    await _checked_form(request, ctx)
    await web_auth.end_web_session(session, ctx.token)
    response = RedirectResponse("/web/inloggen?afgemeld=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- Mijn acties ------------------------------------------------------------------------------


def _action_access(action_id: uuid.UUID, case_id: uuid.UUID, conference_id: uuid.UUID, number: str,
                   verb: str) -> Access:
    return Access(action=verb, resource_type="action", resource_id=str(action_id), case_id=case_id,
                  conference_id=conference_id, client_number=number)


async def _actions_page(request: Request, ctx: WebContext, *, status: int = 200, errors: dict | None = None,
                        kept: dict | None = None, saved: str = "") -> HTMLResponse:
    rows, total = await action_service.list_actions(
        ctx.guard.session,
        visible_actions(ctx.principal),
        action_service.ActionFilter(organisation_id=ctx.principal.organisation_id, status=OPEN_STATUSES),
        limit=200, offset=0,
    )
    ctx.guard.audit.allowed(*[_action_access(a.id, a.case_id, a.conference_id, n, "list") for a, n in rows])
    items = [{"action": a, "number": n, "overdue": action_service.is_overdue(a)} for a, n in rows]
    return _page(request, "actions.html", ctx, status=status, items=items, total=total, errors=errors or {},
                 kept=kept or {}, saved=saved, statuses=list(ActionStatus))


@router.get("/acties", response_class=HTMLResponse)
async def my_actions(request: Request, ctx: Ctx, opgeslagen: str = "") -> HTMLResponse:
    return await _actions_page(request, ctx, saved=opgeslagen)


@router.post("/acties/{action_id}", response_class=HTMLResponse)
async def update_my_action(action_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await _checked_form(request, ctx)
    session = ctx.guard.session
    action, case, number = await action_service.load_action(session, action_id)
    access = _action_access(action.id, case.id, case.conference_id, number, "update")
    await ctx.guard.require(
        Op.action_update,
        Target(conference_id=case.conference_id, owner_organisation_id=action.owner_organisation_id),
        access,
    )
    mine = {"status": str(form.get("status") or ""), "note": str(form.get("note") or "").strip()}
    errors = {}
    if mine["status"] not in {s.value for s in ActionStatus}:
        errors["status"] = "Kies een geldige status."
    if len(mine["note"]) > 2000:
        errors["note"] = "De notitie is te lang (maximaal 2000 tekens)."
    try:
        version = int(str(form.get("version") or ""))
    except ValueError:
        errors["status"] = "Dit formulier is onvolledig; open de pagina opnieuw."
        version = -1
    if errors:
        return await _actions_page(request, ctx, status=422, errors={str(action_id): errors},
                                   kept={str(action_id): mine})
    if version != action.version:
        return _conflict(request, ctx, action, number, mine)
    try:
        await action_service.update_action(
            session, ctx.principal, action=action, case=case,
            data=ActionUpdate(status=ActionStatus(mine["status"]), note=mine["note"]),
        )
    except PreconditionFailed:
        await session.rollback()  # never flush the half-applied object
        action, case, number = await action_service.load_action(session, action_id)
        return _conflict(request, ctx, action, number, mine)
    ctx.guard.audit.allowed(access)
    return RedirectResponse(f"/web/acties?{urlencode({'opgeslagen': action.title})}", status_code=303)


def _conflict(request: Request, ctx: WebContext, action: Any, number: str, mine: dict) -> HTMLResponse:
    ctx.guard.audit.allowed(_action_access(action.id, action.case_id, action.conference_id, number, "read"))
    return _page(request, "conflict.html", ctx, status=409, action=action, number=number, mine=mine)


# --- case page -------------------------------------------------------------------------------


def _zrm_series(assessments: list[Any]) -> list[dict]:
    """Per life domain: points of a small line chart (x: assessment index, y: ZRM score 1..5)."""
    series = []
    count = len(assessments)
    for domain, label in LIFE_DOMAINS.items():
        scores = [(a.assessed_on, a.scores[domain]) for a in assessments if domain in a.scores]
        if not scores:
            continue
        width, height = 120, 40
        step = width / max(count - 1, 1)
        points = " ".join(
            f"{round(i * step, 1)},{round(height - (score - 1) * (height / 4), 1)}" for i, (_d, score) in enumerate(scores)
        )
        series.append({"domain": domain, "label": label, "points": points, "first": scores[0][1],
                       "latest": scores[-1][1], "dates": [d for d, _s in scores]})
    return series


@router.get("/casussen/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: uuid.UUID, request: Request, ctx: Ctx) -> HTMLResponse:
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id)
    case, client = loaded.case, loaded.client
    access = Access(action="read", resource_type="case", resource_id=str(case.id), case_id=case.id,
                    conference_id=case.conference_id, client_number=client.client_number)
    await ctx.guard.require(Op.case_read, loaded.target, access)
    plan, goals = await plan_service.load_plan(session, case.id)
    assessments = await plan_service.assessments_of(session, case.id)
    bases = await sharing_bases(session, case.id)
    visible, basis = label_visibility(ctx.principal, label="health", conference_id=case.conference_id,
                                      owning_organisation_id=None, bases=bases)
    shown = assessments if visible else []
    actions, _ = await action_service.list_actions(
        session, visible_actions(ctx.principal), action_service.ActionFilter(case_id=case.id), limit=1000, offset=0
    )
    director = await web_auth.get_membership(session, case.case_director_id)
    director_org = await web_auth.get_organisation(session, director.organisation_id if director else None)
    ctx.guard.audit.allowed(
        access,
        *([Access(action="read", resource_type="assessment", case_id=case.id, conference_id=case.conference_id,
                  client_number=client.client_number, part="assessments", basis=basis)] if shown else []),
    )
    goals_by_domain: dict[str, list[str]] = {}
    for goal in goals:
        goals_by_domain.setdefault(goal.life_domain, []).append(goal.description)
    return _page(request, "case.html", ctx, case=case, client=client, plan=plan, goals=goals_by_domain,
                 zrm=_zrm_series(shown), zrm_hidden=bool(assessments) and not visible, basis=basis,
                 assessments=shown, actions=[{"action": a, "overdue": action_service.is_overdue(a)}
                                             for a, _n in actions],
                 director=director, director_org=director_org)


# --- referrals (aanmeldingen) ----------------------------------------------------------------

REFERRAL_FIELDS = {"client.name": "naam", "client.date_of_birth": "geboortedatum", "client.bsn": "bsn",
                   "reason": "reden"}
REFERRAL_MESSAGES = {
    "naam": "Vul de naam in (maximaal 200 tekens).",
    "geboortedatum": "Vul een geldige geboortedatum in (dd-mm-jjjj of jjjj-mm-dd).",
    "bsn": "Dit is geen geldig BSN (9 cijfers, elfproef).",
    "reden": "Beschrijf de reden van aanmelding (maximaal 4000 tekens).",
    "overleg": "Kies een casusoverleg.",
}


def _referral_conferences(principal: Principal) -> list[uuid.UUID]:
    roles = {Role.chair.value, Role.member.value, Role.liaison.value}
    return sorted({m.conference_id for m in principal.memberships if m.role in roles}, key=str)


def _parse_date(value: str) -> date | str:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(value, fmt).date()  # a calendar date: no time zone involved
        except ValueError:
            continue
    return value


async def _referrals_page(request: Request, ctx: WebContext, *, status: int = 200, errors: dict | None = None,
                          kept: dict | None = None, saved: bool = False) -> HTMLResponse:
    rows, total = await referral_service.list_referrals(
        ctx.guard.session, visible_referrals(ctx.principal), conference_id=None, status=None, limit=200, offset=0
    )
    ctx.guard.audit.allowed(*[
        Access(action="list", resource_type="referral", resource_id=str(r.id), conference_id=r.conference_id,
               client_number=number) for r, number in rows
    ])
    conferences = await web_auth.get_conferences(ctx.guard.session, _referral_conferences(ctx.principal))
    return _page(request, "referrals.html", ctx, status=status, referrals=rows, total=total, errors=errors or {},
                 kept=kept or {}, saved=saved, conferences=conferences)


@router.get("/aanmeldingen", response_class=HTMLResponse)
async def referrals(request: Request, ctx: Ctx, opgeslagen: str = "") -> HTMLResponse:
    return await _referrals_page(request, ctx, saved=bool(opgeslagen))


@router.post("/aanmeldingen", response_class=HTMLResponse)
async def create_referral(request: Request, ctx: Ctx) -> Response:
    form = await _checked_form(request, ctx)
    kept = {k: str(form.get(k) or "") for k in ("naam", "geboortedatum", "bsn", "reden", "overleg")}
    conferences = _referral_conferences(ctx.principal)
    errors: dict[str, str] = {}
    conference_id: uuid.UUID | None = None
    if len(conferences) == 1 and not kept["overleg"]:
        conference_id = conferences[0]
    else:
        try:
            conference_id = uuid.UUID(kept["overleg"])
        except ValueError:
            errors["overleg"] = REFERRAL_MESSAGES["overleg"]
        if conference_id not in conferences:
            errors["overleg"] = REFERRAL_MESSAGES["overleg"]
    data = None
    try:
        data = ReferralCreate.model_validate({
            "client": {"name": kept["naam"].strip(), "date_of_birth": _parse_date(kept["geboortedatum"]),
                       "bsn": kept["bsn"].replace(" ", "") or None},
            "reason": kept["reden"].strip(),
        })
    except ValidationError as exc:
        for err in exc.errors():
            field = REFERRAL_FIELDS.get(".".join(str(p) for p in err["loc"]))
            if field:
                errors.setdefault(field, REFERRAL_MESSAGES[field])
    if data is not None and data.client.date_of_birth > clock.today():
        errors.setdefault("geboortedatum", "De geboortedatum ligt in de toekomst.")
    if errors or data is None or conference_id is None:
        await ctx.guard.session.rollback()
        return await _referrals_page(request, ctx, status=422, errors=errors, kept=kept)
    await ctx.guard.require(Op.referral_create, Target(conference_id=conference_id))
    try:
        referral, client = await referral_service.create_referral(
            ctx.guard.session, ctx.principal, conference_id=conference_id, data=data, settings=_settings(request)
        )
    except UnprocessableEntity as exc:
        await ctx.guard.session.rollback()
        pointer = (exc.extra.get("errors") or [{}])[0].get("pointer", "")
        field = REFERRAL_FIELDS.get(pointer.removeprefix("#/").replace("/", "."), "reden")
        return await _referrals_page(request, ctx, status=422, errors={field: REFERRAL_MESSAGES[field]}, kept=kept)
    ctx.guard.audit.allowed(Access(action="create", resource_type="referral", resource_id=str(referral.id),
                                   conference_id=conference_id, client_number=client.client_number))
    return RedirectResponse("/web/aanmeldingen?opgeslagen=1", status_code=303)

