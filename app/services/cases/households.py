"""Households and legal representatives (issue 17): clients of one household share one plan
coordinator, who becomes the case director of each of their cases (één gezin, één plan, één
regisseur); a client's legal representative is recorded with the basis of the representation and
signs agreements instead of or beside the client (app/services/agreements/lifecycle.py; a minor's
agreement needs a parent's or guardian's signature)."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, Read
from app.auth.policy import NeedToKnow, Op, authorize
from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, UnprocessableEntity
from app.models import Case, Client, ClientRepresentative, Household, HouseholdMember, Membership
from app.models.enums import Label, Role
from app.schemas.households import (
    CaseHouseholdOut,
    HouseholdCreate,
    HouseholdMemberOut,
    HouseholdOut,
    RepresentativeCreate,
    RepresentativeOut,
)
from app.services.cases.lifecycle import LoadedCase
from app.services.common import named_member, record_change
from app.services.need_to_know import need_to_know

ADULT_AGE = 18


def is_minor(born: date | None, on: date) -> bool:
    if born is None:
        return False
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day)) < ADULT_AGE


# --- households --------------------------------------------------------------------------------


async def create_household(session: AsyncSession, principal: Principal, *, conference_id: uuid.UUID,
                           data: HouseholdCreate) -> tuple[Household, list[Access]]:
    coordinator = await named_member(session, data.coordinator_id, conference_id, Role.chair, Role.member,
                                     pointer="/coordinator_id",
                                     detail="The coordinator must be an active member or the chair of this conference.")
    case_ids = [m.case_id for m in data.members]
    if len(set(case_ids)) != len(case_ids):
        raise UnprocessableEntity("Each case is named once.", pointer="/members")
    rows = {c.id: (c, number) for c, number in (await session.execute(
        sa.select(Case, col(Client.client_number)).join(Client, col(Client.id) == col(Case.client_id))
        .where(col(Case.id).in_(case_ids), col(Case.conference_id) == conference_id).with_for_update(of=Case)
    )).all()}
    for index, member in enumerate(data.members):
        if member.case_id not in rows:
            raise UnprocessableEntity("Not a case of this conference.", pointer=f"/members/{index}/case_id")
    household = Household(conference_id=conference_id, coordinator_id=coordinator.id,
                          created_by_id=_own(principal, conference_id))
    session.add(household)
    await session.flush()
    session.add_all([HouseholdMember(household_id=household.id, client_id=rows[m.case_id][0].client_id,
                                     relation=m.relation) for m in data.members])
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("One of these clients belongs to a household already.") from None
    accesses = []
    for member in data.members:
        case, number = rows[member.case_id]
        if case.case_director_id != coordinator.id:
            before = case.case_director_id
            case.case_director_id, case.version, case.updated_at = coordinator.id, case.version + 1, clock.now()
            record_change(session, principal, case_id=case.id, entity_type="case", entity_id=case.id,
                          version=case.version, operation="update",
                          changes={"case_director_id": {"from": str(before) if before else None,
                                                        "to": str(coordinator.id)}})
        accesses.append(Access(action="create", resource_type="household", resource_id=str(household.id),
                               case_id=case.id, conference_id=conference_id, client_number=number))
    await session.flush()
    return household, accesses


def _own(principal: Principal, conference_id: uuid.UUID) -> uuid.UUID:
    membership = principal.membership_in(conference_id)
    assert membership is not None  # the policy admitted a person of this conference
    return membership.id


async def household_view(session: AsyncSession, household: Household) -> HouseholdOut:
    members = (await session.execute(
        sa.select(HouseholdMember, Case.id, Client.client_number, Client.date_of_birth)
        .join(Client, col(Client.id) == col(HouseholdMember.client_id))
        .join(Case, col(Case.client_id) == col(Client.id))
        .where(col(HouseholdMember.household_id) == household.id)
        .order_by(col(HouseholdMember.relation), col(Client.client_number))
    )).all()
    coordinator = await session.get(Membership, household.coordinator_id)
    today = clock.today()
    return HouseholdOut(
        id=household.id, conference_id=household.conference_id, coordinator_id=household.coordinator_id,
        coordinator_name=coordinator.display_name if coordinator else "", created_at=household.created_at,
        members=[HouseholdMemberOut(case_id=case_id, client_id=m.client_id, client_number=number,
                                    relation=m.relation, minor=is_minor(born, today))
                 for m, case_id, number, born in members],
    )


async def household_read(session: AsyncSession, loaded: LoadedCase) -> Read[CaseHouseholdOut]:
    """The household of a case's client, with one access row per member client shown."""
    household = (await session.execute(
        sa.select(Household).join(HouseholdMember, col(HouseholdMember.household_id) == col(Household.id))
        .where(col(HouseholdMember.client_id) == loaded.client.id)
    )).scalar_one_or_none()
    own = Access(action="read", resource_type="household", case_id=loaded.case.id,
                 conference_id=loaded.case.conference_id, client_number=loaded.client.client_number,
                 part="household")
    if household is None:
        return Read(CaseHouseholdOut(household=None), (own,))
    view = await household_view(session, household)
    rows = [own] + [Access(action="read", resource_type="household", resource_id=str(household.id),
                           case_id=m.case_id, conference_id=household.conference_id, client_number=m.client_number,
                           part="household") for m in view.members if m.case_id != loaded.case.id]
    return Read(CaseHouseholdOut(household=view), tuple(rows))


