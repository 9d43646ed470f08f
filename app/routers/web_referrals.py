"""The web client's referral pages (aanmeldingen): every case worker refers a person and follows
the referrals of their own organisation (a referrer of a non-member organisation: their own); the chair triages the conference's referrals: who
referred whom and why, then accepts the referral into a case or declines it with a reason.

The same policy, services and read paths as the API (app/routers/referrals.py): the list and the
referral come from app/services/cases/reads.py, accepting and declining from the referral service
(the referrer's own client reference travels along into the case). Every decision form carries the
referral's version: a form from before someone else's decision is shown as such, never applied."""

from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from app.audit import Access, Read
from app.auth.policy import Op, Target
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Conflict, Forbidden, TooManyRequests, UnprocessableEntity
from app.models.enums import Priority, ReferralStatus, Role
from app.schemas.cases import ReferralAccept, ReferralCreate, ReferralDecline
from app.services.access import web_sessions as web_auth
from app.services.cases import reads as case_reads
from app.services.cases import referrals as referral_service
from app.services.cases.clients import bsn_is_valid
from app.web.csrf import checked_form
from app.web.forms import int_or_none, parse_date, refusable
from app.web.render import page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)

CASE_WORKER_ROLES = (Role.chair.value, Role.member.value, Role.liaison.value)
ROLE_NAMES = {
    Role.chair: "voorzitter",
    Role.member: "deelnemer",
    Role.liaison: "contactpersoon",
    Role.referrer: "aanmelder",
    Role.privacy_officer: "privacyfunctionaris",
    Role.admin: "beheerder",
    Role.policy_staff: "beleidsmedewerker",
}

REFERRAL_FIELDS = {"client.name": "naam", "client.date_of_birth": "geboortedatum", "client.bsn": "bsn",
                   "reason": "reden"}
REFERRAL_MESSAGES = {
    "naam": "Vul de naam in (maximaal 200 tekens).",
    "geboortedatum": "Vul een geldige geboortedatum in (dd-mm-jjjj of jjjj-mm-dd).",
    "bsn": "Dit is geen geldig BSN (9 cijfers, elfproef).",
    "reden": "Beschrijf de reden van aanmelding (maximaal 4000 tekens).",
    "overleg": "Kies een casusoverleg.",
}
TRIAGE_MESSAGES = {
    "casusregisseur": "Kies een casusregisseur uit de lijst (een deelnemer of de voorzitter).",
    "prioriteit": "Kies een prioriteit.",
    "evaluatiedatum": "Vul een geldige evaluatiedatum in (dd-mm-jjjj), vandaag of later.",
    "afwijzing": "Geef de reden van afwijzing (maximaal 4000 tekens); de aanmelder ziet haar.",
}
STALE = ("Over deze aanmelding is intussen al beslist, of zij is gewijzigd; uw beslissing is niet "
         "vastgelegd. Hieronder staat de huidige stand.")
