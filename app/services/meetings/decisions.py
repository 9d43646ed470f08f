"""Decisions (besluiten) per agenda item, and the published list of decisions (besluitenlijst).

A decision reuses the foundation's services, so their rules hold here too: actions go through
`actions.create_action` (mandate check, owner organisation in the conference), a phase change
through `cases.transition`, a review date or case director through `cases.update_case`. All of
it happens in the request's one transaction: a refused part leaves nothing written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, NotFound, UnprocessableEntity
from app.models import Action, AgendaItem, Case, Client, Decision, Meeting, Referral
from app.models.enums import AgendaStatus, MeetingStatus, Role
from app.schemas.cases import CaseUpdate, Transition
from app.schemas.meetings import DecisionCreate, DecisionList, DecisionOut
from app.services.cases import actions as action_service
from app.services.cases import lifecycle as case_service
from app.services.cases.present import action_out
from app.services.meetings import announcements as meeting_events
from app.services.meetings.sittings import bump, meeting_out
from app.services.need_to_know import need_to_know_by_ids


def require_decidable(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.cancelled:
        raise Conflict("The meeting is cancelled: no decisions can be recorded.")
    if meeting.agenda_status != AgendaStatus.published:
        raise Conflict("Decisions are recorded on a published agenda; publish the agenda first.")
    if meeting.decisions_published_at is not None:
        raise Conflict("The list of decisions of this meeting has been published.")


async def record_decision(
    session: AsyncSession, principal: Principal, *, meeting: Meeting, item_id: uuid.UUID, data: DecisionCreate
) -> tuple[Decision, str]:
    require_decidable(meeting)
    item = await session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id or item.removed:
        raise NotFound("agenda item")
    chair = principal.membership_in(meeting.conference_id, Role.chair)
    assert chair is not None  # the policy admitted a chair
    if item.kind == "referral":
        if data.actions or data.phase or data.next_review_date or data.case_director_id:
            raise UnprocessableEntity(
                "A referral item only takes a text; accept or decline the referral to open a case.",
                pointer="#/actions",
            )
        referral = await session.get(Referral, item.referral_id)
        client = await session.get(Client, referral.client_id) if referral else None
        decision = Decision(
            meeting_id=meeting.id, agenda_item_id=item.id, text=data.text, decided_by_id=chair.id
        )
        session.add(decision)
        await session.flush()
        return decision, client.client_number if client else ""
    assert item.case_id is not None
    loaded = await case_service.load_case(session, item.case_id, for_update=True)
    case = loaded.case
    phase_from = case.phase
    action_ids: list[uuid.UUID] = []
    for index, action_data in enumerate(data.actions):
        try:
            action, _check = await action_service.create_action(
                session, principal, case=case, data=action_data, recorded_in_meeting=True
            )
        except UnprocessableEntity as exc:
            exc.detail = f"Action {index + 1}: {exc.detail}"
            for error in exc.extra.get("errors") or []:  # the field's place in the request body
                error["pointer"] = f"#/actions/{index}/" + str(error.get("pointer", "")).removeprefix("#/")
            raise
        action_ids.append(action.id)
    update: dict[str, Any] = {}
    if data.next_review_date is not None:
        update["next_review_date"] = data.next_review_date
    if data.case_director_id is not None:
        update["case_director_id"] = data.case_director_id
    if update:
        await case_service.update_case(session, principal, case=case, data=CaseUpdate(**update))
    if data.phase is not None:
        await case_service.transition(
            session,
            principal,
            case=case,
            data=Transition(to=data.phase.to, closure_reason=data.phase.closure_reason),
        )
    decision = Decision(
        meeting_id=meeting.id,
        agenda_item_id=item.id,
        case_id=case.id,
        text=data.text,
        action_ids=action_ids,
        phase_from=phase_from if data.phase else None,
        phase_to=data.phase.to.value if data.phase else None,
        new_review_date=data.next_review_date,
        new_case_director_id=data.case_director_id,
        decided_by_id=chair.id,
    )
    session.add(decision)
    await session.flush()
    return decision, loaded.client.client_number


async def publish_decisions(session: AsyncSession, meeting: Meeting) -> Meeting:
    """After the meeting: the list of decisions goes to the members; the meeting counts as held."""
    require_decidable(meeting)
    if clock.now() < meeting.starts_at:
        raise Conflict("The list of decisions is published after the meeting has started.")
    now = clock.now()
    await bump(session, meeting, decisions_published_at=now, status=MeetingStatus.held)
    await meeting_events.emit(
        session,
        meeting_events.DECISIONS_PUBLISHED,
        {"meeting_id": meeting.id, "conference_id": meeting.conference_id},
    )
    return meeting


@dataclass(frozen=True)
class DecisionsView:
    out: DecisionList
    clients: list[tuple[uuid.UUID | None, str]]


async def decisions_view(
    session: AsyncSession, meeting: Meeting, role: str | None, principal: Principal
) -> DecisionsView:
    """The chair sees decisions as they are recorded; members once the list is published."""
    published = meeting.decisions_published_at is not None
    if role != Role.chair and not published:
        raise NotFound(detail="The list of decisions of this meeting has not been published yet.")
    referral_client: Any = aliased(Client)
    rows = (
        await session.execute(
            sa.select(Decision, col(Client.client_number), referral_client.client_number.label("ref_number"))
            .join(AgendaItem, col(AgendaItem.id) == col(Decision.agenda_item_id))
            .outerjoin(Case, col(Case.id) == col(Decision.case_id))
            .outerjoin(Client, col(Client.id) == col(Case.client_id))
            .outerjoin(Referral, col(Referral.id) == col(AgendaItem.referral_id))
            .outerjoin(referral_client, referral_client.id == col(Referral.client_id))
            .where(col(Decision.meeting_id) == meeting.id)
            .order_by(col(AgendaItem.position), col(Decision.created_at))
        )
    ).all()
    all_ids = [a for row in rows for a in row[0].action_ids]
    actions = (
        {
            a.id: a
            for a in (
                await session.execute(sa.select(Action).where(col(Action.id).in_(all_ids)))
            ).scalars()
        }
        if all_ids
        else {}
    )
    ntks = await need_to_know_by_ids(session, principal, [a.case_id for a in actions.values()])
    items = []
    clients: list[tuple[uuid.UUID | None, str]] = []
    for row in rows:
        decision: Decision = row[0]
        number = row.client_number or row.ref_number or ""
        items.append(
            DecisionOut(
                id=decision.id,
                meeting_id=decision.meeting_id,
                agenda_item_id=decision.agenda_item_id,
                case_id=decision.case_id,
                client_number=number,
                text=decision.text,
                action_ids=list(decision.action_ids),
                actions=[action_out(actions[a], number, ntks[actions[a].case_id])
                         for a in decision.action_ids if a in actions],
                phase_from=decision.phase_from,
                phase_to=decision.phase_to,
                new_review_date=decision.new_review_date,
                new_case_director_id=decision.new_case_director_id,
                created_at=decision.created_at,
            )
        )
        clients.append((decision.case_id, number))
    return DecisionsView(
        out=DecisionList(meeting=meeting_out(meeting), published=published, items=items), clients=clients
    )
