"""Browser walk (issue 15): in Chromium the chair changes the phase of a case on the case page,
gets a refused field marked with the focus on the error summary, and meets a colleague's change in
between as the conflict page with both versions, then saves their own version on top. axe-core on
each page the forms answer with, at 1280 and 390 px."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.clock import clock
from app.db import Database
from app.models import Case
from app.web.render import nl_date
from tests.factories import World, add_case
from tests.web.chromium import BROWSER_MARKS
from tests.web.conftest import WebServer
from tests.web.test_browser import check_accessibility, chromium, new_page, sign_in
from tests.web.test_browser_meeting import fits_a_phone

pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")
pytestmark = BROWSER_MARKS
__all__ = ["chromium"]  # the fixture, shared with the other browser tests


async def test_the_chair_changes_the_phase_and_meets_a_colleague_s_change(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any  # noqa: F811
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world, phase="prioritised")
        await session.commit()
    url = f"/web/casussen/{case.id}"
    page = await new_page(chromium)
    await sign_in(page, web_server, "Gemeente", "Chair", url)
    section = page.locator("#casus-bijwerken")
    # Only the lifecycle's next phases are offered.
    offered = await section.get_by_label("Naar fase").locator("option").all_inner_texts()
    assert offered == ["Kies een fase", "Plan in uitvoering", "Afgesloten"]

    # Closing without a reason: refused, the field marked, the focus on the summary.
    await section.get_by_label("Naar fase").select_option("closed")
    await section.get_by_role("button", name="Fase wijzigen").click()
    await page.wait_for_selector(".error-summary")
    assert await page.evaluate("document.activeElement && document.activeElement.id") == "foutenoverzicht"
    assert await page.get_attribute("#sluitreden", "aria-invalid") == "true"
    await check_accessibility(page, "30-casus-fase-fout")
    await fits_a_phone(page, "30-casus-fase-fout-390")
    await page.locator(".error-summary a").first.click()
    assert await page.evaluate("document.activeElement.id") == "sluitreden"

    # The phase change itself.
    await page.locator("#casus-bijwerken").get_by_label("Naar fase").select_option("active")
    await page.locator("#casus-bijwerken").get_by_role("button", name="Fase wijzigen").click()
    await page.wait_for_selector("text=De fase is gewijzigd.")
    assert "Plan in uitvoering" in await page.locator("dl.facts").inner_text()
    async with owner_db.sessions() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None and stored.phase == "active"

    # A colleague (another tab) sets the review date while this page is open.
    colleague = await page.context.new_page()
    await colleague.goto(web_server.base + url)
    theirs = clock.today() + timedelta(days=10)
    await colleague.locator("#casus-bijwerken").get_by_label("Evaluatiedatum").fill(theirs.isoformat())
    await colleague.locator("#casus-bijwerken").get_by_role("button", name="Evaluatiedatum opslaan").click()
    await colleague.wait_for_selector("text=De evaluatiedatum is opgeslagen.")

    mine = clock.today() + timedelta(days=30)
    await page.locator("#casus-bijwerken").get_by_label("Evaluatiedatum").fill(mine.isoformat())
    await page.locator("#casus-bijwerken").get_by_role("button", name="Evaluatiedatum opslaan").click()
    await page.wait_for_selector("text=Uw wijziging is niet opgeslagen")
    compared = await page.locator("table.compare").inner_text()
    assert nl_date(mine) in compared and nl_date(theirs) in compared
    await check_accessibility(page, "31-casus-conflict")
    await fits_a_phone(page, "31-casus-conflict-390")
    await page.get_by_role("button", name="Mijn versie toch opslaan").click()
    await page.wait_for_selector("text=De evaluatiedatum is opgeslagen.")
    async with owner_db.sessions() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None and stored.next_review_date == mine
