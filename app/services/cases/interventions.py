"""Interventions: each organisation's catalogue of standard interventions (Moti-4, Wiet-Check, a
home visit, a short intervention), kept by its own people, and actions created from them."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.errors import NotFound, UnprocessableEntity
from app.models import Action, Case, Intervention, Organisation
from app.models.enums import LifeDomain
from app.schemas.cases import ActionCreate
from app.schemas.interventions import (
    ActionFromIntervention,
    InterventionCreate,
    InterventionOut,
    InterventionUpdate,
)
from app.services.access.changes import record_admin_change, snapshot
from app.services.cases.actions import MandateCheck, create_action

FIELDS = ("organisation_id", "name", "description", "life_domain", "label", "active")


def intervention_out(i: Intervention) -> InterventionOut:
    return InterventionOut(id=i.id, organisation_id=i.organisation_id, name=i.name, description=i.description,
                           life_domain=LifeDomain(i.life_domain), label=i.label, active=i.active, version=i.version)


async def list_interventions(session: AsyncSession, organisation_id: uuid.UUID, *,
                             active: bool | None) -> list[Intervention]:
    if await session.get(Organisation, organisation_id) is None:
        raise NotFound("organisation")
    query = sa.select(Intervention).where(col(Intervention.organisation_id) == organisation_id)
    if active is not None:
        query = query.where(col(Intervention.active).is_(active))
    return list((await session.execute(query.order_by(col(Intervention.name)))).scalars())


async def create_intervention(session: AsyncSession, principal: Principal, organisation_id: uuid.UUID,
                              data: InterventionCreate) -> Intervention:
    intervention = Intervention(organisation_id=organisation_id, name=data.name, description=data.description,
                                life_domain=data.life_domain.value, label=data.label.value if data.label else None)
    session.add(intervention)
    await session.flush()
    record_admin_change(session, principal, entity_type="intervention", entity_id=intervention.id,
                        operation="create", after=snapshot(intervention, FIELDS), organisation_id=organisation_id)
    return intervention


async def load_intervention(session: AsyncSession, intervention_id: uuid.UUID) -> Intervention:
    found = await session.get(Intervention, intervention_id)
    if found is None:
        raise NotFound("intervention")
    return found


async def update_intervention(session: AsyncSession, principal: Principal, intervention: Intervention,
                              data: InterventionUpdate) -> Intervention:
    before = snapshot(intervention, FIELDS)
    changes = data.model_dump(exclude_unset=True)
    for name in ("name", "description", "active"):
        if changes.get(name) is not None:
            setattr(intervention, name, changes[name])
    if data.life_domain is not None:
        intervention.life_domain = data.life_domain.value
    if "label" in changes:
        intervention.label = data.label.value if data.label else None
    intervention.updated_at = clock.now()
    intervention.version += 1
    await session.flush()
    record_admin_change(session, principal, entity_type="intervention", entity_id=intervention.id,
                        operation="update", before=before, after=snapshot(intervention, FIELDS),
                        organisation_id=intervention.organisation_id)
    return intervention


async def create_action_from(session: AsyncSession, principal: Principal, *, case: Case,
                             data: ActionFromIntervention) -> tuple[Action, MandateCheck]:
    """An action prefilled from the catalogue: the intervention's name as its title, its
    organisation as the owner, its life domain and label; the rest of the rules as for any action
    (the owner takes part in the conference, the assignee belongs to it, the caller commits)."""
    intervention = await session.get(Intervention, data.intervention_id)
    if intervention is None or not intervention.active:
        raise UnprocessableEntity("No such intervention in a catalogue, or it is no longer offered.",
                                  pointer="#/intervention_id")
    action, check = await create_action(session, principal, case=case, data=ActionCreate(
        title=intervention.name,
        description=data.description if data.description is not None else intervention.description,
        life_domain=LifeDomain(intervention.life_domain),
        owner_organisation_id=intervention.organisation_id,
        assignee_id=data.assignee_id,
        due_date=data.due_date,
    ))
    action.label = intervention.label
    action.intervention_id = intervention.id
    await session.flush()
    return action, check
