"""The case page's record of what was decided about a case: its phase changes (from the case
history, as GET /cases/{id}/history shows it) and the conference's decisions on it (as the
meeting's list of decisions shows them: the chair as recorded, others once the list is published).
Read paths: each returns `Read(data, access_rows)`; None (nothing read, nothing logged) for who may
read the case but not this part."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, Read
from app.auth.policy import Op, authorize
from app.auth.principal import Principal
from app.models import Decision, Meeting
from app.models.enums import Role
from app.schemas.cases import ChangeOut
from app.schemas.meetings import DecisionOut
from app.services.cases import lifecycle
from app.services.cases.present import change_out
from app.services.cases.reads import case_access


async def phase_changes_read(session: AsyncSession, principal: Principal,
                             loaded: lifecycle.LoadedCase) -> Read[list[ChangeOut] | None]:
    """The case's phase changes, oldest first, from its change history."""
    if not authorize(principal, Op.case_history, loaded.target).allowed:
        return Read(None, ())
    changes = [change_out(c) for c in await lifecycle.history(session, loaded.case.id)
               if c.entity_type == "case" and "phase" in (c.changes or {})]
    return Read(changes, (case_access(loaded, "read", "history"),))


async def decisions_read(session: AsyncSession, principal: Principal,
                         loaded: lifecycle.LoadedCase) -> Read[list[DecisionOut] | None]:
    """The conference's decisions on this case, oldest first."""
    if not authorize(principal, Op.decision_read, loaded.target).allowed:
        return Read(None, ())
    query = (sa.select(Decision).join(Meeting, col(Meeting.id) == col(Decision.meeting_id))
             .where(col(Decision.case_id) == loaded.case.id).order_by(col(Decision.created_at)))
    if principal.membership_in(loaded.case.conference_id, Role.chair) is None:
        query = query.where(col(Meeting.decisions_published_at).is_not(None))
    rows = list((await session.execute(query)).scalars())
    number = loaded.client.client_number
    shown = [DecisionOut(id=d.id, meeting_id=d.meeting_id, agenda_item_id=d.agenda_item_id, case_id=d.case_id,
                         client_number=number, text=d.text, action_ids=list(d.action_ids), actions=[],
                         phase_from=d.phase_from, phase_to=d.phase_to, new_review_date=d.new_review_date,
                         new_case_director_id=d.new_case_director_id, created_at=d.created_at) for d in rows]
    meetings = sorted({d.meeting_id for d in rows}, key=str)  # one row per meeting, as its list logs it
    access = tuple(Access(action="read", resource_type="decision", resource_id=str(m), case_id=loaded.case.id,
                          conference_id=loaded.case.conference_id, client_number=number, part="decisions")
                   for m in meetings)
    return Read(shown, access)
