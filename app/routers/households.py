"""Households and legal representatives (issue 17). The work is in app/services/cases/households.py;
a representative's signature goes through the agreements' client-signature route."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.audit import Access, Read
from app.auth.policy import Op, Target
from app.deps import GuardDep
from app.errors import Conflict, UnprocessableEntity
from app.schemas.households import (
    CaseHouseholdOut,
    HouseholdCreate,
    HouseholdOut,
    RepresentativeCreate,
    RepresentativeOut,
)
from app.services.cases import households as service
from app.services.cases import lifecycle

router = APIRouter(tags=["households"])


@router.post("/conferences/{conference_id}/households", status_code=201, response_model=HouseholdOut)
async def create_household(conference_id: uuid.UUID, body: HouseholdCreate, guard: GuardDep) -> HouseholdOut:
    """Link the clients of one household (by their cases) with one plan coordinator, who becomes the
    case director of each case. The chair only."""
    access = Access(action="create", resource_type="household", conference_id=conference_id)
    await guard.require(Op.household_manage, Target(conference_id=conference_id), access, hidden_as="conference")
    try:
        household, rows = await service.create_household(guard.session, guard.principal,
                                                         conference_id=conference_id, data=body)
    except (UnprocessableEntity, Conflict):
        await guard.audit.denied(access)
        raise
    return guard.deliver(Read(await service.household_view(guard.session, household), tuple(rows)))


@router.get("/cases/{case_id}/household", response_model=CaseHouseholdOut)
async def case_household(case_id: uuid.UUID, guard: GuardDep) -> CaseHouseholdOut:
    """The household of the case's client: its members' cases and the one coordinator."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    await guard.require(Op.household_read, loaded.target,
                        Access(action="read", resource_type="household", case_id=loaded.case.id,
                               conference_id=loaded.case.conference_id, client_number=loaded.client.client_number),
                        hidden_as="case")
    return guard.deliver(await service.household_read(guard.session, loaded))


@router.get("/cases/{case_id}/representatives", response_model=list[RepresentativeOut])
async def list_representatives(case_id: uuid.UUID, guard: GuardDep) -> list[RepresentativeOut]:
    """The client's legal representatives, with the basis of each representation."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    await guard.require(Op.representative_read, loaded.target, service.representative_access(loaded, "list"),
                        hidden_as="case")
    return guard.deliver(await service.representatives_read(guard.session, guard.principal, loaded))


@router.post("/cases/{case_id}/representatives", status_code=201, response_model=RepresentativeOut)
async def add_representative(case_id: uuid.UUID, body: RepresentativeCreate, guard: GuardDep) -> RepresentativeOut:
    """Record a legal representative (curator, mentor, parent, guardian) with the basis of the
    representation (required). The chair or the case director."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    access = service.representative_access(loaded, "create")
    await guard.require(Op.representative_manage, loaded.target, access, hidden_as="case")
    try:
        row = await service.add_representative(guard.session, guard.principal, loaded, body)
    except UnprocessableEntity:
        await guard.audit.denied(access)
        raise
    return guard.deliver(await service.representative_created(guard.session, guard.principal, loaded, row))
