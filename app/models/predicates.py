"""The domain's predicates over states, each written once, here: as a SQL expression for
queries, as a test of a loaded row, and as SQL text for the few raw statements (the jobs'
notifications, the agenda's one aggregation query). Code elsewhere asks these; it does not spell
states (a test keeps it so, tests/test_house.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlmodel import and_, col

from app.models.action import Action
from app.models.agreement import Agreement
from app.models.case import Case
from app.models.enums import ActionStatus, AgendaStatus, AgreementStatus, MeetingStatus, Phase
from app.models.meeting import Meeting

# "An action is open": it still asks something of its owner.
OPEN_ACTION_STATUSES = (ActionStatus.open, ActionStatus.in_progress, ActionStatus.blocked)


def sql_literal(value: StrEnum) -> str:
    """A state as a SQL string literal, for raw SQL text (enum values are plain identifiers)."""
    assert value.value.replace("_", "").isalnum()
    return f"'{value.value}'"


def _sql_list(values: Iterable[StrEnum]) -> str:
    return ", ".join(sql_literal(v) for v in values)


# --- open action ---------------------------------------------------------------------------------


def action_is_open() -> ColumnElement[bool]:
    return col(Action.status).in_(OPEN_ACTION_STATUSES)


def action_is_overdue(today: date) -> ColumnElement[bool]:
    """Open and past its due date (app/services/cases/actions.py `is_overdue` for a loaded row)."""
    return and_(action_is_open(), col(Action.due_date) < today)


def is_open_action(action: Action) -> bool:
    return action.status in OPEN_ACTION_STATUSES


def open_action_sql(alias: str) -> str:
    return f"{alias}.status IN ({_sql_list(OPEN_ACTION_STATUSES)})"


# --- open case -----------------------------------------------------------------------------------


def case_is_open() -> ColumnElement[bool]:
    return col(Case.phase) != Phase.closed


def open_case_sql(alias: str) -> str:
    return f"{alias}.phase <> {sql_literal(Phase.closed)}"


# --- active agreement (signed, and today between its start and end) ------------------------------


def agreement_is_active(today: date) -> ColumnElement[bool]:
    return and_(
        col(Agreement.status) == AgreementStatus.signed,
        col(Agreement.starts_on) <= today,
        col(Agreement.ends_on) >= today,
    )


def agreement_is_signed_unexpired(today: date) -> ColumnElement[bool]:
    """Signed and not past its end: active, or about to start."""
    return and_(col(Agreement.status) == AgreementStatus.signed, col(Agreement.ends_on) >= today)


def signed_agreement_sql(alias: str) -> str:
    return f"{alias}.status = {sql_literal(AgreementStatus.signed)}"


def active_agreement_sql(alias: str, today: str) -> str:
    """`agreement_is_active` as SQL text; `today` is the statement's parameter (e.g. `$3`)."""
    return f"({signed_agreement_sql(alias)} AND {alias}.starts_on <= {today} AND {alias}.ends_on >= {today})"


# --- published agenda, meetings that take place ---------------------------------------------------


def agenda_is_published() -> ColumnElement[bool]:
    return col(Meeting.agenda_status) == AgendaStatus.published


def published_agenda_sql(alias: str) -> str:
    return f"{alias}.agenda_status = {sql_literal(AgendaStatus.published)}"


def meeting_not_cancelled_sql(alias: str) -> str:
    return f"{alias}.status <> {sql_literal(MeetingStatus.cancelled)}"
