"""Case detail and the case list on a warm path, counted at the driver: what reaches PostgreSQL per request,
BEGIN and COMMIT included, and no statement at all for authentication."""

from __future__ import annotations

import uuid

import httpx

from app.models import Membership
from app.schemas.cases import CaseSummary
from app.schemas.common import PageOut
from tests.driver_statements import driver_statements
from tests.factories import World, add_action, add_case


async def test_case_detail_statements_at_the_driver(client: httpx.AsyncClient, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        small = await add_case(session, world)
        big = await add_case(session, world, name="Tweede Persoon")
        await add_action(session, world, small)
        for i in range(50):
            await add_action(session, world, big, due_in_days=i)
        await session.commit()
    headers = world.headers("care_member")
    counts = {}
    for case in (small, big, small):  # the first request fills the token cache
        with driver_statements() as seen:
            response = await client.get(f"/api/v1/cases/{case.id}", headers=headers)
        assert response.status_code == 200
        counts.setdefault(case.id, []).append(seen)
    warm_small, warm_big = counts[small.id][1], counts[big.id][0]
    assert len(warm_big) == len(warm_small)  # independent of the plan's size
    assert not [s for s in warm_small if "FROM organisation" in s or "FROM membership" in s]
    # Outside any transaction (no BEGIN, no COMMIT): one statement that loads the case and builds
    # every part's rows as JSON in PostgreSQL, then one access-log call (every row of the request
    # in one set), before the answer is sent.
    assert len(warm_small) == 2, warm_small
    assert not [s for s in warm_small if s.startswith(("BEGIN", "COMMIT"))]
    assert warm_small[-1].startswith("SELECT access_log_append")


async def test_case_list_statements_at_the_driver(client: httpx.AsyncClient, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        for i in range(12):
            await add_case(session, world, name=f"Persoon {i}")
        await session.commit()
    headers = world.headers("care_member")
    counts = []
    for path in ("/api/v1/cases?limit=2", "/api/v1/cases?limit=2", "/api/v1/cases?limit=50",
                 f"/api/v1/cases?conference_id={world.a.id}&phase=active&limit=50&offset=10"):
        with driver_statements() as seen:
            response = await client.get(path, headers=headers)
        assert response.status_code == 200 and response.json()["total"] == 12
        assert response.content == PageOut[CaseSummary].model_validate_json(response.content).model_dump_json().encode()
        counts.append(seen)
    warm = counts[1:]
    assert [len(s) for s in warm] == [2, 2, 2], warm  # independent of the page's size and the filters
    for seen in warm:
        # Outside any transaction: one statement with the page and the total, then one access-log
        # call before the answer is sent.
        assert seen[-1].startswith("SELECT access_log_append")
        assert "count(*)" in seen[0] and "FROM organisation" not in seen[0]


async def test_case_list_over_several_conferences(client: httpx.AsyncClient, world: World, owner_db) -> None:
    """The visibility clause's shapes: a liaison in one conference (closed cases gone) who is a
    member in another (closed cases shown); a member of two conferences; a page past the end."""
    async with owner_db.sessions() as session:
        a_open = await add_case(session, world)
        a_closed = await add_case(session, world, phase="closed")
        b_open = await add_case(session, world, conference=world.b, director=None)
        b_closed = await add_case(session, world, conference=world.b, director=None, phase="closed")
        for person in ("police_liaison", "police_member"):
            known = world.members[person]
            session.add(Membership(conference_id=world.b.id, organisation_id=known.organisation_id,
                                   issuer=known.issuer, subject=known.subject, display_name=known.display_name,
                                   role="member"))
        await session.commit()

    async def listed(person: str, query: str = "") -> tuple[set, int]:
        response = await client.get(f"/api/v1/cases?limit=50{query}", headers=world.headers(person))
        assert response.status_code == 200, response.text
        # Written by the read path as JSON: exactly the bytes PageOut's own serializer writes.
        assert response.content == PageOut[CaseSummary].model_validate_json(response.content).model_dump_json().encode()
        body = response.json()
        return {uuid.UUID(c["id"]) for c in body["items"]}, body["total"]

    assert await listed("police_liaison") == ({a_open.id, b_open.id, b_closed.id}, 3)
    assert await listed("police_member") == ({a_open.id, a_closed.id, b_open.id, b_closed.id}, 4)
    assert await listed("police_member", f"&conference_id={world.b.id}") == ({b_open.id, b_closed.id}, 2)
    assert await listed("police_liaison", f"&conference_id={world.a.id}&phase=closed") == (set(), 0)
    assert await listed("police_member", "&offset=10") == (set(), 4)
    assert await listed("chair_b") == ({b_open.id, b_closed.id}, 2)
