"""Issue 21: a client's requests under the AVG. Recorded with kind, date, channel and who asked on
the client's behalf; deadline one month, extended once with a reason; an answer after the
deadline without extension is refused; a correction reaches the partners that had the old value
(acceptance 3); a signed agreement's text is never corrected; erasure and restriction run through
the retention machinery; an overdue request notifies the privacy officer and the chair."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.jobs.registry import build_registry
from app.jobs.runner import run_slot
from app.models import (
    Client,
    ClientCorrection,
    ClientRequest,
    Notification,
    OutboxMessage,
    Subscription,
)
from app.services.privacy.requests import add_months
from tests.agreements_support import case_with_assessment, create, sign_all
from tests.factories import World, add_case

PO = "privacy_officer"


async def _record(client: httpx.AsyncClient, world: World, number: str, **overrides: Any) -> httpx.Response:
    body: dict[str, Any] = {"kind": "inspection", "received_on": str(clock.today()), "channel": "letter",
                            "on_behalf_of": "Zijn zus", "description": "Wil weten wat er over hem is vastgelegd."}
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    return await client.post(f"/api/v1/audit/clients/{number}/requests", json=body, headers=world.headers(PO))


async def _count(owner_db, model: Any) -> int:
    async with owner_db.sessions() as s:
        return int((await s.execute(sa.select(sa.func.count()).select_from(model))).scalar_one())


async def _number(owner_db, world: World, **kwargs: Any) -> tuple[str, Any]:
    async with owner_db.sessions() as s:
        case = await add_case(s, world, **kwargs)
        client = await s.get(Client, case.client_id)
        await s.commit()
    assert client is not None
    return client.client_number, case


def test_the_deadline_is_one_calendar_month() -> None:
    assert add_months(date(2026, 1, 15), 1) == date(2026, 2, 15)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 10), 2) == date(2027, 2, 10)


async def test_record_extend_and_answer_a_request(client: httpx.AsyncClient, world: World, owner_db) -> None:
    number, _case = await _number(owner_db, world)
    received = clock.today() - timedelta(days=3)
    response = await _record(client, world, number, received_on=str(received))
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["kind"] == "inspection" and made["status"] == "open" and made["on_behalf_of"] == "Zijn zus"
    assert made["deadline_on"] == str(add_months(received, 1)) and made["overdue"] is False
    request_id = made["id"]

    register = await client.get("/api/v1/client-requests", headers=world.headers(PO))
    assert register.status_code == 200 and [r["id"] for r in register.json()["items"]] == [request_id]

    # Extended once with a reason; a second extension is refused.
    extended = await client.post(f"/api/v1/client-requests/{request_id}/extension",
                                 json={"reason": "Veel gegevens bij drie organisaties."},
                                 headers=world.headers(PO, **{"If-Match": response.headers["ETag"]}))
    assert extended.status_code == 200, extended.text
    assert extended.json()["extended_until"] == str(add_months(add_months(received, 1), 2))
    again = await client.post(f"/api/v1/client-requests/{request_id}/extension",
                              json={"reason": "Nog meer tijd nodig."},
                              headers=world.headers(PO, **{"If-Match": extended.headers["ETag"]}))
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")

    answered = await client.post(f"/api/v1/client-requests/{request_id}/answer",
                                 json={"decision": "granted", "answer": "U krijgt het overzicht en de export."},
                                 headers=world.headers(PO, **{"If-Match": extended.headers["ETag"]}))
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered" and answered.json()["answered_on"] == str(clock.today())
    # Others may not see or touch the register.
    for person in ("chair", "police_member"):
        assert (await client.get("/api/v1/client-requests", headers=world.headers(person))).status_code == 403
        assert (await client.get(f"/api/v1/client-requests/{request_id}",
                                 headers=world.headers(person))).status_code in (403, 404)


async def test_bad_requests_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    number, _case = await _number(owner_db, world)
    for overrides in ({"kind": None}, {"received_on": None}, {"kind": "wish"}, {"channel": None},
                      {"received_on": str(clock.today() + timedelta(days=1))}):
        response = await _record(client, world, number, **overrides)
        assert response.status_code == 422, (overrides, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await _count(owner_db, ClientRequest) == 0


async def test_an_answer_after_the_deadline_without_extension_is_refused(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    number, _case = await _number(owner_db, world)
    made = await _record(client, world, number, received_on=str(clock.today() - timedelta(days=40)))
    assert made.status_code == 201 and made.json()["overdue"] is True
    request_id = made.json()["id"]
    late = await client.post(f"/api/v1/client-requests/{request_id}/answer",
                             json={"decision": "granted", "answer": "Hierbij het overzicht."},
                             headers=world.headers(PO, **{"If-Match": made.headers["ETag"]}))
    assert late.status_code == 409 and "extension" in late.json()["detail"]
    async with owner_db.sessions() as s:
        row = await s.get(ClientRequest, made.json()["id"])
        assert row is not None and row.status == "open" and row.answer is None and row.version == 1


async def test_a_correction_reaches_the_partners_that_had_the_old_value(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    number, case = await _number(owner_db, world, name="Jan Testpersoon")
    async with owner_db.sessions() as s:
        s.add(Subscription(partner_system_id=world.systems["police_system"].id, organisation_id=world.orgs["politie"].id,
                           url="https://politie.example/hook", event_types=["client.corrected"],
                           secret="sealed:v1:not-used-here"))
        await s.commit()
    # The police member read the case (with the client's name); the neighbourhood team did not.
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))).status_code == 200
    made = await _record(client, world, number, kind="rectification", description="Naam is fout gespeld.")
    request_id = made.json()["id"]
    response = await client.post(f"/api/v1/client-requests/{request_id}/corrections",
                                 json={"field": "name", "new_value": "Jan Testpersoon-de Wit"},
                                 headers=world.headers(PO))
    assert response.status_code == 201, response.text
    correction = response.json()
    assert correction["old_value"] == "Jan Testpersoon" and correction["new_value"] == "Jan Testpersoon-de Wit"
    assert str(world.orgs["politie"].id) in correction["told_organisation_ids"]
    assert str(world.orgs["wijkteam"].id) not in correction["told_organisation_ids"]
    async with owner_db.sessions() as s:
        client_row = await s.get(Client, case.client_id)
        assert client_row is not None and client_row.name == "Jan Testpersoon-de Wit"
        told = (await s.execute(sa.select(Notification).where(Notification.kind == "data_corrected"))).scalars().all()
        assert {n.membership_id for n in told} >= {world.members["police_member"].id}
        assert world.members["wijkteam_member"].id not in {n.membership_id for n in told}
        assert all(n.ref_type == "case" and n.ref_id == case.id for n in told)
        [message] = (await s.execute(sa.select(OutboxMessage))).scalars().all()
        assert message.type == "client.corrected"
        assert message.payload["data"] == {"case_id": str(case.id), "correction_id": correction["id"], "field": "name"}
        assert "Jan" not in str(message.payload)
    mine = await client.get("/api/v1/me/notifications", headers=world.headers("police_member"))
    assert [(n["kind"], n["ref_id"]) for n in mine.json()] == [("data_corrected", str(case.id))]


async def test_a_signed_agreements_text_is_not_corrected(client: httpx.AsyncClient, world: World, owner_db) -> None:
    case = await case_with_assessment(owner_db, world)
    agreement_id = (await create(client, world, case)).json()["id"]
    signed = (await sign_all(client, world, agreement_id)).json()
    async with owner_db.sessions() as s:
        number = (await s.get(Client, case.client_id)).client_number  # type: ignore[union-attr]
    made = await _record(client, world, number, kind="rectification")
    response = await client.post(f"/api/v1/client-requests/{made.json()['id']}/corrections",
                                 json={"field": "agreement_text", "entity_id": agreement_id,
                                       "new_value": "Een andere tekst."},
                                 headers=world.headers(PO))
    assert response.status_code == 409 and "new version" in response.json()["detail"]
    assert await _count(owner_db, ClientCorrection) == 0
    again = await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("chair"))
    assert again.json()["text_hash"] == signed["text_hash"]


async def test_erasure_runs_through_retention_and_restriction_holds_the_purge(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    number, open_case = await _number(owner_db, world, name="Open Zaak")
    made = await _record(client, world, number, kind="erasure")
    refused = await client.post(f"/api/v1/client-requests/{made.json()['id']}/answer",
                                json={"decision": "granted", "answer": "Wij verwijderen uw gegevens."},
                                headers=world.headers(PO, **{"If-Match": made.headers["ETag"]}))
    assert refused.status_code == 409 and "open case" in refused.json()["detail"]

    closed_number, closed = await _number(owner_db, world, phase="closed", name="Gesloten Zaak")
    made = await _record(client, world, closed_number, kind="erasure")
    answered = await client.post(f"/api/v1/client-requests/{made.json()['id']}/answer",
                                 json={"decision": "granted", "answer": "Wij hebben uw gegevens verwijderd."},
                                 headers=world.headers(PO, **{"If-Match": made.headers["ETag"]}))
    assert answered.status_code == 200, answered.text
    async with owner_db.sessions() as s:
        gone = await s.get(Client, closed.client_id)
        assert gone is not None and gone.name is None and gone.anonymised_at is not None
        basis = (await s.execute(sa.text(
            "SELECT basis FROM access_log WHERE part = 'anonymise' AND client_number = :n"), {"n": closed_number}
        )).scalars().all()
        assert basis and all(b == f"client_request:{made.json()['id']}" for b in basis)

    # Restriction: the purge keeps the client's closed case past its retention period.
    kept_number, kept = await _number(owner_db, world, phase="closed", name="Bewaar Mij")
    made = await _record(client, world, kept_number, kind="restriction")
    assert (await client.post(f"/api/v1/client-requests/{made.json()['id']}/answer",
                              json={"decision": "granted", "answer": "Wij bewaren uw gegevens en gebruiken ze niet."},
                              headers=world.headers(PO, **{"If-Match": made.headers["ETag"]}))).status_code == 200
    from app.services.privacy.retention import due_cases

    async with owner_db.sessions() as s:
        await s.execute(sa.text("UPDATE \"case\" SET closed_at = now() - interval '5000 days' WHERE id = :c"),
                        {"c": kept.id})
        await s.commit()
        due = await due_cases(s, clock.now())
    assert kept.id not in {d.case_id for d in due}


async def test_an_overdue_request_notifies_the_privacy_officer_and_the_chair(
    app, client: httpx.AsyncClient, world: World, owner_db
) -> None:
    clock.freeze(datetime(2026, 3, 10, 5, 30, tzinfo=UTC))
    number, _case = await _number(owner_db, world)
    made = await _record(client, world, number, received_on="2026-03-01")
    assert made.status_code == 201
    job = next(j for j in build_registry(app.state.settings) if j.id == "client_requests.overdue")
    assert await run_slot(app.state.db, job, datetime(2026, 3, 10, 5, 0, tzinfo=UTC))
    assert await _count(owner_db, Notification) == 0  # not late yet
    clock.freeze(datetime(2026, 4, 2, 5, 30, tzinfo=UTC))
    assert await run_slot(app.state.db, job, datetime(2026, 4, 2, 5, 0, tzinfo=UTC))
    assert await run_slot(app.state.db, job, datetime(2026, 4, 3, 5, 0, tzinfo=UTC))  # told once only
    async with owner_db.sessions() as s:
        rows = (await s.execute(sa.select(Notification))).scalars().all()
    assert {r.membership_id for r in rows} == {world.members["privacy_officer"].id, world.members["chair"].id}
    assert all(r.kind == "client_request_overdue" and str(r.ref_id) == made.json()["id"] for r in rows)
    assert all(r.due_on == date(2026, 4, 1) for r in rows)
