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
from app.auth.policy import CASE_WORKERS, Op, Target, name_search_conferences
from app.auth.tokens import TokenValidator
from app.config import Settings
from app.deps import principal_from_token
from app.errors import InvalidTransition, PreconditionFailed, UnprocessableEntity
from app.models.enums import ActionStatus, Phase, Role
from app.schemas.cases import ActionUpdate, Transition
from app.services.access import web_sessions as web_auth
from app.services.cases import actions as action_service
from app.services.cases import guests as guest_service
from app.services.cases import households as household_service
from app.services.cases import lifecycle as case_service
from app.services.cases import reads as case_reads
from app.services.cases import timeline as case_timeline
from app.services.cases import zrm
from app.services.common import check_if_match
from app.services.events import aftercare as aftercare_service
from app.services.events import reads as event_reads
from app.services.partners import references as reference_service
from app.services.words import CLOSURE_REASONS
from app.web import case_forms, signin
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
async def my_actions(request: Request, ctx: Ctx, opgeslagen: str = "") -> Response:
    if not ctx.principal.conference_ids(*CASE_WORKERS) and ctx.principal.conference_ids(Role.policy_staff):
        # Policy staff never work on a case: their start page is the outcome figures.
        return RedirectResponse("/web/uitkomsten", status_code=303)
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
    return await _case_list(request, ctx, {"fase": fase, "signaal": signaal, "te_laat": te_laat,
                                           "mijn_organisatie": mijn_organisatie, "evaluatie_voor": evaluatie_voor,
                                           "clientnummer": clientnummer})


@router.post("/casussen", response_class=HTMLResponse)
async def case_search_page(request: Request, ctx: Ctx) -> HTMLResponse:
    """The same list, searched from the form in the request's body: for who may look a client up
    by identity (name_search_conferences) also by a part of the name. A name never travels in a
    URL (server logs, browser history, Referer), so this form is a POST and the answer is the page
    itself, not a redirect; for everyone else a name is ignored and the field not offered."""
    form = await checked_form(request, ctx)
    values = {k: str(form.get(k) or "") for k in LIST_FILTERS}
    return await _case_list(request, ctx, values, name=str(form.get("naam") or ""))


LIST_FILTERS = ("fase", "signaal", "te_laat", "mijn_organisatie", "evaluatie_voor", "clientnummer")
NAME_LENGTH = (2, 200)  # a name search needs at least two letters


async def _case_list(request: Request, ctx: WebContext, values: dict[str, str], *, name: str = "") -> HTMLResponse:
    phase = Phase(values["fase"]) if values["fase"] in {p.value for p in Phase} else None
    errors: dict[str, str] = {}
    review_before = None
    evaluatie_voor = values["evaluatie_voor"].strip()
    if evaluatie_voor:
        try:
            review_before = date.fromisoformat(evaluatie_voor)
        except ValueError:
            try:
                review_before = datetime.strptime(evaluatie_voor, "%d-%m-%Y").date()
            except ValueError:
                errors["evaluatie_voor"] = "Geef een geldige datum, bijvoorbeeld 31-12-2026."
    names = bool(name_search_conferences(ctx.principal))
    name = " ".join(name.split()) if names else ""
    if name and not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
        errors["naam"] = "Zoek op ten minste twee letters van de naam (hoogstens 200 tekens)."
    number = values["clientnummer"].strip().upper()
    signal, late, mine = (bool(values[k]) for k in ("signaal", "te_laat", "mijn_organisatie"))
    filters = case_service.CaseFilter(
        flagged=signal, overdue_actions=late, actions_of=ctx.principal.organisation_id if mine else None,
        review_before=review_before, client_number=number or None,
        client_name=name if name and "naam" not in errors else None,
    )
    cases, total = ctx.guard.deliver(await case_reads.case_list(
        ctx.guard.session, ctx.principal, conference_id=None, phase=phase, limit=200, offset=0, filters=filters))
    kept = {"signaal": signal, "te_laat": late, "mijn_organisatie": mine, "evaluatie_voor": evaluatie_voor,
            "clientnummer": number, "naam": name}
    filtered = bool(phase or signal or late or mine or review_before or number or filters.client_name)
    return page(request, "cases.html", ctx, status=422 if errors else 200, cases=cases, total=total,
                phase=phase.value if phase else "", kept=kept, errors=errors, filtered=filtered, names=names)


@router.get("/casussen/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: uuid.UUID, request: Request, ctx: Ctx, nazorg: str = "",
                    gast: str = "", gewijzigd: str = "") -> HTMLResponse:
    return await _case_page(request, ctx, case_id, aftercare_saved=nazorg, guests_saved=gast == "uitgenodigd",
                            changed=case_forms.DONE.get(gewijzigd, ""))


