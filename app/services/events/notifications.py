"""Notifications written by the scheduled jobs, as the people they concern see them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.errors import NotFound
from app.models import (
    Action,
    AftercareReport,
    Agreement,
    BreakGlass,
    Case,
    CaseFlag,
    Client,
    Notification,
    NotificationRead,
    PartnerEvent,
)
from app.schemas.meetings import NotificationOut

WINDOW_DAYS = 14  # what a person is shown: the last two weeks


def _addressed(principal: Principal) -> list[Any] | None:
    """Those addressed to one of your memberships, and those of your organisation in your
    conferences. An organisation's administrators also get its notices bound to no conference
    (changes of issuer or keys). None: nothing can be addressed to the caller."""
    memberships = sorted(principal.membership_ids())
    conferences = sorted(principal.conference_ids())
    if not memberships and not principal.organisation_admin:
        return None
    addressed = [
        col(Notification.membership_id).in_(memberships),
        sa.and_(
            col(Notification.organisation_id) == principal.organisation_id,
            col(Notification.conference_id).in_(conferences),
        ),
    ]
    if principal.organisation_admin:
        addressed.append(
            sa.and_(
                col(Notification.organisation_id) == principal.organisation_id,
                col(Notification.conference_id).is_(None),
                col(Notification.membership_id).is_(None),
            )
        )
    return addressed


def _mine(principal: Principal, addressed: list[Any], days: int) -> list[Any]:
    return [col(Notification.on_date) >= clock.today() - timedelta(days=days), sa.or_(*addressed)]


def _read_by(principal: Principal) -> Any:
    return sa.and_(
        col(NotificationRead.notification_id) == col(Notification.id),
        col(NotificationRead.issuer) == principal.issuer,
        col(NotificationRead.subject) == principal.subject,
    )


async def my_notifications(
    session: AsyncSession, principal: Principal, *, days: int = WINDOW_DAYS
) -> list[NotificationOut]:
    """Yours from the last `days` days, newest first (see `_addressed`)."""
    return [n for n, _read in await my_notifications_read(session, principal, days=days)]


async def my_notifications_read(
    session: AsyncSession, principal: Principal, *, days: int = WINDOW_DAYS
) -> list[tuple[NotificationOut, bool]]:
    """Yours, newest first, each with whether you have read it."""
    addressed = _addressed(principal)
    if addressed is None:
        return []
    memberships = principal.membership_ids()
    rows = (
        await session.execute(
            sa.select(Notification, sa.exists().where(_read_by(principal)).label("read"))
            .where(*_mine(principal, addressed, days))
            .order_by(col(Notification.on_date).desc(), col(Notification.kind), col(Notification.due_on))
            .limit(500)
        )
    ).all()
    return [
        (
            NotificationOut(
                id=n.id,
                kind=n.kind,
                conference_id=n.conference_id,
                ref_type=n.ref_type,
                ref_id=n.ref_id,
                on_date=n.on_date,
                due_on=n.due_on,
                addressed_to_you=n.membership_id in memberships,
            ),
            bool(read),
        )
        for n, read in rows
    ]


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    """How many of yours you have not read: one query (the web client's header shows it)."""
    addressed = _addressed(principal)
    if addressed is None:
        return 0
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(*_mine(principal, addressed, WINDOW_DAYS), ~sa.exists().where(_read_by(principal)))
    )
    return int(count or 0)


async def mark_read(session: AsyncSession, principal: Principal, notification_ids: list[uuid.UUID] | None) -> int:
    """Mark yours read (all of them when `notification_ids` is None); another's ids are ignored."""
    addressed = _addressed(principal)
    if addressed is None:
        return 0
    query = sa.select(col(Notification.id)).where(*_mine(principal, addressed, WINDOW_DAYS))
    if notification_ids is not None:
        query = query.where(col(Notification.id).in_(notification_ids))
    ids = list((await session.execute(query)).scalars())
    if not ids:
        return 0
    now = clock.now()
    await session.execute(
        pg_insert(NotificationRead)
        .values([{"notification_id": i, "issuer": principal.issuer, "subject": principal.subject, "read_at": now}
                 for i in ids])
        .on_conflict_do_nothing()
    )
    return len(ids)


@dataclass(frozen=True)
class Opened:
    """A notification of yours and where it leads: the case it is about (if any), and the action."""

    notification: NotificationOut
    case_id: uuid.UUID | None
    client_number: str | None


_CASE_OF: dict[str, Any] = {
    "action": (Action, Action.case_id),
    "case_flag": (CaseFlag, CaseFlag.case_id),
    "agreement": (Agreement, Agreement.case_id),
    "partner_event": (PartnerEvent, PartnerEvent.case_id),
    "break_glass": (BreakGlass, BreakGlass.case_id),
    "aftercare_report": (AftercareReport, AftercareReport.case_id),
    "case": (Case, Case.id),  # a correction of data the reader saw on this case (issue 21)
}


async def open_notification(session: AsyncSession, principal: Principal, notification_id: uuid.UUID) -> Opened:
    """One of yours, marked read, with the case it is about. Another's reads like a missing one."""
    mine = next((n for n, _read in await my_notifications_read(session, principal) if n.id == notification_id), None)
    if mine is None:
        raise NotFound("notification")
    await mark_read(session, principal, [notification_id])
    case_id = number = None
    if mine.ref_type in _CASE_OF:
        model, column = _CASE_OF[mine.ref_type]
        case_id = await session.scalar(sa.select(column).where(model.id == mine.ref_id))
    if case_id is not None:
        number = await session.scalar(
            sa.select(col(Client.client_number)).join(Case, col(Case.client_id) == col(Client.id))
            .where(col(Case.id) == case_id)
        )
    return Opened(mine, case_id, number)

