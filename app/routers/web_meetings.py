"""The web client's meeting pages (Dutch, server-rendered, plain forms).

The chair prepares the agenda of the next meeting (the draft with its reasons; regenerate, add a
case, remove, move up or down, time-box, publish), runs the meeting in meeting mode (one agenda
item at a time) or on the decisions page (the items collapsed), records per item a decision with
its actions, phase change, review date and case director (one savepoint: all or nothing; the form
is app/web/decision_form.py) and publishes the list of decisions. Members and liaisons read what is
published, with only what the policy lets them see. Print views reuse the exports.

The same Guard, policy and access log as the API: the agenda and the list of decisions, and their
log rows, come from app/routers/meeting_views.py (shared with app/routers/meetings.py); the
agenda rules live in the services. Every form carries the CSRF token and the meeting's version,
so a change made in between by someone else is shown, never overwritten."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from app.audit import Access
from app.auth.policy import Op, Target
from app.clock import clock
from app.errors import Conflict, InvalidTransition, NotFound, PreconditionFailed, UnprocessableEntity
from app.models.enums import PHASE_TRANSITIONS, AgendaStatus, MandateScope, MeetingStatus, Role
from app.routers import meeting_views as views
from app.schemas.meetings import AgendaItemAdd, AgendaOut
from app.services.access import web_sessions as web_auth
from app.services.meetings import agenda as agenda_service
from app.services.meetings import decisions as decision_service
from app.services.meetings import sittings as meeting_service
from app.services.privacy import exports
from app.services.words import CLOSURE_REASONS
from app.web.csrf import checked_form
from app.web.decision_form import DecisionForm
from app.web.forms import int_or_none, refusable
from app.web.render import PRINT_HEADERS, page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext

if TYPE_CHECKING:  # the type only: routers hand these objects back to the services, never query them
    from app.models import Meeting

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)

CASE_WORKER_ROLES = (Role.chair.value, Role.member.value, Role.liaison.value)

AGENDA_DONE = {
    "concept": "De conceptagenda is opnieuw samengesteld.",
    "toegevoegd": "De casus staat op de agenda.",
    "verwijderd": "Het agendapunt is van de agenda gehaald.",
    "teruggezet": "Het agendapunt staat weer op de agenda.",
    "verplaatst": "De volgorde is aangepast.",
    "tijd": "De tijd is aangepast.",
    "gepubliceerd": "De agenda is gepubliceerd: de deelnemers kunnen haar nu inzien.",
    "heropend": "De agenda is heropend als concept: de deelnemers zien haar niet meer tot u opnieuw publiceert.",
}
STALE = ("De agenda is intussen door iemand anders gewijzigd; uw wijziging is niet opgeslagen. "
         "Hieronder staat de huidige versie: voer uw wijziging zo nodig opnieuw uit.")
UNKNOWN_ITEM = "Dit agendapunt staat niet (meer) op de agenda. Hieronder staat de huidige agenda."
MANDATE_SCOPES = {
    MandateScope.housing_allocation.value: "Urgentie woningtoewijzing",
    MandateScope.debt_fast_track.value: "Versneld schuldhulptraject",
    MandateScope.treatment_intake.value: "Versnelde intake behandeling",
    MandateScope.outreach.value: "Bemoeizorg / outreach",
    MandateScope.enforcement_priority.value: "Prioriteit bij handhaving",
    MandateScope.budget.value: "Budget",
}


def _meeting_url(meeting_id: uuid.UUID, suffix: str = "", anchor: str = "", **query: str) -> str:
    url = f"/web/vergaderingen/{meeting_id}{suffix}"
    if query:
        url += "?" + urlencode(query)
    return url + (f"#{anchor}" if anchor else "")


async def _load(ctx: WebContext, meeting_id: uuid.UUID, op: Op, *, for_update: bool = False) -> tuple[Meeting, str | None]:
    """The meeting and the role the policy granted for `op` (404 for a meeting of a conference
    the person is not in: existence does not leak)."""
    meeting = await meeting_service.load_meeting(ctx.guard.session, meeting_id, for_update=for_update)
    role = await ctx.guard.require(op, Target(conference_id=meeting.conference_id), hidden_as="meeting")
    return meeting, role


async def _fresh(ctx: WebContext, meeting_id: uuid.UUID) -> Meeting:
    """After a refused change (undone to its savepoint, app/web/forms.py): read again."""
    return await meeting_service.load_meeting(ctx.guard.session, meeting_id)


async def _not_published(request: Request, ctx: WebContext, meeting: Meeting, template: str) -> HTMLResponse:
    """What a member or liaison sees of an agenda or a list of decisions the chair has not
    published yet: that it is not published, and nothing of what is on it."""
    conference = await meeting_service.load_conference(ctx.guard.session, meeting.conference_id)
    return page(request, template, ctx, meeting=meeting, conference=conference, active="agenda",
                 when=exports.when_nl(meeting.starts_at, exports.zone_of(conference)), agenda=None, decisions=None)


# --- which meeting ------------------------------------------------------------------------------


def _my_conferences(ctx: WebContext) -> list[uuid.UUID]:
    return sorted(ctx.principal.conference_ids(*CASE_WORKER_ROLES), key=str)


async def _overview(request: Request, ctx: WebContext, *, status: int = 200, error: str = "",
                    planned: str = "") -> HTMLResponse:
    session = ctx.guard.session
    ids = _my_conferences(ctx)
    for conference_id in ids:
        await ctx.guard.require(Op.meeting_read, Target(conference_id=conference_id))
    current = {m.conference_id: m.id for m in await meeting_service.current_meetings(session, ids)}
    now = clock.now()
    groups = []
    for conference in await web_auth.get_conferences(session, ids):
        zone = exports.zone_of(conference)
        meetings = await meeting_service.list_meetings(session, conference.id, start=now - timedelta(days=31),
                                                       end=now + timedelta(days=92))
        groups.append({
            "conference": conference,
            "current": current.get(conference.id),
            "chair": Role.chair in ctx.principal.roles_in(conference.id),
            "meetings": [{"meeting": m, "when": exports.when_nl(m.starts_at, zone)} for m in meetings],
        })
    return page(request, "meetings.html", ctx, status=status, groups=groups, error=error, planned=planned,
                 active="agenda")


@router.get("/agenda", response_class=HTMLResponse)
async def next_agenda(request: Request, ctx: Ctx) -> Response:
    """The agenda of the next meeting; with more than one conference, the choice of meetings."""
    ids = _my_conferences(ctx)
    current = await meeting_service.current_meetings(ctx.guard.session, ids)
    if len(ids) == 1 and current:
        return RedirectResponse(_meeting_url(current[0].id), status_code=303)
    return await _overview(request, ctx)


@router.get("/vergaderingen", response_class=HTMLResponse)
async def meetings_overview(request: Request, ctx: Ctx, gepland: str = "") -> HTMLResponse:
    return await _overview(request, ctx, planned=gepland)


@router.post("/vergaderingen/plannen", response_class=HTMLResponse)
async def plan_meetings(request: Request, ctx: Ctx) -> Response:
    """The chair lays out the meetings of the conference's fixed rhythm (idempotent)."""
    form = await checked_form(request, ctx)
    try:
        conference_id = uuid.UUID(str(form.get("overleg") or ""))
    except ValueError:
        return await _overview(request, ctx, status=422, error="Kies een casusoverleg.")
    await ctx.guard.require(Op.meeting_manage, Target(conference_id=conference_id))
    conference = await meeting_service.load_conference(ctx.guard.session, conference_id)
    try:
        async with refusable(ctx.guard.session):
            created, _in_window = await meeting_service.generate_meetings(
                ctx.guard.session, conference, weeks=request.app.state.settings.meeting_horizon_weeks
            )
    except UnprocessableEntity:
        return await _overview(request, ctx, status=422, error="Voor dit casusoverleg is geen vast vergaderritme "
                               "ingesteld; vraag de beheerder een vergadering in te plannen.")
    return RedirectResponse("/web/vergaderingen?" + urlencode({"gepland": str(len(created))}), status_code=303)