DONE = {
    "afgewezen": "De aanmelding is afgewezen; de aanmelder ziet de reden.",
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _referral_conferences(principal: Principal) -> list[uuid.UUID]:
    """Where the person may refer: as a case worker, or as a referrer of a non-member organisation."""
    return sorted(principal.conference_ids(*CASE_WORKER_ROLES, Role.referrer), key=str)


# --- the list, and a new referral -----------------------------------------------------------------


async def _referrals_page(request: Request, ctx: WebContext, *, status: int = 200, errors: dict | None = None,
                          kept: dict | None = None, saved: bool = False) -> HTMLResponse:
    rows, total = ctx.guard.deliver(await case_reads.referral_triage(
        ctx.guard.session, ctx.principal, limit=200, offset=0))
    conferences = await web_auth.get_conferences(ctx.guard.session, _referral_conferences(ctx.principal))
    chair_of = ctx.principal.conference_ids(Role.chair)
    only_referrer = not ctx.principal.conference_ids(*CASE_WORKER_ROLES)
    return page(request, "referrals.html", ctx, status=status, errors=errors or {}, kept=kept or {},
                saved=saved, conferences=conferences, total=total, chair=bool(chair_of), roles=ROLE_NAMES,
                only_referrer=only_referrer,
                waiting=[r for r in rows if r.status == ReferralStatus.pending and r.conference_id in chair_of],
                others=[r for r in rows if not (r.status == ReferralStatus.pending and r.conference_id in chair_of)],
                active="aanmeldingen")


@router.get("/aanmeldingen", response_class=HTMLResponse)
async def referrals(request: Request, ctx: Ctx, opgeslagen: str = "") -> HTMLResponse:
    return await _referrals_page(request, ctx, saved=bool(opgeslagen))


@router.post("/aanmeldingen", response_class=HTMLResponse)
async def create_referral(request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
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
            "client": {"name": kept["naam"].strip(), "date_of_birth": parse_date(kept["geboortedatum"]),
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
    bsn = kept["bsn"].replace(" ", "")
    if bsn and not bsn_is_valid(bsn):  # in the same round as every other field
        errors.setdefault("bsn", REFERRAL_MESSAGES["bsn"])
    if errors or data is None or conference_id is None:
        return await _referrals_page(request, ctx, status=422, errors=errors, kept=kept)
    await ctx.guard.require(Op.referral_create, Target(conference_id=conference_id))
    searched: tuple[Access, ...] = ()
    if data.client.bsn is not None:
        # A BSN is a look-up, with the look-up's role rule, throttle and log row (as in the API).
        try:
            searched = (await ctx.guard.require_bsn_lookup(conference_id, _settings(request),
                                                           part="bsn:referral"),)
        except Forbidden:
            return await _referrals_page(request, ctx, status=403, kept={**kept, "bsn": ""}, errors={
                "bsn": "U mag niet zoeken op BSN. Laat het BSN leeg; de voorzitter koppelt de aanmelding."})
        except TooManyRequests:
            return await _referrals_page(request, ctx, status=429, kept={**kept, "bsn": ""}, errors={
                "bsn": "U heeft te vaak op BSN gezocht. Probeer het later opnieuw; dit is vastgelegd."})
    try:
        async with refusable(ctx.guard.session):
            referral, client = await referral_service.create_referral(
                ctx.guard.session, ctx.principal, conference_id=conference_id, data=data,
                settings=_settings(request),
            )
    except UnprocessableEntity as exc:
        pointer = (exc.extra.get("errors") or [{}])[0].get("pointer", "")
        field = REFERRAL_FIELDS.get(pointer.removeprefix("#/").replace("/", "."), "reden")
        return await _referrals_page(request, ctx, status=422, errors={field: REFERRAL_MESSAGES[field]}, kept=kept)
    ctx.guard.deliver(Read(None, (
        *(Access(**{**a.__dict__, "client_number": client.client_number}) for a in searched),
        Access(action="create", resource_type="referral", resource_id=str(referral.id),
               conference_id=conference_id, client_number=client.client_number),
    )))
    return RedirectResponse("/web/aanmeldingen?opgeslagen=1", status_code=303)


# --- one referral: the chair's triage -------------------------------------------------------------


async def _load(ctx: WebContext, referral_id: uuid.UUID, *, decide: bool,
                verb: str = "read") -> tuple[referral_service.ReferralRow, Access, bool]:
    """The referral, after the policy: the chair decides; the referring organisation's case
    workers read. Another conference's referral reads exactly like a missing one."""
    row = await referral_service.load_referral_row(ctx.guard.session, referral_id, for_update=decide)
    access = case_reads.referral_access(row, verb)
    conference_id = row.referral.conference_id
    chair = Role.chair in ctx.principal.roles_in(conference_id)
    if decide or chair:
        await ctx.guard.require(Op.referral_decide, Target(conference_id=conference_id), access,
                                hidden_as="referral", record=decide)
    else:
        await ctx.guard.require(Op.referral_read, Target(
            conference_id=conference_id, referring_organisation_id=row.referral.referring_organisation_id,
            referred_by_id=row.referral.referred_by_id),
            access, hidden_as="referral")
    return row, access, chair


async def _referral_page(request: Request, ctx: WebContext, referral_id: uuid.UUID, *, status: int = 200,
                         errors: dict | None = None, kept: dict | None = None, problem: str = "",
                         done: str = "") -> HTMLResponse:
    row, _access, chair = await _load(ctx, referral_id, decide=False)
    referral = ctx.guard.deliver(case_reads.referral_read(ctx.principal, row))
    people = await web_auth.conference_people(ctx.guard.session, referral.conference_id) if chair else []
    return page(request, "referral.html", ctx, status=status, referral=referral, chair=chair, roles=ROLE_NAMES,
                directors=[p for p in people if p.role in (Role.member, Role.chair)],
                priorities=list(Priority), errors=errors or {}, kept=kept or {}, problem=problem,
                done=DONE.get(done, ""), today=clock.today().isoformat(), active="aanmeldingen")


@router.get("/aanmeldingen/{referral_id}", response_class=HTMLResponse)
async def referral_page(referral_id: uuid.UUID, request: Request, ctx: Ctx, gedaan: str = "") -> HTMLResponse:
    return await _referral_page(request, ctx, referral_id, done=gedaan)


def _accept_data(kept: dict[str, str]) -> tuple[ReferralAccept | None, dict[str, str]]:
    errors: dict[str, str] = {}
    review: date | str | None = parse_date(kept["evaluatiedatum"]) if kept["evaluatiedatum"] else None
    if isinstance(review, str) or (review is not None and review < clock.today()):
        errors["evaluatiedatum"] = TRIAGE_MESSAGES["evaluatiedatum"]
    if kept["prioriteit"] not in {p.value for p in Priority}:
        errors["prioriteit"] = TRIAGE_MESSAGES["prioriteit"]
    director: uuid.UUID | None = None
    if kept["casusregisseur"]:
        try:
            director = uuid.UUID(kept["casusregisseur"])
        except ValueError:
            errors["casusregisseur"] = TRIAGE_MESSAGES["casusregisseur"]
    if errors:
        return None, errors
    return ReferralAccept(case_director_id=director, priority=Priority(kept["prioriteit"]),
                          next_review_date=review if isinstance(review, date) else None), {}


@router.post("/aanmeldingen/{referral_id}/accepteren", response_class=HTMLResponse)
async def accept_referral(referral_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    kept = {k: str(form.get(k) or "").strip() for k in ("casusregisseur", "prioriteit", "evaluatiedatum")}
    row, _access, _chair = await _load(ctx, referral_id, decide=True, verb="update")
    data, errors = _accept_data(kept)
    if data is None:
        return await _referral_page(request, ctx, referral_id, status=422, errors=errors, kept=kept)
    if int_or_none(form.get("versie")) != row.referral.version:
        return await _referral_page(request, ctx, referral_id, status=409, problem=STALE)
    try:
        async with refusable(ctx.guard.session):
            case = await referral_service.accept_referral(ctx.guard.session, ctx.principal,
                                                          referral=row.referral, data=data)
    except Conflict:
        return await _referral_page(request, ctx, referral_id, status=409, problem=STALE)
    except UnprocessableEntity as exc:
        pointer = str((exc.extra.get("errors") or [{}])[0].get("pointer", ""))
        field = {"#/next_review_date": "evaluatiedatum"}.get(pointer, "casusregisseur")
        return await _referral_page(request, ctx, referral_id, status=422,
                                    errors={field: TRIAGE_MESSAGES[field]}, kept=kept)
    ctx.guard.deliver(Read(None, (Access(
        action="create", resource_type="case", resource_id=str(case.id), case_id=case.id,
        conference_id=case.conference_id, client_number=row.client.client_number),)))
    return RedirectResponse(f"/web/casussen/{case.id}", status_code=303)


@router.post("/aanmeldingen/{referral_id}/afwijzen", response_class=HTMLResponse)
async def decline_referral(referral_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    kept = {"afwijzing": str(form.get("afwijzing") or "").strip()}
    row, _access, _chair = await _load(ctx, referral_id, decide=True, verb="update")
    try:
        data = ReferralDecline(reason=kept["afwijzing"])
    except ValidationError:
        return await _referral_page(request, ctx, referral_id, status=422,
                                    errors={"afwijzing": TRIAGE_MESSAGES["afwijzing"]}, kept=kept)
    if int_or_none(form.get("versie")) != row.referral.version:
        return await _referral_page(request, ctx, referral_id, status=409, problem=STALE)
    try:
        async with refusable(ctx.guard.session):
            await referral_service.decline_referral(ctx.guard.session, ctx.principal, referral=row.referral,
                                                    reason=data.reason)
    except Conflict:
        return await _referral_page(request, ctx, referral_id, status=409, problem=STALE)
    return RedirectResponse(f"/web/aanmeldingen/{referral_id}?{urlencode({'gedaan': 'afgewezen'})}",
                            status_code=303)
