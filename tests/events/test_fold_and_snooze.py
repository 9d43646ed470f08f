"""Acceptance 3: repeated signals of one kind for one client fold into one flag with a count (a
repeat beyond the window tells the case director again); the case director snoozes a kind of
signal for a case until a date with a reason; an overdose is never held back and ends the snooze."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import CaseFlag, Notification, OutboxMessage, PartnerEvent, SignalSnooze
from tests.events.support import CE, CE_BATCH, event, link_case
from tests.factories import World


async def _rows(owner_db: Database, model: Any, *where: Any) -> list[Any]:
    async with owner_db.sessions() as session:
        return list((await session.execute(sa.select(model).where(*where))).scalars())


async def _push(api: httpx.AsyncClient, world: World, body: Any) -> httpx.Response:
    headers = {**world.headers("care_system"), **(CE_BATCH if isinstance(body, list) else CE)}
    return await api.post("/api/v1/events", content=json.dumps(body), headers=headers)


async def _subscribe(api: httpx.AsyncClient, world: World) -> None:
    created = await api.post("/api/v1/subscriptions", headers=world.headers("care_system"),
                             json={"url": "http://127.0.0.1:9/hook", "event_types": ["case.flagged"]})
    assert created.status_code == 201, created.text


async def test_ten_relapses_inside_the_window_are_one_flag_with_count_ten(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    await _subscribe(api, world)
    start = clock.now() - timedelta(hours=10)
    # Concurrently, as separate requests: the database folds them.
    responses = await asyncio.gather(
        *[_push(api, world, event("relapse", time=start + timedelta(minutes=i))) for i in range(6)]
    )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    # And four more in one batch.
    batch = await _push(api, world, [event("relapse", time=start + timedelta(hours=1, minutes=i)) for i in range(4)])
    assert batch.status_code == 201, batch.text
    flags = await _rows(owner_db, CaseFlag)
    assert [(f.kind, f.count, f.cleared_at) for f in flags] == [("relapse", 10, None)]
    assert flags[0].last_seen_at == start + timedelta(hours=1, minutes=3)
    assert len(await _rows(owner_db, Notification, Notification.kind == "case_flagged")) == 1
    assert len(await _rows(owner_db, OutboxMessage, OutboxMessage.type == "case.flagged")) == 1
    shown = await api.get(f"/api/v1/cases/{linked.case.id}/flags", headers=world.headers("care_member"))
    assert [(f["kind"], f["count"]) for f in shown.json()] == [("relapse", 10)]

    # Beyond the window (72 hours of event time after the last telling) a repeat still folds,
    # and tells the case director again.
    clock.travel(timedelta(days=4))
    again = await _push(api, world, event("relapse"))
    assert again.status_code == 201
    flags = await _rows(owner_db, CaseFlag)
    assert [(f.kind, f.count) for f in flags] == [("relapse", 11)]
    assert len(await _rows(owner_db, Notification, Notification.kind == "case_flagged")) == 2
    assert len(await _rows(owner_db, OutboxMessage, OutboxMessage.type == "case.flagged")) == 2
    # Once discussed (cleared), the next relapse opens a new flag.
    async with owner_db.sessions() as session:
        await session.execute(sa.update(CaseFlag).values(cleared_at=clock.now()))
        await session.commit()
    assert (await _push(api, world, event("relapse"))).status_code == 201
    assert sorted(f.count for f in await _rows(owner_db, CaseFlag)) == [1, 11]


async def test_repeats_at_the_same_moment_tell_once(api: httpx.AsyncClient, world: World, owner_db: Database) -> None:
    """Events that all carry one time (a sender's clock, a replayed feed): the first opens the flag
    and tells the case director, later batches at that same moment only count, as repeats inside
    the window do; the telling follows whether a statement moved the flag's notification time."""
    await link_case(owner_db, world)
    await _subscribe(api, world)
    when = clock.now() - timedelta(hours=2)
    for _ in range(3):
        batch = await _push(api, world, [event("relapse", time=when), event("missed_appointment", time=when)])
        assert batch.status_code == 201, batch.text
    flags = await _rows(owner_db, CaseFlag)
    assert sorted((f.kind, f.count) for f in flags) == [("missed_appointment", 3), ("relapse", 3)]
    assert len(await _rows(owner_db, Notification, Notification.kind == "case_flagged")) == 2
    assert len(await _rows(owner_db, OutboxMessage, OutboxMessage.type == "case.flagged")) == 2


async def test_single_repeats_at_the_same_moment_tell_once(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    """The same for events sent one at a time (the single-event statement, app/services/events/single.py)."""
    await link_case(owner_db, world)
    await _subscribe(api, world)
    when = clock.now() - timedelta(hours=2)
    headers = {**world.headers("care_system"), **CE}
    for _ in range(3):
        for kind in ("relapse", "missed_appointment"):
            sent = await api.post("/api/v1/events", content=json.dumps(event(kind, time=when)), headers=headers)
            assert sent.status_code == 201, sent.text
    flags = await _rows(owner_db, CaseFlag)
    assert sorted((f.kind, f.count) for f in flags) == [("missed_appointment", 3), ("relapse", 3)]
    assert len(await _rows(owner_db, Notification, Notification.kind == "case_flagged")) == 2
    assert len(await _rows(owner_db, OutboxMessage, OutboxMessage.type == "case.flagged")) == 2


async def test_a_snooze_holds_back_missed_appointments_but_not_an_overdose(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)  # the care member directs the case
    case_id = linked.case.id
    body = {"kind": "missed_appointment", "until": (clock.today() + timedelta(days=14)).isoformat(),
            "reason": "In de kliniek opgenomen tot half december."}
    # Only the case director (or the chair) snoozes; members see the snoozes.
    refused = await api.post(f"/api/v1/cases/{case_id}/snoozes", json=body, headers=world.headers("police_member"))
    assert refused.status_code == 403
    created = await api.post(f"/api/v1/cases/{case_id}/snoozes", json=body, headers=world.headers("care_member"))
    assert created.status_code == 201, created.text
    assert created.json()["active"] is True
    twice = await api.post(f"/api/v1/cases/{case_id}/snoozes", json=body, headers=world.headers("chair"))
    assert twice.status_code == 409 and twice.json()["errors"][0]["pointer"] == "#/kind"
    for bad, pointer in (({**body, "kind": "overdose"}, "#/kind"), ({**body, "kind": "picnic"}, "#/kind"),
                         ({**body, "until": (clock.today() - timedelta(days=1)).isoformat()}, "#/until"),
                         ({**body, "until": (clock.today() + timedelta(days=400)).isoformat()}, "#/until")):
        response = await api.post(f"/api/v1/cases/{case_id}/snoozes", json=bad, headers=world.headers("chair"))
        assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == pointer, response.text

    held = await _push(api, world, event("missed_appointment"))
    assert held.status_code == 201
    assert await _rows(owner_db, CaseFlag) == []  # on the timeline only
    assert len(await _rows(owner_db, PartnerEvent)) == 1
    assert await _rows(owner_db, Notification) == []

    overdose = await _push(api, world, event("overdose"))
    assert overdose.status_code == 201
    assert [f.kind for f in await _rows(owner_db, CaseFlag)] == ["overdose"]
    snoozes = await _rows(owner_db, SignalSnooze)
    assert [(s.ended_reason, s.ended_at is not None) for s in snoozes] == [("broken", True)]
    listed = await api.get(f"/api/v1/cases/{case_id}/snoozes", headers=world.headers("police_member"))
    assert [(s["active"], s["ended_reason"]) for s in listed.json()] == [(False, "broken")]

    # The snooze is over: the next missed appointment flags the case.
    assert (await _push(api, world, event("missed_appointment"))).status_code == 201
    assert sorted(f.kind for f in await _rows(owner_db, CaseFlag)) == ["missed_appointment", "overdose"]

    # A new snooze can be set and lifted by hand.
    again = await api.post(f"/api/v1/cases/{case_id}/snoozes", json=body, headers=world.headers("chair"))
    assert again.status_code == 201, again.text
    lifted = await api.delete(f"/api/v1/cases/{case_id}/snoozes/{again.json()['id']}",
                              headers=world.headers("care_member"))
    assert lifted.status_code == 200 and lifted.json()["ended_reason"] == "lifted"