# --- the agenda ---------------------------------------------------------------------------------


def _editable(meeting: Meeting, role: str | None) -> bool:
    return role == Role.chair and meeting.status == MeetingStatus.scheduled and meeting.agenda_status == AgendaStatus.draft


def _blocked_text(meeting: Meeting) -> str:
    if meeting.status == MeetingStatus.cancelled:
        return "Deze vergadering is geannuleerd; de agenda kan niet meer worden gewijzigd."
    if meeting.status == MeetingStatus.held:
        return "Deze vergadering is gehouden; de agenda kan niet meer worden gewijzigd."
    if meeting.agenda_status == AgendaStatus.published:
        return "De agenda is gepubliceerd. Heropen de agenda om haar te wijzigen."
    return "Deze wijziging is nu niet mogelijk."


def _time_box_text(minutes: int, meeting: Meeting) -> str:
    if minutes <= 0:
        return "Een agendapunt duurt minstens 1 minuut."
    return (f"Een agendapunt mag niet langer duren dan de vergadering "
            f"({meeting_service.meeting_minutes(meeting)} minuten).")


async def _agenda_page(
    request: Request, ctx: WebContext, meeting: Meeting, role: str | None, *, status: int = 200,
    done: str = "", problem: str = "", errors: dict | None = None, kept: dict | None = None,
) -> HTMLResponse:
    session = ctx.guard.session
    conference = await meeting_service.load_conference(session, meeting.conference_id)
    when = exports.when_nl(meeting.starts_at, exports.zone_of(conference))
    common: dict[str, Any] = dict(meeting=meeting, conference=conference, when=when, active="agenda")
    try:
        agenda = await views.agenda_for(ctx.guard, meeting, role)
    except NotFound:  # a draft, asked for by a member or liaison (the refusal is logged)
        return await _not_published(request, ctx, meeting, "meeting_agenda.html")
    chair = role == Role.chair
    editable = _editable(meeting, role)
    candidates = await agenda_service.addable_cases(session, meeting) if editable else []
    ctx.guard.record(*[
        Access(action="list", resource_type="case", resource_id=str(c.case_id), case_id=c.case_id,
               conference_id=meeting.conference_id, client_number=c.client_number, part="agenda_candidates")
        for c in candidates
    ])
    return page(
        request, "meeting_agenda.html", ctx, status=status, agenda=agenda, chair=chair, editable=editable,
        items=[i for i in agenda.items if not i.removed], removed=[i for i in agenda.items if i.removed],
        candidates=candidates, done=AGENDA_DONE.get(done, ""), problem=problem, errors=errors or {},
        kept=kept or {}, decidable=chair and meeting.agenda_status == AgendaStatus.published and meeting.status == MeetingStatus.scheduled,
        **common,
    )


