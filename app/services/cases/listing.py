"""The case list in one statement: the page and the number of cases it pages through (issue 16:
lists in two statements besides BEGIN and COMMIT, the second being the access log).

The statement is built and compiled to SQL text once per process for each combination of the
caller's visibility shape (app/auth/policy.py `case_visibility`) and the filters given, and runs
on the session's asyncpg connection (`RetryingSession.driver`) with the values as parameters. It
answers one row: `count(*)` of what the filters admit, and the page as the text of one JSON
array of CaseSummary objects written by PostgreSQL in the bytes their serializer writes (empty:
[]): the API passes it through, the web client validates it in one pydantic-core call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.policy import CaseVisibilityShape, case_visibility, visible_cases
from app.auth.principal import Principal
from app.clock import clock
from app.db import Autocommit, RetryingSession
from app.models import Action, Case, CaseFlag, Client
from app.models.enums import Phase
from app.models.predicates import action_is_open, action_is_overdue
from app.schemas.cases import CaseSummary
from app.services.cases.lifecycle import CaseFilter
from app.services.cases.sqltext import Compiled, json_object_text, quoted

_CASE = Case.__table__  # type: ignore[attr-defined]
_CLIENT = Client.__table__  # type: ignore[attr-defined]
_TODAY: Any = sa.bindparam("today", type_=sa.Date())

# CaseSummary's fields, in its order, as the page's columns.
_SUMMARY_COLUMNS = ("id", "conference_id", "client_number", "phase", "priority", "case_director_id",
                    "next_review_date", "opened_on", "version")
assert tuple(CaseSummary.model_fields) == _SUMMARY_COLUMNS

# The filters of CaseFilter (the web client's case list): each a clause over bound parameters.
_FILTERS: dict[str, sa.ColumnElement[bool]] = {
    "flagged": sa.exists().where(col(CaseFlag.case_id) == _CASE.c.id, col(CaseFlag.cleared_at).is_(None)),
    "overdue_actions": sa.exists().where(col(Action.case_id) == _CASE.c.id, action_is_overdue(_TODAY)),
    "actions_of": sa.exists().where(col(Action.case_id) == _CASE.c.id, action_is_open(),
                                    col(Action.owner_organisation_id) == sa.bindparam("actions_of",
                                                                                      type_=sa.Uuid())),
    "review_before": _CASE.c.next_review_date < sa.bindparam("review_before", type_=sa.Date()),
    "client_number": _CASE.c.client_id.in_(
        sa.select(_CLIENT.c.id).where(_CLIENT.c.client_number == sa.bindparam("client_number"))),
    # A part of the name (a LIKE pattern), only in the conferences where the caller may search by it.
    "client_name": sa.and_(
        _CASE.c.conference_id == sa.any_(sa.bindparam("name_conferences", type_=ARRAY(sa.Uuid()))),
        _CASE.c.client_id.in_(sa.select(_CLIENT.c.id).where(
            _CLIENT.c.name.ilike(sa.bindparam("client_name"), escape="\\")))),
}


def _contains(text: str) -> str:
    """A LIKE pattern for text anywhere in a value (its own %, _ and backslash taken literally)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# The parameters a request gives (every other one in a statement is its own constant).
_REQUEST_VALUES = {"limit", "offset", "conference_id", "phase", "today", "actions_of", "review_before",
                   "client_number", "client_name", "name_conferences", "visible_guests"}


@cache
def _statement(shape: CaseVisibilityShape, by_conference: bool, by_phase: bool,
               filters: tuple[str, ...]) -> Compiled:
    where = [visible_cases(shape)]
    if by_conference:
        where.append(_CASE.c.conference_id == sa.bindparam("conference_id", type_=sa.Uuid()))
    if by_phase:
        where.append(_CASE.c.phase == sa.bindparam("phase", type_=_CASE.c.phase.type))
    where += [_FILTERS[name] for name in filters]
    total = sa.select(sa.func.count()).select_from(_CASE).where(*where).scalar_subquery()
    summary = [_CLIENT.c.client_number if name == "client_number" else _CASE.c[name] for name in _SUMMARY_COLUMNS]
    page = (
        sa.select(*summary, _CASE.c.opened_at)
        .join_from(_CASE, _CLIENT, _CLIENT.c.id == _CASE.c.client_id)
        .where(*where)
        .order_by(_CASE.c.opened_at.desc(), _CASE.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer()))
        .offset(sa.bindparam("offset", type_=sa.Integer()))
        .subquery("page")
    )
    entry = json_object_text({name: page.c[name] for name in _SUMMARY_COLUMNS})
    items = sa.select(sa.func.concat(quoted("["), sa.func.string_agg(
        entry, aggregate_order_by(quoted(","), page.c.opened_at.desc(), page.c.id)), quoted("]"))).scalar_subquery()
    statement = sa.select(total.label("total"), items.label("items"))
    return Compiled.of(statement, _REQUEST_VALUES | {f"visible_conferences_{i}" for i in range(len(shape[1]))})


_SUMMARIES = TypeAdapter(list[CaseSummary])


@dataclass(frozen=True)
class CasePage:
    items_json: str  # the JSON array of the page's CaseSummary objects, as their serializer writes it
    total: int

    def items(self) -> list[CaseSummary]:
        return _SUMMARIES.validate_json(self.items_json)


async def case_page(
    session: AsyncSession | Autocommit, principal: Principal, *, conference_id: uuid.UUID | None, phase: Phase | None,
    limit: int, offset: int, filters: CaseFilter | None = None,
) -> CasePage:
    """The cases the caller may see (the policy's `case_visibility` and `visible_cases`), newest first, filtered."""
    shape, values = case_visibility(principal)
    params: dict[str, Any] = {**values, "limit": limit, "offset": offset}
    if conference_id is None and not shape[0] and len(shape[1]) == 1 and shape[1][0][1]:
        # All the caller may see lies in one conference: saying so lets PostgreSQL read the page
        # in the order of the index on (conference_id, opened_at DESC, id); it changes nothing.
        conference_id = values["visible_conferences_0"]  # type: ignore[assignment]
    if conference_id is not None:
        params["conference_id"] = conference_id
    if phase is not None:
        params["phase"] = phase
    named: list[str] = []
    if filters is not None:
        given: dict[str, Any] = {
            "flagged": filters.flagged, "overdue_actions": filters.overdue_actions,
            "actions_of": filters.actions_of, "review_before": filters.review_before,
            "client_number": filters.client_number,
            "client_name": _contains(filters.client_name) if filters.client_name else None,
        }
        named = [name for name, value in given.items() if value]
        params.update({name: given[name] for name in named if given[name] is not True})
        if filters.overdue_actions:
            params["today"] = clock.today()
        if filters.client_name:
            params["name_conferences"] = list(filters.name_conferences)
    statement = _statement(shape, conference_id is not None, phase is not None, tuple(named))
    if isinstance(session, Autocommit):  # the first statement on a connection outside any transaction
        total, items = await session.first(statement.sql, *statement.args(params))
    else:
        total, items = await (await cast(RetryingSession, session).driver()).fetchrow(
            statement.sql, *statement.args(params))
    return CasePage(items, total)
