"""What a partner system may read about a case (scope `cases:read-minimal`): for a client its
organisation holds a reference for, in a conference its organisation takes part in, the case's
phase, the next meeting date, the case director's organisation and role, and its own
organisation's actions with status and due date. Nothing else: no names, no notes, no labelled
information. Every read is logged like a person's; a case it may not read answers exactly like a
missing one (and the refusal is logged)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, Read
from app.auth.principal import Principal
from app.clock import clock
from app.models import Action, Case, Client, ClientReference, Meeting, Membership, Organisation
from app.models.enums import MeetingStatus, Phase
from app.schemas.partners import MinimalAction, MinimalCase
from app.services.partners.references import organisation_takes_part

READ_SCOPE = "cases:read-minimal"


def minimal_access(case: Case | None, client: Client | None, case_id: uuid.UUID) -> Access:
    return Access(
        action="read",
        resource_type="case",
        resource_id=str(case_id),
        case_id=case.id if case else None,
        conference_id=case.conference_id if case else None,
        client_number=client.client_number if client else None,
        part="minimal",
        role="system",
    )


async def minimal_case_read(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID
) -> tuple[Read[MinimalCase] | None, Access]:
    """The minimal view and its access row, or None (and the row to log as refused) when the
    system's organisation holds no reference for the case's client or takes no part in its
    conference, or the case does not exist."""
    row = (
        await session.execute(
            sa.select(Case, Client)
            .join(Client, col(Client.id) == col(Case.client_id))
            .where(col(Case.id) == case_id, col(Client.anonymised_at).is_(None))
        )
    ).first()
    if row is None:
        return None, minimal_access(None, None, case_id)
    case, client = row
    access = minimal_access(case, client, case_id)
    references = list(
        (
            await session.execute(
                sa.select(col(ClientReference.reference))
                .where(
                    col(ClientReference.organisation_id) == principal.organisation_id,
                    col(ClientReference.client_id) == client.id,
                )
                .order_by(col(ClientReference.reference))
            )
        ).scalars()
    )
    if not references or not await organisation_takes_part(session, principal.organisation_id, case.conference_id):
        return None, access
    next_meeting = (
        await session.execute(
            sa.select(sa.func.min(col(Meeting.starts_at))).where(
                col(Meeting.conference_id) == case.conference_id,
                col(Meeting.status) == MeetingStatus.scheduled.value,
                col(Meeting.starts_at) >= clock.now(),
            )
        )
    ).scalar_one_or_none()
    director = None
    if case.case_director_id is not None:
        director = (
            await session.execute(
                sa.select(col(Membership.organisation_id), col(Organisation.name), col(Membership.role))
                .join(Organisation, col(Organisation.id) == col(Membership.organisation_id))
                .where(col(Membership.id) == case.case_director_id)
            )
        ).first()
    actions = (
        await session.execute(
            sa.select(col(Action.id), col(Action.status), col(Action.due_date))
            .where(col(Action.case_id) == case.id, col(Action.owner_organisation_id) == principal.organisation_id)
            .order_by(col(Action.due_date), col(Action.id))
        )
    ).all()
    view = MinimalCase(
        case_id=case.id,
        references=references,
        phase=case.phase,
        next_meeting_date=next_meeting.date() if next_meeting else None,
        case_director_organisation_id=director[0] if director else None,
        case_director_organisation=director[1] if director else None,
        case_director_role=director[2] if director else None,
        actions=[MinimalAction(id=a, status=s, due_date=d) for a, s, d in actions],
    )
    return Read(view, (access,)), access


async def case_of_reference(session: AsyncSession, principal: Principal, reference: str) -> uuid.UUID | None:
    """The case of the client the organisation's reference names (an open case first, else the
    most recent), or None."""
    return (
        await session.execute(
            sa.select(col(Case.id))
            .join(ClientReference, col(ClientReference.client_id) == col(Case.client_id))
            .where(
                col(ClientReference.organisation_id) == principal.organisation_id,
                col(ClientReference.reference) == reference,
            )
            .order_by(col(Case.phase) == Phase.closed, col(Case.opened_at).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
