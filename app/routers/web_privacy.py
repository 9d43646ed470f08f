"""The privacy officer's register of client requests in the web client (Dutch): record a request
(inzage, correctie, verwijdering, beperking, bezwaar, klacht), extend its deadline once with a
reason, and record the decision and the answer. The same Guard, policy, services and access log as
the API (app/routers/client_requests.py); a refused form renders again with what was submitted
and nothing written."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.audit import Access
from app.auth.policy import Op, Target
from app.errors import Conflict, Forbidden, NotFound, PreconditionFailed, UnprocessableEntity
from app.models.enums import (
    ClientRequestChannel,
    ClientRequestDecision,
    ClientRequestKind,
    ClientRequestStatus,
    CorrectionField,
    Role,
)
from app.schemas.privacy import AnswerCreate, ClientRequestCreate, CorrectionCreate, ExtensionCreate
from app.services.common import etag_of
from app.services.privacy import officer
from app.services.privacy import requests as service
from app.web.csrf import checked_form
from app.web.forms import int_or_none, parse_date, refusable
from app.web.render import page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)

KINDS_NL = {
    ClientRequestKind.inspection.value: "Inzage",
    ClientRequestKind.rectification.value: "Correctie",
    ClientRequestKind.erasure.value: "Verwijdering",
    ClientRequestKind.restriction.value: "Beperking",
    ClientRequestKind.objection.value: "Bezwaar",
    ClientRequestKind.complaint.value: "Klacht",
}
CHANNELS_NL = {
    ClientRequestChannel.letter.value: "Brief",
    ClientRequestChannel.email.value: "E-mail",
    ClientRequestChannel.in_person.value: "Aan de balie of in gesprek",
    ClientRequestChannel.phone.value: "Telefoon",
    ClientRequestChannel.via_professional.value: "Via een hulpverlener",
}
DECISIONS_NL = {
    ClientRequestDecision.granted.value: "Toegewezen",
    ClientRequestDecision.partly_granted.value: "Deels toegewezen",
    ClientRequestDecision.refused.value: "Afgewezen",
}
CORRECTIONS_NL = {
    CorrectionField.name.value: "Naam van de cliënt",
    CorrectionField.date_of_birth.value: "Geboortedatum (dd-mm-jjjj)",
    CorrectionField.note_text.value: "Tekst van een notitie",
    CorrectionField.goal_text.value: "Doel in het plan",
    CorrectionField.action_title.value: "Titel van een actie",
}
STATUS_NL = {ClientRequestStatus.open.value: "Open", ClientRequestStatus.answered.value: "Beantwoord"}
FIELDS = {"kind": "soort", "received_on": "ontvangen", "channel": "via", "on_behalf_of": "namens",
          "description": "omschrijving"}
MESSAGES = {
    "client": "Er is geen cliënt met dit cliëntnummer in uw casusoverleg.",
    "soort": "Kies de soort verzoek.",
    "ontvangen": "Vul de datum van ontvangst in (dd-mm-jjjj); niet in de toekomst en niet ouder dan een jaar.",
    "via": "Kies hoe het verzoek binnenkwam.",
    "namens": "Maximaal 200 tekens.",
    "omschrijving": "Maximaal 4000 tekens.",
    "besluit": "Kies een besluit.",
    "antwoord": "Schrijf het antwoord aan de cliënt (minimaal 10 tekens).",
    "reden": "Schrijf waarom het antwoord meer tijd nodig heeft (minimaal 10 tekens).",
}
DONE = {
    "vastgelegd": "Het verzoek is vastgelegd. De termijn staat in het overzicht.",
    "verlengd": "De termijn is verlengd met twee maanden.",
    "beantwoord": "Het antwoord is vastgelegd.",
    "gecorrigeerd": "De correctie is doorgevoerd. Wie de oude gegevens zag, krijgt daarvan bericht.",
}
STALE = "Het verzoek is intussen gewijzigd. Hieronder staat de huidige stand; probeer het opnieuw."


def _conferences(ctx: WebContext) -> list[uuid.UUID]:
    return sorted(ctx.principal.conference_ids(Role.privacy_officer), key=str)


async def _register(request: Request, ctx: WebContext, *, status: int = 200, errors: dict | None = None,
                    kept: dict | None = None, done: str = "", problem: str = "",
                    problem_request: str = "") -> HTMLResponse:
    mine = _conferences(ctx)
    access = Access(action="search", resource_type=service.RESOURCE, part="register", role=Role.privacy_officer.value)
    if not mine:
        await ctx.guard.audit.denied(access)
        raise Forbidden("Alleen een functionaris gegevensbescherming houdt het register van verzoeken bij.")
    items, total = ctx.guard.deliver(await service.register_read(
        ctx.guard.session, service.RegisterQuery(conference_ids=mine), limit=200, offset=0))
    ctx.guard.record(access)
    return page(request, "privacy_requests.html", ctx, status=status, active="verzoeken", items=items, total=total,
                errors=errors or {}, kept=kept or {}, done=DONE.get(done, ""), problem=problem,
                problem_request=problem_request, KINDS_NL=KINDS_NL, CHANNELS_NL=CHANNELS_NL,
                DECISIONS_NL=DECISIONS_NL, STATUS_NL=STATUS_NL, CORRECTIONS_NL=CORRECTIONS_NL)


@router.get("/privacy/verzoeken", response_class=HTMLResponse)
async def register_page(request: Request, ctx: Ctx, klaar: str = "") -> HTMLResponse:
    """The register of client requests of the privacy officer's conferences."""
    return await _register(request, ctx, done=klaar)


