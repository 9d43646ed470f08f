"""Fault test: partner systems keep pushing events while the database restarts. Every event
that got a 2xx receipt is stored exactly once; the others got a 503 (never a 500 or a 401) and
succeed when the client retries after the restart."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from app.db import Database
from app.main import create_app
from app.models import PartnerEvent
from tests.conftest import make_settings
from tests.events.support import CE, event, link_case
from tests.factories import World, build_world
from tests.idp import TestIdentityProviders as IdentityProviders
from tests.own_server import OwnServer, own_server_fixture  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="needs the embedded PostgreSQL")


@pytest.fixture(scope="module")
async def fault_app(own_server: OwnServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    application = create_app(make_settings(own_server.urls, tmp_path_factory.mktemp("fault")))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def fault_db(own_server: OwnServer) -> AsyncIterator[Database]:
    db = Database(own_server.urls.owner, pool_size=2)
    async with db.engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    await db.dispose()


@pytest.fixture
async def fault_world(fault_db: Database, idp: IdentityProviders) -> World:
    async with fault_db.sessions() as session:
        built = await build_world(session, idp)
        await session.commit()
    return built


@pytest.fixture
async def fault_api(fault_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fault_app), base_url="http://testserver"
    ) as c:
        yield c


async def test_events_pushed_through_a_database_restart_are_stored_exactly_once(
    fault_api: httpx.AsyncClient, fault_world: World, fault_db: Database, own_server: OwnServer
) -> None:
    api, world, owner_db = fault_api, fault_world, fault_db
    await link_case(owner_db, world)
    headers = {**world.headers("care_system"), **CE}
    events = [event("lapse" if i % 2 else "missed_appointment") for i in range(90)]
    receipts: dict[str, dict[str, Any]] = {}
    statuses: Counter[int | str] = Counter()
    started = asyncio.Event()

    async def client_loop(mine: list[dict[str, Any]]) -> None:
        for ev in mine:
            body = json.dumps(ev)
            for _attempt in range(200):  # a well-behaved client: retry until a 2xx receipt
                try:
                    response = await api.post("/api/v1/events", content=body, headers=headers)
                except httpx.TransportError:
                    statuses["transport"] += 1
                    await asyncio.sleep(0.1)
                    continue
                statuses[response.status_code] += 1
                if response.status_code in (200, 201):
                    receipts[ev["id"]] = response.json()
                    if len(receipts) >= 10:
                        started.set()
                    break
                assert response.status_code == 503, response.text
                assert response.headers.get("retry-after")
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("an event never got a receipt")

    async def restart_midstream() -> None:
        await started.wait()
        await asyncio.to_thread(own_server.restart)

    await asyncio.gather(*(client_loop(events[i::3]) for i in range(3)), restart_midstream())

    assert len(receipts) == len(events)
    assert statuses[503] > 0, statuses  # the restart did hit requests in flight
    assert set(statuses) <= {200, 201, 503, "transport"}, statuses
    async with owner_db.sessions() as session:
        rows = (await session.execute(sa.select(PartnerEvent.event_id, PartnerEvent.id))).all()
    stored = Counter(event_id for event_id, _ in rows)
    assert len(rows) == len(events) and set(stored.values()) == {1}
    by_event = {event_id: str(row_id) for event_id, row_id in rows}
    assert all(receipts[e]["event"] == by_event[e] for e in receipts)  # each receipt names the stored row


async def test_a_commit_that_fails_answers_503_not_a_receipt(
    fault_api: httpx.AsyncClient, fault_world: World, fault_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge commits before the response is sent: a failing commit must never have been
    preceded by a 2xx receipt."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import AsyncSession

    api, world, owner_db = fault_api, fault_world, fault_db
    await link_case(owner_db, world)
    headers = {**world.headers("care_system"), **CE}
    ev = json.dumps(event("lapse"))
    original = AsyncSession.commit

    async def failing_commit(self: AsyncSession) -> None:
        raise OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await api.post("/api/v1/events", content=ev, headers=headers)
    monkeypatch.setattr(AsyncSession, "commit", original)
    assert response.status_code == 503 and response.headers["retry-after"]
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(PartnerEvent))).scalar_one() == 0
    assert (await api.post("/api/v1/events", content=ev, headers=headers)).status_code == 201
