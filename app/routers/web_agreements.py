"""The web client's agreement pages (Dutch, server-rendered, plain forms): start an agreement from
the current version of a template, fill in each party's commitments, record the signatures (an
organisation's member with a signing mandate for their organisation; the client's signature
attested by a member, with a scan of the signed paper), read the signed text, withdraw consent in
whole or in part, print it or download the PDF.

The same Guard, policy, services and access log as the API (app/routers/agreements.py); what is
shown comes from the agreements' read paths (app/services/agreements/reads.py). Every change
names the version it was based on (a hidden field, compared like If-Match): a change made in
between by someone else is shown on a conflict page, never overwritten. A refused form renders
again with a Dutch message next to each field and in the summary above it; nothing is written."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData, UploadFile

from app.audit import Access
from app.auth.policy import Op, Target, authorize
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, UnprocessableEntity
from app.models.enums import AgreementStatus, Label, OrganisationKind, Phase, Role
from app.schemas.agreements import AgreementCreate, AgreementOut, WithdrawalCreate
from app.services.access import web_sessions as web_auth
from app.services.agreements import lifecycle as service
from app.services.agreements import reads as agreement_reads
from app.services.agreements import render
from app.services.agreements.readability import AVOID_AT_B1
from app.services.agreements.templates import CLIENT, AgreementTemplate, TemplateRegistry
from app.services.cases import lifecycle as case_service
from app.services.cases.reads import case_access
from app.services.common import check_if_match, etag_of
from app.web.consent import party_name
from app.web.csrf import checked_form
from app.web.forms import parse_date, refusable
from app.web.render import PRINT_HEADERS, page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)

SIGNERS = (Role.chair.value, Role.member.value)
OPEN = (AgreementStatus.draft, AgreementStatus.signed, AgreementStatus.active)
WITHDRAWABLE_LABELS = (Label.health.value, Label.justice.value)
KINDS = frozenset(k.value for k in OrganisationKind)

DONE = {
    "opgesteld": "De overeenkomst is opgesteld als concept. Laat nu elke partij tekenen.",
    "getekend": "De handtekening is vastgelegd.",
    "client": "De handtekening van de cliënt is vastgelegd.",
    "ingetrokken": "De intrekking is vastgelegd; zij geldt vanaf nu.",
}

# The services' refusals on the form to start an agreement, by the field they point at.
CREATE_REFUSALS = {
    "Consent cannot start in the past.": ("ingangsdatum", "De ingangsdatum ligt in het verleden."),
    "An agreement starts within a year.": ("ingangsdatum", "De ingangsdatum ligt binnen een jaar vanaf vandaag."),
    "The end date must lie after the start date.": ("einddatum", "De einddatum ligt na de ingangsdatum."),
    "Consent is given for five years at most.": ("einddatum", "Toestemming geldt hoogstens vijf jaar."),
    "The agreement names the client, but this client has no name on record.":
        ("", "De overeenkomst noemt de cliënt bij naam, maar van deze cliënt is geen naam vastgelegd."),
}
CLIENT_SIGN_REFUSALS = {
    "#/attested_by_id": ("getuige", "Kies als getuige een actieve deelnemer van dit casusoverleg."),
    "#/signed_on": ("datum", "De datum ligt tussen het opstellen van de overeenkomst en vandaag."),
    "#/scan": ("scan", "Voeg een scan toe als PDF, PNG of JPEG."),
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _registry(request: Request) -> TemplateRegistry:
    registry: TemplateRegistry = request.app.state.agreement_templates
    return registry


def _current_templates(registry: TemplateRegistry) -> list[AgreementTemplate]:
    """The newest version of each template: new agreements are made from those only."""
    newest = (registry.get(i) for i in sorted({t.header.id for t in registry.all()}))
    return [t for t in newest if t is not None]


def _agreement_url(agreement_id: uuid.UUID, done: str = "") -> str:
    return f"/web/overeenkomsten/{agreement_id}" + (f"?gedaan={done}" if done else "")


def _own_membership(principal: Principal, conference_id: uuid.UUID) -> uuid.UUID:
    membership = principal.membership_in(conference_id, *SIGNERS)
    if membership is None:  # the policy admitted chairs and members only
        raise Forbidden("Only a member of this conference can do this.")
    return membership.id


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _version(form: FormData) -> str:
    """The version the form was based on, as the ETag If-Match would carry."""
    value = _text(form, "versie")
    return etag_of(int(value)) if value.isdigit() else '"onbekend"'


# --- starting an agreement --------------------------------------------------------------------


async def _new_page(request: Request, ctx: WebContext, loaded: case_service.LoadedCase,
                    template: AgreementTemplate | None, *, status: int = 200, errors: dict | None = None,
                    kept: dict | None = None, problem: str = "") -> HTMLResponse:
    session = ctx.guard.session
    consent = ctx.guard.deliver(await agreement_reads.case_consent(session, ctx.principal, loaded.case, loaded.client))
    organisations = await web_auth.conference_organisations(session, loaded.case.conference_id)
    running = None
    if template is not None:
        running = next((a for a in consent.agreements if a.template_id == template.header.id
                        and a.status in (AgreementStatus.signed, AgreementStatus.active)), None)
    kept = dict(kept or {})
    if template is not None:
        for kind in template.header.organisation_kinds:  # one organisation of the kind: chosen already
            of_kind = [o for o in organisations if o.kind == kind]
            if len(of_kind) == 1:
                kept.setdefault(f"organisatie_{kind}", str(of_kind[0].id))
    return page(request, "agreements/new.html", ctx, status=status, case=loaded.case,
                client_number=loaded.client.client_number, templates=_current_templates(_registry(request)),
                template=template, organisations=organisations, running=running, errors=errors or {},
                kept=kept, options_kept=kept.get("opties", []), problem=problem, active="casussen",
                plain_language=loaded.client.plain_language)


def _create_access(loaded: case_service.LoadedCase) -> Access:
    return Access(action="create", resource_type="agreement", case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number)


@router.get("/casussen/{case_id}/overeenkomsten/nieuw", response_class=HTMLResponse)
async def new_agreement(case_id: uuid.UUID, request: Request, ctx: Ctx, sjabloon: str = "") -> HTMLResponse:
    loaded = await case_service.load_case(ctx.guard.session, case_id)
    await ctx.guard.require(Op.agreement_create, loaded.target, case_access(loaded, "read", "agreement_form"),
                            hidden_as="case", record=True)
    template = _registry(request).get(sjabloon) if sjabloon else None
    return await _new_page(request, ctx, loaded, template)


@router.post("/casussen/{case_id}/overeenkomsten", response_class=HTMLResponse)
async def create_agreement(case_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    session = ctx.guard.session
    loaded = await case_service.load_case(session, case_id, for_update=True)
    access = _create_access(loaded)
    await ctx.guard.require(Op.agreement_create, loaded.target, access, hidden_as="case")
    version = _text(form, "sjabloonversie")
    template = _registry(request).get(_text(form, "sjabloon"), int(version) if version.isdigit() else None)
    if template is None or template not in _current_templates(_registry(request)):
        return await _new_page(request, ctx, loaded, None, status=422,
                               errors={"sjabloon": "Kies een sjabloon uit de lijst."})
    header = template.header
    kept: dict[str, Any] = {name: _text(form, name) for name in form.keys() if name not in ("csrf", "opties")}
    kept["opties"] = [o for o in form.getlist("opties") if isinstance(o, str)]
    errors: dict[str, str] = {}
    organisations = await web_auth.conference_organisations(session, loaded.case.conference_id)
    parties: dict[OrganisationKind, uuid.UUID] = {}
    for kind in header.organisation_kinds:
        chosen = next((o for o in organisations if str(o.id) == kept.get(f"organisatie_{kind}") and o.kind == kind),
                      None)
        if chosen is None:
            errors[f"organisatie_{kind}"] = f"Kies welke organisatie {party_name(kind)} is."
        else:
            parties[OrganisationKind(kind)] = chosen.id
    commitments: dict[str, str] = {}
    for party in header.parties:
        text = str(kept.get(f"afspraak_{party}", "")).strip()
        if not text:
            errors[f"afspraak_{party}"] = f"Vul in: {header.commitments[party].lower()}."
        elif len(text) > 4000:
            errors[f"afspraak_{party}"] = "Dit is te lang (maximaal 4000 tekens)."
        commitments[party] = text
    known = {o.key for o in header.options}
    if any(o not in known for o in kept["opties"]):
        errors["opties"] = "Kies alleen toestemmingen uit de lijst."
    dates = {}
    for name in ("ingangsdatum", "einddatum", "evaluatiedatum"):
        value = str(kept.get(name, "")).strip()
        parsed = parse_date(value) if value else None
        if isinstance(parsed, str):
            errors[name] = "Vul een geldige datum in (dd-mm-jjjj)."
        dates[name] = parsed if not isinstance(parsed, str) else None
    replaces = None
    if kept.get("vervangt"):
        try:
            replaces = uuid.UUID(str(kept["vervangt"]))
        except ValueError:
            errors["sjabloon"] = "Dit formulier is onvolledig; open de pagina opnieuw."
    if errors:
        return await _new_page(request, ctx, loaded, template, status=422, errors=errors, kept=kept)
    data = AgreementCreate(template_id=header.id, template_version=header.version, parties=parties,
                           commitments=commitments, options=kept["opties"], starts_on=dates["ingangsdatum"],
                           ends_on=dates["einddatum"], replaces_id=replaces,
                           relapse_wishes=str(kept.get("terugval_wens", "")).strip()[:4000],
                           relapse_told=str(kept.get("terugval_wie", "")).strip()[:1000],
                           evaluation_on=dates["evaluatiedatum"])
    try:
        async with refusable(session):
            agreement = await service.create_agreement(
                session, ctx.principal, case=loaded.case, client=loaded.client, templates=_registry(request),
                data=data, created_by_id=_own_membership(ctx.principal, loaded.case.conference_id),
            )
    except UnprocessableEntity as exc:
        field, message = CREATE_REFUSALS.get(exc.detail, ("", "De overeenkomst kon zo niet worden opgesteld."))
        pointer = (exc.extra.get("errors") or [{}])[0].get("pointer", "")
        if "plain language" in exc.detail:  # issue 21: the client needs B1 texts
            field = {"#/relapse_wishes": "terugval_wens", "#/relapse_told": "terugval_wie"}.get(
                pointer, "afspraak_" + pointer.removeprefix("#/commitments/"))
            message = ("Deze cliënt heeft eenvoudige taal nodig. Schrijf dit in korte zinnen en gewone woorden"
                       + (" (vermijd: " + ", ".join(w for w in AVOID_AT_B1 if w in exc.detail.lower()) + ")."
                          if "words to avoid" in exc.detail else "."))
        elif pointer == "#/evaluation_on":
            field, message = "evaluatiedatum", "De evaluatiedatum ligt tussen de ingangsdatum en de einddatum."
        return await _new_page(request, ctx, loaded, template, status=422, kept=kept,
                               errors={field: message} if field else {}, problem="" if field else message)
    except Conflict:
        problem = ("Voor een afgesloten casus wordt geen overeenkomst meer opgesteld."
                   if loaded.case.phase == Phase.closed else
                   "Voor deze casus is al een concept of een geldige overeenkomst van dit sjabloon. "
                   "Laat het concept eerst tekenen of trek het in.")
        return await _new_page(request, ctx, loaded, template, status=409, kept=kept, problem=problem)
    ctx.guard.record(replace(access, resource_id=str(agreement.id)))
    return RedirectResponse(_agreement_url(agreement.id, "opgesteld"), status_code=303)


# --- one agreement ----------------------------------------------------------------------------


def _agreement_access(loaded: service.LoadedAgreement, action: str, part: str | None = None) -> Access:
    return Access(action=action, resource_type="agreement", resource_id=str(loaded.agreement.id),
                  case_id=loaded.case.id, conference_id=loaded.case.conference_id,
                  client_number=loaded.client.client_number, part=part)


def _target(loaded: service.LoadedAgreement) -> Target:
    target = case_service.LoadedCase(loaded.case, loaded.client).target
    return replace(target, party_organisation_ids=service.party_organisations(loaded))


async def _agreement_for(ctx: WebContext, agreement_id: uuid.UUID, op: Op, action: str, *, part: str | None = None,
                         for_update: bool = False) -> service.LoadedAgreement:
    """The agreement, once the policy admits `op` (a refusal is logged; a change logs its own row
    when it is made, a refused form writes none)."""
    loaded = await service.load_agreement(ctx.guard.session, agreement_id, for_update=for_update)
    await ctx.guard.require(op, _target(loaded), _agreement_access(loaded, action, part))
    return loaded


def _withdrawable(agreement: AgreementOut) -> dict[str, list[str]]:
    """Per shareable label, the organisation kinds whose consent can still be withdrawn."""
    left: dict[str, list[str]] = {}
    for label in WITHDRAWABLE_LABELS:
        kinds = set(agreement.scope.get(label, []))
        for w in agreement.withdrawals:
            if w.label == label:
                kinds -= set(w.organisation_kinds)
        if kinds:
            left[label] = sorted(kinds)
    return left


async def _agreement_page(request: Request, ctx: WebContext, loaded: service.LoadedAgreement, *,
                          status: int = 200, errors: dict | None = None, kept: dict | None = None,
                          problem: str = "", done: str = "") -> HTMLResponse:
    session = ctx.guard.session
    principal = ctx.principal
    agreement = ctx.guard.deliver(await agreement_reads.agreement_read(session, principal, loaded))
    conference_id = loaded.case.conference_id
    signer = bool(principal.roles_in(conference_id) & set(SIGNERS))
    draft = agreement.status == AgreementStatus.draft
    own_parties = [
        p for p in agreement.missing_parties
        if p != CLIENT and agreement.parties[p].get("organisation_id") == str(principal.organisation_id)
    ] if draft and signer else []
    client_form = draft and signer and CLIENT in agreement.missing_parties and not agreement.text_hidden
    people = await web_auth.conference_people(session, conference_id) if client_form else []
    me = principal.membership_in(conference_id, *SIGNERS)
    may_withdraw = agreement.status in OPEN and authorize(principal, Op.agreement_withdraw, _target(loaded)).allowed
    kept = dict(kept or {})
    kept.setdefault("getuige", str(me.id) if me else "")
    kept.setdefault("datum", clock.today().strftime("%d-%m-%Y"))
    has_scan = any(s.party == CLIENT and s.scan_size for s in agreement.signatures)
    return page(
        request, "agreements/agreement.html", ctx, status=status, agreement=agreement, case=loaded.case,
        client_number=loaded.client.client_number,
        text=render.text_html(agreement.rendered_text, heading_offset=2) if agreement.rendered_text else None,
        own_parties=own_parties, client_form=client_form, people=people, may_withdraw=may_withdraw,
        withdrawable=_withdrawable(agreement) if may_withdraw else {}, errors=errors or {}, kept=kept,
        problem=problem, done=DONE.get(done, ""), has_scan=has_scan, scan_max_kb=_settings(request).agreement_scan_max_bytes // 1024,
        active="casussen",
    )


@router.get("/overeenkomsten/{agreement_id}", response_class=HTMLResponse)
async def agreement_page(agreement_id: uuid.UUID, request: Request, ctx: Ctx, gedaan: str = "") -> HTMLResponse:
    loaded = await _agreement_for(ctx, agreement_id, Op.agreement_read, "read")
    return await _agreement_page(request, ctx, loaded, done=gedaan)


async def _conflict(request: Request, ctx: WebContext, loaded: service.LoadedAgreement, mine: str) -> HTMLResponse:
    current = ctx.guard.deliver(await agreement_reads.agreement_read(ctx.guard.session, ctx.principal, loaded))
    return page(request, "agreements/conflict.html", ctx, status=409, agreement=current, mine=mine,
                client_number=loaded.client.client_number, active="casussen")


async def _fresh(ctx: WebContext, agreement_id: uuid.UUID) -> service.LoadedAgreement:
    """After a refused change (undone to its savepoint, app/web/forms.py): read again."""
    return await service.load_agreement(ctx.guard.session, agreement_id)


@router.post("/overeenkomsten/{agreement_id}/tekenen", response_class=HTMLResponse)
async def sign_for_organisation(agreement_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    loaded = await _agreement_for(ctx, agreement_id, Op.agreement_sign, "update", part="signature",
                                  for_update=True)
    party = _text(form, "partij")
    name = loaded.agreement.parties.get(party, {}).get("name", "deze partij") if party != CLIENT else "de cliënt"
    try:
        check_if_match(_version(form), loaded.agreement.version, "agreement")
    except PreconditionFailed:
        return await _conflict(request, ctx, loaded, f"Tekenen namens {name}")
    session = ctx.guard.session
    try:
        async with refusable(session):
            async with ctx.guard.refusals_logged(_agreement_access(loaded, "update", "signature")):
                await service.sign_as_organisation(session, ctx.principal, agreement=loaded.agreement, party=party)
    except Forbidden:
        org = loaded.agreement.parties.get(party, {}).get("organisation_id")
        problem = (f"Alleen iemand van {name} kan namens die organisatie tekenen."
                   if org != str(ctx.principal.organisation_id) else
                   "Om namens uw organisatie te tekenen heeft u een mandaat nodig om overeenkomsten te tekenen "
                   "dat vandaag geldt. Vraag uw organisatie dit mandaat vast te leggen.")
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=403, problem=problem)
    except UnprocessableEntity:
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=422,
                                     problem="Kies een organisatie die partij is bij deze overeenkomst.")
    except Conflict:
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=409,
                                     problem=f"{name} heeft al getekend, of de overeenkomst is geen concept meer.")
    ctx.guard.record(_agreement_access(loaded, "update", "signature"))  # the change's row, once it is made
    return RedirectResponse(_agreement_url(agreement_id, "getekend"), status_code=303)


async def _scan_of(form: FormData, max_bytes: int) -> tuple[bytes | None, str]:
    """The uploaded scan (None: no file chosen) and a Dutch error ('' when it is fine)."""
    upload = form.get("scan")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, ""
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        return None, f"Het bestand is te groot: een scan is hoogstens {max_bytes // 1024} kB."
    if not content:
        return None, "Het gekozen bestand is leeg."
    if service.detect_scan_type(content) is None:
        return None, "Een scan is een PDF-, PNG- of JPEG-bestand."
    return content, ""


@router.post("/overeenkomsten/{agreement_id}/handtekening-client", response_class=HTMLResponse)
async def sign_for_client(agreement_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    loaded = await _agreement_for(ctx, agreement_id, Op.agreement_sign, "update", part="signature",
                                  for_update=True)
    if not service.may_read_text(ctx.principal, loaded):
        await ctx.guard.audit.denied(_agreement_access(loaded, "update", "signature"))
        raise Forbidden("The client's signature is recorded by the chair, the case director or a party.")
    try:
        check_if_match(_version(form), loaded.agreement.version, "agreement")
    except PreconditionFailed:
        return await _conflict(request, ctx, loaded, "De handtekening van de cliënt vastleggen")
    kept = {name: _text(form, name) for name in ("getuige", "datum", "in_bijzijn")}
    errors: dict[str, str] = {}
    try:
        attester = uuid.UUID(kept["getuige"])
    except ValueError:
        errors["getuige"] = CLIENT_SIGN_REFUSALS["#/attested_by_id"][1]
    signed_on = parse_date(kept["datum"]) if kept["datum"].strip() else None
    if isinstance(signed_on, str):
        errors["datum"] = "Vul een geldige datum in (dd-mm-jjjj)."
    max_bytes = _settings(request).agreement_scan_max_bytes
    scan, scan_error = await _scan_of(form, max_bytes)
    if scan_error:
        errors["scan"] = scan_error
    in_person = kept["in_bijzijn"] == "ja"
    if not in_person and scan is None and "scan" not in errors:
        errors["scan"] = ("Heeft de cliënt niet in uw bijzijn getekend? Voeg dan de scan van het getekende "
                          "papier toe.")
    if errors:
        return await _agreement_page(request, ctx, loaded, status=422, errors=errors, kept=kept)
    session = ctx.guard.session
    try:
        async with refusable(session):
            await service.sign_for_client(
                session, ctx.principal, agreement=loaded.agreement,
                recorded_by_id=_own_membership(ctx.principal, loaded.case.conference_id), attested_by_id=attester,
                signed_on=signed_on if not isinstance(signed_on, str) else None, signed_in_person=in_person,
                scan=scan, scan_max_bytes=max_bytes,
            )
    except UnprocessableEntity as exc:
        pointer = (exc.extra.get("errors") or [{}])[0].get("pointer", "")
        field, message = CLIENT_SIGN_REFUSALS.get(pointer, ("scan", "De handtekening kon zo niet worden vastgelegd."))
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=422,
                                     errors={field: message}, kept=kept)
    except PayloadTooLarge:
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=422, kept=kept,
                                     errors={"scan": f"Het bestand is te groot: een scan is hoogstens "
                                                     f"{max_bytes // 1024} kB."})
    except Conflict:
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=409,
                                     problem="De cliënt heeft al getekend, of de overeenkomst is geen concept meer.")
    ctx.guard.record(_agreement_access(loaded, "update", "signature"))  # the change's row, once it is made
    return RedirectResponse(_agreement_url(agreement_id, "client"), status_code=303)


@router.post("/overeenkomsten/{agreement_id}/intrekken", response_class=HTMLResponse)
async def withdraw(agreement_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    loaded = await _agreement_for(ctx, agreement_id, Op.agreement_withdraw, "update", part="consent",
                                  for_update=True)
    whole = _text(form, "geheel") == "ja"
    label = _text(form, "label")
    kinds = [k for k in form.getlist("organisaties") if isinstance(k, str)]
    mine = ("De hele toestemming intrekken" if whole else
            f"Toestemming intrekken: {label} voor {', '.join(kinds) or 'niemand'}")
    try:
        check_if_match(_version(form), loaded.agreement.version, "agreement")
    except PreconditionFailed:
        return await _conflict(request, ctx, loaded, mine)
    errors: dict[str, str] = {}
    if whole:
        if _text(form, "bevestig") != "ja":
            errors["bevestig"] = "Vink aan dat de cliënt de hele toestemming intrekt."
        data = WithdrawalCreate(whole=True)
    else:
        field = f"organisaties_{label}"
        if label not in WITHDRAWABLE_LABELS:
            return await _agreement_page(request, ctx, loaded, status=422,
                                         problem="Dit formulier is onvolledig; open de pagina opnieuw.")
        if not kinds or any(k not in KINDS for k in kinds):
            errors[field] = "Kies ten minste één organisatie waarvoor de cliënt de toestemming intrekt."
        data = WithdrawalCreate(whole=False, label=label,
                                organisation_kinds=[OrganisationKind(k) for k in kinds if k in KINDS])
    if errors:
        return await _agreement_page(request, ctx, loaded, status=422, errors=errors)
    session = ctx.guard.session
    try:
        async with refusable(session):
            await service.withdraw(session, ctx.principal, agreement=loaded.agreement, data=data,
                                   recorded_by_id=_own_membership(ctx.principal, loaded.case.conference_id))
    except UnprocessableEntity:
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=422, errors={
            f"organisaties_{label}": "Met deze organisaties wordt deze informatie al niet (meer) gedeeld."})
    except Conflict:
        return await _agreement_page(request, ctx, await _fresh(ctx, agreement_id), status=409,
                                     problem="Deze overeenkomst geldt niet meer; er is geen toestemming meer in te trekken.")
    ctx.guard.record(_agreement_access(loaded, "update", "consent"))  # the change's row, once it is made
    return RedirectResponse(_agreement_url(agreement_id, "ingetrokken"), status_code=303)


# --- the signed text: print view, PDF, the scan of the client's signature ------------------------


async def _text_reader(ctx: WebContext, agreement_id: uuid.UUID, action: str, part: str) -> service.LoadedAgreement:
    loaded = await _agreement_for(ctx, agreement_id, Op.agreement_read, action, part=part)
    if not service.may_read_text(ctx.principal, loaded):
        await ctx.guard.audit.denied(_agreement_access(loaded, action, part))
        raise Forbidden("The text of this agreement is for the chair, the case director and the parties.")
    return loaded


@router.get("/overeenkomsten/{agreement_id}/afdrukken", response_class=HTMLResponse)
async def print_agreement(agreement_id: uuid.UUID, ctx: Ctx) -> Response:
    loaded = await _text_reader(ctx, agreement_id, "print", "text")
    printable = ctx.guard.deliver(await agreement_reads.agreement_printable(ctx.guard.session, loaded, "print"))
    return HTMLResponse(render.render_html(printable), headers=PRINT_HEADERS)


@router.get("/overeenkomsten/{agreement_id}/pdf")
async def agreement_pdf(agreement_id: uuid.UUID, ctx: Ctx) -> Response:
    loaded = await _text_reader(ctx, agreement_id, "export", "text")
    printable = ctx.guard.deliver(await agreement_reads.agreement_printable(ctx.guard.session, loaded, "export"))
    return Response(render.render_pdf(printable), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="overeenkomst-{agreement_id}.pdf"'})


@router.get("/overeenkomsten/{agreement_id}/scan")
async def client_scan(agreement_id: uuid.UUID, ctx: Ctx) -> Response:
    loaded = await _text_reader(ctx, agreement_id, "read", "signature_scan")
    found = ctx.guard.deliver(await agreement_reads.client_scan(ctx.guard.session, loaded))
    if found is None:
        raise NotFound("scan of the client's signature")
    content, content_type = found
    return Response(content, media_type=content_type,
                    headers={"Content-Disposition": f'inline; filename="handtekening-{agreement_id}"'})
