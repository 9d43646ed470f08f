"""The single-event path of app/services/events/single.py: one statement in PostgreSQL's implicit
transaction, checked against what the service expected, and an access-log chain that moved under
the statement undoes all of it (the event is then stored once, with its one log row)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import AccessLogEntry, CaseFlag, PartnerEvent
from app.models.enums import Phase
from app.services.events import single
from app.services.privacy.verify import verify_chain
from tests.events.support import CE, event, link_case
from tests.factories import World


async def _count(owner_db: Database, model: Any, *where: Any) -> int:
    async with owner_db.sessions() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(model).where(*where))).scalar_one())


async def test_a_moved_chain_head_undoes_the_statement_and_the_event_is_stored_once(
    api: httpx.AsyncClient, world: World, owner_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked = await link_case(owner_db, world)
    headers = {**world.headers("care_system"), **CE}
    assert (await api.post("/api/v1/events", content=json.dumps(event("lapse")), headers=headers)).status_code == 201

    real = single.claim_lane
    moved: list[str] = []

    async def stale_head(driver: Any, info: dict[Any, Any]) -> list[Any]:
        state = await real(driver, info)
        if not moved:  # as if another connection had written this chain since
            moved.append(state[1])
            state[1] = "f" * 64
        return state

    monkeypatch.setattr(single, "claim_lane", stale_head)
    relapse = event("relapse")
    response = await api.post("/api/v1/events", content=json.dumps(relapse), headers=headers)
    assert response.status_code == 201, response.text
    assert moved, "the path did not run"

    stored = await _count(owner_db, PartnerEvent, PartnerEvent.event_id == relapse["id"])
    rows = await _count(owner_db, AccessLogEntry, AccessLogEntry.resource_id == response.json()["event"])
    flags = await _count(owner_db, CaseFlag, CaseFlag.case_id == linked.case.id, CaseFlag.kind == "relapse")
    assert (stored, rows, flags) == (1, 1, 1)
    async with owner_db.sessions() as session:
        assert (await verify_chain(session)).ok is True


async def test_a_closed_case_is_seen_although_the_service_remembered_it_open(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    headers = {**world.headers("care_system"), **CE}
    assert (await api.post("/api/v1/events", content=json.dumps(event("lapse")), headers=headers)).status_code == 201
    async with owner_db.sessions() as session:  # closed behind the service's back
        await session.execute(sa.text('UPDATE "case" SET phase = :closed WHERE id = :id'),
                              {"closed": Phase.closed.value, "id": linked.case.id})
        await session.commit()

    response = await api.post("/api/v1/events", content=json.dumps(event("relapse")), headers=headers)
    assert response.status_code == 201, response.text
    # On the timeline, but a closed case gets no flag.
    assert await _count(owner_db, CaseFlag, CaseFlag.case_id == linked.case.id, CaseFlag.kind == "relapse") == 0
    assert await _count(owner_db, PartnerEvent, PartnerEvent.id == response.json()["event"]) == 1


def test_events_stored_with_the_older_hash_are_still_recognised_as_replays() -> None:
    """payload_hash moved from the standard library's canonical text to orjson's: for what the
    intake accepts they are the same bytes, and where they are not (a float with an exponent), a
    replay of an event stored with the older hash is still a replay, and other content is not."""
    from app.events.cloudevents import legacy_payload_hash, parse_event, payload_hash

    sent = event("relapse", data={"substances": ["ghb"], "reported_by": "professional"},
                 **{"partnerref": "Ünïcode \u2028 \x01 \"quoted\"", "seq": 2**40})
    assert payload_hash(sent) == legacy_payload_hash(sent)

    parsed = parse_event({**sent, "weight": 1e-05}, index=0, batch=False, organisation_kind="addiction_care",
                         now=clock.now(), max_future=timedelta(minutes=5))
    assert isinstance(parsed, list)  # a float extension attribute is refused: no float reaches the hash
    with_float = {**sent, "data": {**sent["data"]}}
    parsed_ok = parse_event(sent, index=0, batch=False, organisation_kind="addiction_care", now=clock.now(),
                            max_future=timedelta(minutes=5))
    assert not isinstance(parsed_ok, list)
    assert parsed_ok.same_payload(legacy_payload_hash(with_float))
    floaty = replace(parsed_ok, raw={**sent, "x": 1e-05})
    assert floaty.same_payload(legacy_payload_hash({**sent, "x": 1e-05}))
    assert payload_hash({**sent, "x": 1e-05}) != legacy_payload_hash({**sent, "x": 1e-05})
    assert not floaty.same_payload(legacy_payload_hash({**sent, "x": 2e-05}))
