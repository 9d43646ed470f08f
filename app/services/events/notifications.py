"""Notifications written by the scheduled jobs, as the people they concern see them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.models import Notification
from app.schemas.meetings import NotificationOut


async def my_notifications(
    session: AsyncSession, principal: Principal, *, days: int = 14
) -> list[NotificationOut]:
    """Those addressed to one of your memberships, and those of your organisation in your
    conferences, from the last `days` days, newest first. An organisation's administrators also
    get its notices bound to no conference (changes of issuer or keys)."""
    memberships = sorted(principal.membership_ids())
    conferences = sorted(principal.conference_ids())
    if not memberships and not principal.organisation_admin:
        return []
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
    rows = (
        await session.execute(
            sa.select(Notification)
            .where(
                col(Notification.on_date) >= clock.today() - timedelta(days=days),
                sa.or_(*addressed),
            )
            .order_by(col(Notification.on_date).desc(), col(Notification.kind), col(Notification.due_on))
            .limit(500)
        )
    ).scalars()
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            conference_id=n.conference_id,
            ref_type=n.ref_type,
            ref_id=n.ref_id,
            on_date=n.on_date,
            due_on=n.due_on,
            addressed_to_you=n.membership_id in memberships,
        )
        for n in rows
    ]