# --- legal representatives ---------------------------------------------------------------------


def representative_access(loaded: LoadedCase, action: str, representative_id: uuid.UUID | None = None) -> Access:
    return Access(action=action, resource_type="representative",
                  resource_id=str(representative_id) if representative_id else None, case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number,
                  part="representatives")


def check_representative(data: RepresentativeCreate) -> None:
    if not data.basis.strip():
        raise UnprocessableEntity("Record the basis of the representation (a court order or parental authority, "
                                  "with its reference).", pointer="/basis")
    if data.valid_until is not None and data.valid_until < clock.today():
        raise UnprocessableEntity("The representation cannot have ended already.", pointer="/valid_until")


async def add_representative(session: AsyncSession, principal: Principal, loaded: LoadedCase,
                             data: RepresentativeCreate) -> ClientRepresentative:
    check_representative(data)
    row = ClientRepresentative(client_id=loaded.client.id, conference_id=loaded.case.conference_id, kind=data.kind,
                               name=data.name.strip(), basis=data.basis.strip(), valid_until=data.valid_until,
                               recorded_by_id=_own(principal, loaded.case.conference_id))
    session.add(row)
    await session.flush()
    record_change(session, principal, case_id=loaded.case.id, entity_type="representative", entity_id=row.id,
                  version=1, operation="create", changes={"kind": {"from": None, "to": data.kind.value},
                                                          "basis": {"changed": True}})
    return row


def representative_out(row: ClientRepresentative, ntk: NeedToKnow) -> RepresentativeOut:
    named, _ = ntk.sees(Label.identity, None)
    return RepresentativeOut(id=row.id, client_id=row.client_id, kind=row.kind, name=row.name if named else None,
                             basis=row.basis, valid_until=row.valid_until, created_at=row.created_at,
                             ended_at=row.ended_at)


async def representatives_read(session: AsyncSession, principal: Principal,
                               loaded: LoadedCase) -> Read[list[RepresentativeOut]]:
    ntk = await need_to_know(session, principal, loaded.case)
    rows = (await session.execute(
        sa.select(ClientRepresentative).where(col(ClientRepresentative.client_id) == loaded.client.id)
        .order_by(col(ClientRepresentative.created_at))
    )).scalars().all()
    return Read([representative_out(r, ntk) for r in rows], (representative_access(loaded, "list"),))


async def representative_created(session: AsyncSession, principal: Principal, loaded: LoadedCase,
                                 row: ClientRepresentative) -> Read[RepresentativeOut]:
    out = representative_out(row, await need_to_know(session, principal, loaded.case))
    return Read(out, (representative_access(loaded, "create", row.id),))


async def case_page_read(session: AsyncSession, principal: Principal,
                         loaded: LoadedCase) -> Read[tuple[CaseHouseholdOut, list[RepresentativeOut]] | None]:
    """The case page's household and representatives, for those who may read them (not guests)."""
    target = loaded.target
    if not (authorize(principal, Op.household_read, target).allowed
            and authorize(principal, Op.representative_read, target).allowed):
        return Read(None, ())
    household = await household_read(session, loaded)
    representatives = await representatives_read(session, principal, loaded)
    if household.data.household is None and not representatives.data:
        return Read(None, ())  # nothing to show: nothing read
    return Read((household.data, representatives.data), household.access + representatives.access)
