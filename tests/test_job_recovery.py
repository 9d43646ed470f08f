"""Scheduled work that recovers (acceptance 3): a daily slot that falls inside a database outage
runs once after the database is back (the periodic catch-up retries it); a run whose process is
killed is marked abandoned and its slot runs once more; `casusoverleg jobs list` shows both.
Health while the database is away: live answers, ready and health say 503 with Retry-After."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from app.clock import clock
from app.config import PROJECT_ROOT
from app.db import Database, DatabaseUrls, Timeouts
from app.jobs.registry import JobSpec
from app.jobs.runner import RunPolicy, catch_up, run_due
from app.jobs.schedule import Daily
from app.jobs.scheduler import create_scheduler
from app.main import create_app
from app.models import JobRun
from tests.conftest import make_settings
from tests.own_server import OwnServer, own_server_fixture  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="needs the embedded PostgreSQL")

ZONE = ZoneInfo("Europe/Amsterdam")
SLOT = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 06:00 in Amsterdam
SMALL = Timeouts(lock=1.0, statement=5.0, pool=1.0, connect=1.0)
GUARD = 30.0  # polls give up after this (a failure, never a hang)


def _counting(job_id: str, calls: list[datetime], schedule: Any = None) -> JobSpec:
    async def work(db: Database, slot: datetime) -> dict[str, Any]:
        calls.append(slot)
        return {"n": 1}

    return JobSpec(job_id, schedule or Daily(time(6, 0), ZONE), work)


async def _runs(url: str, job_id: str) -> list[JobRun]:
    db = Database(url, pool_size=1)
    try:
        async with db.sessions() as session:
            return list(
                (
                    await session.execute(
                        sa.select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.started_at)
                    )
                ).scalars()
            )
    finally:
        await db.dispose()


async def _until(condition: Any, what: str) -> None:
    for _ in range(int(GUARD / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting: {what}")


@pytest.fixture
async def outage_db(own_server: OwnServer) -> AsyncIterator[Database]:
    async with Database(own_server.urls.owner, pool_size=1).engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db = Database(own_server.urls.app, pool_size=2, timeouts=SMALL)
    yield db
    await db.dispose()


async def test_a_daily_slot_inside_an_outage_runs_once_when_the_database_is_back(
    own_server: OwnServer, outage_db: Database, tmp_path: Any
) -> None:
    calls: list[datetime] = []
    job = _counting("test.daily", calls)
    settings = make_settings(own_server.urls, tmp_path, scheduler_catch_up_seconds=1)
    app = create_app(make_settings(own_server.urls, tmp_path, health_timeout_seconds=0.5,
                                   db_connect_timeout_seconds=1.0, db_pool_timeout_seconds=1.0))
    clock.freeze(SLOT - timedelta(seconds=5))
    scheduler = create_scheduler(outage_db, settings, jobs=[job])
    async with app.router.lifespan_context(app):
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        try:
            await asyncio.to_thread(own_server.stop)
            clock.freeze(SLOT + timedelta(seconds=1))  # the slot comes while the database is away
            # The trigger fires: the claim fails, nothing is lost and nothing raises.
            assert await run_due(outage_db, job, instance="replica-1") is False
            scheduler.start()  # its catch-up runs now and every second
            await asyncio.sleep(1.5)
            assert calls == []
            assert (await api.get("/api/v1/health/live")).status_code == 200
            for path in ("/api/v1/health/ready", "/api/v1/health"):
                response = await asyncio.wait_for(api.get(path), GUARD)
                assert response.status_code == 503 and response.headers["retry-after"], path

            await asyncio.to_thread(own_server.start)
            await _until(lambda: _done(own_server.urls.owner, "test.daily"), "the caught-up run")
            await asyncio.sleep(1.5)  # more catch-ups: they find the slot done
            assert (await api.get("/api/v1/health/ready")).status_code == 200
        finally:
            scheduler.shutdown(wait=False)
            await api.aclose()
            if not _running(own_server):
                await asyncio.to_thread(own_server.start)
    assert calls == [SLOT]
    runs = await _runs(own_server.urls.owner, "test.daily")
    assert [(r.slot, r.outcome) for r in runs] == [(SLOT, "ok")]


def _running(server: OwnServer) -> bool:
    return (server.pgdata / "postmaster.pid").exists()


async def _done(url: str, job_id: str) -> bool:
    return any(r.outcome == "ok" for r in await _runs(url, job_id))


@dataclass(frozen=True)
class FixedSlot:
    slot: datetime

    def latest_slot(self, now: datetime) -> datetime:
        return self.slot


_DOOMED = """
import asyncio, sys
from datetime import datetime
from app.db import Database
from app.jobs.registry import JobSpec
from app.jobs.runner import RunPolicy, run_slot
from app.jobs.schedule import Every

