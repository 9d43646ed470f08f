"""Each organisation's catalogue of interventions (Moti-4, Wiet-Check, a home visit, a short
intervention): read by every signed-in person, kept by the organisation's own administrators,
chairs and members. Not client data: the same for every client."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.audit import Access
from app.deps import GuardDep
from app.schemas.interventions import InterventionCreate, InterventionOut, InterventionUpdate
from app.services.cases import interventions as service

router = APIRouter(tags=["interventions"])


def _access(action: str, organisation_id: uuid.UUID | None, intervention_id: uuid.UUID | None = None) -> Access:
    return Access(action=action, resource_type="intervention",
                  resource_id=str(intervention_id or organisation_id) if (intervention_id or organisation_id) else None)


@router.get("/organisations/{organisation_id}/interventions", response_model=list[InterventionOut])
async def list_interventions(organisation_id: uuid.UUID, guard: GuardDep,
                             active: bool | None = None) -> list[InterventionOut]:
    await guard.require_interventions(_access("list", organisation_id))
    rows = await service.list_interventions(guard.session, organisation_id, active=active)
    return [service.intervention_out(i) for i in rows]


@router.post("/organisations/{organisation_id}/interventions", status_code=status.HTTP_201_CREATED,
             response_model=InterventionOut)
async def create_intervention(organisation_id: uuid.UUID, body: InterventionCreate,
                              guard: GuardDep) -> InterventionOut:
    await guard.require_interventions(_access("create", organisation_id), keeper_of=organisation_id)
    intervention = await service.create_intervention(guard.session, guard.principal, organisation_id, body)
    return service.intervention_out(intervention)


@router.patch("/interventions/{intervention_id}", response_model=InterventionOut)
async def update_intervention(intervention_id: uuid.UUID, body: InterventionUpdate,
                              guard: GuardDep) -> InterventionOut:
    intervention = await service.load_intervention(guard.session, intervention_id)
    await guard.require_interventions(_access("update", None, intervention.id),
                                      keeper_of=intervention.organisation_id)
    intervention = await service.update_intervention(guard.session, guard.principal, intervention, body)
    return service.intervention_out(intervention)
