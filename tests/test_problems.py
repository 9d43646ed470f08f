"""Every error kind answers application/problem+json (RFC 9457) with a useful detail."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import World, add_case


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["type"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    return body


async def test_401_without_token(client) -> None:
    response = await client.get("/api/v1/cases")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_401_with_garbage_token_echoes_nothing(client) -> None:
    response = await client.get("/api/v1/cases", headers={"Authorization": "Bearer not.a.token-SECRET"})
    body = assert_problem(response, 401)
    assert "SECRET" not in response.text and "not.a" not in body["detail"]


async def test_403_for_a_role_that_may_not(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    response = await client.patch(f"/api/v1/cases/{case.id}", json={"priority": "high"},
                                  headers=world.headers("police_liaison", **{"If-Match": '"v1"'}))
    assert_problem(response, 403)


async def test_404_for_unknown_and_foreign_objects(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        foreign = await add_case(session, world, conference=world.b)
        await session.commit()
    unknown = await client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=world.headers("chair"))
    hidden = await client.get(f"/api/v1/cases/{foreign.id}", headers=world.headers("chair"))
    assert assert_problem(unknown, 404)["detail"] == assert_problem(hidden, 404)["detail"]
    assert_problem(await client.get("/api/v1/nothing-here", headers=world.headers("chair")), 404)


async def test_405_400_and_422_validation_with_pointer(client, world: World) -> None:
    assert_problem(await client.put("/api/v1/cases", headers=world.headers("chair")), 405)
    malformed = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", content=b"{not json",
                                  headers=world.headers("chair", **{"Content-Type": "application/json"}))
    assert_problem(malformed, 400)
    invalid = await client.post(f"/api/v1/conferences/{world.a.id}/referrals",
                                json={"client": {"name": "", "date_of_birth": "gisteren"}},
                                headers=world.headers("chair"))
    body = assert_problem(invalid, 422)
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"#/client/name", "#/client/date_of_birth", "#/reason"} <= pointers
    bad_query = await client.get("/api/v1/cases", params={"limit": 5000}, headers=world.headers("chair"))
    assert assert_problem(bad_query, 422)["errors"][0]["pointer"] == "#query:limit"


async def test_409_428_412_problem_shapes(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world, phase="selected")
        await session.commit()
    url = f"/api/v1/cases/{case.id}/transitions"
    assert_problem(await client.post(url, json={"to": "active"}, headers=world.headers("chair")), 428)
    assert_problem(await client.post(url, json={"to": "active"},
                                     headers=world.headers("chair", **{"If-Match": '"v99"'})), 412)
    body = assert_problem(await client.post(url, json={"to": "active"},
                                            headers=world.headers("chair", **{"If-Match": '"v1"'})), 409)
    assert body["allowed"] == ["prioritised", "closed"]


@pytest.mark.parametrize("size", [2_000_000])
async def test_413_for_a_body_over_the_limit(client, world: World, size: int) -> None:
    response = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", content=b"x" * size,
                                 headers=world.headers("chair", **{"Content-Type": "application/json"}))
    assert_problem(response, 413)
