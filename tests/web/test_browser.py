"""Browser tests: headless Chromium (Debian's package, driven by Playwright for Python) through
the real sign-in code flow, Mijn acties, a conflicting edit from a second session, the case page,
the referral form, and the chair's agenda and decisions. axe-core is injected into every main page; screenshots land in
artifacts/screenshots/.

Needs: `apt-get install chromium`, `pip install playwright` (the dev extra) and `npm install`
(axe-core). Without them the tests skip and say why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.clock import clock
from app.config import PROJECT_ROOT
from app.db import Database
from app.models import Assessment, Goal, Plan
from tests.factories import World, add_action, add_case
from tests.web.chromium import AXE, BROWSER_MARKS, launched
from tests.web.conftest import WebServer, agenda_world

SCREENSHOTS = PROJECT_ROOT / "artifacts" / "screenshots"

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")
pytestmark = BROWSER_MARKS


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    async with launched() as browser:
        yield browser


async def new_page(chromium: Any) -> Any:
    # bypass_csp: the pages forbid inline scripts, and axe-core is injected as one.
    context = await chromium.new_context(bypass_csp=True, locale="nl-NL", viewport={"width": 1100, "height": 900})
    return await context.new_page()


async def check_accessibility(page: Any, name: str) -> None:
    """No serious or critical axe-core violations; a full-page screenshot as an artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert result["testEngine"]["name"] == "axe-core"
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


async def sign_in(page: Any, server: WebServer, organisation: str, person_name: str, start: str) -> None:
    await page.goto(server.base + start)
    assert await page.locator("h1").inner_text() == "Inloggen"
    await page.get_by_label(organisation, exact=True).check()
    await page.get_by_role("button", name="Verder naar inloggen").click()
    await page.get_by_label(person_name, exact=True).check()
    await page.get_by_role("button", name="Inloggen", exact=True).click()
    await page.wait_for_url(f"**{start}")


