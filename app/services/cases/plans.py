"""Plans (goals per life domain, the client's own goals) and ZRM assessments."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, NotFound, PreconditionFailed, UnprocessableEntity
from app.models import Assessment, Case, Goal, Plan
from app.models.enums import LifeDomain, Phase
from app.schemas.cases import AssessmentCreate, DomainTrend, PlanUpdate
from app.services.common import record_change


async def load_plan(session: AsyncSession, case_id: uuid.UUID) -> tuple[Plan, list[Goal]]:
    plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case_id))).scalar_one_or_none()
    if plan is None:
        raise NotFound("plan")
    goals = list(
        (
            await session.execute(
                sa.select(Goal).where(Goal.plan_id == plan.id).order_by(Goal.position, Goal.id)
            )
        ).scalars()
    )
    return plan, goals


async def update_plan(
    session: AsyncSession, principal: Principal, *, case: Case, plan: Plan, goals: list[Goal], data: PlanUpdate
) -> tuple[Plan, list[Goal]]:
    if case.phase == Phase.closed:
        raise Conflict("The plan of a closed case cannot be changed.")
    changes: dict = {}
    if data.client_goals is not None and data.client_goals != plan.client_goals:
        plan.client_goals = data.client_goals
        changes["client_goals"] = {"changed": True}
    if data.goals is not None:
        old = sorted(g.life_domain for g in goals)
        for goal in goals:
            await session.delete(goal)
        goals = [
            Goal(plan_id=plan.id, life_domain=g.life_domain.value, description=g.description, position=i)
            for i, g in enumerate(data.goals)
        ]
        session.add_all(goals)
        changes["goals"] = {"from": old, "to": sorted(g.life_domain for g in goals)}
    result = await session.execute(
        sa.update(Plan)
        .where(Plan.id == plan.id, Plan.version == plan.version)
        .values(version=Plan.version + 1, updated_at=clock.now())
        .returning(Plan.version)
    )
    new_version = result.scalar_one_or_none()
    if new_version is None:
        raise PreconditionFailed("This plan was changed by someone else at the same moment; read it again.")
    plan.version = new_version
    plan.updated_at = clock.now()
    record_change(
        session,
        principal,
        case_id=case.id,
        entity_type="plan",
        entity_id=plan.id,
        version=plan.version,
        operation="update",
        changes=changes,
    )
    await session.flush()
    return plan, goals


async def add_assessment(
    session: AsyncSession, principal: Principal, *, case: Case, data: AssessmentCreate, assessor_id: uuid.UUID
) -> Assessment:
    if data.assessed_on < case.opened_on:
        raise UnprocessableEntity("An assessment cannot predate the case.", pointer="#/assessed_on")
    if data.assessed_on > clock.today():
        raise UnprocessableEntity("An assessment cannot lie in the future.", pointer="#/assessed_on")
    exists = (
        await session.execute(
            sa.select(Assessment.id).where(Assessment.case_id == case.id, Assessment.assessed_on == data.assessed_on)
        )
    ).first()
    if exists:
        raise Conflict("There is already an assessment on this date for this case.")
    assessment = Assessment(
        case_id=case.id,
        assessed_on=data.assessed_on,
        assessed_by_id=assessor_id,
        scores={d.value: s for d, s in data.scores.items()},
    )
    session.add(assessment)
    await session.flush()
    record_change(
        session,
        principal,
        case_id=case.id,
        entity_type="assessment",
        entity_id=assessment.id,
        version=1,
        operation="create",
        changes={"domains": {"from": None, "to": sorted(assessment.scores)}},
    )
    return assessment


async def assessments_of(session: AsyncSession, case_id: uuid.UUID) -> list[Assessment]:
    return list(
        (
            await session.execute(
                sa.select(Assessment).where(Assessment.case_id == case_id).order_by(Assessment.assessed_on)
            )
        ).scalars()
    )


_ZRM_ORDER = tuple((domain, domain.value) for domain in LifeDomain)


def trend(assessments: list[Assessment]) -> list[DomainTrend]:
    """First and latest score per life domain, in the order of the ZRM."""
    result = []
    for domain, key in _ZRM_ORDER:
        scores = [a.scores[key] for a in assessments if key in a.scores]
        if scores:
            result.append(
                DomainTrend(life_domain=domain, first=scores[0], latest=scores[-1], change=scores[-1] - scores[0])
            )
    return result
