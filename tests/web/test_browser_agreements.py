"""Browser test of agreements (issue 15): in headless Chromium the chair starts a three-party
agreement from the case page, gets the form's errors in one round (focus on the summary), fills in
each party's commitments, signs for the municipality, records the client's signature with a scan
upload; addiction care's member signs in a second session (the chair's older page then meets the
conflict page when it tries a withdrawal); the chair sees "getekend" on the
agreement and on the case page. axe-core finds no serious or critical violation on any of these
pages (the print view and a 390 px phone included), and their content fits the phone. The same
steps once more on the demo world that `make run` loads."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.db import Database
from app.demo.seed import load_demo_data
from app.models import Case, Client
from tests.agreements_support import PNG
from tests.factories import World, add_case, add_mandate
from tests.web.conftest import WebServer
from tests.web.test_browser import check_accessibility, chromium, new_page, pytestmark, sign_in

__all__ = ["chromium", "pytestmark"]  # the fixture and the skip marks of the browser tests

CLIENT_WORDS = "Ik kom elke week naar mijn afspraak bij de verslavingszorg."
TOWN_WORDS = "De gemeente regelt binnen twee weken een afspraak bij de schuldhulp."
CARE_WORDS = "De verslavingszorg biedt binnen een maand een plek in de dagbehandeling."


async def fits(page: Any, width: int) -> None:
    """Nothing of the page's own content (main) reaches past the viewport."""
    wide = await page.evaluate(f"""() => [...document.querySelectorAll('main, main *')]
        .filter(e => e.getBoundingClientRect().right > {width} + 0.5)
        .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert wide == [], f"{page.url}: wider than {width} px: {wide}"


async def test_the_chair_starts_and_records_a_three_party_agreement_with_every_signature(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world, name="Sanne Toestemming")
        for person in ("chair", "care_member"):
            await add_mandate(session, web_world.members[person], "sign_agreements")
        await session.commit()
    case_url = f"/web/casussen/{case.id}"

    page = await new_page(chromium)
    await sign_in(page, web_server, "Gemeente", "Chair", case_url)
    section = page.locator("#toestemming")
    assert "Er is nog geen overeenkomst met de cliënt." in await section.inner_text()
    await check_accessibility(page, "agreements-01-casus-zonder-overeenkomst")
    await section.get_by_role("link", name="Een overeenkomst opstellen").click()
    await check_accessibility(page, "agreements-02-kies-sjabloon")
    await page.get_by_role("link", name="Driepartijenovereenkomst opstellen").click()
    assert await page.locator("#organisatie_municipality").input_value() == str(web_world.orgs["gemeente"].id)
    await check_accessibility(page, "agreements-03-formulier")

    # Nothing filled in: every missing commitment in one round, the summary focused, links to fields.
    await page.get_by_role("button", name="Concept opstellen").click()
    summary = page.locator(".error-summary")
    await summary.wait_for()
    assert await page.evaluate("() => document.activeElement.classList.contains('error-summary')")
    assert await summary.get_by_role("link").count() == 3
    assert await page.locator("#afspraak_client").get_attribute("aria-invalid") == "true"
    await check_accessibility(page, "agreements-04-formulier-fouten")

    await page.locator("#afspraak_client").fill(CLIENT_WORDS)
    await page.locator("#afspraak_municipality").fill(TOWN_WORDS)
    await page.locator("#afspraak_addiction_care").fill(CARE_WORDS)
    await page.locator("#optie-health_to_police").check()
    await page.get_by_role("button", name="Concept opstellen").click()
    await page.wait_for_selector("text=De overeenkomst is opgesteld als concept")
    agreement_url = page.url.split("?")[0]
    assert "concept" in await page.locator("h1").inner_text()
    await check_accessibility(page, "agreements-05-concept")

    await page.get_by_role("button", name="Tekenen namens Gemeente").click()
    await page.wait_for_selector("text=De handtekening is vastgelegd")
    await page.locator("#scan").set_input_files(
        files=[{"name": "handtekening.png", "mimeType": "image/png", "buffer": PNG}])
    await page.get_by_role("button", name="Handtekening van de cliënt vastleggen").click()
    await page.wait_for_selector("text=De handtekening van de cliënt is vastgelegd")
    assert "(met scan)" in await page.locator("table").nth(1).inner_text()

    care = await new_page(chromium)
    await sign_in(care, web_server, "Zorg", "Care Member", agreement_url.removeprefix(web_server.base))
    await care.get_by_role("button", name="Tekenen namens Zorg").click()
    await care.wait_for_selector("text=De handtekening is vastgelegd")

    # The chair's page predates that signature: a withdrawal from it is a conflict, nothing is written.
    await page.locator("#bevestig").check()
    await page.get_by_role("button", name="Hele toestemming intrekken").click()
    await page.wait_for_selector("text=Uw wijziging is niet opgeslagen")
    assert "de verslavingszorg" in await page.locator("table.compare").inner_text()
    await check_accessibility(page, "agreements-05b-conflict")

    await page.goto(agreement_url)
    status = await page.locator("h1 .badge").inner_text()
    assert status.startswith("getekend")
    assert CARE_WORDS in await page.locator(".agreement-text").inner_text()
    await check_accessibility(page, "agreements-06-getekend")
    await page.goto(web_server.base + case_url)
    consent = await page.locator("#toestemming").inner_text()
    assert "getekend" in consent and "met de gemeente en de politie" in consent
    await check_accessibility(page, "agreements-07-casus-met-toestemming")
    await page.goto(agreement_url + "/afdrukken")
    assert CLIENT_WORDS in await page.locator("body").inner_text()
    await check_accessibility(page, "agreements-08-afdrukken")

    # A phone: the agreement and its form to withdraw consent fit 390 px.
    await page.set_viewport_size({"width": 390, "height": 844})
    for name, url in (("overeenkomst", agreement_url), ("casus", web_server.base + case_url),
                      ("formulier", f"{web_server.base}{case_url}/overeenkomsten/nieuw?sjabloon=driepartijen")):
        await page.goto(url)
        await fits(page, 390)
        await check_accessibility(page, f"agreements-390-{name}")


async def test_on_the_demo_world_the_chair_records_a_three_party_agreement_with_all_signatures(
    owner_db: Database, web_server: WebServer, chromium: Any
) -> None:
    """Acceptance 1's agreement step, from the world `make run` loads: Anouk de Vries (the chair,
    with a signing mandate) and Eva Smit (addiction care) on Dirk Hoekstra's case."""
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=web_server.base)
        await session.commit()
        case_id = (await session.execute(sa.select(Case.id).join(Client, Client.id == Case.client_id)
                                         .where(Client.name == "Dirk Hoekstra"))).scalar_one()
    case_url = f"/web/casussen/{case_id}"
    page = await new_page(chromium)
    await sign_in(page, web_server, "Gemeente Zuiderstad", "Anouk de Vries", case_url)
    await page.locator("#toestemming").get_by_role("link", name="Een overeenkomst opstellen").click()
    await page.get_by_role("link", name="Driepartijenovereenkomst opstellen").click()
    await page.locator("#afspraak_client").fill("Ik drink minder, in kleine stappen, en laat de wondzorg toe.")
    await page.locator("#afspraak_municipality").fill("De gemeente regelt een Skaeve Huse-woning.")
    await page.locator("#afspraak_addiction_care").fill("De verslavingszorg komt wekelijks langs (bemoeizorg).")
    await page.get_by_role("button", name="Concept opstellen").click()
    await page.wait_for_selector("text=De overeenkomst is opgesteld als concept")
    agreement_path = page.url.split("?")[0].removeprefix(web_server.base)
    await page.get_by_role("button", name="Tekenen namens Gemeente Zuiderstad").click()
    await page.wait_for_selector("text=De handtekening is vastgelegd")
    await page.locator("#scan").set_input_files(
        files=[{"name": "handtekening.png", "mimeType": "image/png", "buffer": PNG}])
    await page.get_by_role("button", name="Handtekening van de cliënt vastleggen").click()
    await page.wait_for_selector("text=De handtekening van de cliënt is vastgelegd")

    care = await new_page(chromium)
    await sign_in(care, web_server, "Verslavingszorg Zuid", "Eva Smit", agreement_path)
    await care.get_by_role("button", name="Tekenen namens Verslavingszorg Zuid").click()
    await care.wait_for_selector("text=De handtekening is vastgelegd")
    assert (await care.locator("h1 .badge").inner_text()).startswith("getekend")

    await page.goto(web_server.base + case_url)
    assert "getekend" in await page.locator("#toestemming").inner_text()
    await check_accessibility(page, "agreements-demo-casus-getekend")
