"""Actions and the mandate check: a resource claim is covered only by a valid, sufficient mandate."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, Forbidden, NotFound, PreconditionFailed, UnprocessableEntity
from app.events import outbox
from app.models import Action, Case, Client, ConferenceOrganisation, Mandate, Membership, Notification
from app.models.enums import ActionStatus, Coverage, Phase, Role
from app.models.predicates import action_is_open, is_open_action
from app.schemas.cases import ActionCreate, ActionUpdate
from app.services.common import diff, named_member, paged, record_change


@dataclass(frozen=True)
class MandateCheck:
    coverage: Coverage
    mandate_id: uuid.UUID | None
    reason: str


async def check_mandate(
    session: AsyncSession,
    *,
    committer: Membership,
    owner_organisation_id: uuid.UUID,
    scope: str | None,
    amount_cents: int | None,
    on: date,
) -> MandateCheck:
    if scope is None:
        return MandateCheck(Coverage.not_applicable, None, "no resource claimed")
    if committer.organisation_id != owner_organisation_id:
        return MandateCheck(
            Coverage.escalation_required, None, "the committing member does not belong to the owner organisation"
        )
    mandates = (
        await session.execute(
            sa.select(Mandate).where(Mandate.membership_id == committer.id, Mandate.scope == scope)
        )
    ).scalars().all()
    if not mandates:
        return MandateCheck(Coverage.escalation_required, None, f"no mandate for {scope}")
    valid = [m for m in mandates if m.valid_from <= on and (m.valid_to is None or on <= m.valid_to)]
    if not valid:
        return MandateCheck(Coverage.escalation_required, None, f"the mandate for {scope} is not valid on {on}")
    for mandate in valid:
        if mandate.max_amount_cents is None or (amount_cents or 0) <= mandate.max_amount_cents:
            return MandateCheck(Coverage.covered, mandate.id, "covered by mandate")
    return MandateCheck(Coverage.escalation_required, None, f"the amount exceeds the mandate for {scope}")


class CommitmentRefused(Forbidden):
    """The caller named someone else as the committer outside a meeting's decision."""


async def _committer(
    session: AsyncSession, principal: Principal, *, case: Case, data: ActionCreate, recorded_in_meeting: bool
) -> Membership:
    """Who commits the owner organisation, and so whose mandates count: the caller, or (only in
    a decision the chair records during a meeting) a member of the owner organisation there.
    Anyone else's membership would let a caller borrow a mandate that is not theirs."""
    own_ids = {m.id for m in principal.memberships if m.conference_id == case.conference_id}
    wanted = data.committed_by_id
    if wanted is None or wanted in own_ids:
        own = next(
            (m for m in principal.memberships if m.id == wanted),
            principal.membership_in(case.conference_id, Role.member, Role.chair)
            or principal.membership_in(case.conference_id),
        )
        if own is None:
            raise CommitmentRefused("Only members of the conference commit actions.")
        found = await session.get(Membership, own.id)
        if found is None or not found.active:
            raise CommitmentRefused("Your membership is not active.")
        return found
    if not recorded_in_meeting or Role.chair not in principal.roles_in(case.conference_id):
        raise CommitmentRefused(
            "You commit actions yourself: leave committed_by_id out (or name your own membership). "
            "Only the chair records another member's commitment, in a decision during a meeting."
        )
    committer = await named_member(session, wanted, case.conference_id, pointer="#/committed_by_id")
    if committer.organisation_id != data.owner_organisation_id or committer.role not in (Role.member, Role.chair):
        raise UnprocessableEntity(
            "The committing member must be a delegate of the owner organisation in this conference.",
            pointer="#/committed_by_id",
        )
    return committer


async def create_action(
    session: AsyncSession,
    principal: Principal,
    *,
    case: Case,
    data: ActionCreate,
    recorded_in_meeting: bool = False,
) -> tuple[Action, MandateCheck]:
    """`recorded_in_meeting`: the chair records the action in a decision of a meeting, where
    another member present may commit their organisation (app/services/meetings/decisions.py)."""
    if case.phase == Phase.closed:
        raise Conflict("No new actions on a closed case.")
    takes_part = (
        await session.execute(
            sa.select(ConferenceOrganisation).where(
                ConferenceOrganisation.conference_id == case.conference_id,
                ConferenceOrganisation.organisation_id == data.owner_organisation_id,
            )
        )
    ).first()
    if takes_part is None:
        raise UnprocessableEntity(
            "The owner organisation does not take part in this conference.", pointer="#/owner_organisation_id"
        )
    if data.assignee_id is not None:
        assignee = await named_member(session, data.assignee_id, case.conference_id, pointer="#/assignee_id")
        if assignee.organisation_id != data.owner_organisation_id:
            raise UnprocessableEntity(
                "The assignee must belong to the owner organisation.", pointer="#/assignee_id"
            )
    if data.due_date < case.opened_on:
        raise UnprocessableEntity("The due date lies before the case was opened.", pointer="#/due_date")
    if (data.resource_scope is None) != (data.resource_amount_cents is None) and data.resource_amount_cents:
        raise UnprocessableEntity("A resource amount needs a resource scope.", pointer="#/resource_scope")
    committer = await _committer(
        session, principal, case=case, data=data, recorded_in_meeting=recorded_in_meeting
    )
    check = await check_mandate(
        session,
        committer=committer,
        owner_organisation_id=data.owner_organisation_id,
        scope=data.resource_scope.value if data.resource_scope else None,
        amount_cents=data.resource_amount_cents,
        on=clock.today(),
    )
    action = Action(
        case_id=case.id,
        conference_id=case.conference_id,
        title=data.title,
        description=data.description,
        life_domain=data.life_domain.value,
        owner_organisation_id=data.owner_organisation_id,
        assignee_id=data.assignee_id,
        due_date=data.due_date,
        resource_scope=data.resource_scope.value if data.resource_scope else None,
        resource_amount_cents=data.resource_amount_cents,
        committed_by_id=committer.id,
        mandate_id=check.mandate_id,
        coverage=check.coverage.value,
    )
    session.add(action)
    await session.flush()
    record_change(
        session,
        principal,
        case_id=case.id,
        entity_type="action",
        entity_id=action.id,
        version=1,
        operation="create",
        changes={"status": {"from": None, "to": action.status}, "coverage": {"from": None, "to": action.coverage}},
    )
    await outbox.enqueue(session, "action.created", {"case_id": str(case.id), "action_id": str(action.id)},
                         organisation_ids=[action.owner_organisation_id])
    if check.coverage == Coverage.escalation_required:
        # The owner organisation's people see that the commitment waits for a mandate from their line
        # (the chair sees it at /conferences/{id}/escalations and on the agenda).
        session.add(Notification(kind="mandate_escalation", conference_id=case.conference_id,
                                 organisation_id=action.owner_organisation_id, ref_type="action", ref_id=action.id,
                                 on_date=clock.today(), due_on=action.due_date))
    return action, check