@router.post("/privacy/verzoeken", response_class=HTMLResponse)
async def record_request(request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    kept = {k: str(form.get(k) or "") for k in ("clientnummer", "soort", "ontvangen", "via", "namens",
                                                  "omschrijving")}
    errors: dict[str, str] = {}
    data = None
    try:
        data = ClientRequestCreate.model_validate({
            "kind": kept["soort"] or None, "received_on": parse_date(kept["ontvangen"]) or None,
            "channel": kept["via"] or None, "on_behalf_of": kept["namens"].strip() or None,
            "description": kept["omschrijving"].strip(),
        })
    except ValidationError as exc:
        for err in exc.errors():
            field = FIELDS.get(str(err["loc"][0]) if err["loc"] else "")
            if field:
                errors.setdefault(field, MESSAGES[field])
    client: Any = None
    number = kept["clientnummer"].strip().upper()
    if not number or len(number) > 16:
        errors["clientnummer"] = MESSAGES["client"]
    else:
        try:
            client = await officer.load_client_by_number(ctx.guard.session, number)
        except NotFound:
            errors["clientnummer"] = MESSAGES["client"]
        if client is not None and client.conference_id not in _conferences(ctx):
            client, errors["clientnummer"] = None, MESSAGES["client"]
    if errors or data is None or client is None:
        return await _register(request, ctx, status=422, errors=errors, kept=kept)
    access = Access(action="create", resource_type=service.RESOURCE, conference_id=client.conference_id,
                    client_number=client.client_number, part=data.kind.value, role=Role.privacy_officer.value)
    await ctx.guard.require(Op.client_request, Target(conference_id=client.conference_id), access, hidden_as="client")
    membership = ctx.principal.membership_in(client.conference_id, Role.privacy_officer)
    assert membership is not None  # the policy allowed the privacy officer's operation
    try:
        async with refusable(ctx.guard.session):
            made = await service.record_request(ctx.guard.session, client=client, data=data,
                                                recorded_by_id=membership.id)
    except UnprocessableEntity:
        return await _register(request, ctx, status=422, errors={"ontvangen": MESSAGES["ontvangen"]}, kept=kept)
    except Conflict as exc:
        return await _register(request, ctx, status=409, kept=kept, problem=_dutch(exc))
    ctx.guard.record(replace(access, resource_id=str(made.id)))
    return RedirectResponse("/web/privacy/verzoeken?klaar=vastgelegd", status_code=303)


def _dutch(exc: Exception) -> str:
    text = str(getattr(exc, "detail", "") or exc)
    if "extension" in text:
        return ("De termijn is verstreken en er is geen verlenging vastgelegd. Leg eerst de verlenging en de "
                "reden vast; daarna kunt u het antwoord vastleggen.")
    if "extended only once" in text:
        return "De termijn is al een keer verlengd; dat kan maar één keer."
    if "open case" in text:
        return ("De cliënt heeft nog een open casus. Sluit die eerst, of kies 'Deels toegewezen' om alleen de "
                "gesloten casussen te verwijderen.")
    if "restriction" in text:
        return "De gegevens van de cliënt staan onder een beperking. Hef die eerst op."
    if "answered" in text:
        return "Dit verzoek is al beantwoord."
    if "removed" in text:
        return "De gegevens van deze cliënt zijn al verwijderd."
    return "Dit kan niet. Er is niets opgeslagen."


async def _open(ctx: WebContext, request_id: uuid.UUID, part: str) -> tuple[service.LoadedRequest, Access]:
    loaded = await service.load_request(ctx.guard.session, request_id, for_update=True)
    access = service.request_access(loaded.request, loaded.client.client_number, "update", part)
    await ctx.guard.require(Op.client_request, Target(conference_id=loaded.request.conference_id), access,
                            hidden_as="client request")
    return loaded, access


@router.post("/privacy/verzoeken/{request_id}/verlengen", response_class=HTMLResponse)
async def extend_request(request_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    loaded, access = await _open(ctx, request_id, "extension")
    reason = str(form.get("reden") or "").strip()
    try:
        data = ExtensionCreate.model_validate({"reason": reason})
    except ValidationError:
        return await _register(request, ctx, status=422, errors={f"reden-{request_id}": MESSAGES["reden"]},
                               kept={f"reden-{request_id}": reason}, problem_request=str(request_id))
    try:
        async with refusable(ctx.guard.session):
            await service.extend(ctx.guard.session, loaded, reason=data.reason,
                                 if_match=etag_of(int_or_none(form.get("versie")) or 0))
    except PreconditionFailed:
        return await _register(request, ctx, status=409, problem=STALE, problem_request=str(request_id))
    except (Conflict, UnprocessableEntity) as exc:
        return await _register(request, ctx, status=409, problem=_dutch(exc), problem_request=str(request_id))
    ctx.guard.record(access)
    return RedirectResponse("/web/privacy/verzoeken?klaar=verlengd", status_code=303)


@router.post("/privacy/verzoeken/{request_id}/antwoord", response_class=HTMLResponse)
async def answer_request(request_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    loaded, access = await _open(ctx, request_id, "answer")
    kept = {f"besluit-{request_id}": str(form.get("besluit") or ""),
            f"antwoord-{request_id}": str(form.get("antwoord") or "")}
    errors: dict[str, str] = {}
    data = None
    try:
        data = AnswerCreate.model_validate({"decision": kept[f"besluit-{request_id}"] or None,
                                            "answer": kept[f"antwoord-{request_id}"].strip()})
    except ValidationError as exc:
        for err in exc.errors():
            name = {"decision": "besluit", "answer": "antwoord"}.get(str(err["loc"][0]) if err["loc"] else "")
            if name:
                errors.setdefault(f"{name}-{request_id}", MESSAGES[name])
    if errors or data is None:
        return await _register(request, ctx, status=422, errors=errors, kept=kept, problem_request=str(request_id))
    membership = ctx.principal.membership_in(loaded.request.conference_id, Role.privacy_officer)
    assert membership is not None
    try:
        async with refusable(ctx.guard.session):
            await service.answer(ctx.guard.session, loaded, data, answered_by_id=membership.id,
                                 if_match=etag_of(int_or_none(form.get("versie")) or 0))
    except PreconditionFailed:
        return await _register(request, ctx, status=409, problem=STALE, kept=kept, problem_request=str(request_id))
    except (Conflict, UnprocessableEntity) as exc:
        return await _register(request, ctx, status=409, problem=_dutch(exc), kept=kept,
                               problem_request=str(request_id))
    ctx.guard.record(access)
    return RedirectResponse("/web/privacy/verzoeken?klaar=beantwoord", status_code=303)


@router.post("/privacy/verzoeken/{request_id}/correctie", response_class=HTMLResponse)
async def correct_data(request_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    """Apply a correction on a request for correction: the old and the new value are kept, and
    whoever read the old value is told (ids only)."""
    form = await checked_form(request, ctx)
    loaded, access = await _open(ctx, request_id, "correction")
    names = (f"veld-{request_id}", f"onderdeel-{request_id}", f"waarde-{request_id}")
    kept = {names[0]: str(form.get("veld") or ""), names[1]: str(form.get("onderdeel") or "").strip(),
            names[2]: str(form.get("waarde") or "").strip()}
    value = kept[names[2]]
    if kept[names[0]] == CorrectionField.date_of_birth.value:
        parsed = parse_date(value)
        value = parsed.isoformat() if not isinstance(parsed, str) else value
    errors: dict[str, str] = {}
    data = None
    try:
        data = CorrectionCreate.model_validate({"field": kept[names[0]] or None, "new_value": value,
                                                "entity_id": kept[names[1]] or None})
    except ValidationError as exc:
        for err in exc.errors():
            name = {"field": names[0], "entity_id": names[1], "new_value": names[2]}.get(
                str(err["loc"][0]) if err["loc"] else "", names[2])
            errors.setdefault(name, {names[0]: "Kies wat u corrigeert.",
                                     names[1]: "Vul het nummer (id) van de notitie, het doel of de actie in.",
                                     names[2]: "Vul de juiste waarde in."}[name])
    if errors or data is None:
        return await _register(request, ctx, status=422, errors=errors, kept=kept, problem_request=str(request_id))
    membership = ctx.principal.membership_in(loaded.request.conference_id, Role.privacy_officer)
    assert membership is not None
    try:
        async with refusable(ctx.guard.session):
            correction = await service.correct(ctx.guard.session, ctx.principal, loaded, data,
                                               corrected_by_id=membership.id)
    except NotFound:
        return await _register(request, ctx, status=404, kept=kept, problem_request=str(request_id),
                               errors={names[1]: "Deze cliënt heeft geen notitie, doel of actie met dit nummer."})
    except UnprocessableEntity as exc:
        message = ("Vul het nummer (id) van de notitie, het doel of de actie in." if "Name the" in exc.detail
                   else "De nieuwe waarde is hetzelfde als de oude." if "same" in exc.detail
                   else "Deze datum kan niet kloppen (dd-mm-jjjj).")
        field = names[1] if "Name the" in exc.detail else names[2]
        return await _register(request, ctx, status=422, errors={field: message}, kept=kept,
                               problem_request=str(request_id))
    except Conflict as exc:
        text = ("Een overeenkomst is getekend: de tekst wordt niet gecorrigeerd. Maak een nieuwe overeenkomst."
                if "agreement" in exc.detail else _dutch(exc))
        return await _register(request, ctx, status=409, problem=text, kept=kept, problem_request=str(request_id))
    ctx.guard.record(access, Access(
        action="update", resource_type=service.CORRECTED_RESOURCE[data.field], resource_id=str(correction.entity_id),
        conference_id=loaded.request.conference_id, client_number=loaded.client.client_number,
        case_id=correction.case_id, part="correction", role=Role.privacy_officer.value))
    return RedirectResponse("/web/privacy/verzoeken?klaar=gecorrigeerd", status_code=303)
