"""Both CloudEvents HTTP modes and batches, sent by the official CloudEvents SDK (2.x): structured
(`application/cloudevents+json`), binary (`ce-*` headers, any JSON content type), and
`application/cloudevents-batch+json`; the NL GOV profile's source and extension attributes; bad
binary events and oversized batches refused naming the event and field, nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from app.db import Database
from app.models import CaseFlag, PartnerEvent
from tests.events.support import batch, binary, link_case, sdk_event, structured
from tests.factories import World

OIN_SOURCE = "urn:nld:oin:00000001234567890000:systeem:epd"


async def _count(owner_db: Database, model: Any) -> int:
    async with owner_db.sessions() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(model))).scalar_one())


async def _send(api: httpx.AsyncClient, world: World, message: Any, **extra: str) -> httpx.Response:
    headers = {**message.headers, **extra, **world.headers("care_system")}
    return await api.post("/api/v1/events", content=message.body, headers=headers)


async def test_structured_binary_and_batch_from_the_sdk(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    relapse = sdk_event("relapse", source=OIN_SOURCE, dataref="https://epd.example/r/1", sequence="42")
    response = await _send(api, world, structured(relapse))
    assert response.status_code == 201, response.text

    missed = sdk_event("missed_appointment", source=OIN_SOURCE, sequence="43")
    message = binary(missed)
    assert message.headers["ce-id"] and message.headers["content-type"] == "application/json"
    response = await _send(api, world, message)
    assert response.status_code == 201, response.text
    assert response.json()["id"] == missed.get_id()
    again = await _send(api, world, binary(missed))  # a replay in binary mode: the same receipt
    assert again.status_code == 200 and again.json() == response.json()

    # Any JSON media type in binary mode.
    vendor = binary(sdk_event("lapse"))
    response = await _send(api, world, vendor, **{"content-type": "application/vnd.zorg.signaal+json; charset=utf-8"})
    assert response.status_code == 201, response.text

    three = [sdk_event("lapse") for _ in range(3)]
    response = await _send(api, world, batch(*three))
    assert response.status_code == 201, response.text
    assert [r["id"] for r in response.json()["receipts"]] == [e.get_id() for e in three]
    assert await _count(owner_db, PartnerEvent) == 6
    async with owner_db.sessions() as session:
        kinds = sorted((await session.execute(sa.select(CaseFlag.kind))).scalars())
    assert "relapse" in kinds


async def test_bad_binary_events_name_the_header_and_store_nothing(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)

    def without(name: str) -> httpx.Response:
        message = binary(sdk_event("missed_appointment"))
        headers = {k: v for k, v in message.headers.items() if k != name}
        return api.post("/api/v1/events", content=message.body, headers={**headers, **world.headers("care_system")})

    response = await without("ce-id")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [
        {"index": 0, "pointer": "#header:ce-id", "detail": "The header ce-id is missing."}
    ]
    message = binary(sdk_event("missed_appointment"))
    response = await _send(api, world, message, **{"ce-specversion": "0.3"})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["#header:ce-specversion"]
    response = await _send(api, world, message, **{"content-type": "text/plain"})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["#header:content-type"]
    # The data is the body: its problems point into the body.
    bad_data = binary(sdk_event("missed_appointment", data={"appointment_kind": "picnic"}))
    response = await _send(api, world, bad_data)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/appointment_kind"]
    # Attribute problems point at their header.
    response = await _send(api, world, message, **{"ce-time": "yesterday"})
    assert [e["pointer"] for e in response.json()["errors"]] == ["#header:ce-time"]
    response = await _send(api, world, message, **{"ce-subject": "ZRG-UNKNOWN"})
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["#header:ce-subject"]
    # An OIN has 20 digits (NL GOV profile).
    response = await _send(api, world, structured(sdk_event("lapse", source="urn:nld:oin:123:systeem:epd")))
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "#/source"
    assert await _count(owner_db, PartnerEvent) == 0


async def test_a_batch_over_the_limit_names_the_first_event_beyond_it(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    response = await _send(api, world, batch(*[sdk_event("lapse") for _ in range(101)]))
    assert response.status_code == 413
    assert response.json()["errors"] == [
        {"index": 100, "pointer": "#/100", "detail": "Beyond the limit of 100 events."}
    ]
    # One failing event fails the batch, named by index and field.
    events = [sdk_event("lapse") for _ in range(3)]
    events[1] = sdk_event("lapse", data={"substances": "ghb"})
    response = await _send(api, world, batch(*events))
    assert response.status_code == 422
    assert [(e["index"], e["pointer"]) for e in response.json()["errors"]] == [(1, "#/1/data/substances")]
    assert await _count(owner_db, PartnerEvent) == 0
