"""Cases move through the four phases; invalid moves get 409 with the allowed next phases;
every update needs If-Match (428 without, 412 when stale) and nothing is written on refusal."""

from __future__ import annotations

import httpx
import pytest

from app.models.enums import PHASE_TRANSITIONS, Phase
from tests.factories import World, add_case

ALL_PAIRS = [(a, b) for a in Phase for b in Phase if a != b]


async def _case(owner_db, world: World, phase: str):
    async with owner_db.sessions() as session:
        case = await add_case(session, world, phase=phase)
        await session.commit()
    return case


async def _etag(client: httpx.AsyncClient, world: World, case_id) -> str:
    response = await client.get(f"/api/v1/cases/{case_id}", headers=world.headers("chair"))
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
async def test_every_phase_transition(client, world: World, owner_db, source: Phase, target: Phase) -> None:
    case = await _case(owner_db, world, source.value)
    etag = await _etag(client, world, case.id)
    body: dict = {"to": target.value}
    if target is Phase.closed:
        body["closure_reason"] = "goals_reached"
    response = await client.post(f"/api/v1/cases/{case.id}/transitions", json=body,
                                 headers=world.headers("chair", **{"If-Match": etag}))
    after = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()
    if target in PHASE_TRANSITIONS[source]:
        assert response.status_code == 200, response.text
        assert response.json()["phase"] == target.value
        assert after["phase"] == target.value
        assert response.headers["ETag"] != etag
    else:
        assert response.status_code == 409, response.text
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["allowed"] == [p.value for p in PHASE_TRANSITIONS[source]]
        assert source.value in problem["detail"] and target.value in problem["detail"]
        assert after["phase"] == source.value


async def test_closing_needs_a_reason_and_is_kept_in_history(client, world: World, owner_db) -> None:
    case = await _case(owner_db, world, "monitoring")
    etag = await _etag(client, world, case.id)
    headers = world.headers("chair", **{"If-Match": etag})
    missing = await client.post(f"/api/v1/cases/{case.id}/transitions", json={"to": "closed"}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["pointer"] == "#/closure_reason"
    done = await client.post(f"/api/v1/cases/{case.id}/transitions",
                             json={"to": "closed", "closure_reason": "moved"}, headers=headers)
    assert done.status_code == 200
    history = (await client.get(f"/api/v1/cases/{case.id}/history", headers=world.headers("chair"))).json()
    assert history[-1]["changes"]["phase"] == {"from": "monitoring", "to": "closed"}
    assert history[-1]["actor_name"] == world.members["chair"].display_name


async def test_transition_without_if_match_is_428_and_stale_is_412(client, world: World, owner_db) -> None:
    case = await _case(owner_db, world, "selected")
    none = await client.post(f"/api/v1/cases/{case.id}/transitions", json={"to": "prioritised"},
                             headers=world.headers("chair"))
    assert none.status_code == 428
    assert none.headers["content-type"].startswith("application/problem+json")
    etag = await _etag(client, world, case.id)
    first = await client.post(f"/api/v1/cases/{case.id}/transitions", json={"to": "prioritised"},
                              headers=world.headers("chair", **{"If-Match": etag}))
    assert first.status_code == 200
    stale = await client.patch(f"/api/v1/cases/{case.id}", json={"priority": "urgent"},
                               headers=world.headers("chair", **{"If-Match": etag}))
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == first.headers["ETag"]
    after = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()
    assert after["priority"] == "normal"


async def test_only_the_chair_moves_phases(client, world: World, owner_db) -> None:
    case = await _case(owner_db, world, "selected")
    etag = await _etag(client, world, case.id)
    response = await client.post(f"/api/v1/cases/{case.id}/transitions", json={"to": "prioritised"},
                                 headers=world.headers("police_member", **{"If-Match": etag}))
    assert response.status_code == 403
    other = await client.post(f"/api/v1/cases/{case.id}/transitions", json={"to": "prioritised"},
                              headers=world.headers("chair_b", **{"If-Match": etag}))
    assert other.status_code == 404


async def test_a_required_field_sent_as_null_is_refused_not_a_server_error(client, world, owner_db) -> None:
    """Found by the fuzzer: null for a field that always has a value gave a 500."""
    from tests.factories import add_case

    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    for body in ({"priority": None}, {"substances": None}):
        response = await client.patch(f"/api/v1/cases/{case.id}", json=body,
                                      headers=world.headers("chair", **{"If-Match": "*"}))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert list(body)[0] in response.json()["detail"]
