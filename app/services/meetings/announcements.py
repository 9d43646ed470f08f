"""The single call site where meetings announce something to partner systems: an outbox row per
subscribed organisation of the conference, written in the same transaction as the publication.

`emit()` is called once per published agenda and once per published list of decisions. The
payload holds ids only; receivers fetch the agenda through the API under their own authorisation.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.outbox import enqueue
from app.models import ConferenceOrganisation

AGENDA_PUBLISHED = "agenda.published"
DECISIONS_PUBLISHED = "decisions.published"


async def emit(session: AsyncSession, event_type: str, payload: dict[str, Any]) -> None:
    conference_id: uuid.UUID = payload["conference_id"]
    organisations = (
        await session.execute(
            sa.select(ConferenceOrganisation.organisation_id).where(
                ConferenceOrganisation.conference_id == conference_id
            )
        )
    ).scalars().all()
    await enqueue(
        session, event_type, {k: str(v) for k, v in payload.items()}, organisation_ids=list(organisations)
    )
