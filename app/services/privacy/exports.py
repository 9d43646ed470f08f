"""Printable exports in Dutch (HTML via Jinja2, PDF via fpdf2), the iCalendar feed per member,
and the digest of an organisation's open actions."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fpdf import FPDF
from icalendar import Calendar, Event
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.errors import NotFound
from app.models import CalendarFeed, Conference, Meeting, Membership
from app.models.enums import AgendaStatus, MeetingStatus
from app.schemas.meetings import AgendaOut, DecisionList, Digest
from app.services.cases.actions import ActionFilter, list_actions
from app.services.cases.present import action_out
from app.services.need_to_know import need_to_know_by_ids
from app.services.words import PHASES

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates" / "exports"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

# The one set of phase names (app/services/words.py), as on screen; a referral on the agenda has none.
PHASES_NL: dict[str, str] = {**PHASES, "aanmelding": "Aanmelding"}
WEEKDAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS_NL = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
DEFAULT_ZONE = "Europe/Amsterdam"


def zone_of(conference: Conference) -> ZoneInfo:
    try:
        return ZoneInfo(str((conference.cadence or {}).get("timezone") or DEFAULT_ZONE))
    except (ValueError, KeyError):
        return ZoneInfo(DEFAULT_ZONE)


def when_nl(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    day = f"{WEEKDAYS_NL[local.weekday()]} {local.day} {MONTHS_NL[local.month - 1]} {local.year}"
    return f"{day}, {local:%H:%M} uur"


def _printed(zone: ZoneInfo) -> str:
    return clock.now().astimezone(zone).strftime("%d-%m-%Y %H:%M")


def agenda_html(agenda: AgendaOut, conference: Conference, *, chair: bool) -> str:
    zone = zone_of(conference)
    items = [i for i in agenda.items if not i.removed]
    return _env.get_template("agenda.html").render(
        agenda=agenda,
        items=items,
        conference=conference.name,
        when=when_nl(agenda.meeting.starts_at, zone),
        chair=chair,
        phases=PHASES_NL,
        printed=_printed(zone),
    )


def decisions_html(decisions: DecisionList, conference: Conference) -> str:
    zone = zone_of(conference)
    return _env.get_template("decisions.html").render(
        decisions=decisions,
        conference=conference.name,
        when=when_nl(decisions.meeting.starts_at, zone),
        phases=PHASES_NL,
        printed=_printed(zone),
    )


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1: keep Dutch accents, replace the rest."""
    return text.replace("→", "->").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.set_title(title)
        self.set_auto_page_break(auto=True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(
            0,
            6,
            _latin1(f"Vertrouwelijk - alleen voor deelnemers aan het casusoverleg - blz. {self.page_no()}"),
            align="C",
        )


def _pdf_lines(title: str, subtitle: str, blocks: list[list[str]]) -> bytes:
    pdf = _Pdf(title)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.multi_cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, _latin1(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for block in blocks:
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.multi_cell(0, 6, _latin1(block[0]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for line in block[1:]:
            pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


def agenda_pdf(agenda: AgendaOut, conference: Conference, *, chair: bool) -> bytes:
    zone = zone_of(conference)
    blocks = []
    items = [i for i in agenda.items if not i.removed]
    for index, item in enumerate(items, start=1):
        head = f"{index}. {item.client_number}"
        if chair and item.client_name:
            head += f" ({item.client_name})"
        head += f" - {PHASES_NL.get(item.phase or '', item.phase or '')} - {item.time_box_minutes} min"
        lines = [f"- {r.text}" + (f": {r.detail}" if r.detail else "") for r in item.reasons]
        blocks.append([head, *lines])
    if not blocks:
        blocks.append(["Geen agendapunten."])
    status = "gepubliceerd" if agenda.meeting.agenda_status == AgendaStatus.published else "concept"
    return _pdf_lines(
        f"Agenda {conference.name}",
        f"Vergadering: {when_nl(agenda.meeting.starts_at, zone)} - {status} - "
        f"geplande tijd {agenda.total_minutes} van {agenda.meeting_minutes} minuten",
        blocks,
    )


def decisions_pdf(decisions: DecisionList, conference: Conference) -> bytes:
    zone = zone_of(conference)
    blocks = []
    for index, d in enumerate(decisions.items, start=1):
        lines = [d.text]
        if d.phase_to:
            lines.append(
                f"Fase: {PHASES_NL.get(d.phase_from or '', d.phase_from)} -> "
                f"{PHASES_NL.get(d.phase_to, d.phase_to)}"
            )
        if d.new_review_date:
            lines.append(f"Nieuwe evaluatiedatum: {d.new_review_date:%d-%m-%Y}")
        for a in d.actions:
            extra = " - mandaat-escalatie nodig" if a.coverage == "escalation_required" else ""
            lines.append(f"Actie: {a.title} (uiterlijk {a.due_date:%d-%m-%Y}){extra}")
        blocks.append([f"{index}. {d.client_number}", *lines])
    if not blocks:
        blocks.append(["Geen besluiten."])
    return _pdf_lines(
        f"Besluitenlijst {conference.name}",
        f"Vergadering: {when_nl(decisions.meeting.starts_at, zone)}"
        + ("" if decisions.published else " - concept, nog niet gepubliceerd"),
        blocks,
    )


# --- iCalendar feed ----------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def rotate_feed_token(session: AsyncSession, membership_id: uuid.UUID) -> str:
    """A new random token for the membership's feed; the previous URL stops working. Only the
    hash is stored, so the URL is shown once."""
    token = secrets.token_urlsafe(32)
    await session.execute(sa.delete(CalendarFeed).where(col(CalendarFeed.membership_id) == membership_id))
    session.add(CalendarFeed(membership_id=membership_id, token_hash=_hash(token)))
    await session.flush()
    return token


async def feed_ics(session: AsyncSession, token: str, *, base_url: str) -> bytes:
    """The meetings of the token's conference (half a year back, a year ahead). No client data."""
    if not token or len(token) > 128:
        raise NotFound("calendar")
    row = (
        await session.execute(
            sa.select(Membership, Conference)
            .join(CalendarFeed, col(CalendarFeed.membership_id) == col(Membership.id))
            .join(Conference, col(Conference.id) == col(Membership.conference_id))
            .where(col(CalendarFeed.token_hash) == _hash(token))
        )
    ).first()
    if row is None or not row[0].active:
        raise NotFound("calendar")
    conference: Conference = row[1]
    now = clock.now()
    meetings = (
        (
            await session.execute(
                sa.select(Meeting)
                .where(
                    col(Meeting.conference_id) == conference.id,
                    col(Meeting.starts_at) >= now - timedelta(days=183),
                    col(Meeting.starts_at) < now + timedelta(days=366),
                )
                .order_by(col(Meeting.starts_at))
            )
        )
        .scalars()
        .all()
    )
    cal = Calendar()
    cal.add("prodid", "-//casusoverleg//vergaderingen//NL")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Casusoverleg {conference.name}")
    for meeting in meetings:
        event = Event()
        event.add("uid", f"{meeting.id}@casusoverleg")
        event.add("summary", f"Casusoverleg {conference.name}" + (" (extra)" if meeting.ad_hoc else ""))
        event.add("dtstart", meeting.starts_at.astimezone(UTC))
        event.add("dtend", meeting.ends_at.astimezone(UTC))
        event.add("dtstamp", (meeting.updated_at or now).astimezone(UTC))
        event.add("sequence", meeting.version)
        event.add("status", "CANCELLED" if meeting.status == MeetingStatus.cancelled else "CONFIRMED")
        event.add("url", f"{base_url.rstrip('/')}/api/v1/meetings/{meeting.id}/agenda")
        cal.add_component(event)
    return cal.to_ical()


# --- digest ------------------------------------------------------------------------------------

async def digest(
    session: AsyncSession,
    principal: Principal,
    visibility: sa.ColumnElement[bool],
    *,
    organisation_id: uuid.UUID,
    conference_id: uuid.UUID | None,
    due_soon_days: int,
    limit: int = 500,
) -> tuple[Digest, list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str]]]:
    """Open actions of one organisation, as overdue / due soon / later. Also returns
    (action id, case id, conference id, client number) of each, for the access log."""
    rows, _total = await list_actions(
        session,
        visibility,
        ActionFilter(organisation_id=organisation_id, conference_id=conference_id, open_only=True),
        limit=limit,
        offset=0,
    )
    today: date = clock.today()
    soon = today + timedelta(days=due_soon_days)
    out = Digest(organisation_id=organisation_id, generated_on=today, overdue=[], due_soon=[], later=[])
    ntks = await need_to_know_by_ids(session, principal, [a.case_id for a, _n in rows])
    for action, number in rows:
        shaped = action_out(action, number, ntks[action.case_id])
        if action.due_date < today:
            out.overdue.append(shaped)
        elif action.due_date <= soon:
            out.due_soon.append(shaped)
        else:
            out.later.append(shaped)
    return out, [(a.id, a.case_id, a.conference_id, n) for a, n in rows]
