"""Shared by the web tests: a real server (uvicorn on loopback) with the development providers
enabled, and the test world's organisations pointed at those providers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn

from app.clock import clock
from app.db import Database, DatabaseUrls
from app.main import create_app
from app.models import Client, Membership, Organisation
from tests.conftest import make_settings
from tests.factories import World, add_action, add_case
from tests.idp import free_port
from tests.meeting_helpers import add_meeting

DEV_SLUGS = {"zorg": "verslavingszorg"}  # the world's slug -> the development provider's slug


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One clear line when the browser tests could not run, and how to make them run."""
    from tests.web.chromium import missing_reason

    reason = missing_reason()
    if reason and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line(reason)


@dataclass
class WebServer:
    base: str


@pytest.fixture(scope="module")
def web_server(database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(database_urls, Path(tmp_path_factory.mktemp("web")), dev_idp_enabled=True,
                             public_base_url=base)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("web test server did not start")
        time.sleep(0.02)
    yield WebServer(base)
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
async def web_world(world: World, owner_db: Database, web_server: WebServer) -> World:
    """The test world, with each organisation's issuer pointed at the server's development provider."""
    return await use_dev_providers(world, owner_db, web_server)


async def use_dev_providers(world: World, owner_db: Database, web_server: WebServer) -> World:
    async with owner_db.sessions() as session:
        for slug, org in world.orgs.items():
            issuer = f"{web_server.base}/dev-idp/{DEV_SLUGS.get(slug, slug)}"
            await session.execute(sa.update(Organisation).where(Organisation.id == org.id).values(
                issuer=issuer, discovery_url=f"{issuer}/.well-known/openid-configuration",
                jwks_uri=f"{issuer}/jwks.json"))
            await session.execute(sa.update(Membership).where(Membership.organisation_id == org.id)
                                  .values(issuer=issuer))
        await session.commit()
    return world


async def agenda_world(owner_db: Database, world: World, *, starts_in: timedelta = timedelta(hours=1)) -> dict:
    """A meeting of conference A soon, two cases the draft picks up (an overdue police action; a
    review due) and one it does not (the chair adds it by hand)."""
    async with owner_db.sessions() as session:
        overdue = await add_case(session, world, name="Anna Agenda")
        visit = await add_action(session, world, overdue, owner="politie", due_in_days=-3)
        visit.title = "Huisbezoek"
        review = await add_case(session, world, name="Bert Bespreken")
        review.next_review_date = clock.today()
        extra = await add_case(session, world, name="Cees Toevoegen")
        meeting = await add_meeting(session, world, starts_at=clock.now() + starts_in, minutes=120)
        numbers = {}
        for key, case in (("overdue", overdue), ("review", review), ("extra", extra)):
            client = await session.get(Client, case.client_id)
            assert client is not None
            numbers[key] = client.client_number
        await session.commit()
    return {"meeting": meeting, "overdue": overdue, "review": review, "extra": extra, "numbers": numbers}