async def _case_page(request: Request, ctx: WebContext, case_id: uuid.UUID, *, status: int = 200,
                     aftercare_saved: str = "", guests_saved: bool = False, changed: str = "",
                     form_errors: dict[str, str] | None = None, kept: dict[str, str] | None = None) -> HTMLResponse:
    """The case as the API's read path shapes it: labelled content the reader may not see reads
    "afgeschermd", exactly as in the API. For the chair also the section "Casus bijwerken" (phase,
    review date, case director), rendered again with the messages of a refused form."""
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
                 aftercare=aftercare, aftercare_saved=aftercare_saved, family=family,
                 guests_saved=guests_saved, timeline=timeline, status=status, changed=changed,
                 changes=await case_forms.case_changes(ctx, loaded, detail), form_errors=form_errors or {},
                 kept=kept or {}, field_ids=case_forms.FIELD_IDS, closure_reasons=CLOSURE_REASONS,
                 checklist=checklist, references=references, phase_changes=phase_changes, decisions=decisions,
                 plan=detail.plan, goals=goals_by_domain, zrm=_zrm_series(shown),
                 zrm_hidden=detail.assessments.hidden, basis=basis, assessments=shown,
                 actions=[{"action": a, "overdue": a.overdue} for a in detail.actions],
                 director=director, director_org=director_org, consent=await consent_section(ctx, loaded),
                 zrm_anchors=zrm.anchors(), zrm_source=zrm.SOURCE)


# --- the case page's changes: phase, review date, case director --------------------------------


@router.post("/casussen/{case_id}/fase", response_class=HTMLResponse)
async def change_phase(case_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    return await _change_case(request, ctx, case_id, "fase")


@router.post("/casussen/{case_id}/evaluatie", response_class=HTMLResponse)
async def change_review_date(case_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    return await _change_case(request, ctx, case_id, "evaluatie")


@router.post("/casussen/{case_id}/regisseur", response_class=HTMLResponse)
async def change_case_director(case_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    return await _change_case(request, ctx, case_id, "regisseur")


async def _change_case(request: Request, ctx: WebContext, case_id: uuid.UUID, which: str) -> Response:
    """One change of the case by the API's services, all of it or nothing: the policy first (a
    Dutch 403 or 404 page), then the fields (the case page again, with the messages), then the
    version the page showed as If-Match (a stale one: the conflict page, 412)."""
    form = await checked_form(request, ctx)
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id, for_update=True)
    access = case_reads.case_access(loaded, "update", case_forms.PART[which])
    await ctx.guard.require(case_forms.OPERATION[which], loaded.target, access, hidden_as="case")
    submitted = case_forms.CaseForm.read(which, form)
    change, errors = submitted.change()
    if change is None:
        return await _case_page(request, ctx, case_id, status=422, form_errors=errors, kept=submitted.kept)
    try:
        check_if_match(submitted.if_match, loaded.case.version, "case")
        async with refusable(session):
            if isinstance(change, Transition):
                await case_service.transition(session, ctx.principal, case=loaded.case, data=change)
            else:
                await case_service.update_case(session, ctx.principal, case=loaded.case, data=change)
    except PreconditionFailed:
        return await _case_conflict(request, ctx, case_id, submitted)
    except (InvalidTransition, UnprocessableEntity) as exc:
        return await _case_page(request, ctx, case_id, status=422, form_errors=submitted.refused(exc),
                                kept=submitted.kept)
    ctx.guard.record(access)  # the write's own row, as the API's record=True
    return RedirectResponse(f"/web/casussen/{case_id}?{urlencode({'gewijzigd': which})}#casus-bijwerken",
                            status_code=303)


async def _case_conflict(request: Request, ctx: WebContext, case_id: uuid.UUID,
                         submitted: case_forms.CaseForm) -> HTMLResponse:
    """Someone changed the case after the page was opened: nothing was saved. Both versions side
    by side (the stored one through the read path), to save mine on the stored one or keep it."""
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id)
    current = ctx.guard.deliver(await case_reads.case_detail(session, ctx.principal, loaded))
    people = await web_auth.conference_people(session, loaded.case.conference_id)
    director = next((p.display_name for p in people if p.id == current.case_director_id), "")
    if current.case_director_id and not director:
        member = await web_auth.get_membership(session, current.case_director_id)
        director = member.display_name if member else ""
    return page(request, "case_conflict.html", ctx, status=412, case=current, form=submitted,
                rows=submitted.compare(current, people, director), reapply=submitted.reapplicable(current),
                active="casussen")