@router.get("/vergaderingen/{meeting_id}", response_class=HTMLResponse)
async def agenda_page(meeting_id: uuid.UUID, request: Request, ctx: Ctx, gewijzigd: str = "") -> HTMLResponse:
    meeting, role = await _load(ctx, meeting_id, Op.agenda_read)
    return await _agenda_page(request, ctx, meeting, role, done=gewijzigd)


FieldErrors = Callable[[UnprocessableEntity, "Meeting"], dict[str, dict[str, str]]]
ConflictErrors = Callable[["Meeting"], dict[str, dict[str, str]]]


async def _agenda_change(
    request: Request, ctx: WebContext, meeting_id: uuid.UUID, form: FormData,
    change: Callable[[Meeting, str | None], Awaitable[str]], *, done: str,
    field_errors: FieldErrors | None = None, kept: dict | None = None,
    conflict_errors: ConflictErrors | None = None,
) -> Response:
    """Run one change of the chair on the agenda: policy, version check, the service, the access
    log; a refused change shows the agenda again with the problem next to its field."""
    meeting, role = await _load(ctx, meeting_id, Op.agenda_edit, for_update=True)
    if int_or_none(form.get("versie")) != meeting.version:
        return await _agenda_page(request, ctx, meeting, role, status=409, problem=STALE, kept=kept)
    try:
        async with refusable(ctx.guard.session):
            anchor = await change(meeting, role)
    except PreconditionFailed:
        return await _agenda_page(request, ctx, await _fresh(ctx, meeting_id), role, status=409, problem=STALE,
                                  kept=kept)
    except NotFound:
        return await _agenda_page(request, ctx, await _fresh(ctx, meeting_id), role, status=422,
                                  problem=UNKNOWN_ITEM)
    except UnprocessableEntity as exc:
        meeting = await _fresh(ctx, meeting_id)
        errors = field_errors(exc, meeting) if field_errors else {}
        return await _agenda_page(request, ctx, meeting, role, status=422, errors=errors, kept=kept,
                                  problem="" if errors else "Deze wijziging is niet mogelijk.")
    except Conflict:
        meeting = await _fresh(ctx, meeting_id)
        errors = conflict_errors(meeting) if conflict_errors and _editable(meeting, role) else {}
        return await _agenda_page(request, ctx, meeting, role, status=409, errors=errors, kept=kept,
                                  problem="" if errors else _blocked_text(meeting))
    return RedirectResponse(_meeting_url(meeting_id, anchor=anchor, gewijzigd=done), status_code=303)


