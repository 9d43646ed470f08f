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
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from pydantic import TypeAdapter, create_model
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.auth.policy import sees_actions_of
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


def _all(model: type[SQLModel]) -> sa.Select[Any]:
    return sa.select(*model.__table__.columns)  # type: ignore[attr-defined]


def _row_type(model: type[M]) -> TypeAdapter[list[M]]:
    """Validates a part's JSON rows into plain objects with the model's fields and types (the
    presenters read attributes only): pydantic-core in one call, without the ORM's per-attribute
    instrumentation that validating into the table model itself costs."""
    fields: dict[str, Any] = {name: (f.annotation, None) for name, f in model.model_fields.items()}
    row = create_model(f"{model.__name__}Row", **fields)
    return cast(TypeAdapter[list[M]], TypeAdapter(list[row]))


_ROWS: dict[type[SQLModel], TypeAdapter[list[Any]]] = {model: _row_type(model) for model in
         (Agreement, ConsentWithdrawal, LegalBasis, Plan, Goal, Assessment, Action, ChecklistTick)}


def _models(model: type[M], rows: list[dict[str, Any]] | None) -> list[M]:
    return cast(list[M], _ROWS[model].validate_python(rows or []))


# The statement is built once per process; the values come as parameters.
_CASE: sa.BindParameter[Any] = sa.bindparam("case_id")
_TODAY: sa.BindParameter[Any] = sa.bindparam("today", type_=sa.Date)
_NOW: sa.BindParameter[Any] = sa.bindparam("now", type_=sa.DateTime(timezone=True))
_MEMBERSHIPS: sa.BindParameter[Any] = sa.bindparam("memberships", expanding=True)
_ACTIVE = sa.select(col(Agreement.id)).where(col(Agreement.case_id) == _CASE, agreement_is_active(_TODAY))
_PLAN_IDS = sa.select(col(Plan.id)).where(col(Plan.case_id) == _CASE)
_FIRST_GOALS = sa.select(sa.func.min(ChangeRecord.changed_at)).where(
    col(ChangeRecord.case_id) == _CASE,
    col(ChangeRecord.entity_type) == "plan",
    col(ChangeRecord.changes).has_key("goals"),  # type: ignore[attr-defined]
).scalar_subquery()
_STATEMENT = (
    sa.select(
        Case,
        Client,
        _json_rows(_all(Agreement).where(col(Agreement.id).in_(_ACTIVE)), "id"),
        _json_rows(_all(ConsentWithdrawal).where(col(ConsentWithdrawal.agreement_id).in_(_ACTIVE)),
                   "effective_at", "id"),
        _json_rows(_all(LegalBasis).where(
            col(LegalBasis.case_id) == _CASE, col(LegalBasis.ended_at).is_(None),
            col(LegalBasis.starts_on) <= _TODAY, col(LegalBasis.ends_on) >= _TODAY,
        ), "id"),
        _json_rows(sa.select(col(BreakGlass.id)).where(
            col(BreakGlass.case_id) == _CASE,
            col(BreakGlass.membership_id).in_(_MEMBERSHIPS),
            col(BreakGlass.expires_at) > _NOW,
        ), "id"),
        _json_rows(_all(Plan).where(col(Plan.case_id) == _CASE)),
        _json_rows(_all(Goal).where(col(Goal.plan_id).in_(_PLAN_IDS)), "position", "id"),
        _json_rows(_all(Assessment).where(col(Assessment.case_id) == _CASE), "assessed_on", "id"),
        _json_rows(_all(Action).where(col(Action.case_id) == _CASE), "due_date", "id"),
        sa.exists().where(col(Agreement.case_id) == _CASE, agreement_is_signed_unexpired(_TODAY)),
        sa.exists().where(col(Goal.plan_id).in_(_PLAN_IDS)),
        _FIRST_GOALS,
        _json_rows(_all(ChecklistTick).where(col(ChecklistTick.case_id) == _CASE), "item"),
    )
    .join(Client, col(Client.id) == col(Case.client_id))
    .where(col(Case.id) == _CASE)
)


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


async def load_case_detail(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> CaseDetailParts:
    now = clock.now()
    statement = _STATEMENT.params(case_id=case_id, today=now.date(), now=now,
                                  memberships=sorted(principal.membership_ids()))
    row = (await session.execute(statement)).first()
    if row is None:
        raise NotFound("case")
    (case, client, agreements, withdrawals, legal, glass, plans, goals, assessments, actions,
     signed, has_goals, goals_made, ticks) = row
    if not sees_actions_of(principal, case.conference_id, case.id):  # the policy's visible_actions
        actions = []
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
