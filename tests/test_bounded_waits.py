"""Every wait on the database is bounded: a table locked by another connection, a pool whose
connections are all waiting, a statement that runs too long, a server that cannot be reached.
Each answers 503 with Retry-After within its configured bound (small here, so the suite stays
fast), logged with its cause; the health check keeps answering from its own connection; all
recovers once the lock is released. An OSError that is not the driver's stays a 500."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.clock import clock
from app.db import Database, DatabaseUrls, database_fault
from app.http.problems import install_error_handlers
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import World, add_case

BOUNDS: dict[str, object] = {
    "db_pool_size": 2,  # and as many again as overflow: 4 connections
    "db_lock_timeout_seconds": 0.6,
    "db_statement_timeout_seconds": 1.0,
    "db_pool_timeout_seconds": 0.3,
    "health_timeout_seconds": 0.8,
}
GUARD = 10.0  # a hang fails the test instead of stalling the suite


@pytest.fixture(scope="module")
async def bounded_app(database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    application = create_app(make_settings(database_urls, tmp_path_factory.mktemp("bounded"), **BOUNDS))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(bounded_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bounded_app), base_url="http://testserver") as c:
        yield c


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _create_action(api: httpx.AsyncClient, world: World, case_id: Any) -> httpx.Response:
    return await asyncio.wait_for(
        api.post(
            f"/api/v1/cases/{case_id}/actions",
            headers=world.headers("chair"),
            json={
                "title": "Schuldhulp",
                "life_domain": "finances",
                "owner_organisation_id": str(world.orgs["gemeente"].id),
                "due_date": str(clock.today() + timedelta(days=7)),
            },
        ),
        GUARD,
    )


def _unavailable(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    cause: str = response.json()["cause"]
    return cause


async def test_a_locked_table_answers_503_within_the_bound_health_answers_and_all_recovers(
    api: httpx.AsyncClient,
    bounded_app: Any,
    world: World,
    owner_db: Database,
    database_urls: DatabaseUrls,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="app.http.problems")
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    db: Database = bounded_app.state.db

    locker = await asyncpg.connect(_dsn(database_urls.owner))
    transaction = locker.transaction()
    await transaction.start()
    try:
        await locker.execute("LOCK TABLE action IN ACCESS EXCLUSIVE MODE")

        # One write: it waits for the lock at most db_lock_timeout_seconds.
        assert _unavailable(await _create_action(api, world, case.id)) == "lock_timeout"
        assert any("lock_timeout" in r.getMessage() for r in caplog.records)
        health = await asyncio.wait_for(api.get("/api/v1/health"), GUARD)
        assert health.status_code == 200 and health.json()["database"] == "ok"

        # Eight at once: four hold the pool's connections while they wait for the lock, the others
        # wait for a connection at most db_pool_timeout_seconds. Health still answers, degraded.
        writers = [asyncio.create_task(_create_action(api, world, case.id)) for _ in range(8)]
        for _ in range(500):
            in_use, capacity = db.pool_usage()
            if in_use >= capacity:
                break
            await asyncio.sleep(0.005)
        health = await asyncio.wait_for(api.get("/api/v1/health"), GUARD)
        ready = await asyncio.wait_for(api.get("/api/v1/health/ready"), GUARD)
        causes = [_unavailable(r) for r in await asyncio.gather(*writers)]
        assert health.status_code == 200 and health.json()["status"] == "degraded", health.json()
        assert ready.status_code == 200
        assert set(causes) == {"lock_timeout", "pool_timeout"}, causes
        assert any("pool_timeout" in r.getMessage() for r in caplog.records)
    finally:
        await transaction.rollback()
        await locker.close()

    # The lock is gone: the same write succeeds, nothing of the refused ones was written.
    assert (await _create_action(api, world, case.id)).status_code == 201
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM action"))).scalar_one() == 1
    health = await api.get("/api/v1/health")
    assert health.json()["status"] == "ok" and health.json()["pool"]["in_use"] == 0


async def test_a_statement_longer_than_its_bound_is_cancelled(bounded_app: Any) -> None:
    db: Database = bounded_app.state.db
    with pytest.raises(sa.exc.DBAPIError) as caught:
        async with db.sessions() as session:
            await asyncio.wait_for(session.execute(sa.text("SELECT pg_sleep(30)")), GUARD)
    assert database_fault(caught.value) == "statement_timeout"


async def test_only_the_drivers_oserror_is_a_database_fault() -> None:
    """A missing file is a bug (500); a socket that is not there is the database away (503)."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/template")
    async def template() -> None:
        open("/nonexistent/casusoverleg/template.html").close()  # noqa: ASYNC230, SIM115

    @app.get("/database")
    async def database() -> None:
        await asyncpg.connect("postgresql://nobody@/nothing?host=/nonexistent/casusoverleg", timeout=2)

    @app.get("/race")
    async def race() -> None:
        class UniqueViolation(Exception):
            sqlstate = "23505"

        raise sa.exc.IntegrityError("INSERT", {}, UniqueViolation())

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        lost_race = await c.get("/race")  # an "only one" rule held by the database: 409, not 500
        assert lost_race.status_code == 409 and lost_race.json()["type"].endswith("conflict")
        missing_file = await c.get("/template")
        assert missing_file.status_code == 500 and "unavailable" not in missing_file.text
        assert _unavailable(await c.get("/database")) == "connection"


async def test_liveness_never_asks_the_database(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/v1/health/live")).json() == {"status": "ok"}
    assert (await api.get("/api/v1/health/ready")).json() == {"status": "ready"}
