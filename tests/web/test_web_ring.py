"""Issue 17 in the web client: the case page lists the case's guests (who, why, until when, how
often they read it) for the people working on the case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from app.clock import clock
from app.db import Database
from app.models import GuestInvitation
from tests.factories import World, add_case
from tests.web.conftest import WebServer
from tests.web.test_web import sign_in


@pytest.fixture
async def browser(web_server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web_server.base, follow_redirects=True, timeout=20) as c:
        yield c


async def test_the_case_page_lists_its_guests(web_world: World, owner_db: Database,
                                             browser: httpx.AsyncClient) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        wijkteam = web_world.orgs["wijkteam"]
        session.add(GuestInvitation(case_id=case.id, conference_id=case.conference_id, organisation_id=wijkteam.id,
                                    issuer=wijkteam.issuer or "", subject="gast-1", display_name="Sanne Gast",
                                    reason="Afstemming over de dagbesteding", invited_by_id=web_world.members["chair"].id,
                                    ends_at=clock.now() + timedelta(days=10)))
        await session.commit()
    page = await sign_in(browser, web_world, "police_member", start=f"/web/casussen/{case.id}")
    assert page.status_code == 200
    assert "Gasten en deelnemers van buiten het overleg" in page.text
    assert "Sanne Gast" in page.text and "Afstemming over de dagbesteding" in page.text and "Loopt" in page.text
    assert "0 keer ingezien" in page.text