async def load_action(session: AsyncSession, action_id: uuid.UUID) -> tuple[Action, Case, str]:
    row = (
        await session.execute(
            sa.select(Action, Case, Client.client_number)
            .join(Case, Case.id == Action.case_id)
            .join(Client, Client.id == Case.client_id)
            .where(Action.id == action_id)
        )
    ).first()
    if row is None:
        raise NotFound("action")
    return row[0], row[1], row[2]


async def update_action(
    session: AsyncSession, principal: Principal, *, action: Action, case: Case, data: ActionUpdate
) -> Action:
    fields = data.model_dump(exclude_unset=True)
    if not fields:
        raise UnprocessableEntity("Nothing to change.", pointer="#/")
    if case.phase == Phase.closed:
        raise Conflict("Actions of a closed case cannot be changed.")
    if fields.get("due_date") is not None and fields["due_date"] < case.opened_on:
        raise UnprocessableEntity("The due date lies before the case was opened.", pointer="#/due_date")
    if fields.get("assignee_id") is not None:
        assignee = await named_member(session, fields["assignee_id"], case.conference_id, pointer="#/assignee_id")
        if assignee.organisation_id != action.owner_organisation_id:
            raise UnprocessableEntity("The assignee must belong to the owner organisation.", pointer="#/assignee_id")
    for required in ("title", "status", "due_date"):
        if required in fields and fields[required] is None:
            raise UnprocessableEntity(f"{required} cannot be empty.", pointer=f"#/{required}")
    before = {k: getattr(action, k) for k in fields}
    for key, value in fields.items():
        setattr(action, key, value.value if isinstance(value, ActionStatus) else value)
    after = {k: getattr(action, k) for k in fields}
    result = await session.execute(
        sa.update(Action)
        .where(Action.id == action.id, Action.version == action.version)
        .values(version=Action.version + 1, updated_at=clock.now())
        .returning(Action.version)
    )
    new_version = result.scalar_one_or_none()
    if new_version is None:
        raise PreconditionFailed("This action was changed by someone else at the same moment; read it again.")
    action.version = new_version
    action.updated_at = clock.now()
    record_change(
        session,
        principal,
        case_id=case.id,
        entity_type="action",
        entity_id=action.id,
        version=action.version,
        operation="update",
        changes=diff(before, after),
    )
    await session.flush()
    return action


@dataclass(frozen=True)
class ActionFilter:
    case_id: uuid.UUID | None = None
    conference_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    status: list[str] | None = None
    open_only: bool = False  # app/models/predicates.py action_is_open
    due_before: date | None = None
    due_after: date | None = None
    coverage: str | None = None


async def list_actions(
    session: AsyncSession,
    visibility: sa.ColumnElement[bool],
    flt: ActionFilter,
    *,
    limit: int,
    offset: int,
    with_total: bool = True,
) -> tuple[list[tuple[Action, str]], int]:
    where = [visibility]
    if flt.case_id is not None:
        where.append(Action.case_id == flt.case_id)
    if flt.conference_id is not None:
        where.append(Action.conference_id == flt.conference_id)
    if flt.assignee_id is not None:
        where.append(Action.assignee_id == flt.assignee_id)
    if flt.organisation_id is not None:
        where.append(Action.owner_organisation_id == flt.organisation_id)
    if flt.status:
        where.append(Action.status.in_(flt.status))  # type: ignore[attr-defined]
    if flt.open_only:
        where.append(action_is_open())
    if flt.due_before is not None:
        where.append(Action.due_date <= flt.due_before)
    if flt.due_after is not None:
        where.append(Action.due_date >= flt.due_after)
    if flt.coverage is not None:
        where.append(Action.coverage == flt.coverage)
    rows, total = await paged(
        session,
        sa.select(Action, Client.client_number)
        .join(Case, Case.id == Action.case_id)
        .join(Client, Client.id == Case.client_id)
        .order_by(Action.due_date, Action.id),
        count_from=Action, where=where, limit=limit, offset=offset, with_total=with_total,
    )
    return [(r[0], r[1]) for r in rows], total


def is_overdue(action: Action) -> bool:
    return is_open_action(action) and action.due_date < clock.today()
