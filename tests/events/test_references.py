"""Client references: an organisation's people and its partner system link the organisation's
own reference to a case's client; a referral carries the referrer's reference along; each
organisation sees only its own; bad links are refused naming the field, and nothing is stored."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa

from app.db import Database
from app.models import ClientReference, PartnerEvent, PartnerSystem
from app.services.events.intake import UNKNOWN_REFERENCE
from tests.events.support import CE, event
from tests.factories import World, add_case


async def _systems(owner_db: Database, world: World) -> None:
    async with owner_db.sessions() as session:
        for key, slug, scopes in (
            ("care_system", "zorg", ["events:write", "clients:link"]),
            ("care_system_plain", "zorg", ["events:write"]),
        ):
            system = PartnerSystem(organisation_id=world.orgs[slug].id, name=key, subject=f"{key}-sub",
                                   scopes=scopes)
            session.add(system)
            world.systems[key] = system
        await session.commit()


async def _refs(owner_db: Database) -> list[tuple[str, str]]:
    async with owner_db.sessions() as session:
        rows = await session.execute(sa.select(ClientReference.reference, ClientReference.organisation_id))
        return sorted((r, str(o)) for r, o in rows.all())


async def test_a_member_links_the_own_reference_and_the_system_can_then_report(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await _systems(owner_db, world)
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    before = await api.post("/api/v1/events", content=json.dumps(event("relapse", "ZRG-77")),
                            headers={**world.headers("care_system"), **CE})
    assert before.status_code == 422 and before.json()["errors"][0]["detail"] == UNKNOWN_REFERENCE

    linked = await api.post(f"/api/v1/cases/{case.id}/references", json={"reference": "ZRG-77"},
                            headers=world.headers("care_liaison"))
    assert linked.status_code == 201, linked.text
    assert linked.json()["reference"] == "ZRG-77"
    again = await api.post(f"/api/v1/cases/{case.id}/references", json={"reference": "ZRG-77"},
                           headers=world.headers("care_member"))
    assert again.status_code == 200 and again.json()["id"] == linked.json()["id"]
    police = await api.post(f"/api/v1/cases/{case.id}/references", json={"reference": "BVH-9"},
                            headers=world.headers("police_member"))
    assert police.status_code == 201

    # Each organisation sees its own reference only.
    mine = await api.get(f"/api/v1/cases/{case.id}/references", headers=world.headers("care_member"))
    assert [r["reference"] for r in mine.json()] == ["ZRG-77"]
    theirs = await api.get(f"/api/v1/cases/{case.id}/references", headers=world.headers("police_liaison"))
    assert [r["reference"] for r in theirs.json()] == ["BVH-9"]
    chair = await api.get(f"/api/v1/cases/{case.id}/references", headers=world.headers("chair"))
    assert chair.json() == []

    after = await api.post("/api/v1/events", content=json.dumps(event("relapse", "ZRG-77")),
                           headers={**world.headers("care_system"), **CE})
    assert after.status_code == 201, after.text

    # Unlinked: the reference answers exactly like one that never existed.
    gone = await api.delete(f"/api/v1/cases/{case.id}/references/{linked.json()['id']}",
                            headers=world.headers("care_member"))
    assert gone.status_code == 204
    unknown = await api.post("/api/v1/events", content=json.dumps(event("relapse", "ZRG-77")),
                             headers={**world.headers("care_system"), **CE})
    never = await api.post("/api/v1/events", content=json.dumps(event("relapse", "ZRG-NEVER")),
                           headers={**world.headers("care_system"), **CE})
    assert unknown.status_code == never.status_code == 422
    assert unknown.json()["errors"] == never.json()["errors"]
    # Another organisation's reference cannot be unlinked: it reads like a missing one.
    other = await api.delete(f"/api/v1/cases/{case.id}/references/{police.json()['id']}",
                             headers=world.headers("care_member"))
    assert other.status_code == 404
    assert ("BVH-9", str(world.orgs["politie"].id)) in await _refs(owner_db)


async def test_bad_links_are_refused_naming_the_field_and_store_nothing(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await _systems(owner_db, world)
    async with owner_db.sessions() as session:
        first = await add_case(session, world, name="Een")
        second = await add_case(session, world, name="Twee")
        elsewhere = await add_case(session, world, conference=world.b, director=None, name="Drie")
        await session.commit()
    ok = await api.post(f"/api/v1/cases/{first.id}/references", json={"reference": "ZRG-1"},
                        headers=world.headers("care_member"))
    assert ok.status_code == 201
    taken = await api.post(f"/api/v1/cases/{second.id}/references", json={"reference": "ZRG-1"},
                           headers=world.headers("care_member"))
    assert taken.status_code == 422
    assert taken.headers["content-type"].startswith("application/problem+json")
    assert taken.json()["errors"][0]["pointer"] == "#/reference"
    bsn = await api.post(f"/api/v1/cases/{second.id}/references", json={"reference": "111222333"},
                         headers=world.headers("care_member"))
    assert bsn.status_code == 422 and "111222333" not in bsn.text
    assert bsn.json()["errors"][0]["pointer"] == "#/reference"
    malformed = await api.post(f"/api/v1/cases/{second.id}/references", json={"reference": "a b"},
                               headers=world.headers("care_member"))
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["pointer"] == "#/reference"

    # The partner system links for clients of conferences its organisation takes part in only;
    # a case elsewhere reads exactly like a missing case.
    by_system = await api.post(f"/api/v1/cases/{second.id}/references", json={"reference": "ZRG-2"},
                               headers=world.headers("care_system"))
    assert by_system.status_code == 201, by_system.text
    outside = await api.post(f"/api/v1/cases/{elsewhere.id}/references", json={"reference": "ZRG-3"},
                             headers=world.headers("care_system"))
    missing = await api.post(f"/api/v1/cases/{first.id.hex[:-4]}0000/references", json={"reference": "ZRG-3"},
                             headers=world.headers("care_system"))
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["detail"] == missing.json()["detail"]
    no_scope = await api.post(f"/api/v1/cases/{second.id}/references", json={"reference": "ZRG-4"},
                              headers=world.headers("care_system_plain"))
    assert no_scope.status_code == 404 and no_scope.json()["detail"] == missing.json()["detail"]
    assert sorted(r for r, _ in await _refs(owner_db)) == ["ZRG-1", "ZRG-2"]


async def test_an_accepted_referral_carries_the_referrers_reference(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await _systems(owner_db, world)
    body = {"client": {"name": "Nieuwe Cliënt", "date_of_birth": "1985-04-05"}, "reason": "Terugval",
            "reference": "ZRG-REF-5"}
    created = await api.post(f"/api/v1/conferences/{world.a.id}/referrals", json=body,
                             headers=world.headers("care_member"))
    assert created.status_code == 201, created.text
    assert await _refs(owner_db) == []  # only on acceptance
    accepted = await api.post(f"/api/v1/referrals/{created.json()['id']}/accept", json={},
                              headers=world.headers("chair"))
    assert accepted.status_code == 201, accepted.text
    assert await _refs(owner_db) == [("ZRG-REF-5", str(world.orgs["zorg"].id))]
    pushed = await api.post("/api/v1/events", content=json.dumps(event("lapse", "ZRG-REF-5")),
                            headers={**world.headers("care_system"), **CE})
    assert pushed.status_code == 201, pushed.text
    async with owner_db.sessions() as session:
        stored = (await session.execute(sa.select(PartnerEvent))).scalar_one()
    assert str(stored.case_id) == accepted.json()["id"]

    # A reference that already names another client of the organisation: refused at referral.
    again = await api.post(f"/api/v1/conferences/{world.a.id}/referrals",
                           json={**body, "client": {"name": "Ander", "date_of_birth": "1970-01-01"}},
                           headers=world.headers("care_member"))
    assert again.status_code == 422 and again.json()["errors"][0]["pointer"] == "#/reference"
