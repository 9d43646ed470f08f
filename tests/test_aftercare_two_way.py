"""Issue 17, two-way aftercare: during an aftercare watch under a signed nazorg agreement, a
wijkteam member reports worry, a missed contact or a suspected relapse (API and partner events);
the addiction care liaison is told, sees it and answers; the reporter is told and reads the
answer. A suspected relapse is health: the police do not see it, the wijkteam always sees its own
report. Without a watch, or by the wrong organisation: refused, nothing written, refusal logged."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import ClientReference, PartnerSystem
from tests.agreements_support import create, sign_all
from tests.factories import World, add_case, add_mandate

CE = {"Content-Type": "application/cloudevents+json"}
NOTE = "Bij het huisbezoek rook het naar alcohol; de cliënt zei weer te drinken"


def _event(type_: str, subject: str, data: dict[str, Any], days_ago: float = 0.1) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"ev-{uuid.uuid4().hex}", "source": "urn:systeem:test", "type":
            f"nl.casusoverleg.event.{type_}", "subject": subject,
            "time": (clock.now() - timedelta(days=days_ago)).isoformat(), "datacontenttype": "application/json",
            "data": data}


async def _push(client: httpx.AsyncClient, world: World, who: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/events", content=json.dumps(body), headers={**world.headers(who), **CE})


async def watched_case(client: httpx.AsyncClient, world: World, owner_db: Database) -> Any:
    """A case with a signed nazorg agreement and an aftercare watch started by the care system."""
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        for slug, ref in (("zorg", "ZRG-NZ"), ("wijkteam", "WKT-NZ")):
            session.add(ClientReference(client_id=case.client_id, organisation_id=world.orgs[slug].id, reference=ref))
        for key, slug in (("care_system", "zorg"), ("wijkteam_system", "wijkteam")):
            if key not in world.systems:
                system = PartnerSystem(organisation_id=world.orgs[slug].id, name=key, subject=f"{key}-sub",
                                       scopes=["events:write"])
                session.add(system)
                world.systems[key] = system
        for person in ("care_member", "wijkteam_member"):
            await add_mandate(session, world.members[person], "sign_agreements")
        await session.commit()
    body = {"template_id": "nazorg",
            "parties": {"addiction_care": str(world.orgs["zorg"].id), "neighbourhood_team": str(world.orgs["wijkteam"].id)},
            "commitments": {"client": "Ik bel het wijkteam als het minder gaat.",
                            "addiction_care": "De verslavingszorg reageert binnen een dag.",
                            "neighbourhood_team": "Het wijkteam komt elke maand langs."}}
    created = await create(client, world, case, body)
    assert created.status_code == 201, created.text
    await sign_all(client, world, created.json()["id"],
                   signers={"addiction_care": "care_member", "neighbourhood_team": "wijkteam_member"})
    done = await _push(client, world, "care_system", _event("treatment_completed", "ZRG-NZ",
                                                             {"programme": "klinische detox"}, days_ago=5))
    assert done.status_code == 201, done.text
    return case


async def _kinds(client: httpx.AsyncClient, world: World, person: str) -> list[str]:
    return [n["kind"] for n in (await client.get("/api/v1/me/notifications", headers=world.headers(person))).json()]


async def _count(owner_db: Database, sql: str) -> int:
    async with owner_db.engine.connect() as conn:
        return int((await conn.execute(sa.text(sql))).scalar_one())


async def test_a_wijkteam_member_reports_worry_and_the_care_liaison_sees_it_and_answers(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    case = await watched_case(client, world, owner_db)
    url = f"/api/v1/cases/{case.id}/aftercare-reports"
    reported = await client.post(url, json={"kind": "suspected_relapse", "note": NOTE},
                                 headers=world.headers("wijkteam_member"))
    assert reported.status_code == 201, reported.text
    report = reported.json()
    assert report["label"] == "health" and report["note"] == NOTE  # the team owns its own report

    assert "aftercare_report" in await _kinds(client, world, "care_liaison")
    seen = await client.get(url, headers=world.headers("care_liaison"))
    assert seen.status_code == 200 and seen.json()[0]["note"] == NOTE and seen.json()[0]["kind"] == "suspected_relapse"
    police = (await client.get(url, headers=world.headers("police_member"))).json()[0]
    assert police["hidden"] is True and police["note"] is None and police["kind"] is None
    assert NOTE not in (await client.get(url, headers=world.headers("police_member"))).text

    answer = "Dank je. We bellen de cliënt vandaag en plannen een gesprek."
    replied = await client.post(f"{url}/{report['id']}/reply", json={"text": answer},
                                headers=world.headers("care_liaison"))
    assert replied.status_code == 200, replied.text
    assert "aftercare_reply" in await _kinds(client, world, "wijkteam_member")
    team = (await client.get(url, headers=world.headers("wijkteam_member"))).json()[0]
    assert team["reply"] == answer and team["reply_basis"].startswith("agreement:")
    police = (await client.get(url, headers=world.headers("police_member"))).json()[0]
    assert police["reply"] is None and police["reply_hidden"] is True
    again = await client.post(f"{url}/{report['id']}/reply", json={"text": "Nog een keer"},
                              headers=world.headers("care_member"))
    assert again.status_code == 409

    # Only the neighbourhood team reports, only addiction care answers.
    assert (await client.post(url, json={"kind": "worry"}, headers=world.headers("police_member"))).status_code == 403
    assert (await client.post(f"{url}/{report['id']}/reply", json={"text": "x"},
                              headers=world.headers("wijkteam_member"))).status_code == 403
    assert (await client.post(url, json={"kind": "worry"}, headers=world.headers("police_member_b"))).status_code == 404


async def test_the_neighbourhood_teams_system_reports_as_a_partner_event(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    case = await watched_case(client, world, owner_db)
    pushed = await _push(client, world, "wijkteam_system",
                         _event("aftercare_missed_contact", "WKT-NZ", {"contact_kind": "home_visit", "consecutive": 2}))
    assert pushed.status_code == 201, pushed.text
    relapse = await _push(client, world, "wijkteam_system",
                          _event("aftercare_suspected_relapse", "WKT-NZ", {"substances": ["alcohol"]}))
    assert relapse.status_code == 201, relapse.text
    url = f"/api/v1/cases/{case.id}/aftercare-reports"
    reports = (await client.get(url, headers=world.headers("care_liaison"))).json()
    assert sorted(r["kind"] for r in reports) == ["missed_contact", "suspected_relapse"]
    assert all(r["via_partner_event"] for r in reports)
    # The suspected relapse is health on the timeline too: the police see that something came, not what.
    timeline = await client.get(f"/api/v1/cases/{case.id}/events", headers=world.headers("police_member"))
    assert timeline.status_code == 200 and "aftercare_suspected_relapse" not in timeline.text
    one = reports[0]["id"]
    assert (await client.post(f"{url}/{one}/reply", json={"text": "We nemen contact op."},
                              headers=world.headers("care_member"))).status_code == 200
    assert "aftercare_reply" in await _kinds(client, world, "wijkteam_member")  # the team, for its system
    # The police do not send aftercare reports.
    async with owner_db.sessions() as session:
        session.add(ClientReference(client_id=case.client_id, organisation_id=world.orgs["politie"].id,
                                    reference="POL-NZ"))
        await session.commit()
    refused = await _push(client, world, "police_system", _event("aftercare_worry", "POL-NZ", {}))
    assert refused.status_code == 422


async def test_without_a_watch_a_report_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    url = f"/api/v1/cases/{case.id}/aftercare-reports"
    refused = await client.post(url, json={"kind": "worry", "note": "Zorgen"}, headers=world.headers("wijkteam_member"))
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
    assert await _count(owner_db, "SELECT count(*) FROM aftercare_report") == 0
    assert await _count(owner_db, "SELECT count(*) FROM access_log WHERE resource_type = 'aftercare_report' "
                                  "AND outcome = 'denied'") == 1
    watched = await watched_case(client, world, owner_db)
    empty = await client.post(f"/api/v1/cases/{watched.id}/aftercare-reports/{uuid.uuid4()}/reply",
                              json={"text": "  "}, headers=world.headers("care_liaison"))
    assert empty.status_code == 422
