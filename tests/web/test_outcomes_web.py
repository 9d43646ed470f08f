"""Issue 18, acceptance 4: the outcomes page (Uitkomsten). Over real HTTP: policy staff sign in
with the code flow, see the figures with "<5" where counts are withheld, download CSV and JSON,
and a bad period is refused on the page (and logged). In Chromium: axe finds no serious or
critical violation, and the screenshot goes to docs/screenshots/ (the issue asks for it there)."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.config import PROJECT_ROOT
from app.db import Database
from tests.factories import World
from tests.test_outcomes import NOW, seed
from tests.web.chromium import AXE, AXE_MISSING, launched, missing_reason
from tests.web.conftest import WebServer, sign_in

DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
QUERY = "van=2026-01-01&tot=2026-06-30"


async def _log(owner_db: Database, subject: str) -> list[tuple[str, str, str]]:
    async with owner_db.engine.connect() as conn:
        rows = await conn.execute(sa.text(
            "SELECT action, resource_type, outcome FROM access_log WHERE actor_subject = :s "
            "AND resource_type = 'outcomes' ORDER BY seq"), {"s": subject})
        return [tuple(r) for r in rows]


async def test_policy_staff_read_the_figures_and_download_them(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    clock.freeze(NOW)
    await seed(owner_db, web_world)
    landed = await sign_in(browser, web_world, "policy_staff")
    assert landed.url.path == "/web/uitkomsten"  # their start page: they never work on a case
    page = await browser.get(f"/web/uitkomsten?{QUERY}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>Uitkomsten</h1>" in text
    assert "Acties op tijd, per organisatie" in text and "<svg class=\"chart\"" in text
    assert "&lt;5" in text  # withheld counts
    assert ">48<" in text  # the actions' grand total (tests/test_outcomes.py)
    assert "Gehouden spreekuren" in text
    assert "Telling" not in text  # no client name, no action title
    csv = await browser.get(f"/web/uitkomsten.csv?{QUERY}")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "actions_on_time,Politie,late,<5" in csv.text
    download = await browser.get(f"/web/uitkomsten.json?{QUERY}")
    assert download.status_code == 200
    assert json.loads(download.text)["period_from"] == "2026-01-01"
    refused = await browser.get("/web/uitkomsten?van=2026-06-30&tot=2026-01-01")
    assert refused.status_code == 422
    assert "De periode klopt niet" in refused.text
    assert await _log(owner_db, web_world.members["policy_staff"].subject) == [
        ("read", "outcomes", "allowed"), ("read", "outcomes", "allowed"), ("export", "outcomes", "allowed"), ("export", "outcomes", "allowed"),
        ("read", "outcomes", "denied")]


async def test_a_liaison_is_refused_the_page(web_world: World, owner_db: Database,
                                            browser: httpx.AsyncClient) -> None:
    await sign_in(browser, web_world, "police_liaison")
    page = await browser.get("/web/uitkomsten")
    assert page.status_code == 403
    assert await _log(owner_db, web_world.members["police_liaison"].subject) == [("read", "outcomes", "denied")]


# --- in the browser ---------------------------------------------------------------------------

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    if missing_reason() is not None or not AXE.exists():
        pytest.skip(missing_reason() or AXE_MISSING)
    async with launched() as browser:
        yield browser


async def test_outcomes_page_in_the_browser_passes_axe(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any
) -> None:
    from tests.web.test_browser import check_accessibility, new_page
    from tests.web.test_browser import sign_in as browser_sign_in

    clock.freeze(NOW)
    await seed(owner_db, web_world)
    page = await new_page(chromium)
    await browser_sign_in(page, web_server, "Gemeente", "Policy Staff", f"/web/uitkomsten?{QUERY}")
    assert await page.locator("h1").inner_text() == "Uitkomsten"
    assert await page.locator("svg.chart").count() == 10
    politie = page.locator("#actions_on_time tbody tr", has_text="Politie")
    assert (await politie.locator("td").all_inner_texts())[:4] == ["6", "<5", "<5", "12"]
    await check_accessibility(page, "20-uitkomsten")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "artifacts" / "screenshots" / "20-uitkomsten.png",
                DOCS_SCREENSHOTS / "20-uitkomsten.png")
    # The page at a phone's width: still no serious or critical violation.
    await page.set_viewport_size({"width": 390, "height": 844})
    await check_accessibility(page, "20-uitkomsten-390")
