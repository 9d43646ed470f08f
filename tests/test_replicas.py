"""Two replicas of the service (two uvicorn processes, each with its scheduler) on one
PostgreSQL: every scheduled job slot runs once, every outbox message reaches the partner once,
and a web session started on one replica works on the other.

Everything that waits has a deadline; the replicas are stopped whatever happens."""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from app.config import PROJECT_ROOT, Settings
from app.crypto import seal_text
from app.db import Database, DatabaseUrls
from app.events import outbox
from app.events.delivery import message_id
from app.events.signing import SECRET_PURPOSE, new_secret
from app.jobs.registry import build_registry
from app.models import JobRun, Membership, Organisation, OutboxMessage, PartnerSystem, Subscription
from tests.events.support import Receiver
from tests.factories import World
from tests.idp import free_port

JOBS = build_registry(Settings())
START_SECONDS = 120  # a loaded two-core machine may take a while to import and start two servers
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def _start(urls: DatabaseUrls, data_dir: Path, port: int, name: str) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS")},
        "DATABASE_URL": urls.app,
        "MIGRATION_DATABASE_URL": urls.owner,
        "DATA_DIR": str(data_dir),  # shared: the development providers' keys
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "DEV_IDP_ENABLED": "true",
        "LOAD_DEMO_DATA": "false",
        "SCHEDULER_ENABLED": "true",
        "SCHEDULER_INSTANCE_ID": name,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


async def _wait_until(check: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


async def _healthy(base: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as c:
            return (await c.get(f"{base}/api/v1/health")).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


async def _prepare(owner_db: Database, world: World, receiver: Receiver, replica_one: str, n: int) -> list[str]:
    """Before the replicas start: a partner's webhook subscription with n due notifications, and
    the police organisation signing in through replica one's development provider."""
    async with owner_db.sessions() as session:
        system = PartnerSystem(organisation_id=world.orgs["zorg"].id, name="EPD", subject="care-epd",
                               scopes=["webhooks:manage"])
        session.add(system)
        await session.flush()
        session.add(Subscription(partner_system_id=system.id, organisation_id=world.orgs["zorg"].id,
                                 url=receiver.url, event_types=["case.phase_changed"],
                                 secret=seal_text(new_secret(), Settings(), purpose=SECRET_PURPOSE)))
        await session.flush()
        for i in range(n):
            await outbox.enqueue(session, "case.phase_changed", {"case_id": f"c{i}", "phase": "active"},
                                 organisation_ids=[world.orgs["zorg"].id])
        issuer = f"{replica_one}/dev-idp/politie"
        police = world.orgs["politie"].id
        await session.execute(sa.update(Organisation).where(Organisation.id == police).values(
            issuer=issuer, discovery_url=f"{issuer}/.well-known/openid-configuration", jwks_uri=f"{issuer}/jwks.json"))
        await session.execute(sa.update(Membership).where(Membership.organisation_id == police).values(issuer=issuer))
        await session.commit()
        ids = (await session.execute(sa.select(OutboxMessage.id))).scalars().all()
    return sorted(message_id(i) for i in ids)


async def _sign_in(browser: httpx.AsyncClient, subject: str) -> None:
    page = await browser.get("/web/acties")
    assert page.url.path == "/web/inloggen", page.text[:300]
    fields = dict(HIDDEN.findall(page.text))
    provider = await browser.post("/web/inloggen", data={"organisatie": "politie", "next": html.unescape(fields["next"])})
    assert provider.url.path == "/dev-idp/politie/authorize", provider.text[:300]
    params = {k: html.unescape(v) for k, v in HIDDEN.findall(provider.text)}
    done = await browser.post(str(provider.url.copy_with(query=None)), data={**params, "subject": subject})
    assert done.status_code == 200 and done.url.path == "/web/acties", done.text[:300]


async def test_two_replicas_share_jobs_outbox_and_web_sessions(
    database_urls: DatabaseUrls, owner_db: Database, world: World, receiver: Receiver,
) -> None:
    data_dir = PROJECT_ROOT / ".data" / f"replicas-{os.getpid()}"  # the dev keys both replicas read
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    expected = await _prepare(owner_db, world, receiver, bases[0], 25)
    replicas = [_start(database_urls, data_dir, port, f"replica-{i + 1}") for i, port in enumerate(ports)]
    try:
        for base, process in zip(bases, replicas, strict=True):
            async def up(b: str = base, p: subprocess.Popen[bytes] = process) -> bool:
                return p.poll() is not None or await _healthy(b)

            await _wait_until(up, START_SECONDS, f"{base} to start")
            assert process.poll() is None, process.stderr.read().decode()[-2000:] if process.stderr else ""

        # Both schedulers caught up the latest slot of every job at start: each slot ran once.
        async def job_runs() -> list[tuple[str, object, str]]:
            async with owner_db.sessions() as session:
                return [tuple(r) for r in (await session.execute(
                    sa.select(JobRun.job_id, JobRun.slot, JobRun.instance))).all()]

        async def every_job_ran() -> bool:
            return {r[0] for r in await job_runs()} >= {j.id for j in JOBS}

        await _wait_until(every_job_ran, 60, "every job's latest slot to run")
        runs = await job_runs()
        assert {r[0] for r in runs} >= {j.id for j in JOBS}
        slots = [(job, slot) for job, slot, _ in runs]
        assert len(slots) == len(set(slots)), f"a slot ran twice: {sorted(map(str, slots))}"
        assert {instance for *_, instance in runs} <= {"replica-1", "replica-2"}

        # Every notification reached the partner exactly once.
        async def delivered() -> bool:
            return len(receiver.counts()) >= len(expected)

        await _wait_until(delivered, 60, "every notification delivered")
        await asyncio.sleep(1)  # a duplicate, if any, would arrive now
        assert sorted(receiver.counts()) == expected
        assert set(receiver.counts().values()) == {1}

        # A web session started on replica one works on replica two.
        async with httpx.AsyncClient(base_url=bases[0], follow_redirects=True, timeout=30) as one:
            await _sign_in(one, world.members["police_liaison"].subject)
            async with httpx.AsyncClient(base_url=bases[1], cookies=one.cookies, timeout=30) as two:
                page = await two.get("/web/acties")
        assert page.status_code == 200 and "Mijn acties" in page.text, page.text[:300]
    finally:
        for process in replicas:
            _stop(process)
        import shutil

        shutil.rmtree(data_dir, ignore_errors=True)
