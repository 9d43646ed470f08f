"""Meetings, agendas, discussion requests, decisions, exports, calendar feed and digest."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import AwareDatetime, BeforeValidator

from app.audit import Access
from app.auth.policy import Op, Target, visible_actions
from app.deps import GuardDep, SessionDep, SettingsDep
from app.models.enums import Role
from app.routers import meeting_views as views
from app.schemas.common import iso_only
from app.schemas.meetings import (
    AdHocMeeting,
    AgendaItemAdd,
    AgendaOut,
    AgendaReorder,
    CalendarFeedCreate,
    CalendarFeedOut,
    DecisionCreate,
    DecisionList,
    DecisionOut,
    Digest,
    DiscussionRequestCreate,
    DiscussionRequestOut,
    GeneratedMeetings,
    GenerateMeetings,
    MeetingOut,
    MoveMeeting,
    NotificationOut,
    TimeBox,
)
from app.services.cases import lifecycle as case_service
from app.services.common import check_if_match, etag_of
from app.services.events import notifications as notification_service
from app.services.meetings import agenda as agenda_service
from app.services.meetings import decisions as decision_service
from app.services.meetings import sittings as service
from app.services.privacy import exports

if TYPE_CHECKING:  # the type only: routers hand these objects back to the services, never query them
    from app.models import Meeting

router = APIRouter(tags=["meetings"])

IfMatch = Annotated[str | None, Header(description="The ETag of the meeting version you read.")]


def _target(conference_id: uuid.UUID) -> Target:
    return Target(conference_id=conference_id)


def _meeting_response(meeting_out: MeetingOut, response: Response) -> MeetingOut:
    response.headers["ETag"] = etag_of(meeting_out.version)
    return meeting_out


# --- meetings ----------------------------------------------------------------------------------


async def _meeting_for_change(guard: GuardDep, meeting_id: uuid.UUID, op: Op, if_match: str | None) -> Meeting:
    """Every change to a meeting: lock it, ask the policy (404 for another conference's), and
    require the version the caller read."""
    meeting = await service.load_meeting(guard.session, meeting_id, for_update=True)
    await _may_change(guard, meeting, op, if_match)
    return meeting


async def _may_change(guard: GuardDep, meeting: Meeting, op: Op, if_match: str | None) -> None:
    await guard.require(op, _target(meeting.conference_id), hidden_as="meeting")
    check_if_match(if_match, meeting.version, "meeting")


@router.get("/conferences/{conference_id}/meetings", response_model=list[MeetingOut])
async def list_meetings(
    conference_id: uuid.UUID,
    guard: GuardDep,
    start: Annotated[AwareDatetime | None, Query(alias="from"), BeforeValidator(iso_only)] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to"), BeforeValidator(iso_only)] = None,
) -> list[MeetingOut]:
    await guard.require(Op.meeting_read, _target(conference_id))
    meetings = await service.list_meetings(guard.session, conference_id, start=start, end=end)
    return [service.meeting_out(m) for m in meetings]


@router.post("/conferences/{conference_id}/meetings/generate", response_model=GeneratedMeetings)
async def generate_meetings(
    conference_id: uuid.UUID, guard: GuardDep, settings: SettingsDep, body: GenerateMeetings | None = None
) -> GeneratedMeetings:
    await guard.require(Op.meeting_manage, _target(conference_id))
    conference = await service.load_conference(guard.session, conference_id)
    weeks = (body.weeks if body and body.weeks else None) or settings.meeting_horizon_weeks
    created, in_window = await service.generate_meetings(guard.session, conference, weeks=weeks)
    return GeneratedMeetings(created=[service.meeting_out(m) for m in created], in_window=in_window)


@router.post(
    "/conferences/{conference_id}/meetings", response_model=MeetingOut, status_code=status.HTTP_201_CREATED
)
async def create_ad_hoc(
    conference_id: uuid.UUID, body: AdHocMeeting, guard: GuardDep, response: Response
) -> MeetingOut:
    await guard.require(Op.meeting_manage, _target(conference_id))
    conference = await service.load_conference(guard.session, conference_id)
    meeting = await service.create_ad_hoc(guard.session, conference, body)
    response.headers["Location"] = f"/api/v1/meetings/{meeting.id}"
    return _meeting_response(service.meeting_out(meeting), response)


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
async def get_meeting(meeting_id: uuid.UUID, guard: GuardDep, response: Response) -> MeetingOut:
    meeting = await service.load_meeting(guard.session, meeting_id)
    await guard.require(Op.meeting_read, _target(meeting.conference_id), hidden_as="meeting")
    return _meeting_response(service.meeting_out(meeting), response)


@router.post("/meetings/{meeting_id}/move", response_model=MeetingOut)
async def move_meeting(
    meeting_id: uuid.UUID, body: MoveMeeting, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> MeetingOut:
    meeting = await _meeting_for_change(guard, meeting_id, Op.meeting_manage, if_match)
    meeting = await service.move_meeting(guard.session, meeting, body)
    return _meeting_response(service.meeting_out(meeting), response)


@router.post("/meetings/{meeting_id}/cancel", response_model=MeetingOut)
async def cancel_meeting(
    meeting_id: uuid.UUID, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> MeetingOut:
    meeting = await _meeting_for_change(guard, meeting_id, Op.meeting_manage, if_match)
    meeting = await service.cancel_meeting(guard.session, meeting)
    return _meeting_response(service.meeting_out(meeting), response)


# --- agenda ------------------------------------------------------------------------------------


async def _agenda(
    guard: GuardDep,
    meeting_id: uuid.UUID,
    *,
    change: str | None = None,
    changed_items: Collection[uuid.UUID] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    """The agenda as the caller may see it, logged as app/routers/meeting_views.py logs it: the
    meeting and its agenda in one statement (after a change: as the change left them), the
    answer an AgendaOut written as JSON by the service."""
    loaded = await agenda_service.load_agenda(guard.session, meeting_id, guard.principal)
    granted = await guard.require(Op.agenda_read, _target(loaded.conference_id), hidden_as="meeting")
    view = await views.agenda_json_for(guard, loaded, granted, change=change, changed_items=changed_items)
    return Response(view.body, status_code, media_type="application/json", headers={"ETag": etag_of(view.version)})


@router.get("/meetings/{meeting_id:uuid}/agenda", response_model=AgendaOut)
async def get_agenda(meeting_id: uuid.UUID, guard: GuardDep) -> Response:
    """The chair sees the draft with names and request texts; members the published agenda with
    client number, phase and the reasons they may see."""
    # Outside any transaction, as case detail: the agenda's one statement, then its access-log
    # rows on the same connection before the answer (two statements, no BEGIN and COMMIT).
    async with guard.autocommit() as connection:
        loaded = await agenda_service.load_agenda(connection, meeting_id, guard.principal)
        granted = await guard.require(Op.agenda_read, _target(loaded.conference_id), hidden_as="meeting")
        view = await views.agenda_json_for(guard, loaded, granted, connection=connection)
    return Response(view.body, media_type="application/json", headers={"ETag": etag_of(view.version)})


@router.post("/meetings/{meeting_id}/agenda/draft", response_model=AgendaOut)
async def regenerate_draft(meeting_id: uuid.UUID, guard: GuardDep, if_match: IfMatch = None) -> Response:
    meeting, cadence = await service.load_meeting_and_cadence(guard.session, meeting_id)  # locked, one statement
    await _may_change(guard, meeting, Op.agenda_edit, if_match)
    drafted = await agenda_service.build_draft(guard.session, meeting, cadence)
    return await _agenda(guard, meeting_id, change="update", changed_items=drafted.changed)


@router.post(
    "/meetings/{meeting_id}/agenda/items", response_model=AgendaOut, status_code=status.HTTP_201_CREATED
)
async def add_agenda_item(
    meeting_id: uuid.UUID, body: AgendaItemAdd, guard: GuardDep, if_match: IfMatch = None
) -> Response:
    meeting = await _meeting_for_change(guard, meeting_id, Op.agenda_edit, if_match)
    item = await agenda_service.add_item(guard.session, meeting, body)
    return await _agenda(guard, meeting_id, change="create", changed_items={item.id},
                         status_code=status.HTTP_201_CREATED)


@router.delete("/meetings/{meeting_id}/agenda/items/{item_id}", response_model=AgendaOut)
async def remove_agenda_item(
    meeting_id: uuid.UUID, item_id: uuid.UUID, guard: GuardDep, if_match: IfMatch = None
) -> Response:
    meeting = await _meeting_for_change(guard, meeting_id, Op.agenda_edit, if_match)
    await agenda_service.remove_item(guard.session, meeting, item_id)
    return await _agenda(guard, meeting_id, change="delete", changed_items={item_id})


@router.put("/meetings/{meeting_id}/agenda/order", response_model=AgendaOut)
async def reorder_agenda(
    meeting_id: uuid.UUID, body: AgendaReorder, guard: GuardDep, if_match: IfMatch = None
) -> Response:
    meeting = await _meeting_for_change(guard, meeting_id, Op.agenda_edit, if_match)
    await agenda_service.reorder(guard.session, meeting, body.item_ids)
    return await _agenda(guard, meeting_id, change="update", changed_items=set(body.item_ids))


@router.patch("/meetings/{meeting_id}/agenda/items/{item_id}", response_model=AgendaOut)
async def time_box_agenda_item(
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    body: TimeBox,
    guard: GuardDep,
    if_match: IfMatch = None,
) -> Response:
    meeting = await _meeting_for_change(guard, meeting_id, Op.agenda_edit, if_match)
    await agenda_service.set_time_box(guard.session, meeting, item_id, body.time_box_minutes)
    return await _agenda(guard, meeting_id, change="update", changed_items={item_id})


@router.post("/meetings/{meeting_id}/agenda/publish", response_model=MeetingOut)
async def publish_agenda(
    meeting_id: uuid.UUID, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> MeetingOut:
    meeting = await _meeting_for_change(guard, meeting_id, Op.agenda_edit, if_match)
    meeting = await agenda_service.publish(guard.session, meeting)
    await views.audit_published(guard, meeting, decisions=False, part="published")
    return _meeting_response(service.meeting_out(meeting), response)


@router.post("/meetings/{meeting_id}/agenda/reopen", response_model=MeetingOut)
async def reopen_agenda(
    meeting_id: uuid.UUID, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> MeetingOut:
    meeting = await _meeting_for_change(guard, meeting_id, Op.agenda_edit, if_match)
    meeting = await agenda_service.reopen(guard.session, meeting)
    await views.audit_published(guard, meeting, decisions=False, part="reopened")
    return _meeting_response(service.meeting_out(meeting), response)


@router.post("/discussion-requests", response_model=DiscussionRequestOut, status_code=status.HTTP_201_CREATED)
async def request_discussion(body: DiscussionRequestCreate, guard: GuardDep) -> DiscussionRequestOut:
    """A member asks for a case to be put on the next agenda, with a reason."""
    loaded = await case_service.load_case(guard.session, body.case_id)
    access = Access(
        action="create",
        resource_type="discussion_request",
        case_id=loaded.case.id,
        conference_id=loaded.case.conference_id,
        client_number=loaded.client.client_number,
    )
    await guard.require(Op.discussion_request_create, loaded.target, access, hidden_as="case", record=True)
    own = guard.principal.membership_in(loaded.case.conference_id, Role.member, Role.chair)
    assert own is not None
    request = await agenda_service.create_request(
        guard.session, guard.principal, case=loaded.case, membership_id=own.id, reason=body.reason
    )
    return DiscussionRequestOut(
        id=request.id,
        case_id=request.case_id,
        client_number=loaded.client.client_number,
        created_at=request.created_at,
        handled_in_meeting_id=None,
    )


# --- decisions ---------------------------------------------------------------------------------


@router.post(
    "/meetings/{meeting_id}/agenda/items/{item_id}/decisions",
    response_model=DecisionOut,
    status_code=status.HTTP_201_CREATED,
)
async def record_decision(
    meeting_id: uuid.UUID, item_id: uuid.UUID, body: DecisionCreate, guard: GuardDep
) -> DecisionOut:
    meeting = await service.load_meeting(guard.session, meeting_id, for_update=True)
    await guard.require(Op.decision_create, _target(meeting.conference_id), hidden_as="meeting")
    decision, number = await decision_service.record_decision(
        guard.session, guard.principal, meeting=meeting, item_id=item_id, data=body
    )

    guard.record(*views.decision_accesses(meeting, decision, number, body))
    return DecisionOut(
        id=decision.id,
        meeting_id=meeting.id,
        agenda_item_id=decision.agenda_item_id,
        case_id=decision.case_id,
        client_number=number,
        text=decision.text,
        action_ids=list(decision.action_ids),
        phase_from=decision.phase_from,
        phase_to=decision.phase_to,
        new_review_date=decision.new_review_date,
        new_case_director_id=decision.new_case_director_id,
        created_at=decision.created_at,
    )


async def _decisions(guard: GuardDep, meeting_id: uuid.UUID, action: str) -> DecisionList:
    meeting = await service.load_meeting(guard.session, meeting_id)
    role = await guard.require(Op.decision_read, _target(meeting.conference_id), hidden_as="meeting")
    return await views.decisions_for(guard, meeting, role, action)


@router.get("/meetings/{meeting_id}/decisions", response_model=DecisionList)
async def list_decisions(meeting_id: uuid.UUID, guard: GuardDep) -> DecisionList:
    return await _decisions(guard, meeting_id, "list")


@router.post("/meetings/{meeting_id}/decisions/publish", response_model=MeetingOut)
async def publish_decisions(
    meeting_id: uuid.UUID, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> MeetingOut:
    meeting = await _meeting_for_change(guard, meeting_id, Op.decision_create, if_match)
    meeting = await decision_service.publish_decisions(guard.session, meeting)
    await views.audit_published(guard, meeting, decisions=True, part="published")
    return _meeting_response(service.meeting_out(meeting), response)


# --- exports -----------------------------------------------------------------------------------

_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/meetings/{meeting_id}/agenda.html", response_class=Response)
async def agenda_html(meeting_id: uuid.UUID, guard: GuardDep) -> Response:
    meeting = await service.load_meeting(guard.session, meeting_id)
    role = await guard.require(Op.agenda_read, _target(meeting.conference_id), hidden_as="meeting")
    agenda = await views.agenda_for(guard, meeting, role, action="print")
    conference = await service.load_conference(guard.session, meeting.conference_id)
    html = exports.agenda_html(agenda, conference, chair=role == Role.chair)
    return Response(html, media_type="text/html; charset=utf-8", headers=_NO_STORE)


@router.get("/meetings/{meeting_id}/agenda.pdf", response_class=Response)
async def agenda_pdf(meeting_id: uuid.UUID, guard: GuardDep) -> Response:
    meeting = await service.load_meeting(guard.session, meeting_id)
    role = await guard.require(Op.agenda_read, _target(meeting.conference_id), hidden_as="meeting")
    agenda = await views.agenda_for(guard, meeting, role, action="export")
    conference = await service.load_conference(guard.session, meeting.conference_id)
    pdf = exports.agenda_pdf(agenda, conference, chair=role == Role.chair)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="agenda-{meeting_id}.pdf"'},
    )


@router.get("/meetings/{meeting_id}/decisions.html", response_class=Response)
async def decisions_html(meeting_id: uuid.UUID, guard: GuardDep) -> Response:
    decisions = await _decisions(guard, meeting_id, "print")
    conference = await service.load_conference(guard.session, decisions.meeting.conference_id)
    return Response(
        exports.decisions_html(decisions, conference),
        media_type="text/html; charset=utf-8",
        headers=_NO_STORE,
    )


@router.get("/meetings/{meeting_id}/decisions.pdf", response_class=Response)
async def decisions_pdf(meeting_id: uuid.UUID, guard: GuardDep) -> Response:
    decisions = await _decisions(guard, meeting_id, "export")
    conference = await service.load_conference(guard.session, decisions.meeting.conference_id)
    return Response(
        exports.decisions_pdf(decisions, conference),
        media_type="application/pdf",
        headers={
            **_NO_STORE,
            "Content-Disposition": f'attachment; filename="besluitenlijst-{meeting_id}.pdf"',
        },
    )


# --- calendar feed and digest ------------------------------------------------------------------


@router.post("/calendar-feeds", response_model=CalendarFeedOut, status_code=status.HTTP_201_CREATED)
async def create_calendar_feed(
    body: CalendarFeedCreate, guard: GuardDep, settings: SettingsDep
) -> CalendarFeedOut:
    """A new private feed URL for your membership in the conference (the previous one stops working)."""
    await guard.require(Op.meeting_read, _target(body.conference_id))
    own = guard.principal.membership_in(body.conference_id)
    assert own is not None
    token = await exports.rotate_feed_token(guard.session, own.id)
    return CalendarFeedOut(url=f"{settings.public_base_url.rstrip('/')}/api/v1/calendar/{token}.ics")


@router.get("/calendar/{token}.ics", response_class=Response, include_in_schema=True)
async def calendar_feed(token: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Subscribable without an Authorization header: the secret is the random token in the URL.
    Holds meeting dates only, never client data."""
    ics = await exports.feed_ics(session, token, base_url=settings.public_base_url)
    return Response(
        ics, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "private, max-age=300"}
    )


