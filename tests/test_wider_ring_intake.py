"""Issue 17, intake from outside the conference: a general practice's practice nurse (a referrer
of a non-member organisation, signing in with the practice's own identity provider) refers a
client and follows only their own referral's status; the chair accepts. A member records a worry
from the client's social surroundings, which lands in the chair's triage as its own kind."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from app.db import Database
from tests.factories import World, add_case
from tests.referrer_support import add_gp_referrer

PERSON = {"name": "Karin Linde", "date_of_birth": "1979-04-12"}


async def _count(owner_db: Database, sql: str, **params: object) -> int:
    async with owner_db.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql), params)).scalar_one())


async def test_an_administrator_registers_a_practice_and_its_referrer(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    """The new organisation kinds are accepted by the API; a referrer's organisation does not
    become a party of the conference, and their token (the practice's own provider) works."""
    issuer = world.idp.issuer("praktijk-oost")
    org = await client.post("/api/v1/organisations", headers=world.headers("admin"), json={
        "name": "Huisartsenpraktijk Oost", "slug": "praktijk-oost", "kind": "general_practice",
        "issuer": issuer, "audience": "casusoverleg", "jwks_uri": f"{issuer}/jwks.json",
    })
    assert org.status_code == 201, org.text
    assert org.json()["kind"] == "general_practice"
    for kind in ("mental_health_care", "work_income", "reintegration", "education", "peer_support"):
        other = await client.post("/api/v1/organisations", headers=world.headers("admin"),
                                  json={"name": kind, "slug": kind.replace("_", "-"), "kind": kind})
        assert other.status_code == 201, other.text
    membership = await client.post(f"/api/v1/conferences/{world.a.id}/memberships", headers=world.headers("admin"),
                                   json={"organisation_id": org.json()["id"], "subject": "poh-oost",
                                         "display_name": "POH Oost", "role": "referrer"})
    assert membership.status_code == 201, membership.text
    assert await _count(owner_db, "SELECT count(*) FROM conference_organisation WHERE organisation_id = :o",
                        o=org.json()["id"]) == 0
    token = world.idp.token("praktijk-oost", "poh-oost", audience="casusoverleg")
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    referral = await client.post(f"/api/v1/conferences/{world.a.id}/referrals",
                                 headers={"Authorization": f"Bearer {token}"},
                                 json={"client": PERSON, "reason": "Alcoholgebruik en schulden."})
    assert referral.status_code == 201, referral.text
    assert referral.json()["kind"] == "external"


async def test_the_practice_nurse_refers_and_follows_the_status_the_chair_accepts(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    async with owner_db.sessions() as session:
        poh = await add_gp_referrer(session, world)
        case = await add_case(session, world)  # a case of the conference, not the referrer's
        await session.commit()
    police = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", headers=world.headers("police_member"),
                               json={"client": {"name": "Piet Ander", "date_of_birth": "1970-01-01"},
                                     "reason": "Overlast."})
    assert police.status_code == 201

    made = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", headers=poh.headers(),
                             json={"client": PERSON, "reason": "Zorgen om alcoholgebruik na ontslag."})
    assert made.status_code == 201, made.text
    referral = made.json()
    assert (referral["kind"], referral["status"]) == ("external", "pending")
    assert referral["referring_organisation_id"] == str(poh.organisation.id)

    # The chair's triage reads it through the referral read path, with its kind.
    triage = await client.get("/api/v1/referrals", params={"status": "pending"}, headers=world.headers("chair"))
    kinds = {r["id"]: r["kind"] for r in triage.json()["items"]}
    assert kinds[referral["id"]] == "external"

    # The practice nurse sees their own referral only.
    own = await client.get("/api/v1/referrals", headers=poh.headers())
    assert own.status_code == 200
    assert [r["id"] for r in own.json()["items"]] == [referral["id"]] and own.json()["total"] == 1
    foreign = await client.get(f"/api/v1/referrals/{police.json()['id']}", headers=poh.headers())
    assert foreign.status_code == 404

    accepted = await client.post(f"/api/v1/referrals/{referral['id']}/accept", json={},
                                 headers=world.headers("chair"))
    assert accepted.status_code == 201, accepted.text
    status = await client.get(f"/api/v1/referrals/{referral['id']}", headers=poh.headers())
    assert status.status_code == 200 and status.json()["status"] == "accepted"

    # No case access: neither the case the referral opened nor any other.
    for case_id in (accepted.json()["id"], case.id):
        for suffix in ("", "/plan", "/notes", "/events", "/agreements", "/history"):
            read = await client.get(f"/api/v1/cases/{case_id}{suffix}", headers=poh.headers())
            assert read.status_code == 404, (suffix, read.text)
            assert "Karin" not in read.text and "Testpersoon" not in read.text
    listed = await client.get("/api/v1/cases", headers=poh.headers())
    assert listed.status_code == 200 and listed.json()["total"] == 0
    refused = await client.post(f"/api/v1/referrals/{referral['id']}/decline", json={"reason": "x"},
                                headers=poh.headers())
    assert refused.status_code == 404
    denied = await _count(owner_db, "SELECT count(*) FROM access_log WHERE actor_subject = 'poh-sub' "
                                    "AND outcome = 'denied'")
    assert denied >= 13


