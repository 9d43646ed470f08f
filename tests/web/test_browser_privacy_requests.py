"""Issue 21, acceptance 4: the privacy officer records and answers a client's request in the web
client (headless Chromium through the real sign-in); axe-core finds no serious or critical
violation on the register page."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import Client, ClientRequest
from tests.factories import World, add_case
from tests.web.conftest import WebServer
from tests.web.test_browser import check_accessibility, chromium, new_page, pytestmark, sign_in

__all__ = ["chromium", "pytestmark"]  # the fixture and the skip marks of the browser tests


async def test_privacy_officer_records_and_answers_a_request(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        client = await session.get(Client, case.client_id)
        await session.commit()
    assert client is not None
    page = await new_page(chromium)
    await sign_in(page, web_server, "Gemeente", "Privacy Officer", "/web/privacy/verzoeken")
    assert await page.locator("h1").inner_text() == "Verzoeken van cliënten"
    assert await page.get_by_role("link", name="Verzoeken").count() == 1  # in the menu, for the officer
    await check_accessibility(page, "21-verzoeken-leeg")

    # A request without a kind: refused, with the field named, nothing written.
    await page.get_by_label("Cliëntnummer").fill(client.client_number)
    await page.get_by_label("Ontvangen op").fill(clock.today().strftime("%d-%m-%Y"))
    await page.get_by_label("Binnengekomen via").select_option("letter")
    await page.get_by_role("button", name="Verzoek vastleggen").click()
    await page.wait_for_selector("text=Kies de soort verzoek.")
    await check_accessibility(page, "22-verzoek-fout")
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(ClientRequest))).scalar_one() == 0

    await page.get_by_label("Soort verzoek").select_option("inspection")
    await page.get_by_label("Ingediend door, namens de cliënt (niet verplicht)").fill("Zijn zus")
    await page.get_by_label("Wat vraagt de cliënt?").fill("Wil weten wat er over hem is vastgelegd.")
    await page.get_by_role("button", name="Verzoek vastleggen").click()
    await page.wait_for_selector("text=Het verzoek is vastgelegd.")
    assert client.client_number in await page.locator("table").inner_text()
    await check_accessibility(page, "23-verzoek-vastgelegd")

    await page.get_by_label("Besluit").select_option("granted")
    await page.get_by_label("Antwoord aan de cliënt").fill("U krijgt het overzicht van uw gegevens per post.")
    await page.get_by_role("button", name="Antwoord vastleggen").click()
    await page.wait_for_selector("text=Het antwoord is vastgelegd.")
    assert "Beantwoord: Toegewezen" in await page.locator("table").inner_text()
    await check_accessibility(page, "24-verzoek-beantwoord")
    async with owner_db.sessions() as session:
        [row] = (await session.execute(sa.select(ClientRequest))).scalars().all()
    assert row.status == "answered" and row.decision == "granted" and row.on_behalf_of == "Zijn zus"
