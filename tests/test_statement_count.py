"""Case detail on a warm path, counted at the driver: what reaches PostgreSQL per request,
BEGIN and COMMIT included, and no statement at all for authentication."""

from __future__ import annotations

import httpx

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
    assert warm_small[0].startswith("BEGIN") and warm_small[-1].startswith("COMMIT")
    # BEGIN, one statement that loads the case and builds every part's rows as JSON in PostgreSQL,
    # one access-log call (every row of the request in one set), COMMIT.
    assert len(warm_small) == 4, warm_small
    assert warm_small[-2].startswith("SELECT access_log_append")
