"""Kill-and-take-over: a delivering process killed with SIGKILL mid-send leaves its messages
leased; when the lease runs out another worker sends them again, with the same webhook-id and a
valid signature (at least once; receivers deduplicate on webhook-id), and records them once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.config import PROJECT_ROOT
from app.db import Database, DatabaseUrls
from app.events.delivery import deliver_due, message_id
from app.events.outbox import enqueue
from app.events.signing import verify
from app.models import OutboxMessage
from tests.events.support import Receiver, link_case
from tests.factories import World

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

GUARD = 30.0
WORKER_TIMEOUT = 30  # the killed worker's WEBHOOK_TIMEOUT_SECONDS: its lease is 45 s

_WORKER = """
import asyncio, sys
from app.config import Settings
from app.db import Database
from app.events.delivery import deliver_due

async def main():
    settings = Settings(database_url=sys.argv[1], webhook_allow_private_targets=True,
                        webhook_timeout_seconds=int(sys.argv[2]), dev_idp_enabled=False, load_demo_data=False,
                        scheduler_enabled=False)
    await deliver_due(Database(sys.argv[1], pool_size=1), settings=settings)

asyncio.run(main())
"""


async def test_a_killed_worker_s_messages_are_taken_over_after_the_lease_with_the_same_webhook_id(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any, database_urls: DatabaseUrls
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver(delay=60.0)  # stalls: the worker is mid-send when it is killed
    receiver.start()
    try:
        subscribed = await api.post(
            "/api/v1/subscriptions",
            headers=world.headers("care_system"),
            json={"url": receiver.url, "event_types": ["case.phase_changed"]},
        )
        assert subscribed.status_code == 201, subscribed.text
        secret = subscribed.json()["secret"]
        async with owner_db.sessions() as session:
            for i in range(5):
                await enqueue(session, "case.phase_changed", {"case_id": f"c{i}", "phase": "active"},
                              organisation_ids=[world.orgs["zorg"].id])
            await session.commit()
            expected = sorted(message_id(i) for i in (await session.execute(sa.select(OutboxMessage.id))).scalars())

        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WORKER, database_urls.app, str(WORKER_TIMEOUT),
            cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(int(GUARD / 0.05)):
                if len(receiver.received) >= len(expected):
                    break
                await asyncio.sleep(0.05)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            await asyncio.wait_for(worker.wait(), GUARD)
        assert sorted(receiver.counts()) == expected

        receiver.delay = 0
        settings = events_app.state.settings
        db = events_app.state.db
        assert await deliver_due(db, settings=settings) == 0  # still leased by the dead worker
        clock.travel(timedelta(seconds=WORKER_TIMEOUT + 15 - 3))
        assert await deliver_due(db, settings=settings) == 0  # the lease: the timeout + 15 s
        clock.travel(timedelta(seconds=5))
        assert await deliver_due(db, settings=settings) == len(expected)
        assert await deliver_due(db, settings=settings) == 0
    finally:
        receiver.stop()

    assert set(receiver.counts().values()) == {2}  # at least once: each arrived twice ...
    assert sorted(receiver.counts()) == expected  # ... under the same webhook-id
    assert all(verify(secret, item.headers, item.body) for item in receiver.received)
    async with owner_db.sessions() as session:
        rows = (await session.execute(sa.select(OutboxMessage))).scalars().all()
    assert all(r.delivered_at is not None and r.attempts == 2 for r in rows)
