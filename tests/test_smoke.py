from __future__ import annotations

import httpx

from tests.factories import World, add_case


async def test_health_reports_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert body["pool"]["capacity"] > 0


async def test_member_lists_cases_of_own_conference_only(client: httpx.AsyncClient, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        mine = await add_case(session, world)
        await add_case(session, world, conference=world.b)
        await session.commit()
    response = await client.get("/api/v1/cases", headers=world.headers("police_member"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 1
    assert [c["id"] for c in body["items"]] == [str(mine.id)]
    assert "name" not in body["items"][0] and "client_name" not in body["items"][0]
