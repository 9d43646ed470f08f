"""Issue 17 in a real browser (Chromium, with axe-core): during an aftercare watch a wijkteam member
reports worry on the case page; the addiction care liaison sees it and answers; the wijkteam member
reads the answer. Skips (and says why) without Chromium or axe-core, like tests/web/test_browser.py."""

from __future__ import annotations

from typing import Any

from app.db import Database
from tests.factories import World, add_case
from tests.ring_support import add_aftercare_watch
from tests.web.conftest import WebServer
from tests.web.test_browser import check_accessibility, chromium, new_page, pytestmark, sign_in

__all__ = ["chromium", "pytestmark"]  # the fixture and the skip marks, shared with test_browser.py


async def test_wijkteam_reports_worry_in_aftercare_and_the_care_liaison_answers(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any  # noqa: F811
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        await session.commit()
    await add_aftercare_watch(owner_db, web_world, case)
    start = f"/web/casussen/{case.id}"

    team = await new_page(chromium)
    await sign_in(team, web_server, "Wijkteam", "Wijkteam Member", start)
    await team.get_by_label("Zorgen", exact=True).check()
    await team.get_by_label("Korte toelichting (niet verplicht)").fill("Hij doet de deur niet meer open.")
    await team.get_by_role("button", name="Melding versturen").click()
    await team.wait_for_selector("text=Uw melding is verstuurd naar de verslavingszorg.")
    await check_accessibility(team, "nazorg-melding-wijkteam")

    care = await new_page(chromium)
    await sign_in(care, web_server, "Zorg", "Care Liaison", start)
    assert await care.get_by_text("Hij doet de deur niet meer open.").is_visible()
    await care.get_by_label("Uw antwoord aan het wijkteam").fill("We gaan morgen samen langs.")
    await care.get_by_role("button", name="Antwoord versturen").click()
    await care.wait_for_selector("text=Uw antwoord is verstuurd naar het wijkteam.")
    await check_accessibility(care, "nazorg-antwoord-verslavingszorg")

    await team.goto(web_server.base + start)
    assert await team.get_by_text("We gaan morgen samen langs.").is_visible()
