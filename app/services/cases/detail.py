"""Everything the case detail needs, in one statement (issue 16: case detail in at most four
statements with the access log, BEGIN and COMMIT).

The case and its client come back as rows; each part that hangs off the case (the bases in force
for need to know, an open break-glass, the plan, goals, assessments, actions, the checklist's facts
and ticks) comes back as one JSON array built by PostgreSQL. Nothing here decides what is shown:
the read path (app/services/cases/reads.py) hands the parts to the same need-to-know and
presentation code as every other read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.auth.policy import visible_actions
from app.auth.principal import Principal
from app.clock import clock
from app.errors import NotFound
from app.models import (
    Action,
    Agreement,
    Assessment,
    BreakGlass,
    Case,
    ChangeRecord,
    ChecklistTick,
    Client,
    ConsentWithdrawal,
    Goal,
    LegalBasis,
    Plan,
)
from app.models.predicates import agreement_is_active, agreement_is_signed_unexpired
from app.services.agreements.lifecycle import BasesInForce, effective_scope
from app.services.cases.checklist import ChecklistFacts
from app.services.cases.lifecycle import LoadedCase

M = TypeVar("M", bound=SQLModel)


def _json_rows(stmt: sa.Select[Any], *order_by: str) -> sa.ScalarSelect[Any]:
    """The rows of `stmt` as one JSON array (empty: []), in the given order."""
    rows = stmt.subquery("r")
    whole_row = rows.table_valued()
    aggregated = sa.func.json_agg(aggregate_order_by(whole_row, *(rows.c[name] for name in order_by))
                                  if order_by else whole_row)
    return sa.select(sa.func.coalesce(aggregated, sa.literal_column("'[]'::json"))).scalar_subquery()


def _all(model: type[M]) -> sa.Select[Any]:
    return sa.select(*model.__table__.columns)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CaseDetailParts:
    loaded: LoadedCase
    bases: BasesInForce
    break_glass_ids: list[uuid.UUID]
    plan: Plan
    goals: list[Goal]
    assessments: list[Assessment]
    actions: list[Action]
    checklist: ChecklistFacts
    ticks: list[ChecklistTick]


def _models(model: type[M], rows: list[dict[str, Any]] | None) -> list[M]:
    return [model.model_validate(row) for row in rows or []]


async def load_case_detail(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> CaseDetailParts:
    now = clock.now()
    today = now.date()
    active = sa.select(col(Agreement.id)).where(col(Agreement.case_id) == case_id, agreement_is_active(today))
    memberships = sorted(principal.membership_ids())
    plan_ids = sa.select(col(Plan.id)).where(col(Plan.case_id) == case_id)
    first_goals = sa.select(sa.func.min(ChangeRecord.changed_at)).where(
        col(ChangeRecord.case_id) == case_id,
        col(ChangeRecord.entity_type) == "plan",
        col(ChangeRecord.changes).has_key("goals"),  # type: ignore[attr-defined]
    ).scalar_subquery()
    statement = (
        sa.select(
            Case,
            Client,
            _json_rows(_all(Agreement).where(col(Agreement.id).in_(active)), "id"),
            _json_rows(_all(ConsentWithdrawal).where(col(ConsentWithdrawal.agreement_id).in_(active)),
                       "effective_at", "id"),
            _json_rows(_all(LegalBasis).where(
                col(LegalBasis.case_id) == case_id, col(LegalBasis.ended_at).is_(None),
                col(LegalBasis.starts_on) <= today, col(LegalBasis.ends_on) >= today,
            ), "id"),
            _json_rows(sa.select(col(BreakGlass.id)).where(
                col(BreakGlass.case_id) == case_id,
                col(BreakGlass.membership_id).in_(memberships) if memberships else sa.false(),
                col(BreakGlass.expires_at) > now,
            ), "id"),
            _json_rows(_all(Plan).where(col(Plan.case_id) == case_id)),
            _json_rows(_all(Goal).where(col(Goal.plan_id).in_(plan_ids)), "position", "id"),
            _json_rows(_all(Assessment).where(col(Assessment.case_id) == case_id), "assessed_on", "id"),
            _json_rows(_all(Action).where(col(Action.case_id) == case_id, visible_actions(principal)),
                       "due_date", "id"),
            sa.exists().where(col(Agreement.case_id) == case_id, agreement_is_signed_unexpired(today)),
            sa.exists().where(col(Goal.plan_id).in_(plan_ids)),
            first_goals,
            _json_rows(_all(ChecklistTick).where(col(ChecklistTick.case_id) == case_id), "item"),
        )
        .join(Client, col(Client.id) == col(Case.client_id))
        .where(col(Case.id) == case_id)
    )
    row = (await session.execute(statement)).first()
    if row is None:
        raise NotFound("case")
    (case, client, agreements, withdrawals, legal, glass, plans, goals, assessments, actions,
     signed, has_goals, goals_made, ticks) = row
    plan_rows = _models(Plan, plans)
    if not plan_rows:
        raise NotFound("plan")
    plan = plan_rows[0]
    withdrawn = _models(ConsentWithdrawal, withdrawals)
    in_force = []
    for agreement in _models(Agreement, agreements):
        scope = effective_scope(agreement, withdrawn, now)
        if scope:
            in_force.append((agreement, scope))
    made: datetime | None = goals_made or plan.updated_at
    return CaseDetailParts(
        loaded=LoadedCase(case, client),
        bases=BasesInForce(in_force, _models(LegalBasis, legal)),
        break_glass_ids=[uuid.UUID(r["id"]) for r in glass],
        plan=plan,
        goals=_models(Goal, goals),
        assessments=_models(Assessment, assessments),
        actions=_models(Action, actions),
        checklist=ChecklistFacts(signed=bool(signed), has_goals=bool(has_goals), goals_made_at=made),
        ticks=_models(ChecklistTick, ticks),
    )
