"""Cases and their lifecycle through the four phases of the personal approach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Target
from app.auth.principal import Principal
from app.clock import clock
from app.errors import InvalidTransition, NotFound, UnprocessableEntity
from app.events import outbox
from app.models import Case, ChangeRecord, Client
from app.models.enums import PHASE_TRANSITIONS, Phase, Role
from app.schemas.cases import CaseUpdate, Transition
from app.services.common import diff, named_member, record_change


@dataclass(frozen=True)
class LoadedCase:
    case: Case
    client: Client

    @property
    def target(self) -> Target:
        return Target(conference_id=self.case.conference_id, case_id=self.case.id,
                      case_director_id=self.case.case_director_id, phase=self.case.phase)


async def load_case(session: AsyncSession, case_id: uuid.UUID, *, for_update: bool = False) -> LoadedCase:
    query = sa.select(Case, Client).join(Client, Client.id == Case.client_id).where(Case.id == case_id)
    if for_update:
        query = query.with_for_update(of=Case)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("case")
    return LoadedCase(row[0], row[1])


@dataclass(frozen=True)
class CaseFilter:
    """The case list's filters besides conference and phase (the web client's case list)."""

    flagged: bool = False  # an open flag (signal) on the case
    overdue_actions: bool = False  # an open action past its due date
    actions_of: uuid.UUID | None = None  # an open action owned by this organisation
    review_before: date | None = None  # the next review date falls before this day
    client_number: str | None = None  # exactly this client number
    # A part of the client's name, searched only in these conferences (the policy's
    # name_search_conferences: who may look a client up by identity there).
    client_name: str | None = None
    name_conferences: tuple[uuid.UUID, ...] = ()


def allowed_next(phase: str) -> list[Phase]:
    return list(PHASE_TRANSITIONS[Phase(phase)])


async def transition(session: AsyncSession, principal: Principal, *, case: Case, data: Transition) -> Case:
    current = Phase(case.phase)
    allowed = PHASE_TRANSITIONS[current]
    if data.to not in allowed:
        names = ", ".join(p.value for p in allowed) or "none (the case is closed)"
        raise InvalidTransition(
            f"A case cannot move from {current.value} to {data.to.value}; allowed next phases: {names}.",
            current_phase=current.value,
            allowed=[p.value for p in allowed],
        )
    if data.to is Phase.closed and data.closure_reason is None:
        raise UnprocessableEntity("Closing a case needs a closure_reason.", pointer="#/closure_reason")
    if data.to is not Phase.closed and data.closure_reason is not None:
        raise UnprocessableEntity("A closure_reason is only given when closing.", pointer="#/closure_reason")
    before = {"phase": case.phase, "closure_reason": case.closure_reason}
    case.phase = data.to
    if data.to is Phase.closed:
        case.closure_reason = data.closure_reason.value if data.closure_reason else None
        case.closed_at = clock.now()
    await _bump(session, principal, case, before)
    await outbox.enqueue(session, "case.phase_changed", {"case_id": str(case.id), "phase": case.phase},
                         case_id=case.id)
    return case


async def update_case(session: AsyncSession, principal: Principal, *, case: Case, data: CaseUpdate) -> Case:
    if case.phase == Phase.closed:
        raise InvalidTransition("A closed case cannot be changed.", allowed=[])
    fields = data.model_dump(exclude_unset=True)
    plain = fields.pop("client_plain_language", None)
    if "client_plain_language" in data.model_fields_set and plain is None:
        raise UnprocessableEntity("client_plain_language cannot be null: send true or false.",
                                  pointer="#/client_plain_language")
    for required in ("priority", "substances"):  # these always have a value; [] clears substances
        if required in fields and fields[required] is None:
            raise UnprocessableEntity(f"{required} cannot be null: leave it out to keep it"
                                      + (", or send [] to clear it." if required == "substances" else "."),
                                      pointer=f"#/{required}")
    if "case_director_id" in fields and fields["case_director_id"] is not None:
        await named_member(
            session, fields["case_director_id"], case.conference_id, Role.member, Role.chair,
            pointer="#/case_director_id", detail="The case director must be a member or the chair of this conference.",
        )
    if fields.get("next_review_date") is not None and fields["next_review_date"] < case.opened_on:
        raise UnprocessableEntity("The review date lies before the case was opened.", pointer="#/next_review_date")
    before = {k: getattr(case, k) for k in fields}
    for key, value in fields.items():
        setattr(case, key, value.value if hasattr(value, "value") else value)
    if plain is not None:
        client = await session.get(Client, case.client_id)
        if client is not None and client.plain_language != plain:
            record_change(session, principal, case_id=case.id, entity_type="client", entity_id=client.id,
                          version=case.version + 1, operation="update",
                          changes={"plain_language": {"from": client.plain_language, "to": plain}})
            client.plain_language = plain
            session.add(client)
    await _bump(session, principal, case, before)
    return case


async def _bump(session: AsyncSession, principal: Principal, case: Case, before: dict) -> None:
    after = {k: getattr(case, k) for k in before}
    changes = diff(before, after)
    # Optimistic concurrency in SQL too: a concurrent writer that passed the If-Match check at
    # the same moment finds no row at the old version and fails instead of overwriting.
    result = await session.execute(
        sa.update(Case)
        .where(Case.id == case.id, Case.version == case.version)
        .values(version=Case.version + 1, updated_at=clock.now())
        .returning(Case.version)
    )
    new_version = result.scalar_one_or_none()
    if new_version is None:
        from app.errors import PreconditionFailed

        raise PreconditionFailed("This case was changed by someone else at the same moment; read it again.")
    case.version = new_version
    case.updated_at = clock.now()
    record_change(
        session,
        principal,
        case_id=case.id,
        entity_type="case",
        entity_id=case.id,
        version=case.version,
        operation="update",
        changes=changes,
    )
    await session.flush()


async def history(session: AsyncSession, case_id: uuid.UUID) -> list[ChangeRecord]:
    return list(
        (
            await session.execute(
                sa.select(ChangeRecord)
                .where(ChangeRecord.case_id == case_id)
                .order_by(ChangeRecord.changed_at, ChangeRecord.version)
            )
        ).scalars()
    )
