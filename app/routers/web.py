"""The web client's pages for liaisons and members: sign-in and sign-out, my actions, the case
(referrals: app/routers/web_referrals.py). The web client's machinery (session, CSRF, OIDC sign-in, rendering, the route class)
is in app/web/.

Every page builds the same Guard as the API from the session's principal, so the policy and the
access log are the API's. Thin like the other routers: the work is in the services."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.audit import Access
from app.auth.policy import Op, Target
from app.auth.tokens import TokenValidator
from app.config import Settings
from app.deps import principal_from_token
from app.errors import PreconditionFailed
from app.models.enums import ActionStatus, Phase
from app.schemas.cases import ActionUpdate
from app.services.access import web_sessions as web_auth
from app.services.cases import actions as action_service
from app.services.cases import guests as guest_service
from app.services.cases import households as household_service
from app.services.cases import lifecycle as case_service
from app.services.cases import reads as case_reads
from app.services.cases import timeline as case_timeline
from app.services.cases import zrm
from app.services.events import aftercare as aftercare_service
from app.services.events import reads as event_reads
from app.services.partners import references as reference_service
from app.web import signin
from app.web.consent import consent_section
from app.web.csrf import checked_form
from app.web.forms import refusable
from app.web.render import LIFE_DOMAINS, error_page, page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext, WebDb

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)


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
    return page(request, "sign_in.html", None, organisations=orgs, next=web_auth.safe_next(next),
                expired=bool(verlopen))


@router.post("/inloggen")
async def sign_in_start(request: Request, session: WebDb) -> Response:
    form = await request.form()
    settings = _settings(request)
    org = await web_auth.organisation_by_slug(session, str(form.get("organisatie") or ""))
    if org is None:
        orgs = await web_auth.sign_in_organisations(session)
        return page(request, "sign_in.html", None, status=422, organisations=orgs,
                    next=web_auth.safe_next(str(form.get("next") or "")), expired=False,
                    error="Kies uw organisatie.")
    try:
        endpoint = await signin.authorization_endpoint(org)
    except signin.ProviderUnreachable:
        return error_page(request, 503, "De inlogvoorziening van uw organisatie is nu niet bereikbaar.")
    pending = await web_auth.start_sign_in(session, org, next_path=str(form.get("next") or ""),
                                           minutes=settings.web_sign_in_minutes)
    response = RedirectResponse(await signin.authorization_url(settings, endpoint, pending), status_code=303)
    signin.set_state_cookie(response, settings, pending.state)
    return response


@router.get("/callback")
async def sign_in_callback(
    request: Request, session: WebDb, code: str = "", state: str = "", error: str = ""
) -> Response:
    settings = _settings(request)
    cookie_state = request.cookies.get(signin.STATE_COOKIE, "")
    if error or not code or not signin.state_confirmed(cookie_state, state):
        return error_page(request, 400, "Het inloggen is afgebroken of verlopen. Begin opnieuw.")
    pending = await web_auth.consume_sign_in(session, state)
    org = await web_auth.get_organisation(session, pending.organisation_id if pending else None)
    if pending is None or org is None or not org.issuer:
        return error_page(request, 400, "Het inloggen is afgebroken of verlopen. Begin opnieuw.")
    try:
        tokens = await signin.exchange_code(settings, org, pending, code)
    except signin.SignInRefused:
        return error_page(request, 401)
    # The same validation and mapping as every API call.
    principal = await principal_from_token(request, session, str(tokens.get("access_token") or ""))
    if principal is None or principal.kind != "person" or principal.issuer != org.issuer:
        return error_page(request, 403, "U bent (nog) geen deelnemer van een casusoverleg via deze organisatie.")
    validator: TokenValidator = request.app.state.token_validator
    try:
        await signin.check_id_token(validator, settings, org, pending, str(tokens.get("id_token") or ""), principal)
    except signin.SignInRefused:
        return error_page(request, 401)
    token, _row = await web_auth.create_web_session(session, principal, minutes=settings.web_session_minutes)
    response = RedirectResponse(pending.next_path, status_code=303)
    signin.set_session_cookie(response, settings, token)
    return response


@router.post("/uitloggen")
async def sign_out(request: Request, ctx: Ctx, session: WebDb) -> Response:
    await checked_form(request, ctx)
    await web_auth.end_web_session(session, ctx.token)
    response = RedirectResponse("/web/inloggen?uitgelogd=1", status_code=303)
    signin.clear_session_cookie(response)
    return response


# --- Mijn acties ------------------------------------------------------------------------------


def _action_access(action_id: uuid.UUID, case_id: uuid.UUID, conference_id: uuid.UUID, number: str,
                   verb: str) -> Access:
    return Access(action=verb, resource_type="action", resource_id=str(action_id), case_id=case_id,
                  conference_id=conference_id, client_number=number)


async def _actions_page(request: Request, ctx: WebContext, *, status: int = 200, errors: dict | None = None,
                        kept: dict | None = None, saved: str = "") -> HTMLResponse:
    shaped, total = ctx.guard.deliver(await case_reads.action_list(
        ctx.guard.session,
        ctx.principal,
        action_service.ActionFilter(organisation_id=ctx.principal.organisation_id, open_only=True),
        limit=200, offset=0,
    ))
    items = [{"action": a, "number": a.client_number, "overdue": a.overdue} for a in shaped]
    # The saved action is named by its id in the URL; its title is shown from the shaped list.
    saved_title = next((a.title for a in shaped if str(a.id) == saved), "") if saved else ""
    return page(request, "actions.html", ctx, status=status, items=items, total=total, errors=errors or {},
                 kept=kept or {}, saved=saved_title or ("de actie" if saved else ""), statuses=list(ActionStatus))


@router.get("/acties", response_class=HTMLResponse)
async def my_actions(request: Request, ctx: Ctx, opgeslagen: str = "") -> HTMLResponse:
    return await _actions_page(request, ctx, saved=opgeslagen)


@router.post("/acties/{action_id}", response_class=HTMLResponse)
async def update_my_action(action_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    session = ctx.guard.session
    action, case, number = await action_service.load_action(session, action_id)
    access = _action_access(action.id, case.id, case.conference_id, number, "update")
    await ctx.guard.require(
        Op.action_update,
        Target(conference_id=case.conference_id, owner_organisation_id=action.owner_organisation_id,
               phase=case.phase),
        access, record=True,
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
        return await _conflict(request, ctx, action, case, number, mine)
    try:
        async with refusable(session):
            await action_service.update_action(
                session, ctx.principal, action=action, case=case,
                data=ActionUpdate(status=ActionStatus(mine["status"]), note=mine["note"]),
            )
    except PreconditionFailed:
        action, case, number = await action_service.load_action(session, action_id)
        return await _conflict(request, ctx, action, case, number, mine)
    # Ids only in URLs: the title is client data (it lands in server logs and browser history).
    return RedirectResponse(f"/web/acties?{urlencode({'opgeslagen': str(action.id)})}", status_code=303)


async def _conflict(request: Request, ctx: WebContext, action: Any, case: Any, number: str,
                    mine: dict) -> HTMLResponse:
    current = ctx.guard.deliver(await case_reads.action_read(ctx.guard.session, ctx.principal, action, case, number))
    return page(request, "conflict.html", ctx, status=409, action=current, number=number, mine=mine)


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


@router.get("/casussen", response_class=HTMLResponse)
async def case_list_page(request: Request, ctx: Ctx, fase: str = "", signaal: str = "", te_laat: str = "",
                         mijn_organisatie: str = "", evaluatie_voor: str = "", clientnummer: str = "") -> HTMLResponse:
    """Every case the policy lets the caller see (closed cases have left a liaison's view), by the
    API's read path, filtered in SQL by phase, open signal, overdue actions, open actions of the
    caller's organisation, next review before a date and client number."""
    phase = Phase(fase) if fase in {p.value for p in Phase} else None
    errors: dict[str, str] = {}
    review_before = None
    if evaluatie_voor.strip():
        try:
            review_before = date.fromisoformat(evaluatie_voor.strip())
        except ValueError:
            try:
                review_before = datetime.strptime(evaluatie_voor.strip(), "%d-%m-%Y").date()
            except ValueError:
                errors["evaluatie_voor"] = "Geef een geldige datum, bijvoorbeeld 31-12-2026."
    number = clientnummer.strip().upper()
    filters = case_service.CaseFilter(
        flagged=bool(signaal), overdue_actions=bool(te_laat),
        actions_of=ctx.principal.organisation_id if mijn_organisatie else None,
        review_before=review_before, client_number=number or None,
    )
    cases, total = ctx.guard.deliver(await case_reads.case_list(
        ctx.guard.session, ctx.principal, conference_id=None, phase=phase, limit=200, offset=0, filters=filters))
    kept = {"signaal": bool(signaal), "te_laat": bool(te_laat), "mijn_organisatie": bool(mijn_organisatie),
            "evaluatie_voor": evaluatie_voor.strip(), "clientnummer": number}
    filtered = bool(phase or signaal or te_laat or mijn_organisatie or review_before or number)
    return page(request, "cases.html", ctx, status=422 if errors else 200, cases=cases, total=total,
                phase=phase.value if phase else "", kept=kept, errors=errors, filtered=filtered)


@router.get("/casussen/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: uuid.UUID, request: Request, ctx: Ctx, nazorg: str = "",
                    gast: str = "") -> HTMLResponse:
    """The case as the API's read path shapes it: labelled content the reader may not see reads
    "afgeschermd", exactly as in the API."""
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id)
    await ctx.guard.require(Op.case_read, loaded.target, case_reads.case_access(loaded, "read"))
    detail = ctx.guard.deliver(await case_reads.case_detail(session, ctx.principal, loaded))
    director = await web_auth.get_membership(session, detail.case_director_id)
    director_org = await web_auth.get_organisation(session, director.organisation_id if director else None)
    goals_by_domain: dict[str, list[str]] = {}
    for goal in detail.plan.goals if detail.plan else []:
        goals_by_domain.setdefault(goal.life_domain or "afgeschermd", []).append(goal.description)
    shown = detail.assessments.items
    basis = shown[0].basis if shown else None
    guests = ctx.guard.deliver(await guest_service.guests_read(session, ctx.principal, loaded))
    aftercare = ctx.guard.deliver(await aftercare_service.aftercare_page(session, ctx.principal, loaded))
    family = ctx.guard.deliver(await household_service.case_page_read(session, ctx.principal, loaded))
    timeline = ctx.guard.deliver(await event_reads.case_page_timeline(session, ctx.principal, loaded))
    checklist = ctx.guard.deliver(await case_reads.checklist_read(session, ctx.principal, loaded))
    phase_changes = ctx.guard.deliver(await case_timeline.phase_changes_read(session, ctx.principal, loaded))
    decisions = ctx.guard.deliver(await case_timeline.decisions_read(session, ctx.principal, loaded))
    references = ctx.guard.deliver(await reference_service.references_read(session, ctx.principal, loaded))
    return page(request, "case.html", ctx, case=detail, client={"client_number": detail.client_number,
                                                               "name": detail.client_name}, guests=guests,
                 aftercare=aftercare, aftercare_saved=nazorg, family=family,
                 guests_saved=gast == "uitgenodigd", timeline=timeline,
                 checklist=checklist, references=references, phase_changes=phase_changes, decisions=decisions,
                 plan=detail.plan, goals=goals_by_domain, zrm=_zrm_series(shown),
                 zrm_hidden=detail.assessments.hidden, basis=basis, assessments=shown,
                 actions=[{"action": a, "overdue": a.overdue} for a in detail.actions],
                 director=director, director_org=director_org, consent=await consent_section(ctx, loaded),
                 zrm_anchors=zrm.anchors(), zrm_source=zrm.SOURCE)
