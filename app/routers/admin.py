from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.audit import Access
from app.auth.policy import Op, Target
from app.deps import GuardDep
from app.schemas.admin import (
    ConferenceCreate,
    ConferenceOut,
    ConferenceUpdate,
    MandateCreate,
    MandateOut,
    MembershipCreate,
    MembershipOut,
    OrganisationCreate,
    OrganisationOut,
)
from app.services.access import conferences as service

router = APIRouter(tags=["administration"])


@router.get("/organisations", response_model=list[OrganisationOut])
async def list_organisations(guard: GuardDep) -> list[OrganisationOut]:
    await guard.require_member_somewhere(Access(action="list", resource_type="organisation"))
    return [OrganisationOut.model_validate(o) for o in await service.list_organisations(guard.session)]


@router.post("/organisations", status_code=status.HTTP_201_CREATED, response_model=OrganisationOut)
async def create_organisation(body: OrganisationCreate, guard: GuardDep) -> OrganisationOut:
    await guard.require_admin_somewhere(Access(action="create", resource_type="organisation"))
    return OrganisationOut.model_validate(await service.create_organisation(guard.session, guard.principal, body))


@router.get("/conferences", response_model=list[ConferenceOut])
async def list_conferences(guard: GuardDep) -> list[ConferenceOut]:
    mine = guard.principal.conference_ids()
    return [ConferenceOut.model_validate(c) for c in await service.list_conferences(guard.session, mine)]


@router.post("/conferences", status_code=status.HTTP_201_CREATED, response_model=ConferenceOut)
async def create_conference(body: ConferenceCreate, guard: GuardDep) -> ConferenceOut:
    """Create a conference; you become its first administrator, and your organisation takes part."""
    await guard.require_admin_somewhere(Access(action="create", resource_type="conference"))
    return ConferenceOut.model_validate(await service.create_conference(guard.session, guard.principal, body))


@router.patch("/conferences/{conference_id}", response_model=ConferenceOut)
async def update_conference(conference_id: uuid.UUID, body: ConferenceUpdate, guard: GuardDep) -> ConferenceOut:
    """Change the conference's settings (its administrators only): whether it takes part in
    known-elsewhere questions (docs/known-elsewhere.md)."""
    access = Access(action="update", resource_type="conference", resource_id=str(conference_id),
                    conference_id=conference_id)
    await guard.require(Op.admin_manage, Target(conference_id=conference_id), access, hidden_as="conference")
    return ConferenceOut.model_validate(await service.update_conference(guard.session, guard.principal,
                                                                        conference_id, body))


@router.get("/conferences/{conference_id}/memberships", response_model=list[MembershipOut])
async def list_memberships(conference_id: uuid.UUID, guard: GuardDep) -> list[MembershipOut]:
    await guard.require(Op.conference_read, Target(conference_id=conference_id))
    return [MembershipOut.model_validate(m) for m in await service.list_memberships(guard.session, conference_id)]


@router.post("/conferences/{conference_id}/memberships", status_code=status.HTTP_201_CREATED,
             response_model=MembershipOut)
async def create_membership(conference_id: uuid.UUID, body: MembershipCreate, guard: GuardDep) -> MembershipOut:
    """Give a person a role in the conference (its administrators only; never yourself)."""
    access = Access(action="create", resource_type="membership", conference_id=conference_id)
    await guard.require(Op.admin_manage, Target(conference_id=conference_id), access, hidden_as="conference")
    async with guard.refusals_logged(access):
        membership = await service.create_membership(guard.session, guard.principal, conference_id, body)
    return MembershipOut.model_validate(membership)


@router.get("/memberships/{membership_id}/mandates", response_model=list[MandateOut])
async def list_mandates(membership_id: uuid.UUID, guard: GuardDep) -> list[MandateOut]:
    membership = await service.load_membership(guard.session, membership_id)
    await guard.require(Op.conference_read, Target(conference_id=membership.conference_id), hidden_as="membership")
    return [MandateOut.model_validate(m) for m in await service.list_mandates(guard.session, membership_id)]


@router.post("/memberships/{membership_id}/mandates", status_code=status.HTTP_201_CREATED,
             response_model=MandateOut)
async def create_mandate(membership_id: uuid.UUID, body: MandateCreate, guard: GuardDep) -> MandateOut:
    membership = await service.load_membership(guard.session, membership_id)
    """Record a mandate of a member (the conference's administrators only; never your own)."""
    access = Access(action="create", resource_type="mandate", resource_id=str(membership_id),
                    conference_id=membership.conference_id)
    await guard.require(Op.admin_manage, Target(conference_id=membership.conference_id), access,
                        hidden_as="membership")
    async with guard.refusals_logged(access):
        mandate = await service.create_mandate(guard.session, guard.principal, membership, body)
    return MandateOut.model_validate(mandate)
