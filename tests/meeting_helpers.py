"""Test data for meetings and agendas (kept out of tests/factories.py to ease merging)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from app.db import Database
from app.models import Client, Meeting, Referral
from app.services.cases.clients import new_client_number
from tests.factories import World

# Monday 2 March 2026, 09:00 UTC; the meeting is Tuesday 3 March 10:00 Amsterdam (09:00 UTC).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MEETING_AT = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)



async def add_meeting(
    session,
    world: World,
    *,
    starts_at: datetime = MEETING_AT,
    minutes: int = 120,
    published: bool = False,
    status: str = "scheduled",
) -> Meeting:
    meeting = Meeting(
        conference_id=world.a.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=status,
        agenda_status="published" if published else "draft",
        published_at=starts_at - timedelta(days=1) if published else None,
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def add_referral(
    session,
    world: World,
    *,
    by: str = "wijkteam_member",
    name: str = "Aangemelde Persoon",
    created_at: datetime | None = None,
) -> Referral:
    client = Client(conference_id=world.a.id, client_number=new_client_number(), name=name)
    session.add(client)
    await session.flush()
    member = world.members[by]
    referral = Referral(
        conference_id=world.a.id,
        client_id=client.id,
        referred_by_id=member.id,
        referring_organisation_id=member.organisation_id,
        reason="Schulden, vermoedelijk GHB.",
        created_at=created_at or NOW - timedelta(days=1),
    )
    session.add(referral)
    await session.flush()
    return referral


async def add_flag(owner_db: Database, case_id: uuid.UUID, kind: str, at: datetime, reason: str = "",
                   label: str = "general") -> None:
    async with owner_db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO case_flag (id, case_id, reason, kind, label, severity, created_at) "
                "VALUES (:id, :c, :r, :k, :label, 'high', :t)"
            ),
            {"id": uuid.uuid4(), "c": case_id, "r": reason, "k": kind, "t": at, "label": label},
        )


async def etag(client: httpx.AsyncClient, world: World, meeting_id: uuid.UUID) -> str:
    response = await client.get(f"/api/v1/meetings/{meeting_id}", headers=world.headers("chair"))
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


async def chair_post(
    client: httpx.AsyncClient,
    world: World,
    meeting_id: uuid.UUID,
    path: str,
    json: object = None,
    method: str = "POST",
) -> httpx.Response:
    headers = world.headers("chair", **{"If-Match": await etag(client, world, meeting_id)})
    return await client.request(method, f"/api/v1/meetings/{meeting_id}{path}", headers=headers, json=json)
