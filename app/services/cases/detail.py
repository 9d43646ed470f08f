"""Everything the case detail needs, in one statement (issue 16: case detail in at most four
statements with the access log, BEGIN and COMMIT).

The case and its client come back as columns; each part that hangs off the case (the bases in
force for need to know, an open break-glass, the plan, goals, assessments, actions, the
checklist's facts and ticks) comes back as the text of one JSON array built by PostgreSQL, which
pydantic-core validates straight into plain row types. Nothing here decides what is shown: the
read path (app/services/cases/reads.py) hands the parts to the same need-to-know and presentation
code as every other read.

The statement is built with SQLAlchemy once per process and compiled to SQL text once; a request
runs that text on the session's asyncpg connection (`RetryingSession.driver`, in the session's
transaction), so no SQLAlchemy statement building, cache key or result processing is paid per
request (the cache key of this large statement alone cost about a millisecond)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from pydantic import TypeAdapter, create_model
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from app.auth.policy import sees_actions_of
from app.auth.principal import Principal
from app.clock import clock
from app.db import Autocommit, RetryingSession
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
from app.models.predicates import action_is_overdue, agreement_is_active, agreement_is_signed_unexpired
from app.schemas.cases import ActionOut
from app.services.agreements.lifecycle import BasesInForce, effective_scope
from app.services.cases.checklist import ChecklistFacts
from app.services.cases.lifecycle import LoadedCase
from app.services.cases.sqltext import Compiled, json_object_text, quoted

M = TypeVar("M", bound=SQLModel)


def _json_rows(stmt: sa.Select[Any], *order_by: str) -> sa.Cast[Any]:
    """The rows of `stmt` as the text of one JSON array (empty: []), in the given order."""
    rows = stmt.subquery("r")
    whole_row = rows.table_valued()
    aggregated = sa.func.json_agg(aggregate_order_by(whole_row, *(rows.c[name] for name in order_by))
                                  if order_by else whole_row)
    return sa.cast(sa.select(sa.func.coalesce(aggregated, sa.literal_column("'[]'::json"))).scalar_subquery(),
                   sa.Text)


def _all(model: type[SQLModel]) -> sa.Select[Any]:
    return sa.select(*model.__table__.columns)  # type: ignore[attr-defined]


def _row_model(model: type[SQLModel]) -> type[Any]:
    """A plain pydantic type with the model's fields and types (the presenters read attributes
    only), without the ORM's per-attribute instrumentation that the table model itself costs."""
    fields: dict[str, Any] = {name: (f.annotation, None) for name, f in model.model_fields.items()}
    return create_model(f"{model.__name__}Row", **fields)


_ROWS: dict[type[SQLModel], TypeAdapter[list[Any]]] = {
    model: TypeAdapter(list[_row_model(model)])  # type: ignore[misc]
    for model in (Agreement, ConsentWithdrawal, LegalBasis, Plan, Goal, Assessment, ChecklistTick)
}
_CASE_ROW = _row_model(Case)
_CLIENT_ROW = _row_model(Client)
_IDS: TypeAdapter[list[dict[str, uuid.UUID]]] = TypeAdapter(list[dict[str, uuid.UUID]])


def _models(model: type[M], rows: str) -> list[M]:
    """A part's JSON text (from PostgreSQL) validated in one call of pydantic-core."""
    return cast(list[M], _ROWS[model].validate_json(rows))


# The statement is built once per process; the values come as parameters.
_CASE: sa.BindParameter[Any] = sa.bindparam("case_id")
_TODAY: sa.BindParameter[Any] = sa.bindparam("today", type_=sa.Date)
_NOW: sa.BindParameter[Any] = sa.bindparam("now", type_=sa.DateTime(timezone=True))
_MEMBERSHIPS: sa.BindParameter[Any] = sa.bindparam("memberships", type_=ARRAY(sa.Uuid()))
_ACTIVE = sa.select(col(Agreement.id)).where(col(Agreement.case_id) == _CASE, agreement_is_active(_TODAY))
_PLAN_IDS = sa.select(col(Plan.id)).where(col(Plan.case_id) == _CASE)
_FIRST_GOALS = sa.select(sa.func.min(ChangeRecord.changed_at)).where(
    col(ChangeRecord.case_id) == _CASE,
    col(ChangeRecord.entity_type) == "plan",
    col(ChangeRecord.changes).has_key("goals"),  # type: ignore[attr-defined]
).scalar_subquery()
# The actions as the answer shows them, written by PostgreSQL: each as the JSON text of an ActionOut
# (its fields in its order, as its serializer writes them) up to `updated_at`, without the closing
# brace: the read path adds `hidden` and `basis` by the caller's need to know
# (present.shown_actions_json). With each, its key for that decision: recorded label, life domain
# and owner. The client's number is the outer row's; `overdue` is the predicate's.
_ACTION_COLUMNS = Action.__table__.c  # type: ignore[attr-defined]
_ACTION_VALUES: dict[str, Any] = {
    name: (Client.__table__.c.client_number if name == "client_number"  # type: ignore[attr-defined]
           else action_is_overdue(_TODAY) if name == "overdue" else _ACTION_COLUMNS[name])
    for name in ActionOut.model_fields if name not in ("hidden", "basis")
}
assert list(ActionOut.model_fields)[-2:] == ["hidden", "basis"]
_ACTION_KEY = sa.func.concat_ws(quoted(" "), sa.func.coalesce(col(Action.label), quoted("")), col(Action.life_domain),
                                col(Action.owner_organisation_id))
