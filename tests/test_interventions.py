"""Issue 17: each organisation's catalogue of interventions (Moti-4, Wiet-Check, a home visit, a
short intervention), kept by its own administrators, chairs and members; an action created from
one is prefilled with its name, its organisation as the owner, its life domain and its label."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from tests.factories import World, add_case


async def test_the_catalogue_is_kept_by_the_organisations_own_people(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    zorg = world.orgs["zorg"].id
    url = f"/api/v1/organisations/{zorg}/interventions"
    moti = await client.post(url, headers=world.headers("care_admin"), json={
        "name": "Moti-4", "description": "Vier motiverende gesprekken voor jongeren die blowen of drinken.",
        "life_domain": "substance_use", "label": "health"})
    assert moti.status_code == 201, moti.text
    wiet = await client.post(url, headers=world.headers("care_member"),
                             json={"name": "Wiet-Check", "life_domain": "substance_use"})
    assert wiet.status_code == 201, wiet.text
    for outsider in ("care_liaison", "police_member", "police_admin", "privacy_officer"):
        refused = await client.post(url, headers=world.headers(outsider),
                                    json={"name": "Iets", "life_domain": "housing"})
        assert refused.status_code == 403, outsider
    assert (await client.get(url, headers=world.headers("police_system"))).status_code == 403
    listed = await client.get(url, headers=world.headers("police_admin"))
    assert [i["name"] for i in listed.json()] == ["Moti-4", "Wiet-Check"]

    patched = await client.patch(f"/api/v1/interventions/{wiet.json()['id']}", json={"active": False},
                                 headers=world.headers("care_member"))
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert (await client.patch(f"/api/v1/interventions/{wiet.json()['id']}", json={"active": True},
                               headers=world.headers("police_member"))).status_code == 403
    offered = await client.get(url, params={"active": "true"}, headers=world.headers("wijkteam_member"))
    assert [i["name"] for i in offered.json()] == ["Moti-4"]
    async with owner_db.engine.connect() as conn:
        recorded = (await conn.execute(sa.text(
            "SELECT operation FROM admin_change WHERE entity_type = 'intervention' ORDER BY occurred_at"))).scalars().all()
    assert recorded == ["create", "create", "update"]


async def test_an_action_from_an_intervention_is_prefilled(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    url = f"/api/v1/organisations/{world.orgs['zorg'].id}/interventions"
    moti = (await client.post(url, headers=world.headers("care_member"), json={
        "name": "Moti-4", "description": "Vier motiverende gesprekken.", "life_domain": "substance_use",
        "label": "health"})).json()
    home = (await client.post(f"/api/v1/organisations/{world.orgs['wijkteam'].id}/interventions",
                              headers=world.headers("wijkteam_member"),
                              json={"name": "Huisbezoek", "life_domain": "housing"})).json()
    due = (clock.today() + timedelta(days=14)).isoformat()
    made = await client.post(f"/api/v1/cases/{case.id}/actions/from-intervention", headers=world.headers("care_member"),
                             json={"intervention_id": moti["id"], "due_date": due,
                                   "assignee_id": str(world.members["care_liaison"].id)})
    assert made.status_code == 201, made.text
    action = made.json()
    assert (action["title"], action["owner_organisation_id"], action["life_domain"]) == (
        "Moti-4", str(world.orgs["zorg"].id), "substance_use")
    assert action["description"] == "Vier motiverende gesprekken."
    # Its label travels with it: the police do not see what it is.
    seen = await client.get(f"/api/v1/actions/{action['id']}", headers=world.headers("police_member"))
    assert seen.status_code == 200 and seen.json()["hidden"] is True and "Moti" not in seen.text

    visit = await client.post(f"/api/v1/cases/{case.id}/actions/from-intervention",
                              headers=world.headers("wijkteam_member"),
                              json={"intervention_id": home["id"], "due_date": due, "description": "Samen met de buurtagent."})
    assert visit.status_code == 201, visit.text
    assert (visit.json()["title"], visit.json()["description"]) == ("Huisbezoek", "Samen met de buurtagent.")
    async with owner_db.engine.connect() as conn:
        linked = (await conn.execute(sa.text(
            "SELECT title, label FROM action WHERE intervention_id IS NOT NULL ORDER BY title"))).all()
    assert [tuple(r) for r in linked] == [("Huisbezoek", None), ("Moti-4", "health")]

    await client.patch(f"/api/v1/interventions/{moti['id']}", json={"active": False},
                       headers=world.headers("care_member"))
    stale = await client.post(f"/api/v1/cases/{case.id}/actions/from-intervention", headers=world.headers("care_member"),
                              json={"intervention_id": moti["id"], "due_date": due})
    assert stale.status_code == 422 and stale.json()["errors"][0]["pointer"] == "#/intervention_id"
    liaison = await client.post(f"/api/v1/cases/{case.id}/actions/from-intervention",
                                headers=world.headers("care_liaison"),
                                json={"intervention_id": home["id"], "due_date": due})
    assert liaison.status_code == 403
