"""No pre-ping on checkout: a connection found dropped is replaced, and the first statement of
the transaction is retried on a fresh one, so a database restart costs no failed request."""

from __future__ import annotations

import asyncpg
import httpx

from app.db import APP_ROLE, DatabaseUrls
from tests.factories import World, add_case


async def _drop_the_pools_connections(database_urls: DatabaseUrls) -> int:
    conn = await asyncpg.connect(database_urls.owner.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        killed = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE usename = $1 AND datname = current_database() AND pid <> pg_backend_pid()", APP_ROLE
        )
    finally:
        await conn.close()
    return len(killed)


async def test_requests_survive_dropped_connections(app, client: httpx.AsyncClient, world: World, owner_db,
                                                    database_urls: DatabaseUrls) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    headers = world.headers("care_member")
    for _ in range(3):  # connections in the pool
        assert (await client.get(f"/api/v1/cases/{case.id}", headers=headers)).status_code == 200
    if database_urls.app == database_urls.owner:  # one role for both (external DATABASE_URL)
        return
    assert await _drop_the_pools_connections(database_urls) >= 1
    # A fresh token: authentication's own look-up is the first statement on a dropped connection.
    response = await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("care_member"))
    assert response.status_code == 200, response.text
    assert await _drop_the_pools_connections(database_urls) >= 1
    # A token served from memory: the request's own first statement meets the dropped connection.
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=headers)).status_code == 200
