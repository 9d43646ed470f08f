"""Acceptance 1 and 2, end to end, with the official CloudEvents SDK as the client: a partner
system links its reference through the API, sends a relapse in structured mode and a missed
appointment in binary mode; the flags are on the next draft agenda, the case director is told,
the webhooks (Standard Webhooks and ZGW Notificaties shapes) arrive signed and verifiable with
`standardwebhooks`, and the receiver fetches the case with cases:read-minimal: exactly the
minimal fields."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from app.clock import clock
from app.db import Database
from app.events.delivery import deliver_due
from app.models import AccessLogEntry, OutboxMessage, PartnerSystem
from tests.events.support import Receiver, binary, sdk_event, structured
from tests.factories import World, add_action, add_case
from tests.meeting_helpers import add_meeting, chair_post

MINIMAL_FIELDS = {
    "case_id", "references", "phase", "next_meeting_date", "case_director_organisation_id",
    "case_director_organisation", "case_director_role", "actions",
}
ZGW_FIELDS = {"kanaal", "hoofdObject", "resource", "resourceUrl", "actie", "aanmaakdatum", "kenmerken"}


async def _drain(events_app: Any, owner_db: Database) -> None:
    for _ in range(100):
        await deliver_due(events_app.state.db, settings=events_app.state.settings)
        async with owner_db.sessions() as session:
            pending = (await session.execute(
                sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.delivered_at.is_(None))
            )).scalar_one()
        if not pending:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


def _check_zgw(body: dict[str, Any], case_id: str) -> None:
    """The VNG ZGW Notificaties notification shape."""
    assert set(body) == ZGW_FIELDS, body
    assert isinstance(body["kanaal"], str) and body["kanaal"]
    assert isinstance(body["resource"], str) and body["resource"]
    assert isinstance(body["actie"], str) and body["actie"]
    for url in (body["hoofdObject"], body["resourceUrl"]):
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.netloc, url
    assert body["hoofdObject"].endswith(f"/api/v1/cases/{case_id}/minimal")
    datetime.fromisoformat(body["aanmaakdatum"])
    assert isinstance(body["kenmerken"], dict) and all(isinstance(v, str) for v in body["kenmerken"].values())


async def test_a_partner_system_end_to_end(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)  # directed by the care member
        care_action = await add_action(session, world, case, owner="zorg", assignee="care_liaison",
                                       committed_by="care_member", due_in_days=5)
        await add_action(session, world, case)  # the police's: not for the care system
        meeting = await add_meeting(session, world, starts_at=clock.now() + timedelta(days=2))
        system = PartnerSystem(organisation_id=world.orgs["zorg"].id, name="EPD", subject="epd-sub",
                               scopes=["events:write", "clients:link", "cases:read-minimal", "webhooks:manage"])
        session.add(system)
        world.systems["care_system"] = system
        await session.commit()
    care = world.headers("care_system")

    # 1. The system links its own reference to the client, through the API.
    linked = await api.post(f"/api/v1/cases/{case.id}/references", json={"reference": "EPD-4711"}, headers=care)
    assert linked.status_code == 201, linked.text

    # Two receivers: one per payload shape.
    standard, zgw = Receiver(), Receiver()
    secrets = {}
    for receiver, shape in ((standard, "standard-webhooks"), (zgw, "zgw-notificaties")):
        receiver.start()
        created = await api.post("/api/v1/subscriptions", headers=care, json={
            "url": receiver.url, "event_types": ["case.flagged"], "payload_shape": shape})
        assert created.status_code == 201, created.text
        assert created.json()["payload_shape"] == shape
        secrets[shape] = created.json()["secret"]
    try:
        # 2. A relapse in structured mode, a missed appointment in binary mode (the SDK's messages).
        for message in (structured(sdk_event("relapse", "EPD-4711")),
                        binary(sdk_event("missed_appointment", "EPD-4711"))):
            response = await api.post("/api/v1/events", content=message.body, headers={**message.headers, **care})
            assert response.status_code == 201, response.text

        # 3. The next draft agenda carries the case with both signals.
        draft = await chair_post(api, world, meeting.id, "/agenda/draft")
        assert draft.status_code == 200, draft.text
        items = [i for i in draft.json()["items"] if i.get("case_id") == str(case.id)]
        assert items, draft.json()
        # Two signals, each a reason (health information: for the chair its content is hidden).
        assert [r["code"] for r in items[0]["reasons"]] == ["signal", "signal"], items

        # 4. The case director is told.
        mine = await api.get("/api/v1/me/notifications", headers=world.headers("care_member"))
        assert sorted(n["kind"] for n in mine.json()) == ["case_flagged", "case_flagged"]

        # 5. The webhooks arrive, signed per Standard Webhooks, in the subscription's shape.
        await _drain(events_app, owner_db)
    finally:
        standard.stop()
        zgw.stop()
    assert len(standard.received) == 2 and len(zgw.received) == 2
    for receiver, shape in ((standard, "standard-webhooks"), (zgw, "zgw-notificaties")):
        for item in receiver.received:
            Webhook(secrets[shape]).verify(item.body, item.headers)  # raises when the signature is wrong
            body = json.loads(item.body)
            if shape == "standard-webhooks":
                assert set(body) == {"type", "timestamp", "data"} and body["type"] == "case.flagged"
                assert set(body["data"]) == {"case_id", "flag_id"}
                url = f"/api/v1/cases/{body['data']['case_id']}/minimal"
            else:
                _check_zgw(body, str(case.id))
                assert (body["kanaal"], body["resource"], body["actie"]) == ("casussen", "signaal", "create")
                url = urlsplit(body["hoofdObject"]).path

            # 6. The receiver fetches what it may: exactly the minimal fields.
            fetched = await api.get(url, headers=care)
            assert fetched.status_code == 200, fetched.text
            view = fetched.json()
            assert set(view) == MINIMAL_FIELDS
            assert view["references"] == ["EPD-4711"] and view["phase"] == "active"
            assert view["next_meeting_date"] == meeting.starts_at.date().isoformat()
            assert view["case_director_organisation_id"] == str(world.orgs["zorg"].id)
            assert view["case_director_role"] == "member"
            assert view["actions"] == [{"id": str(care_action.id), "status": "open",
                                        "due_date": care_action.due_date.isoformat()}]
            assert "name" not in fetched.text and "Huisbezoek" not in fetched.text

    async with owner_db.sessions() as session:
        reads = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.part == "minimal", AccessLogEntry.outcome == "allowed"))).scalars().all()
    assert len(reads) == 4 and all(r.actor_kind == "system" and r.case_id == case.id for r in reads)


async def test_minimal_reads_only_for_clients_the_organisation_holds_a_reference_for(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    async with owner_db.sessions() as session:
        mine = await add_case(session, world, name="Met referentie")
        other = await add_case(session, world, name="Zonder referentie")
        system = PartnerSystem(organisation_id=world.orgs["zorg"].id, name="EPD", subject="epd-sub",
                               scopes=["clients:link", "cases:read-minimal"])
        plain = PartnerSystem(organisation_id=world.orgs["zorg"].id, name="EPD2", subject="epd2-sub",
                              scopes=["events:write"])
        session.add_all([system, plain])
        world.systems["care_system"], world.systems["plain"] = system, plain
        await session.commit()
    care = world.headers("care_system")
    assert (await api.post(f"/api/v1/cases/{mine.id}/references", json={"reference": "EPD-1"},
                           headers=care)).status_code == 201
    assert (await api.get(f"/api/v1/cases/{mine.id}/minimal", headers=care)).status_code == 200
    theirs = await api.get(f"/api/v1/cases/{other.id}/minimal", headers=care)
    missing = await api.get(f"/api/v1/cases/{other.id.hex[:-4]}0000/minimal", headers=care)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]
    assert (await api.get(f"/api/v1/cases/{mine.id}/minimal", headers=world.headers("plain"))).status_code == 403
    assert (await api.get(f"/api/v1/cases/{mine.id}/minimal",
                          headers=world.headers("care_member"))).status_code == 403
    async with owner_db.sessions() as session:
        denied = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.outcome == "denied", AccessLogEntry.part == "minimal"))).scalars().all()
    assert {r.case_id for r in denied} >= {other.id}
