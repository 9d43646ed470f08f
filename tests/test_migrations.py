"""Migrations are code: upgrade, downgrade to base and upgrade again on an empty database, and
the models and migrations agree (alembic check). Migrations and seeds started together (replicas
starting at once) both succeed: an advisory lock serialises them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import asyncpg
import pytest

from app import migrations
from app.config import PROJECT_ROOT
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


def _run_together(command: str, urls: DatabaseUrls, copies: int = 2) -> list[subprocess.CompletedProcess[str]]:
    """Start `copies` of `casusoverleg <command>` at once against one database (as replicas or
    one-shot jobs started together would) and wait for all of them."""
    env = {**os.environ, "DATABASE_URL": urls.owner, "MIGRATION_DATABASE_URL": urls.owner}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", command],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(copies)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


async def _fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def test_migrations_started_together_both_succeed_and_leave_one_schema(empty_database: DatabaseUrls) -> None:
    owner = empty_database.owner
    for _round in ("fresh database", "database at head"):
        results = _run_together("migrate", empty_database)
        assert [r.returncode for r in results] == [0, 0], [r.stderr[-2000:] for r in results]
        versions = asyncio.run(_fetch(owner, "SELECT version_num FROM alembic_version"))
        assert len(versions) == 1
    migrations.check(owner)


def test_seeds_started_together_load_the_demo_data_once(empty_database: DatabaseUrls) -> None:
    from app.demo.seed import DEMO_MARKER_SLUG

    results = _run_together("seed", empty_database)
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-2000:] for r in results]
    # Each says what it did (the line after it names the next meeting's draft agenda).
    assert sorted(next(line for line in r.stdout.splitlines() if line.startswith("Demo data")) for r in results) == [
        "Demo data loaded.", "Demo data present already; left as it is."
    ]
    rows = asyncio.run(_fetch(empty_database.owner, "SELECT slug FROM organisation"))
    assert [r["slug"] for r in rows].count(DEMO_MARKER_SLUG) == 1