async def test_a_referrer_may_not_look_up_by_bsn(client: httpx.AsyncClient, world: World, owner_db: Database) -> None:
    async with owner_db.sessions() as session:
        poh = await add_gp_referrer(session, world)
        await session.commit()
    response = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", headers=poh.headers(),
                                 json={"client": {**PERSON, "bsn": "111222333"}, "reason": "Zorgen."})
    assert response.status_code == 403
    assert "111222333" not in response.text
    assert await _count(owner_db, "SELECT count(*) FROM referral") == 0
    assert await _count(owner_db, "SELECT count(*) FROM client") == 0
    other = await client.post(f"/api/v1/conferences/{world.b.id}/referrals", headers=poh.headers(),
                              json={"client": PERSON, "reason": "Zorgen."})
    assert other.status_code == 404  # not their conference


async def test_a_worry_from_the_surroundings_lands_in_the_chairs_triage(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    url = f"/api/v1/conferences/{world.a.id}/concerns"
    body = {"client": {"name": "Henk Visser", "date_of_birth": "1962-08-30"}, "reporter": "Buurvrouw",
            "relation": "neighbour", "observation": "Hij komt zijn huis niet meer uit en de post stapelt zich op."}
    made = await client.post(url, json=body, headers=world.headers("wijkteam_member"))
    assert made.status_code == 201, made.text
    concern = made.json()
    assert (concern["kind"], concern["reporter"], concern["reporter_relation"]) == (
        "surroundings", "Buurvrouw", "neighbour")
    assert concern["reason"].startswith("Hij komt zijn huis")

    triage = await client.get("/api/v1/referrals", params={"status": "pending"}, headers=world.headers("chair"))
    found = [r for r in triage.json()["items"] if r["id"] == concern["id"]]
    assert found and found[0]["kind"] == "surroundings" and found[0]["reporter"] == "Buurvrouw"
    accepted = await client.post(f"/api/v1/referrals/{concern['id']}/accept", json={}, headers=world.headers("chair"))
    assert accepted.status_code == 201

    # Recorded by a member or the chair: a liaison is refused, a referrer finds nothing.
    assert (await client.post(url, json=body, headers=world.headers("police_liaison"))).status_code == 403
    async with owner_db.sessions() as session:
        poh = await add_gp_referrer(session, world)
        await session.commit()
    assert (await client.post(url, json=body, headers=poh.headers())).status_code == 404
    missing = await client.post(url, json={k: v for k, v in body.items() if k != "relation"},
                                headers=world.headers("wijkteam_member"))
    assert missing.status_code == 422
    assert any(e["pointer"] == "#/relation" for e in missing.json()["errors"])
    assert await _count(owner_db, "SELECT count(*) FROM referral") == 1
