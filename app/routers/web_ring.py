"""The web client's pages for the wider ring (issue 17): the neighbourhood team's aftercare report
and the addiction care institution's answer, both forms on the case page. Thin like the other
routers: the policy decides (the API's operations), the work is in the services. A refused form
gets a Dutch error page; nothing is written and the refusal is logged."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.audit import Access
from app.auth.policy import Op
from app.errors import Conflict, UnprocessableEntity
from app.schemas.aftercare import AftercareReportCreate
from app.schemas.guests import GuestInvitationCreate
from app.services.cases import guests as guest_service
from app.services.cases import lifecycle as case_service
from app.services.events import aftercare as aftercare_service
from app.web.csrf import checked_form
from app.web.forms import parse_date, refusable
from app.web.render import error_page
from app.web.route import WebRoute
from app.web.session import Ctx

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)

REFUSALS = {
    "no_watch": "Er loopt nu geen nazorg met toestemming van de cliënt (getekende nazorgafspraken). "
                "U kunt geen melding doen.",
    "form": "Kies wat u wilt melden en vul een geldige datum in (niet in de toekomst). De toelichting is "
            "maximaal 2000 tekens.",
    "reply": "Schrijf een antwoord voor het wijkteam (maximaal 2000 tekens).",
    "answered": "Deze melding is al beantwoord.",
    "guest": "Vul de organisatie, de gebruikersnaam, de naam, de reden en de laatste dag in (dd-mm-jjjj).",
}
GUEST_REFUSALS = {  # the service's pointer -> what the chair reads
    "/reason": "Vul de reden van de uitnodiging in.",
    "/ends_on": "De laatste dag ligt niet in het verleden en hoogstens 90 dagen vooruit (365 voor een "
                "ervaringsdeskundige of maatje).",
    "/consent_agreement_id": "Een ervaringsdeskundige of maatje doet alleen mee met toestemming van de cliënt, "
                             "vastgelegd in een getekende overeenkomst; nodig hen uit via de koppeling (API) met "
                             "die overeenkomst.",
    "/subject": "Deze persoon neemt al deel aan het overleg.",
    "/organisation_id": "Kies een organisatie met een eigen inlogvoorziening.",
    "/agenda_item_id": "Dit agendapunt hoort niet bij deze casus.",
}


async def _refused(request: Request, ctx: Ctx, access: Access, text: str, *, conflict: bool = False) -> Response:
    """The refusal goes into the access log and the form gets its Dutch error page (409 when the
    case's state refuses it, 422 for what was filled in)."""
    await ctx.guard.audit.denied(access)
    return error_page(request, 409 if conflict else 422, text)


def _back(case_id: uuid.UUID, what: str) -> RedirectResponse:
    return RedirectResponse(f"/web/casussen/{case_id}?nazorg={what}#nazorg-kop", status_code=303)


@router.post("/casussen/{case_id}/nazorg")
async def report_aftercare(case_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    """Zorgen, gemist contact of een vermoeden van terugval melden aan de verslavingszorg."""
    form = await checked_form(request, ctx)
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id)
    access = aftercare_service.report_access(loaded, "create")
    await ctx.guard.require(Op.aftercare_report, loaded.target, access, hidden_as="case")
    try:
        when = str(form.get("datum") or "").strip()
        observed = parse_date(when) if when else None
        data = AftercareReportCreate.model_validate({
            "kind": str(form.get("soort") or ""), "observed_on": observed,
            "note": str(form.get("toelichting") or "").strip() or None,
        })
    except (ValidationError, ValueError):
        return await _refused(request, ctx, access, REFUSALS["form"])
    try:
        async with refusable(session):
            row = await aftercare_service.report(session, ctx.principal, loaded, data)
    except Conflict:
        return await _refused(request, ctx, access, REFUSALS["no_watch"], conflict=True)
    except UnprocessableEntity:
        return await _refused(request, ctx, access, REFUSALS["form"])
    ctx.guard.deliver(await aftercare_service.report_read(session, ctx.principal, loaded, row, "create"))
    return _back(case_id, "gemeld")


@router.post("/casussen/{case_id}/nazorg/{report_id}/antwoord")
async def reply_aftercare(case_id: uuid.UUID, report_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    """Het antwoord van de verslavingszorg op een melding van het wijkteam."""
    form = await checked_form(request, ctx)
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id)
    access = aftercare_service.report_access(loaded, "update", report_id)
    await ctx.guard.require(Op.aftercare_reply, loaded.target, access, hidden_as="case")
    text = str(form.get("antwoord") or "")
    if len(text) > 2000:
        return await _refused(request, ctx, access, REFUSALS["reply"])
    try:
        async with refusable(session):
            row = await aftercare_service.reply(session, ctx.principal, loaded, report_id, text)
    except Conflict:
        return await _refused(request, ctx, access, REFUSALS["answered"], conflict=True)
    except UnprocessableEntity:
        return await _refused(request, ctx, access, REFUSALS["reply"])
    ctx.guard.deliver(await aftercare_service.report_read(session, ctx.principal, loaded, row, "update"))
    return _back(case_id, "beantwoord")


@router.post("/casussen/{case_id}/gasten")
async def invite_guest(case_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    """De voorzitter nodigt iemand van buiten het overleg uit voor deze casus: met reden en laatste dag."""
    form = await checked_form(request, ctx)
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id)
    access = guest_service.guest_access(loaded, "create")
    await ctx.guard.require(Op.guest_manage, loaded.target, access, hidden_as="case")
    try:
        data = GuestInvitationCreate.model_validate({
            "kind": str(form.get("soort") or "guest"), "organisation_id": str(form.get("organisatie") or ""),
            "subject": str(form.get("gebruiker") or ""), "display_name": str(form.get("naam") or ""),
            "reason": str(form.get("reden") or ""), "ends_on": parse_date(str(form.get("tot") or "")) or None,
        })
    except (ValidationError, ValueError):
        return await _refused(request, ctx, access, REFUSALS["guest"])
    try:
        async with refusable(session):
            invitation = await guest_service.invite(session, ctx.principal, loaded, data)
    except Conflict:
        return await _refused(request, ctx, access, "Een gesloten casus krijgt geen gasten.", conflict=True)
    except UnprocessableEntity as exc:
        pointer = (exc.extra.get("errors") or [{}])[0].get("pointer", "")
        return await _refused(request, ctx, access, GUEST_REFUSALS.get(pointer, REFUSALS["guest"]))
    ctx.guard.record(guest_service.guest_access(loaded, "create", invitation.id))
    return RedirectResponse(f"/web/casussen/{case_id}?gast=uitgenodigd#gasten-kop", status_code=303)
