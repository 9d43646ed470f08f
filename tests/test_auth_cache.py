"""Authentication from memory on a warm path, and revocation across replicas.

Two application instances on one database stand for two replicas. Changes are made over a raw
asyncpg connection (as another process would make them), so only PostgreSQL's notification can
tell the other replica; the cache lifetime is set far beyond the test's wait, so that a change
which takes effect can only have come through the notification."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.auth.cache import LISTENER_NAME, PrincipalCache
from app.clock import clock
from app.db import DatabaseUrls
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import World

PROBE = "/api/v1/cases"
LONG_LIFETIME = 600  # seconds; the waits below are far shorter


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def replica(database_urls: DatabaseUrls, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """A second application instance on the same database, with a long cache lifetime."""
    second = create_app(make_settings(database_urls, tmp_path, auth_cache_seconds=LONG_LIFETIME))
    async with second.router.lifespan_context(second):
        yield second


def _client(application: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver")


async def _from_elsewhere(database_urls: DatabaseUrls, statement: str, *args: object) -> None:
    """A change committed by another process (no ORM session of this one sees it)."""
    conn = await asyncpg.connect(_dsn(database_urls.owner))
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


async def _status_becomes(client: httpx.AsyncClient, headers: dict[str, str], expected: int) -> int:
    """Poll until the answer is `expected` (or give up after ~10 s: far below LONG_LIFETIME)."""
    status = 0
    for _ in range(200):
        status = (await client.get(PROBE, headers=headers)).status_code
        if status == expected:
            return status
        await asyncio.sleep(0.05)
    return status


async def _settled(cache: PrincipalCache) -> None:
    """Let the notifications of the test's own set-up (the world, the last test's truncation)
    arrive first: they would empty the cache right after it was filled."""
    for _ in range(100):
        generation = cache.generation
        await asyncio.sleep(0.1)
        if cache.generation == generation:
            return


def _count_statements(application: FastAPI) -> list[str]:
    seen: list[str] = []
    sa.event.listen(application.state.db.engine.sync_engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_a: seen.append(statement))
    return seen


async def test_a_warm_request_authenticates_without_sql(replica: FastAPI, world: World) -> None:
    headers = world.headers("police_member")
    seen = _count_statements(replica)
    await _settled(replica.state.principal_cache)
    async with _client(replica) as client:
        assert (await client.get(PROBE, headers=headers)).status_code == 200
        cold = [s for s in seen if "FROM organisation" in s or "FROM membership" in s]
        seen.clear()
        assert (await client.get(PROBE, headers=headers)).status_code == 200
        warm = [s for s in seen if "FROM organisation" in s or "FROM membership" in s]
    assert len(cold) >= 2 and warm == []


async def test_a_deactivated_membership_takes_effect_on_another_replica(
    app: FastAPI, client: httpx.AsyncClient, replica: FastAPI, world: World, database_urls: DatabaseUrls
) -> None:
    headers = world.headers("police_member")
    async with _client(replica) as other:
        assert (await other.get(PROBE, headers=headers)).status_code == 200  # cached on the replica
        assert (await client.get(PROBE, headers=headers)).status_code == 200  # and here
        await _from_elsewhere(database_urls, "UPDATE membership SET active = false WHERE id = $1",
                              world.members["police_member"].id)
        assert await _status_becomes(other, headers, 401) == 401
        assert await _status_becomes(client, headers, 401) == 401
        # ... and a new membership is seen as soon, without waiting for the lifetime either.
        await _from_elsewhere(database_urls, "UPDATE membership SET active = true WHERE id = $1",
                              world.members["police_member"].id)
        assert await _status_becomes(other, headers, 200) == 200


async def test_a_deactivated_partner_system_takes_effect_on_another_replica(
    replica: FastAPI, world: World, database_urls: DatabaseUrls
) -> None:
    headers = world.headers("police_system")
    async with _client(replica) as other:
        before = await other.get("/api/v1/me/notifications", headers=headers)
        assert before.status_code != 401
        await _from_elsewhere(database_urls, "UPDATE partner_system SET active = false WHERE id = $1",
                              world.systems["police_system"].id)
        status = 0
        for _ in range(200):
            status = (await other.get("/api/v1/me/notifications", headers=headers)).status_code
            if status == 401:
                break
            await asyncio.sleep(0.05)
        assert status == 401


async def test_without_a_notification_the_lifetime_bounds_the_cache(
    replica: FastAPI, world: World, database_urls: DatabaseUrls
) -> None:
    """Should a notification be lost, the entry still ends after the configured lifetime."""
    # A token that outlives the lifetime, so that the lifetime is what ends the cached entry.
    headers = {"Authorization": f"Bearer {world.token('police_member', lifetime=3 * LONG_LIFETIME)}"}
    cache: PrincipalCache = replica.state.principal_cache
    await _settled(cache)
    async with _client(replica) as other:
        assert (await other.get(PROBE, headers=headers)).status_code == 200
        # A change whose notification never arrives: triggers off for this one session.
        await _from_elsewhere(
            database_urls,
            "SET session_replication_role = replica; UPDATE membership SET active = false WHERE subject = "
            "'police_member-sub'",
        )
        await asyncio.sleep(0.2)
        assert len(cache) == 1  # nothing told the replica
        assert (await other.get(PROBE, headers=headers)).status_code == 200  # served from memory
        clock.travel(timedelta(seconds=LONG_LIFETIME - 60))  # (a minute of margin for a slow machine)
        assert (await other.get(PROBE, headers=headers)).status_code == 200  # still within the lifetime
        clock.travel(timedelta(seconds=61))
        assert (await other.get(PROBE, headers=headers)).status_code == 401  # validated anew


async def test_the_cache_is_off_while_the_listener_is_disconnected(
    replica: FastAPI, world: World, database_urls: DatabaseUrls
) -> None:
    cache: PrincipalCache = replica.state.principal_cache
    assert cache.enabled
    conn = await asyncpg.connect(_dsn(database_urls.owner))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()", LISTENER_NAME
        )
    finally:
        await conn.close()
    for _ in range(200):
        if not cache.enabled:
            break
        await asyncio.sleep(0.05)
    assert not cache.enabled and len(cache) == 0
    for _ in range(200):  # it reconnects by itself
        if cache.enabled:
            break
        await asyncio.sleep(0.05)
    assert cache.enabled