async def forever(db, slot):
    await asyncio.sleep(3600)

async def main():
    db = Database(sys.argv[1], pool_size=1)
    job = JobSpec("test.killed", Every(60), forever)
    await run_slot(db, job, datetime.fromisoformat(sys.argv[2]), instance="doomed", policy=RunPolicy(heartbeat=0.2))

asyncio.run(main())
"""


async def test_a_killed_run_is_abandoned_and_its_slot_runs_once_more(
    database_urls: DatabaseUrls, owner_db: Database, app: Any
) -> None:
    slot = (clock.now() - timedelta(hours=1)).replace(microsecond=0)  # recent: `jobs list` shows a week
    doomed = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _DOOMED, database_urls.app, slot.isoformat(),
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        await _until(
            lambda: _has(database_urls.owner, "test.killed", "running"), "the doomed process's claim"
        )
    finally:
        os.kill(doomed.pid, signal.SIGKILL)  # kill -9: no chance to record anything
        await asyncio.wait_for(doomed.wait(), GUARD)

    calls: list[datetime] = []
    job = _counting("test.killed", calls, FixedSlot(slot))
    policy = RunPolicy(heartbeat=0.2, stale_after=5.0)
    db: Database = app.state.db
    assert await catch_up(db, [job], policy=policy) == []  # its heartbeat is recent: still running
    clock.travel(timedelta(seconds=30))  # no heartbeat for longer than stale_after
    assert await catch_up(db, [job], policy=policy) == ["test.killed"]
    assert await catch_up(db, [job], policy=policy) == []  # once more, and only once
    assert calls == [slot]
    runs = await _runs(database_urls.owner, "test.killed")
    assert [(r.instance, r.outcome) for r in runs][0] == ("doomed", "abandoned")
    assert [r.outcome for r in runs][1:] == ["ok"]

    listing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "jobs", "list"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": database_urls.app, "MIGRATION_DATABASE_URL": database_urls.owner},
    )
    assert listing.returncode == 0, listing.stderr
    assert "meetings.generate" in listing.stdout
    [line] = [ln for ln in listing.stdout.splitlines() if "test.killed" in ln]
    assert "abandoned" in line and "doomed" in line and "no heartbeat" in line


async def _has(url: str, job_id: str, outcome: str) -> bool:
    return any(r.outcome == outcome for r in await _runs(url, job_id))


async def test_a_job_whose_database_goes_away_is_abandoned_and_retried(app: Any, owner_db: Database) -> None:
    """Not `failed` (which keeps its claim): a database fault mid-run frees the slot."""
    from sqlalchemy.exc import OperationalError

    attempts: list[datetime] = []

    async def flaky(db: Database, slot: datetime) -> dict[str, Any]:
        attempts.append(slot)
        if len(attempts) == 1:
            raise OperationalError("SELECT 1", {}, ConnectionResetError("connection lost"))
        return {}

    job = JobSpec("test.flaky", FixedSlot(SLOT), flaky)  # type: ignore[arg-type]
    db: Database = app.state.db
    assert await catch_up(db, [job]) == ["test.flaky"]
    assert await catch_up(db, [job]) == ["test.flaky"]
    assert await catch_up(db, [job]) == []
    runs = await _runs(app.state.db.url, "test.flaky")
    assert [r.outcome for r in runs] == ["abandoned", "ok"]
    assert runs[0].result == {"error": "OperationalError", "cause": "connection"}
