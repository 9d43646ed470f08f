"""Issue 17, households, minors and representatives: a household of a parent and a child shares one
coordinator (the case director of both cases); the child's agreement cannot become signed without
the guardian's signature and then carries it; a representative is recorded with the basis of the
representation, and one without a basis is refused (nothing written, refusal logged)."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import Case
from tests.agreements_support import create, driepartijen_body, sign_client, sign_organisation
from tests.factories import World, add_case, add_mandate


async def _family(owner_db: Database, world: World) -> tuple[Case, Case]:
    today = clock.today()
    async with owner_db.sessions() as session:
        parent = await add_case(session, world, name="Petra Ouder")
        child = await add_case(session, world, name="Kees Kind")
        await session.execute(sa.text("UPDATE client SET date_of_birth = :d WHERE id = :c"),
                              {"d": date(today.year - 15, 1, 1), "c": child.client_id})
        for person in ("gemeente_member", "care_member"):
            await add_mandate(session, world.members[person], "sign_agreements")
        await session.commit()
    return parent, child


async def _denied(owner_db: Database, resource_type: str) -> int:
    async with owner_db.engine.connect() as conn:
        return int((await conn.execute(sa.text(
            "SELECT count(*) FROM access_log WHERE outcome = 'denied' AND resource_type = :r"), {"r": resource_type}
        )).scalar_one())


async def _count(owner_db: Database, table: str) -> int:
    async with owner_db.engine.connect() as conn:
        return int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_household_of_a_parent_and_a_child_shares_one_coordinator_and_the_guardian_signs(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    parent, child = await _family(owner_db, world)
    coordinator = world.members["gemeente_member"]
    created = await client.post(f"/api/v1/conferences/{world.a.id}/households", headers=world.headers("chair"), json={
        "coordinator_id": str(coordinator.id),
        "members": [{"case_id": str(parent.id), "relation": "parent"}, {"case_id": str(child.id), "relation": "child"}],
    })
    assert created.status_code == 201, created.text
    for case in (parent, child):
        detail = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()
        assert detail["case_director_id"] == str(coordinator.id)
    household = (await client.get(f"/api/v1/cases/{child.id}/household", headers=world.headers("police_member"))).json()
    members = {m["case_id"]: m for m in household["household"]["members"]}
    assert household["household"]["coordinator_id"] == str(coordinator.id)
    assert members[str(child.id)]["minor"] is True and members[str(parent.id)]["minor"] is False
    assert members[str(child.id)]["relation"] == "child"
    again = await client.post(f"/api/v1/conferences/{world.a.id}/households", headers=world.headers("chair"), json={
        "coordinator_id": str(coordinator.id),
        "members": [{"case_id": str(child.id), "relation": "child"}, {"case_id": str(parent.id), "relation": "parent"}],
    })
    assert again.status_code == 409  # one household per client

    # The parent is the child's representative, with the basis of the representation.
    url = f"/api/v1/cases/{child.id}/representatives"
    no_basis = await client.post(url, json={"kind": "parent", "name": "Petra Ouder"},
                                 headers=world.headers("gemeente_member"))  # the case director now
    assert no_basis.status_code == 422 and no_basis.json()["errors"][0]["pointer"] == "/basis"
    assert await _count(owner_db, "client_representative") == 0 and await _denied(owner_db, "representative") == 1
    assert (await client.post(url, json={"kind": "parent", "name": "Petra Ouder", "basis": "Ouderlijk gezag"},
                              headers=world.headers("police_member"))).status_code == 403
    guardian = await client.post(url, json={"kind": "parent", "name": "Petra Ouder", "basis": "Ouderlijk gezag"},
                                 headers=world.headers("gemeente_member"))
    assert guardian.status_code == 201, guardian.text
    listed = (await client.get(url, headers=world.headers("police_liaison"))).json()
    assert [r["basis"] for r in listed] == ["Ouderlijk gezag"] and listed[0]["name"] == "Petra Ouder"

    # The child's agreement: without the guardian's signature it cannot become signed.
    agreement = (await create(client, world, child, driepartijen_body(world))).json()["id"]
    for party, person in (("municipality", "gemeente_member"), ("addiction_care", "care_member")):
        assert (await sign_organisation(client, world, agreement, party, person)).status_code == 200
    refused = await sign_client(client, world, agreement)
    assert refused.status_code == 422, refused.text
    assert "guardian" in refused.json()["detail"] and await _denied(owner_db, "agreement") == 1
    still = (await client.get(f"/api/v1/agreements/{agreement}", headers=world.headers("chair"))).json()
    assert still["status"] == "draft" and "client" not in still["signed_parties"]

    beside = await sign_client(client, world, agreement,
                               data={"representative_id": guardian.json()["id"], "beside_client": "true"})
    assert beside.status_code == 200, beside.text
    assert beside.json()["status"] == "draft"
    signed = await sign_client(client, world, agreement)
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["status"] in ("signed", "active")
    carried = [s for s in body["signatures"] if s["representative_id"] == guardian.json()["id"]]
    assert [s["party"] for s in carried] == ["representative"]


async def test_a_guardian_signs_instead_of_the_child_and_a_stranger_cannot(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    parent, child = await _family(owner_db, world)
    mentor = await client.post(f"/api/v1/cases/{parent.id}/representatives", headers=world.headers("chair"),
                               json={"kind": "mentor", "name": "Mr. Mentor", "basis": "Beschikking kantonrechter 2025/123",
                                     "valid_until": str(clock.today() + timedelta(days=365))})
    assert mentor.status_code == 201
    guardian = await client.post(f"/api/v1/cases/{child.id}/representatives", headers=world.headers("chair"),
                                 json={"kind": "guardian", "name": "Voogd Jansen", "basis": "Voogdij, beschikking 2024/9"})
    agreement = (await create(client, world, child, driepartijen_body(world))).json()["id"]
    # The parent's mentor is not the child's representative.
    wrong = await sign_client(client, world, agreement, data={"representative_id": mentor.json()["id"]})
    assert wrong.status_code == 422
    instead = await sign_client(client, world, agreement, data={"representative_id": guardian.json()["id"]})
    assert instead.status_code == 200, instead.text
    for party, person in (("municipality", "gemeente_member"), ("addiction_care", "care_member")):
        response = await sign_organisation(client, world, agreement, party, person)
        assert response.status_code == 200, response.text
    assert response.json()["status"] in ("signed", "active")
