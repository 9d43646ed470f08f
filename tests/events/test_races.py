"""Races on partner events: "one open flag per kind and case" is held by the database, so
concurrent events leave one flag and one of each side effect (notification, outbox message)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import sqlalchemy as sa

from app.db import Database
from app.models import CaseFlag, Notification, OutboxMessage, PartnerEvent
from tests.events.support import CE, CE_BATCH, event, link_case
from tests.factories import World

WRITERS = 12


async def count(owner_db: Database, model: Any, *where: Any) -> int:
    async with owner_db.sessions() as session:
        return int(
            (await session.execute(sa.select(sa.func.count()).select_from(model).where(*where))).scalar_one()
        )


async def test_concurrent_relapses_raise_one_flag_one_notification_one_message(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    subscribed = await api.post(
        "/api/v1/subscriptions",
        headers=world.headers("care_system"),
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["case.flagged"]},
    )
    assert subscribed.status_code == 201, subscribed.text
    headers = {**world.headers("care_system"), **CE}
    for _round in range(3):
        bodies = [json.dumps(event("relapse")) for _ in range(WRITERS)]
        responses = await asyncio.gather(
            *(api.post("/api/v1/events", content=b, headers=headers) for b in bodies)
        )
        assert [r.status_code for r in responses] == [201] * WRITERS, [r.text for r in responses]
    assert await count(owner_db, PartnerEvent) == 3 * WRITERS  # every event is on the timeline
    assert await count(owner_db, CaseFlag, CaseFlag.case_id == linked.case.id) == 1
    assert await count(owner_db, Notification, Notification.kind == "case_flagged") == 1
    assert await count(owner_db, OutboxMessage, OutboxMessage.type == "case.flagged") == 1

    # Once cleared (discussed), the next relapse raises a new flag: the rule is about open flags.
    async with owner_db.sessions() as session:
        await session.execute(sa.update(CaseFlag).values(cleared_at=sa.func.now()))
        await session.commit()
    responses = await asyncio.gather(
        *(api.post("/api/v1/events", content=json.dumps(event("relapse")), headers=headers) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {201}
    assert await count(owner_db, CaseFlag, CaseFlag.cleared_at.is_(None)) == 1  # type: ignore[union-attr]
    assert await count(owner_db, OutboxMessage, OutboxMessage.type == "case.flagged") == 2


async def test_concurrent_batches_store_each_event_once_and_fold_their_flags(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    """Batches in one statement each (app/services/events/batch.py): overlapping batches racing
    store every event once (the losers answer as replays of what the winner stored, or 409 when
    their content differs), and their relapses fold into one open flag that counts them all."""
    linked = await link_case(owner_db, world)
    subscribed = await api.post(
        "/api/v1/subscriptions",
        headers=world.headers("care_system"),
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["case.flagged"]},
    )
    assert subscribed.status_code == 201, subscribed.text
    headers = {**world.headers("care_system"), **CE_BATCH}
    distinct = [json.dumps([event("relapse") for _ in range(5)]) for _ in range(WRITERS)]
    responses = await asyncio.gather(*(api.post("/api/v1/events", content=b, headers=headers) for b in distinct))
    assert [r.status_code for r in responses] == [201] * WRITERS, [r.text for r in responses]
    assert await count(owner_db, PartnerEvent) == 5 * WRITERS
    async with owner_db.sessions() as session:
        flags = (await session.execute(sa.select(CaseFlag.count).where(CaseFlag.case_id == linked.case.id))).all()
    assert [f.count for f in flags] == [5 * WRITERS]
    assert await count(owner_db, Notification, Notification.kind == "case_flagged") == 1
    assert await count(owner_db, OutboxMessage, OutboxMessage.type == "case.flagged") == 1

    same = json.dumps([event("relapse"), event("lapse"), event("missed_appointment")])
    responses = await asyncio.gather(*(api.post("/api/v1/events", content=same, headers=headers) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201], [r.text for r in responses]
    assert len({r.text for r in responses}) == 1  # everyone gets the same receipts
    assert await count(owner_db, PartnerEvent) == 5 * WRITERS + 3