@router.post("/vergaderingen/{meeting_id}/agenda/concept", response_class=HTMLResponse)
async def regenerate_draft(meeting_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)

    async def change(meeting: Meeting, role: str | None) -> str:
        conference = await meeting_service.load_conference(ctx.guard.session, meeting.conference_id)
        drafted = await agenda_service.build_draft(ctx.guard.session, meeting, conference.cadence)
        await views.agenda_for(ctx.guard, meeting, role, change="update", changed_items=drafted.changed, shown=False)
        return "agenda"

    return await _agenda_change(request, ctx, meeting_id, form, change, done="concept")


@router.post("/vergaderingen/{meeting_id}/agenda/punten", response_class=HTMLResponse)
async def add_case(meeting_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    kept = {k: str(form.get(k) or "").strip() for k in ("casus", "reden", "minuten")}
    errors: dict[str, str] = {}
    case_id: uuid.UUID | None = None
    try:
        case_id = uuid.UUID(kept["casus"])
    except ValueError:
        errors["casus"] = "Kies een casus."
    if not kept["reden"]:
        errors["reden"] = "Geef aan waarom deze casus besproken moet worden."
    elif len(kept["reden"]) > 2000:
        errors["reden"] = "De reden is te lang (maximaal 2000 tekens)."
    minutes = int_or_none(kept["minuten"]) if kept["minuten"] else None
    if kept["minuten"] and minutes is None:
        errors["minuten"] = "Vul een heel aantal minuten in."
    if errors:
        meeting, role = await _load(ctx, meeting_id, Op.agenda_edit)
        return await _agenda_page(request, ctx, meeting, role, status=422, errors={"nieuw": errors},
                                  kept={"nieuw": kept})

    async def change(meeting: Meeting, role: str | None) -> str:
        data = AgendaItemAdd(case_id=case_id, reason=kept["reden"], time_box_minutes=minutes)
        item = await agenda_service.add_item(ctx.guard.session, meeting, data)
        await views.agenda_for(ctx.guard, meeting, role, change="create", changed_items={item.id}, shown=False)
        return f"punt-{item.id}"

    def refused(exc: UnprocessableEntity, meeting: Meeting) -> dict[str, dict[str, str]]:
        pointer = (exc.extra.get("errors") or [{}])[0].get("pointer", "")
        if pointer == "#/time_box_minutes":
            return {"nieuw": {"minuten": _time_box_text(minutes or 0, meeting)}}
        return {"nieuw": {"casus": "Deze casus hoort niet bij dit casusoverleg of is afgesloten."}}

    def already(_meeting: Meeting) -> dict[str, dict[str, str]]:
        return {"nieuw": {"casus": "Deze casus staat al op de agenda."}}

    return await _agenda_change(request, ctx, meeting_id, form, change, done="toegevoegd", field_errors=refused,
                                conflict_errors=already, kept={"nieuw": kept})


@router.post("/vergaderingen/{meeting_id}/agenda/punten/{item_id}/verwijderen", response_class=HTMLResponse)
async def remove_item(meeting_id: uuid.UUID, item_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)

    async def change(meeting: Meeting, role: str | None) -> str:
        await agenda_service.remove_item(ctx.guard.session, meeting, item_id)
        await views.agenda_for(ctx.guard, meeting, role, change="delete", changed_items={item_id}, shown=False)
        return "agenda"

    return await _agenda_change(request, ctx, meeting_id, form, change, done="verwijderd")


@router.post("/vergaderingen/{meeting_id}/agenda/punten/{item_id}/terugzetten", response_class=HTMLResponse)
async def restore_item(meeting_id: uuid.UUID, item_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)

    async def change(meeting: Meeting, role: str | None) -> str:
        agenda = await views.agenda_for(ctx.guard, meeting, role, shown=False)
        item = next((i for i in agenda.items if i.id == item_id and i.removed), None)
        if item is None:
            raise NotFound("agenda item")
        restored = await agenda_service.add_item(
            ctx.guard.session, meeting, AgendaItemAdd(case_id=item.case_id, referral_id=item.referral_id)
        )
        await views.agenda_for(ctx.guard, meeting, role, change="create", changed_items={restored.id},
                               shown=False)
        return f"punt-{restored.id}"

    return await _agenda_change(request, ctx, meeting_id, form, change, done="teruggezet")


@router.post("/vergaderingen/{meeting_id}/agenda/punten/{item_id}/verplaatsen", response_class=HTMLResponse)
async def move_item(meeting_id: uuid.UUID, item_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    by = {"omhoog": -1, "omlaag": 1}.get(str(form.get("richting") or ""))

    async def change(meeting: Meeting, role: str | None) -> str:
        if by is None:
            raise UnprocessableEntity("unknown direction")
        order = await agenda_service.move_item(ctx.guard.session, meeting, item_id, by)
        if order:
            await views.agenda_for(ctx.guard, meeting, role, change="update", changed_items=set(order),
                                   shown=False)
        return f"punt-{item_id}"

    return await _agenda_change(request, ctx, meeting_id, form, change, done="verplaatst")


@router.post("/vergaderingen/{meeting_id}/agenda/punten/{item_id}/tijd", response_class=HTMLResponse)
async def time_box(meeting_id: uuid.UUID, item_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    raw = str(form.get("minuten") or "").strip()
    kept = {str(item_id): {"minuten": raw}}
    minutes = int_or_none(raw)
    if minutes is None:
        meeting, role = await _load(ctx, meeting_id, Op.agenda_edit)
        return await _agenda_page(request, ctx, meeting, role, status=422, kept=kept,
                                  errors={str(item_id): {"minuten": "Vul een heel aantal minuten in."}})
    checked = minutes

    async def change(meeting: Meeting, role: str | None) -> str:
        await agenda_service.set_time_box(ctx.guard.session, meeting, item_id, checked)
        await views.agenda_for(ctx.guard, meeting, role, change="update", changed_items={item_id}, shown=False)
        return f"punt-{item_id}"

    def refused(_exc: UnprocessableEntity, meeting: Meeting) -> dict[str, dict[str, str]]:
        return {str(item_id): {"minuten": _time_box_text(checked, meeting)}}

    return await _agenda_change(request, ctx, meeting_id, form, change, done="tijd", field_errors=refused,
                                kept=kept)


@router.post("/vergaderingen/{meeting_id}/agenda/publiceren", response_class=HTMLResponse)
async def publish_agenda(meeting_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)

    async def change(meeting: Meeting, _role: str | None) -> str:
        await agenda_service.publish(ctx.guard.session, meeting)
        await views.audit_published(ctx.guard, meeting, decisions=False, part="published")
        return ""

    return await _agenda_change(request, ctx, meeting_id, form, change, done="gepubliceerd")


@router.post("/vergaderingen/{meeting_id}/agenda/heropenen", response_class=HTMLResponse)
async def reopen_agenda(meeting_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    meeting, role = await _load(ctx, meeting_id, Op.agenda_edit, for_update=True)
    if int_or_none(form.get("versie")) != meeting.version:
        return await _agenda_page(request, ctx, meeting, role, status=409, problem=STALE)
    try:
        async with refusable(ctx.guard.session):
            await agenda_service.reopen(ctx.guard.session, meeting)
    except (Conflict, PreconditionFailed):
        meeting = await _fresh(ctx, meeting_id)
        problem = ("Er zijn al besluiten vastgelegd bij deze agenda; zij kan niet meer worden heropend."
                   if meeting.agenda_status == AgendaStatus.published and meeting.status == MeetingStatus.scheduled
                   else _blocked_text(meeting))
        return await _agenda_page(request, ctx, meeting, role, status=409, problem=problem)
    await views.audit_published(ctx.guard, meeting, decisions=False, part="reopened")
    return RedirectResponse(_meeting_url(meeting_id, gewijzigd="heropend"), status_code=303)


# --- decisions: the decisions page and meeting mode ---------------------------------------------


def _decision_blocked_text(meeting: Meeting) -> str:
    if meeting.status == MeetingStatus.cancelled:
        return "Deze vergadering is geannuleerd; er worden geen besluiten vastgelegd."
    if meeting.agenda_status != AgendaStatus.published:
        return "Publiceer eerst de agenda; daarna legt u per agendapunt de besluiten vast."
    if meeting.decisions_published_at is not None:
        return "De besluitenlijst is gepubliceerd; er kunnen geen besluiten meer bij."
    return "Dit besluit kan nu niet worden vastgelegd (is de casus afgesloten?)."


def _decidable(meeting: Meeting, chair: bool) -> bool:
    return (chair and meeting.status == MeetingStatus.scheduled and meeting.agenda_status == AgendaStatus.published
            and meeting.decisions_published_at is None)


async def _decision_context(ctx: WebContext, meeting: Meeting, role: str | None) -> dict[str, Any] | None:
    """What the decisions page and meeting mode show: the agenda's items (the chair's, once the
    agenda is published), the decisions per item, and the choices of the decision form. None: a
    list not yet published, asked for by a member or liaison (the refusal is logged)."""
    session = ctx.guard.session
    try:
        decisions = await views.decisions_for(ctx.guard, meeting, role, "list")
    except NotFound:
        return None
    chair = role == Role.chair
    agenda: AgendaOut | None = None
    if chair and meeting.agenda_status == AgendaStatus.published:
        agenda = await views.agenda_for(ctx.guard, meeting, role)
    organisations = await web_auth.conference_organisations(session, meeting.conference_id)
    people = await web_auth.conference_people(session, meeting.conference_id)
    org_names = {o.id: o.name for o in organisations}
    by_item: dict[uuid.UUID, list[Any]] = {}
    for decision in decisions.items:
        by_item.setdefault(decision.agenda_item_id, []).append(decision)
    decidable = _decidable(meeting, chair)
    return dict(
        decisions=decisions, chair=chair, agenda=agenda, by_item=by_item,
        items=[i for i in agenda.items if not i.removed] if agenda else [],
        organisations=organisations, people=people, org_names=org_names,
        directors=[p for p in people if p.role in (Role.member, Role.chair)],
        person_names={p.id: p.display_name for p in people},
        person_orgs={p.id: org_names.get(p.organisation_id, "") for p in people},
        transitions={p.value: [t.value for t in ts] for p, ts in PHASE_TRANSITIONS.items()},
        closure_reasons=CLOSURE_REASONS, decidable=decidable, today=clock.today().isoformat(),
        can_publish=decidable and clock.now() >= meeting.starts_at, scopes=MANDATE_SCOPES,
    )


def _form_state(errors: dict | None, form: DecisionForm | None, item_id: uuid.UUID | None) -> dict[str, Any]:
    """Per agenda item: the messages, what was typed and the number of action rows."""
    key = str(item_id) if item_id else ""
    return dict(errors={key: errors} if errors and key else {}, kept={key: form.kept} if form and key else {},
                rows={key: form.rows} if form and key else {})


async def _decisions_page(
    request: Request, ctx: WebContext, meeting: Meeting, role: str | None, *, status: int = 200,
    recorded: str = "", published: bool = False, problem: str = "", errors: dict | None = None,
    form: DecisionForm | None = None, item_id: uuid.UUID | None = None,
) -> HTMLResponse:
    conference = await meeting_service.load_conference(ctx.guard.session, meeting.conference_id)
    common: dict[str, Any] = dict(meeting=meeting, conference=conference, active="agenda",
                                  when=exports.when_nl(meeting.starts_at, exports.zone_of(conference)))
    shown = await _decision_context(ctx, meeting, role)
    if shown is None:
        return await _not_published(request, ctx, meeting, "meeting_decisions.html")
    just = next((d for d in shown["decisions"].items if str(d.id) == recorded), None)
    return page(
        request, "meeting_decisions.html", ctx, status=status, just=just,
        just_escalated=[a for a in (just.actions if just else []) if a.coverage == "escalation_required"],
        published_now=published, problem=problem, open_item=str(item_id) if item_id else "",
        **_form_state(errors, form, item_id), **shown, **common,
    )


@router.get("/vergaderingen/{meeting_id}/besluiten", response_class=HTMLResponse)
async def decisions_page(meeting_id: uuid.UUID, request: Request, ctx: Ctx, besluit: str = "",
                         gepubliceerd: str = "") -> HTMLResponse:
    meeting, role = await _load(ctx, meeting_id, Op.decision_read)
    return await _decisions_page(request, ctx, meeting, role, recorded=besluit, published=bool(gepubliceerd))


async def _meeting_mode_page(
    request: Request, ctx: WebContext, meeting: Meeting, role: str | None, *, position: int = 1,
    item_id: uuid.UUID | None = None, status: int = 200, recorded: str = "", problem: str = "",
    errors: dict | None = None, form: DecisionForm | None = None,
) -> HTMLResponse:
    """One agenda item at a time: item n of m, its reasons, what was decided on it (collapsed) and
    the decision form; the list of decisions is published from the last item."""
    conference = await meeting_service.load_conference(ctx.guard.session, meeting.conference_id)
    shown = await _decision_context(ctx, meeting, role)
    assert shown is not None  # the chair sees the list of decisions before it is published
    items = shown["items"]
    if item_id is not None:
        position = next((n for n, i in enumerate(items, start=1) if i.id == item_id), position)
    position = min(max(position, 1), max(len(items), 1))
    item = items[position - 1] if items else None
    just = next((d for d in shown["decisions"].items if str(d.id) == recorded), None)
    return page(
        request, "meeting_mode.html", ctx, status=status, item=item, position=position, count=len(items),
        just=just, just_escalated=[a for a in (just.actions if just else []) if a.coverage == "escalation_required"],
        problem=problem, meeting=meeting, conference=conference, active="agenda",
        when=exports.when_nl(meeting.starts_at, exports.zone_of(conference)),
        **_form_state(errors, form, item.id if item else None), **shown,
    )


@router.get("/vergaderingen/{meeting_id}/vergadering", response_class=HTMLResponse)
async def meeting_mode(meeting_id: uuid.UUID, request: Request, ctx: Ctx, punt: str = "1",
                       besluit: str = "") -> HTMLResponse:
    meeting, role = await _load(ctx, meeting_id, Op.decision_create)
    return await _meeting_mode_page(request, ctx, meeting, role, position=int_or_none(punt) or 1, recorded=besluit)


@router.post("/vergaderingen/{meeting_id}/punten/{item_id}/besluit", response_class=HTMLResponse)
async def record_decision(meeting_id: uuid.UUID, item_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    """One decision with its actions, phase change, review date and case director: all of it in
    one savepoint, so a refused part leaves nothing written and the form shows what was typed.
    The form's "Actie toevoegen" button only shows the form again with one more action row."""
    form = await checked_form(request, ctx)
    meeting, role = await _load(ctx, meeting_id, Op.decision_create, for_update=True)
    typed = DecisionForm.read(form)
    in_meeting = form.get("weergave") == "vergadering"

    async def again(status: int, *, errors: dict | None = None, problem: str = "", shown: DecisionForm | None = None,
                    fresh: bool = True) -> HTMLResponse:
        current = await _fresh(ctx, meeting_id) if fresh else meeting
        render = _meeting_mode_page if in_meeting else _decisions_page
        return await render(request, ctx, current, role, status=status, errors=errors, problem=problem,
                            form=shown or typed, item_id=item_id)

    if form.get("knop") == "actie-erbij":
        return await again(200, shown=typed.with_row(), fresh=False)
    data, errors = typed.decision()
    if data is None:
        return await again(422, errors=errors, fresh=False)
    try:
        async with refusable(ctx.guard.session):
            decision, number = await decision_service.record_decision(
                ctx.guard.session, ctx.principal, meeting=meeting, item_id=item_id, data=data
            )
    except (UnprocessableEntity, InvalidTransition) as exc:
        return await again(422, errors=typed.refused(exc))
    except NotFound:
        return await again(422, problem=UNKNOWN_ITEM)
    except (Conflict, PreconditionFailed):
        return await again(409, problem=_decision_blocked_text(await _fresh(ctx, meeting_id)))
    ctx.guard.record(*views.decision_accesses(meeting, decision, number, data))
    if in_meeting:
        position = await _position_of(ctx, meeting, role, item_id)
        return RedirectResponse(_meeting_url(meeting_id, "/vergadering", punt=str(position), besluit=str(decision.id)),
                                status_code=303)
    return RedirectResponse(_meeting_url(meeting_id, "/besluiten", anchor=f"besluit-{decision.id}",
                                         besluit=str(decision.id)), status_code=303)


async def _position_of(ctx: WebContext, meeting: Meeting, role: str | None, item_id: uuid.UUID) -> int:
    agenda = await views.agenda_for(ctx.guard, meeting, role, shown=False)
    items = [i for i in agenda.items if not i.removed]
    return next((n for n, i in enumerate(items, start=1) if i.id == item_id), 1)


@router.post("/vergaderingen/{meeting_id}/besluiten/publiceren", response_class=HTMLResponse)
async def publish_decisions(meeting_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    form = await checked_form(request, ctx)
    meeting, role = await _load(ctx, meeting_id, Op.decision_create, for_update=True)
    render = _meeting_mode_page if form.get("weergave") == "vergadering" else _decisions_page
    if int_or_none(form.get("versie")) != meeting.version:
        return await render(request, ctx, meeting, role, status=409,
                            problem=STALE.replace("De agenda", "De vergadering"))
    try:
        async with refusable(ctx.guard.session):
            await decision_service.publish_decisions(ctx.guard.session, meeting)
    except (Conflict, PreconditionFailed):
        meeting = await _fresh(ctx, meeting_id)
        problem = ("De besluitenlijst kan pas worden gepubliceerd als de vergadering is begonnen."
                   if clock.now() < meeting.starts_at else _decision_blocked_text(meeting))
        return await render(request, ctx, meeting, role, status=409, problem=problem)
    await views.audit_published(ctx.guard, meeting, decisions=True, part="published")
    return RedirectResponse(_meeting_url(meeting_id, "/besluiten", gepubliceerd="1"), status_code=303)


# --- print views (the exports of the API, from the web session) ---------------------------------

@router.get("/vergaderingen/{meeting_id}/agenda/afdrukken", response_class=HTMLResponse)
async def print_agenda(meeting_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    meeting, role = await _load(ctx, meeting_id, Op.agenda_read)
    try:
        agenda = await views.agenda_for(ctx.guard, meeting, role, action="print")
    except NotFound:
        return await _not_published(request, ctx, meeting, "meeting_agenda.html")
    conference = await meeting_service.load_conference(ctx.guard.session, meeting.conference_id)
    html = exports.agenda_html(agenda, conference, chair=role == Role.chair)
    return HTMLResponse(html, headers=PRINT_HEADERS)


@router.get("/vergaderingen/{meeting_id}/besluiten/afdrukken", response_class=HTMLResponse)
async def print_decisions(meeting_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    meeting, role = await _load(ctx, meeting_id, Op.decision_read)
    try:
        decisions = await views.decisions_for(ctx.guard, meeting, role, "print")
    except NotFound:
        return await _not_published(request, ctx, meeting, "meeting_decisions.html")
    conference = await meeting_service.load_conference(ctx.guard.session, meeting.conference_id)
    return HTMLResponse(exports.decisions_html(decisions, conference), headers=PRINT_HEADERS)
