"""Batches in one statement (app/services/events/batch.py): what the process remembers of a
reference is a hint the statement checks, so a change made elsewhere (another replica, the web
client) is followed at once; anything the statement cannot store takes the general way with its
usual answers, and nothing is stored of a failing batch."""

from __future__ import annotations

import json
from typing import Any

import httpx
import sqlalchemy as sa

from app.db import Database
from app.models import Case, CaseFlag, Notification, PartnerEvent
from tests.driver_statements import driver_statements
from tests.events.support import CE_BATCH, event, link_case
from tests.factories import World


async def _push(api: httpx.AsyncClient, world: World, body: list[dict[str, Any]]) -> httpx.Response:
    return await api.post("/api/v1/events", content=json.dumps(body),
                          headers={**world.headers("care_system"), **CE_BATCH})


async def _count(owner_db: Database, model: Any, *where: Any) -> int:
    async with owner_db.sessions() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(model).where(*where))).scalar_one())


async def test_a_change_made_elsewhere_is_followed_at_once(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    first = await _push(api, world, [event("lapse"), event("relapse")])
    assert first.status_code == 201, first.text  # the process now remembers ZRG-1's case and director

    # Another replica (here: the database directly) hands the case to another director.
    async with owner_db.sessions() as session:
        await session.execute(sa.update(Case).where(Case.id == linked.case.id)
                              .values(case_director_id=world.members["police_member"].id))
        await session.commit()
    with driver_statements() as statements:
        second = await _push(api, world, [event("overdose"), event("lapse")])
    assert second.status_code == 201, second.text
    # The remembered resolution no longer held: nothing was written, and the statement ran again
    # on the actual one (the caller is read again too: a case director's change is a role's).
    batch_statements = [s for s in statements if "access_log_append_strict" in s]
    assert len(batch_statements) == 2, statements
    assert not [s for s in statements if "ON CONFLICT ON CONSTRAINT uq_partner_event_origin" in s]  # not the general way
    told = {(n.membership_id, n.kind) for n in await _notifications(owner_db)}
    assert (world.members["police_member"].id, "case_flagged") in told  # the overdose's flag: the new director
    assert await _count(owner_db, PartnerEvent) == 4

    # Closed elsewhere: events still go on the timeline, no flag is raised.
    async with owner_db.sessions() as session:
        await session.execute(sa.update(Case).where(Case.id == linked.case.id)
                              .values(phase="closed", closure_reason="other"))
        await session.commit()
    flags = await _count(owner_db, CaseFlag)
    third = await _push(api, world, [event("missed_appointment"), event("missed_appointment")])
    assert third.status_code == 201, third.text
    assert await _count(owner_db, CaseFlag) == flags
    assert await _count(owner_db, PartnerEvent) == 6


async def _notifications(owner_db: Database) -> list[Notification]:
    async with owner_db.sessions() as session:
        return list((await session.execute(sa.select(Notification))).scalars())


async def test_an_unknown_subject_or_a_replay_takes_the_general_way(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    known = event("lapse")
    stored = await _push(api, world, [known])
    assert stored.status_code == 201, stored.text

    unknown = await _push(api, world, [event("lapse"), event("lapse", subject="ZRG-404")])
    assert unknown.status_code == 422, unknown.text
    assert [(e["index"], e["pointer"]) for e in unknown.json()["errors"]] == [(1, "#/1/subject")]
    assert await _count(owner_db, PartnerEvent) == 1  # nothing of the failing batch

    fresh = event("relapse")
    mixed = await _push(api, world, [known, fresh])  # a replay and a new event: the new one is stored
    assert mixed.status_code == 201, mixed.text
    receipts = mixed.json()["receipts"]
    assert receipts[0] == stored.json()["receipts"][0]
    assert [r["id"] for r in receipts] == [known["id"], fresh["id"]]
    assert await _count(owner_db, PartnerEvent) == 2

    again = await _push(api, world, [known, fresh])
    assert again.status_code == 200 and again.json() == mixed.json(), again.text

    changed = await _push(api, world, [{**fresh, "data": {"substances": ["alcohol"]}}, event("lapse")])
    assert changed.status_code == 409, changed.text
    assert await _count(owner_db, PartnerEvent) == 2
