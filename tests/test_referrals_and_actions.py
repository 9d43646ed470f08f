"""Referral to case, and liaisons updating their organisation's actions without lost updates."""

from __future__ import annotations

from datetime import timedelta

from app.clock import clock
from tests.factories import World, add_action, add_case


async def test_referral_accepted_opens_a_case_declined_keeps_reason(client, world: World) -> None:
    url = f"/api/v1/conferences/{world.a.id}/referrals"
    body = {"client": {"name": "Kees Jansen", "date_of_birth": "1990-01-01"}, "reason": "Zorgen van het wijkteam."}
    referral = await client.post(url, json=body, headers=world.headers("wijkteam_member"))
    assert referral.status_code == 201, referral.text
    other = await client.post(url, json={**body, "client": {"name": "Els", "date_of_birth": "1970-01-01"}},
                              headers=world.headers("wijkteam_member"))
    # The neighbourhood team sees its own referrals; the police member does not see them.
    own = await client.get("/api/v1/referrals", headers=world.headers("wijkteam_member"))
    assert own.json()["total"] == 2
    police = await client.get("/api/v1/referrals", headers=world.headers("police_member"))
    assert police.json()["total"] == 0
    refused = await client.post(f"/api/v1/referrals/{referral.json()['id']}/accept", json={},
                                headers=world.headers("wijkteam_member"))
    assert refused.status_code == 403
    accepted = await client.post(
        f"/api/v1/referrals/{referral.json()['id']}/accept",
        json={"case_director_id": str(world.members["care_member"].id), "priority": "high", "substances": ["ghb"]},
        headers=world.headers("chair"),
    )
    assert accepted.status_code == 201, accepted.text
    case = accepted.json()
    assert case["phase"] == "selected" and case["client_number"] == referral.json()["client_number"]
    again = await client.post(f"/api/v1/referrals/{referral.json()['id']}/accept", json={},
                              headers=world.headers("chair"))
    assert again.status_code == 409
    declined = await client.post(f"/api/v1/referrals/{other.json()['id']}/decline",
                                 json={"reason": "Geen middelenproblematiek."}, headers=world.headers("chair"))
    assert declined.json()["status"] == "declined"
    status = await client.get(f"/api/v1/referrals/{other.json()['id']}", headers=world.headers("wijkteam_member"))
    assert status.json()["decline_reason"] == "Geen middelenproblematiek."
    detail = await client.get(f"/api/v1/cases/{case['id']}", headers=world.headers("care_member"))
    assert detail.json()["client_name"] == "Kees Jansen"


async def test_liaison_updates_own_organisations_action_only(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        police_action = await add_action(session, world, case)
        care_action = await add_action(session, world, case, owner="zorg", assignee="care_liaison",
                                       committed_by="care_member")
        await session.commit()
    mine = await client.get("/api/v1/actions", params={"organisation_id": str(world.orgs["politie"].id)},
                            headers=world.headers("police_liaison"))
    assert [a["id"] for a in mine.json()["items"]] == [str(police_action.id)]
    read = await client.get(f"/api/v1/actions/{police_action.id}", headers=world.headers("police_liaison"))
    etag = read.headers["ETag"]
    done = await client.patch(f"/api/v1/actions/{police_action.id}", json={"status": "done", "note": "Bezocht."},
                              headers=world.headers("police_liaison", **{"If-Match": etag}))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    # A colleague who read the old version cannot overwrite the change.
    lost = await client.patch(f"/api/v1/actions/{police_action.id}", json={"status": "blocked"},
                              headers=world.headers("police_member", **{"If-Match": etag}))
    assert lost.status_code == 412
    care_etag = (await client.get(f"/api/v1/actions/{care_action.id}", headers=world.headers("care_liaison"))).headers["ETag"]
    foreign = await client.patch(f"/api/v1/actions/{care_action.id}", json={"status": "done"},
                                 headers=world.headers("police_liaison", **{"If-Match": care_etag}))
    assert foreign.status_code == 403
    history = (await client.get(f"/api/v1/cases/{case.id}/history", headers=world.headers("chair"))).json()
    assert history[-1]["changes"]["status"] == {"from": "open", "to": "done"}
    assert history[-1]["changes"]["note"] == {"changed": True}


async def test_action_filters(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await add_action(session, world, case, due_in_days=-3)
        await add_action(session, world, case, due_in_days=10, status="done")
        await add_action(session, world, case, owner="zorg", assignee="care_liaison", committed_by="care_member")
        await session.commit()
    headers = world.headers("chair")
    overdue = await client.get("/api/v1/actions", params={"due_before": (clock.today() - timedelta(days=1)).isoformat()},
                               headers=headers)
    assert overdue.json()["total"] == 1 and overdue.json()["items"][0]["overdue"] is True
    by_status = await client.get("/api/v1/actions", params=[("status", "open"), ("status", "in_progress")],
                                 headers=headers)
    assert by_status.json()["total"] == 2
    by_assignee = await client.get("/api/v1/actions", params={"assignee_id": str(world.members["care_liaison"].id)},
                                   headers=headers)
    assert by_assignee.json()["total"] == 1
    paged = await client.get("/api/v1/actions", params={"limit": 2}, headers=headers)
    assert paged.json()["total"] == 3 and len(paged.json()["items"]) == 2 and "offset=2" in paged.json()["next"]
