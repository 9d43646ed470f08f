"""Shared by the web tests: a real server (uvicorn on loopback) with the development providers
enabled, the test world's organisations pointed at those providers, browsers (cookie-keeping HTTP
clients) and the sign-in through a provider's pages."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
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
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


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


def browsing(web_server: WebServer) -> httpx.AsyncClient:
    """A browser of its own on the test server: it keeps its cookies (the web session) and follows redirects."""
    return httpx.AsyncClient(base_url=web_server.base, follow_redirects=True, timeout=20)


@pytest.fixture
async def browser(web_server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    async with browsing(web_server) as c:
        yield c


@pytest.fixture
async def browser2(web_server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    """A second person's browser, beside `browser`."""
    async with browsing(web_server) as c:
        yield c


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def csrf_of(page: str) -> str:
    return hidden_fields(page)["csrf"]


def form_of(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action`."""
    start = page.index(f'action="{action}"')
    return hidden_fields(page[start:page.index("</form>", start)])


async def sign_in(c: httpx.AsyncClient, world: World, person: str, *, start: str = "/web/acties") -> httpx.Response:
    """Sign in as one of the test world's people (see `sign_in_as`)."""
    slug = next(s for s, o in world.orgs.items() if o.id == world.members[person].organisation_id)
    return await sign_in_as(c, slug, world.members[person].subject, start=start)


async def sign_in_as(c: httpx.AsyncClient, slug: str, subject: str, *, start: str = "/web/acties") -> httpx.Response:
    """Open a page, get sent to sign-in, pick the organisation, pick the person at the provider;
    the answer is the page the provider sends the browser back to."""
    page = await c.get(start)
    assert page.url.path == "/web/inloggen"
    assert "Kies uw organisatie" in page.text
    provider = await c.post("/web/inloggen", data={"organisatie": slug,
                                                   "next": hidden_fields(page.text)["next"]})
    assert provider.url.path == f"/dev-idp/{DEV_SLUGS.get(slug, slug)}/authorize", provider.text
    params = hidden_fields(provider.text)
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    return await c.post(str(provider.url.copy_with(query=None)), data={**params, "subject": subject})


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
