"""The transactional outbox: a notification is a row written in the same transaction as the
change it tells about, so a rolled-back change notifies no one and a committed one is never lost.
The delivery worker (app/events/delivery.py) sends the rows later.

Payloads are thin (Standard Webhooks shape: type, timestamp, data with ids only): receivers fetch
details through the API under their own authorisation. Never put names, BSNs or notes in `data`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clock import clock
from app.models import Case, ConferenceOrganisation, Organisation, OutboxMessage, Subscription

_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]

# The notification types a partner system can subscribe to.
OUTBOUND_TYPES: tuple[str, ...] = (
    "case.phase_changed",
    "case.flagged",
    "action.created",
    "agenda.published",
    "decisions.published",
    "aftercare.relapse",
    "aftercare.report",  # the neighbourhood team reported during an aftercare watch (to addiction care)
    "aftercare.reply",  # addiction care answered such a report (to the neighbourhood team)
    # A value the organisation's people read was corrected on the client's request (issue 21):
    # ids only; the partner system fetches what it needs.
    "client.corrected",
)


async def organisations_of_case(session: AsyncSession, case_id: uuid.UUID) -> list[uuid.UUID]:
    """The organisations taking part in the case's conference."""
    rows = await session.execute(
        sa.select(col(ConferenceOrganisation.organisation_id))
        .join(Case, col(Case.conference_id) == col(ConferenceOrganisation.conference_id))
        .where(col(Case.id) == case_id)
    )
    return [r[0] for r in rows]


async def enqueue(
    session: AsyncSession,
    type: str,
    data: dict[str, Any],
    *,
    organisation_ids: Iterable[uuid.UUID] | None = None,
    case_id: uuid.UUID | None = None,
    organisation_kinds: Iterable[str] | None = None,
) -> int:
    """Write one outbox row per active subscription (of the given organisations, or else of every
    organisation in the case's conference; optionally only organisations of the given kinds)
    that wants `type`. Returns the number of rows written. Call inside the change's transaction."""
    if type not in OUTBOUND_TYPES:
        raise ValueError(f"unknown notification type {type}")
    if organisation_ids is not None:
        orgs = list(organisation_ids)
    elif case_id is not None:
        orgs = await organisations_of_case(session, case_id)
    else:
        raise ValueError("enqueue needs organisation_ids or a case_id")
    if not orgs:
        return 0
    query = sa.select(col(Subscription.id)).where(
        col(Subscription.active).is_(True),
        col(Subscription.organisation_id).in_(orgs),
        sa.literal(type) == sa.any_(col(Subscription.event_types)),
    )
    if organisation_kinds is not None:
        query = query.join(Organisation, col(Organisation.id) == col(Subscription.organisation_id)).where(
            col(Organisation.kind).in_(list(organisation_kinds))
        )
    subscription_ids = list((await session.execute(query)).scalars())
    if not subscription_ids:
        return 0
    now = clock.now()
    payload = {"type": type, "timestamp": now.isoformat(), "data": data}
    session.add_all(
        [
            OutboxMessage(
                subscription_id=sid, type=type, payload=payload, created_at=now, next_attempt_at=now
            )
            for sid in subscription_ids
        ]
    )
    return len(subscription_ids)