@router.get("/me/digest", response_model=Digest)
async def my_digest(guard: GuardDep, settings: SettingsDep, conference_id: uuid.UUID | None = None) -> Digest:
    """Your organisation's open actions: overdue, due soon, later."""
    await guard.require_member_somewhere(Access(action="list", resource_type="action", part="digest"))
    if conference_id is not None:
        await guard.require(Op.action_digest, _target(conference_id))
    out, shown = await exports.digest(
        guard.session,
        guard.principal,
        visible_actions(guard.principal),
        organisation_id=guard.principal.organisation_id,
        conference_id=conference_id,
        due_soon_days=settings.action_due_soon_days,
    )
    guard.record(
        *[
            Access(
                action="list",
                resource_type="action",
                resource_id=str(a),
                case_id=c,
                conference_id=conf,
                client_number=n,
                part="digest",
            )
            for a, c, conf, n in shown
        ]
    )
    return out


@router.get("/me/notifications", response_model=list[NotificationOut])
async def my_notifications(guard: GuardDep) -> list[NotificationOut]:
    """Reminders (actions due soon or overdue) and expiry warnings (mandates, agreements) for you
    and your organisation, from the last two weeks. Ids and dates only: open the action to see more."""
    if not guard.principal.organisation_admin:  # an organisation's administrators: its notices
        await guard.require_member_somewhere(Access(action="list", resource_type="notification"))
    return await notification_service.my_notifications(guard.session, guard.principal)