async def test_liaison_signs_in_marks_done_and_sees_a_conflict(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        visit = await add_action(session, web_world, case, owner="politie", due_in_days=-2)
        visit.title = "Huisbezoek met wijkagent"
        talk = await add_action(session, web_world, case, owner="politie", due_in_days=5)
        talk.title = "Gesprek met de verhuurder"
        care = await add_action(session, web_world, case, owner="zorg", assignee="care_liaison",
                                committed_by="care_member")
        care.title = "Intake verslavingszorg"
        await session.commit()

    page = await new_page(chromium)
    await page.goto(web_server.base + "/web/acties")
    await check_accessibility(page, "01-inloggen")
    await page.get_by_label("Politie", exact=True).check()
    await page.get_by_role("button", name="Verder naar inloggen").click()
    await check_accessibility(page, "02-ontwikkel-provider")
    await page.get_by_label("Police Liaison", exact=True).check()
    await page.get_by_role("button", name="Inloggen", exact=True).click()
    await page.wait_for_url("**/web/acties")

    body = await page.locator("main").inner_text()
    assert "Huisbezoek met wijkagent" in body and "Gesprek met de verhuurder" in body
    assert "Intake verslavingszorg" not in body  # only the police's actions
    assert await page.locator(f"#actie-{visit.id} .badge.late").inner_text() == "Te laat"
    await check_accessibility(page, "03-mijn-acties")

    # A colleague opens the same list in a second session and changes the talk first.
    colleague = await new_page(chromium)
    await sign_in(colleague, web_server, "Politie", "Police Member", "/web/acties")
    card = colleague.locator(f"#actie-{talk.id}")
    await card.get_by_label("Status").select_option("blocked")
    await card.get_by_label("Korte notitie").fill("Verhuurder onbereikbaar")
    await card.get_by_role("button", name="Opslaan").click()
    await colleague.wait_for_selector("text=Opgeslagen")

    # The liaison edits the talk from the list loaded before the colleague's change: a conflict.
    stale = page.locator(f"#actie-{talk.id}")
    await stale.get_by_label("Status").select_option("done")
    await stale.get_by_label("Korte notitie").fill("Gesproken")
    await stale.get_by_role("button", name="Opslaan").click()
    await page.wait_for_selector("text=Uw wijziging is niet opgeslagen")
    table = await page.locator("table.compare").inner_text()
    assert "Gesproken" in table and "Verhuurder onbereikbaar" in table  # mine and theirs
    await check_accessibility(page, "04-conflict")

    # Back to the list: the colleague's version stands; the liaison marks the visit done.
    await page.get_by_role("link", name="De huidige versie houden").click()
    assert await page.locator(f"#actie-{talk.id} textarea").input_value() == "Verhuurder onbereikbaar"
    own = page.locator(f"#actie-{visit.id}")
    await own.get_by_label("Status").select_option("done")
    await own.get_by_label("Korte notitie").fill("Bezoek afgelegd")
    await own.get_by_role("button", name="Opslaan").click()
    await page.wait_for_selector("text=Opgeslagen")
    assert await page.locator(f"#actie-{visit.id}").count() == 0  # done: off the open list

    await page.goto(f"{web_server.base}/web/casussen/{case.id}")
    assert "Casusregisseur" in await page.locator("main").inner_text()
    await check_accessibility(page, "05-casus-politie")
    await page.goto(f"{web_server.base}/web/casussen/00000000-0000-0000-0000-000000000000")
    await check_accessibility(page, "06-niet-gevonden")


async def test_case_page_with_plan_and_zrm_chart(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        session.add_all([
            Goal(plan_id=plan.id, life_domain="housing", description="Binnen drie maanden een eigen kamer"),
            Goal(plan_id=plan.id, life_domain="substance_use", description="Start behandeling bij de poli"),
        ])
        for i, (housing, use, money) in enumerate(((1, 2, 2), (2, 2, 3), (3, 3, 3))):
            session.add(Assessment(case_id=case.id, assessed_on=date(2026, 3 + 3 * i, 1),
                                   assessed_by_id=web_world.members["care_member"].id,
                                   scores={"housing": housing, "substance_use": use, "finances": money}))
        await add_action(session, web_world, case, owner="zorg", assignee="care_liaison",
                         committed_by="care_member")
        await session.commit()
    page = await new_page(chromium)
    await sign_in(page, web_server, "Zorg", "Care Member", f"/web/casussen/{case.id}")
    chart = page.get_by_role("img", name="Huisvesting: van 1 naar 3")
    assert await chart.count() == 1
    await check_accessibility(page, "05-casus-zorg")


async def test_neighbourhood_member_refers_someone(
    web_world: World, web_server: WebServer, chromium: Any
) -> None:
    page = await new_page(chromium)
    await sign_in(page, web_server, "Wijkteam", "Wijkteam Member", "/web/aanmeldingen")
    await page.get_by_label("Naam").fill("Piet Pieters")
    await page.get_by_label("Geboortedatum").fill("31-02-1980")
    await page.get_by_role("button", name="Aanmelding versturen").click()
    await page.wait_for_selector("#geboortedatum-fout")
    assert await page.get_by_label("Naam").input_value() == "Piet Pieters"  # input kept
    await check_accessibility(page, "07-aanmelding-fouten")
    await page.get_by_label("Geboortedatum").fill("17-05-1985")
    await page.get_by_label("Reden van aanmelding").fill("Zorgen over overlast en schulden")
    await page.get_by_role("button", name="Aanmelding versturen").click()
    await page.wait_for_selector("text=De aanmelding is verstuurd")
    assert "In behandeling" in await page.locator("main").inner_text()
    await check_accessibility(page, "08-aanmeldingen")


async def test_chair_builds_reorders_and_publishes_an_agenda_then_a_decision_reaches_the_police(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any
) -> None:
    data = await agenda_world(owner_db, web_world)
    numbers = data["numbers"]
    base = f"/web/vergaderingen/{data['meeting'].id}"
    page = await new_page(chromium)
    await sign_in(page, web_server, "Gemeente", "Chair", base)
    assert "Alleen u als voorzitter ziet deze agenda" in await page.locator("main").inner_text()

    # The draft: the overdue police action first, the review second, each with its reasons.
    await page.get_by_role("button", name="Concept opnieuw samenstellen").click()
    await page.wait_for_selector("text=De conceptagenda is opnieuw samengesteld")
    cards = page.locator("ol.agenda > li")
    assert await cards.count() == 2
    assert numbers["overdue"] in await cards.nth(0).locator("h2").inner_text()
    assert "over de termijn" in await cards.nth(0).inner_text()

    # Reorder: the review moves up.
    await cards.nth(1).get_by_role("button", name="Omhoog").click()
    await page.wait_for_selector("text=De volgorde is aangepast")
    assert numbers["review"] in await cards.nth(0).locator("h2").inner_text()

    # A time box longer than the meeting is refused next to the field; then a valid one.
    review_card = cards.nth(0)
    await review_card.get_by_label("Tijd in minuten").fill("180")
    await review_card.get_by_role("button", name="Tijd opslaan").click()
    await page.wait_for_selector(".item-actions .error")
    assert "niet langer duren dan de vergadering (120 minuten)" in await cards.nth(0).inner_text()
    await check_accessibility(page, "10-agenda-tijd-fout")
    await cards.nth(0).get_by_label("Tijd in minuten").fill("20")
    await cards.nth(0).get_by_role("button", name="Tijd opslaan").click()
    await page.wait_for_selector("text=De tijd is aangepast")

    # The chair adds a case with a reason.
    await page.get_by_label("Casus", exact=True).select_option(str(data["extra"].id))
    await page.get_by_label("Reden om te bespreken").fill("Melding van de woningcorporatie over overlast")
    await page.get_by_role("button", name="Op de agenda zetten").click()
    await page.wait_for_selector("text=De casus staat op de agenda")
    assert await cards.count() == 3
    assert "Melding van de woningcorporatie" in await cards.nth(2).inner_text()
    await check_accessibility(page, "09-agenda-concept")

    await page.get_by_role("button", name="Agenda publiceren").click()
    await page.wait_for_selector("text=De agenda is gepubliceerd")
    await check_accessibility(page, "11-agenda-gepubliceerd")

    # During the meeting: a decision on the review item that gives the police an action.
    await page.get_by_role("link", name="Besluiten vastleggen").click()
    await page.wait_for_url(f"**{base}/besluiten")
    item = page.locator("details.card.item").first  # the items are collapsed: open the first
    assert numbers["review"] in await item.locator("summary").inner_text()
    await item.locator("summary").click()
    await item.get_by_label("Besluit", exact=False).first.fill("Wijkagent en wijkcoach gaan samen op huisbezoek.")
    await item.get_by_label("Wat moet er gebeuren?").fill("Huisbezoek met de wijkcoach")
    await item.get_by_label("Leefgebied").select_option("housing")
    await item.get_by_label("Uitvoerende organisatie").select_option(label="Politie")
    await item.get_by_label("Uitvoerder (niet verplicht)").select_option(str(web_world.members["police_liaison"].id))
    await item.get_by_label("Uiterlijk klaar op").fill((clock.today() + timedelta(days=14)).isoformat())
    await item.get_by_label("Middel waarvoor mandaat nodig is (niet verplicht)").select_option("enforcement_priority")
    await item.get_by_role("button", name="Besluit vastleggen").click()
    await page.wait_for_selector("text=Mandaat-escalatie nodig")
    assert "Huisbezoek met de wijkcoach" in await page.locator("main").inner_text()
    await check_accessibility(page, "12-besluit-vastgelegd")

    # The police liaison, in a browser context of their own, finds the action in "Mijn acties"
    # and reads the published agenda without names.
    liaison = await new_page(chromium)
    await sign_in(liaison, web_server, "Politie", "Police Liaison", "/web/acties")
    assert "Huisbezoek met de wijkcoach" in await liaison.locator("main").inner_text()
    await liaison.get_by_role("link", name="Agenda").click()
    await liaison.wait_for_url(f"**{base}")
    shown = await liaison.locator("main").inner_text()
    assert numbers["review"] in shown and "Bert Bespreken" not in shown and "Omhoog" not in shown
    await check_accessibility(liaison, "13-agenda-deelnemer")
    await liaison.goto(f"{web_server.base}{base}/besluiten")
    assert "nog niet gepubliceerd" in await liaison.locator("main").inner_text()

    # The print view of the agenda (the export document).
    await page.goto(f"{web_server.base}{base}/agenda/afdrukken")
    assert numbers["review"] in await page.locator("body").inner_text()
    await check_accessibility(page, "14-agenda-afdrukken")
