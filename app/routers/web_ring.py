"""The web client's pages for the wider ring (issue 17): the neighbourhood team's aftercare report
and the addiction care institution's answer, both forms on the case page. Thin like the other
routers: the policy decides (the API's operations), the work is in the services. A refused form
gets a Dutch error page; nothing is written and the refusal is logged."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.auth.policy import Op
from app.errors import Conflict, UnprocessableEntity
from app.schemas.aftercare import AftercareReportCreate
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
}


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
        await ctx.guard.audit.denied(access)
        return error_page(request, 422, REFUSALS["form"])
    try:
        async with refusable(session):
            row = await aftercare_service.report(session, ctx.principal, loaded, data)
    except (UnprocessableEntity, Conflict) as exc:
        await ctx.guard.audit.denied(access)
        return error_page(request, 409 if isinstance(exc, Conflict) else 422,
                          REFUSALS["no_watch" if isinstance(exc, Conflict) else "form"])
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
        await ctx.guard.audit.denied(access)
        return error_page(request, 422, REFUSALS["reply"])
    try:
        async with refusable(session):
            row = await aftercare_service.reply(session, ctx.principal, loaded, report_id, text)
    except (UnprocessableEntity, Conflict) as exc:
        await ctx.guard.audit.denied(access)
        return error_page(request, 409 if isinstance(exc, Conflict) else 422,
                          REFUSALS["answered" if isinstance(exc, Conflict) else "reply"])
    ctx.guard.deliver(await aftercare_service.report_read(session, ctx.principal, loaded, row, "update"))
    return _back(case_id, "beantwoord")
