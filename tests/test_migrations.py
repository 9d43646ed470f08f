"""Migrations are code: upgrade, downgrade to base and upgrade again on an empty database, and
the models and migrations agree (alembic check)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from app import migrations
from app.db import DatabaseUrls
from tests.conftest import _server_urls


@pytest.fixture
def empty_database() -> DatabaseUrls:
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    urls, admin = _server_urls(name)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    yield urls
    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows}


def test_upgrade_downgrade_upgrade_and_no_drift(empty_database: DatabaseUrls) -> None:
    owner = empty_database.owner
    migrations.upgrade(owner)
    after_first = asyncio.run(_tables(owner))
    assert {"case", "action", "access_log", "mandate", "alembic_version"} <= after_first
    migrations.downgrade(owner, "base")
    assert asyncio.run(_tables(owner)) == {"alembic_version"}
    migrations.upgrade(owner)
    assert asyncio.run(_tables(owner)) == after_first
    migrations.check(owner)  # raises when models and migrations disagree