_ACTIONS = sa.select(
    sa.func.array_agg(aggregate_order_by(json_object_text(_ACTION_VALUES, close=False), col(Action.due_date),
                                         col(Action.id)))
    .label("action_texts"),
    sa.func.array_agg(aggregate_order_by(_ACTION_KEY, col(Action.due_date), col(Action.id))).label("action_keys"),
).where(col(Action.case_id) == col(Case.id)).lateral("actions")
_CASE_COLUMNS = [c.name for c in Case.__table__.columns]  # type: ignore[attr-defined]
_CLIENT_COLUMNS = [c.name for c in Client.__table__.columns]  # type: ignore[attr-defined]
_STATEMENT = (
    sa.select(
        *(Case.__table__.c[name].label(f"case_{name}") for name in _CASE_COLUMNS),  # type: ignore[attr-defined]
        *(Client.__table__.c[name].label(f"client_{name}") for name in _CLIENT_COLUMNS),  # type: ignore[attr-defined]
        _json_rows(_all(Agreement).where(col(Agreement.id).in_(_ACTIVE)), "id"),
        _json_rows(_all(ConsentWithdrawal).where(col(ConsentWithdrawal.agreement_id).in_(_ACTIVE)),
                   "effective_at", "id"),
        _json_rows(_all(LegalBasis).where(
            col(LegalBasis.case_id) == _CASE, col(LegalBasis.ended_at).is_(None),
            col(LegalBasis.starts_on) <= _TODAY, col(LegalBasis.ends_on) >= _TODAY,
        ), "id"),
        _json_rows(sa.select(col(BreakGlass.id)).where(
            col(BreakGlass.case_id) == _CASE,
            col(BreakGlass.membership_id) == sa.any_(_MEMBERSHIPS),
            col(BreakGlass.expires_at) > _NOW,
        ), "id"),
        _json_rows(_all(Plan).where(col(Plan.case_id) == _CASE)),
        _json_rows(_all(Goal).where(col(Goal.plan_id).in_(_PLAN_IDS)), "position", "id"),
        _json_rows(_all(Assessment).where(col(Assessment.case_id) == _CASE), "assessed_on", "id"),
        _ACTIONS.c.action_texts,
        _ACTIONS.c.action_keys,
        sa.exists().where(col(Agreement.case_id) == _CASE, agreement_is_signed_unexpired(_TODAY)).label("signed"),
        sa.exists().where(col(Goal.plan_id).in_(_PLAN_IDS)).label("has_goals"),
        _FIRST_GOALS.label("goals_made"),
        _json_rows(_all(ChecklistTick).where(col(ChecklistTick.case_id) == _CASE), "item"),
    )
    .join(Client, col(Client.id) == col(Case.client_id))
    .join(_ACTIONS, sa.true())
    .where(col(Case.id) == _CASE)
)


_COMPILED = Compiled.of(_STATEMENT, {"case_id", "today", "now", "memberships"})


@dataclass(frozen=True)
class CaseDetailParts:
    loaded: LoadedCase
    bases: BasesInForce
    break_glass_ids: list[uuid.UUID]
    plan: Plan
    goals: list[Goal]
    assessments: list[Assessment]
    action_texts: list[str]  # as _ACTIONS writes them
    action_keys: list[str]
    checklist: ChecklistFacts
    ticks: list[ChecklistTick]


async def load_case_detail(
    session: AsyncSession | Autocommit, principal: Principal, case_id: uuid.UUID
) -> CaseDetailParts:
    """In the session's transaction, or as the first statement on a connection outside any
    (Database.autocommit: one consistent snapshot either way)."""
    now = clock.now()
    args = _COMPILED.args({
        "case_id": case_id, "today": now.date(), "now": now, "memberships": sorted(principal.membership_ids())})
    if isinstance(session, Autocommit):
        row = await session.first(_COMPILED.sql, *args)
    else:
        row = await (await cast(RetryingSession, session).driver()).fetchrow(_COMPILED.sql, *args)
    if row is None:
        raise NotFound("case")
    parts_at = len(_CASE_COLUMNS) + len(_CLIENT_COLUMNS)  # the columns come in the statement's order
    case = cast(Case, _CASE_ROW.model_validate(dict(zip(_CASE_COLUMNS, row[:len(_CASE_COLUMNS)], strict=True))))
    client = cast(Client, _CLIENT_ROW.model_validate(
        dict(zip(_CLIENT_COLUMNS, row[len(_CASE_COLUMNS):parts_at], strict=True))))
    (agreements, withdrawals, legal, glass, plans, goals, assessments, action_texts, action_keys, signed, has_goals,
     goals_made, ticks) = row[parts_at:]
    if not sees_actions_of(principal, case.conference_id, case.id):  # the policy's visible_actions
        action_texts = action_keys = None
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
        break_glass_ids=[r["id"] for r in _IDS.validate_json(glass)],
        plan=plan,
        goals=_models(Goal, goals),
        assessments=_models(Assessment, assessments),
        action_texts=action_texts or [],
        action_keys=action_keys or [],
        checklist=ChecklistFacts(signed=bool(signed), has_goals=bool(has_goals), goals_made_at=made),
        ticks=_models(ChecklistTick, ticks),
    )
