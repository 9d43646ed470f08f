"""Issue 15, acceptance 1 (the chair's part), in headless Chromium through the real sign-in: the
chair triages a referral into a case, prepares the agenda, runs the meeting in meeting mode and
records a decision with two actions and a phase change (after a failed round whose error summary
takes the focus), then publishes the list of decisions; a police liaison finds the new action in
"Mijn acties", updates it, and the case page shows them no health content. axe-core on every page
of the walk (no serious or critical violation); screenshots in artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import Action, Case, Client, Goal, Plan, Referral
from tests.factories import World
from tests.meeting_helpers import add_referral
from tests.web.chromium import BROWSER_MARKS
from tests.web.conftest import WebServer, agenda_world
from tests.web.test_browser import check_accessibility, chromium, new_page, sign_in

__all__ = ["chromium"]  # the fixture, shared with test_browser.py

pytestmark = BROWSER_MARKS

HEALTH_GOAL = "Afbouwen van GHB met begeleiding van de poli"


async def test_chair_triages_prepares_runs_the_meeting_and_the_police_follow_up(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any  # noqa: F811
) -> None:
    data = await agenda_world(owner_db, web_world)
    numbers = data["numbers"]
    async with owner_db.sessions() as session:
        referral = await add_referral(session, web_world, by="wijkteam_member", name="Rita Aanmelding",
                                      created_at=clock.now() - timedelta(days=1))
        referral.reason = "Huurachterstand, overlast en zorgen over middelengebruik."
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == data["overdue"].id))).scalar_one()
        session.add(Goal(plan_id=plan.id, life_domain="substance_use", description=HEALTH_GOAL))
        await session.commit()
    base = f"/web/vergaderingen/{data['meeting'].id}"
    page = await new_page(chromium)

    # --- triage: who referred whom and why; accepted into a case with a case director ---------
    await sign_in(page, web_server, "Gemeente", "Chair", "/web/aanmeldingen")
    waiting = await page.locator("main").inner_text()
    assert "1 aanmelding wacht" in waiting and "Rita Aanmelding" in waiting
    assert "Wijkteam Member (deelnemer), Wijkteam" in waiting and "Huurachterstand" in waiting
    await check_accessibility(page, "20-aanmeldingen-voorzitter")
    await fits_a_phone(page, "20-aanmeldingen-voorzitter-390")
    await page.get_by_role("link", name="Beoordelen").click()
    await page.wait_for_url(f"**/web/aanmeldingen/{referral.id}")
    await page.get_by_label("Casusregisseur (niet verplicht)").select_option(
        str(web_world.members["care_member"].id))
    await page.get_by_label("Prioriteit").select_option("high")
    await check_accessibility(page, "21-aanmelding-beoordelen")
    await page.get_by_role("button", name="Opnemen als casus").click()
    await page.wait_for_url("**/web/casussen/*")
    async with owner_db.sessions() as session:
        accepted = await session.get(Referral, referral.id)
        assert accepted is not None and accepted.status == "accepted" and accepted.case_id is not None
        new_case = await session.get(Case, accepted.case_id)
    assert new_case is not None and new_case.case_director_id == web_world.members["care_member"].id
    assert page.url.endswith(f"/web/casussen/{new_case.id}")

    # --- the agenda: the draft, the triaged case added by hand, published ---------------------
    await page.goto(web_server.base + base)
    await page.get_by_role("button", name="Concept opnieuw samenstellen").click()
    await page.wait_for_selector("text=De conceptagenda is opnieuw samengesteld")
    await page.get_by_label("Casus", exact=True).select_option(str(new_case.id))
    await page.get_by_label("Reden om te bespreken").fill("Nieuwe casus uit de aanmelding van het wijkteam")
    await page.get_by_role("button", name="Op de agenda zetten").click()
    await page.wait_for_selector("text=De casus staat op de agenda")
    await page.get_by_role("button", name="Agenda publiceren").click()
    await page.wait_for_selector("text=De agenda is gepubliceerd")

    # --- meeting mode: item 1 of 3 ------------------------------------------------------------
    await page.get_by_role("link", name="Vergadering leiden (punt voor punt)").click()
    await page.wait_for_url(f"**{base}/vergadering")
    main = await page.locator("main").inner_text()
    assert "Punt 1 van 3" in main and numbers["overdue"] in await page.locator("#punt-kop").inner_text()
    await check_accessibility(page, "22-vergadermodus")
    item = page.locator("section.card")
    await item.get_by_label("Besluit", exact=False).first.fill(
        "Wijkagent gaat op huisbezoek; de verslavingszorg plant een intake.")
    row1 = item.locator(".action-row").nth(0)
    await row1.get_by_label("Wat moet er gebeuren?").fill("Huisbezoek met de wijkagent")
    await row1.get_by_label("Leefgebied").select_option("housing")
    await row1.get_by_label("Uitvoerende organisatie").select_option(label="Politie")
    await row1.get_by_label("Uitvoerder (niet verplicht)").select_option(str(web_world.members["police_liaison"].id))
    await row1.get_by_label("Uiterlijk klaar op").fill((clock.today() + timedelta(days=14)).isoformat())
    await row1.get_by_label("Toegezegd door").select_option(str(web_world.members["police_member"].id))
    await item.get_by_role("button", name="Actie toevoegen").click()
    await page.wait_for_selector("#actie-kop-" + await _item_key(page) + "-1")
    item = page.locator("section.card")
    row2 = item.locator(".action-row").nth(1)
    assert await item.locator(".action-row").nth(0).get_by_label("Wat moet er gebeuren?").input_value() == \
        "Huisbezoek met de wijkagent"  # what was typed is kept
    # Row 2 without a title, and a review date in the past: both refused in one round.
    await row2.get_by_label("Leefgebied").select_option("substance_use")
    await row2.get_by_label("Uitvoerende organisatie").select_option(label="Zorg")
    await row2.get_by_label("Uiterlijk klaar op").fill((clock.today() + timedelta(days=21)).isoformat())
    await row2.get_by_label("Toegezegd door").select_option(str(web_world.members["care_member"].id))
    await item.get_by_label("Fase").select_option("monitoring")
    await item.get_by_label("Nieuwe evaluatiedatum").fill((clock.today() - timedelta(days=3)).isoformat())
    await item.get_by_role("button", name="Besluit vastleggen").click()
    await page.wait_for_selector(".error-summary")
    assert await page.evaluate("document.activeElement && document.activeElement.id") == "foutenoverzicht"
    summary = await page.locator(".error-summary").inner_text()
    assert "Geef de actie een titel" in summary and "evaluatiedatum" in summary
    await check_accessibility(page, "23-vergadermodus-fouten")
    await fits_a_phone(page, "23-vergadermodus-fouten-390")
    await page.locator(".error-summary a").first.click()  # the link takes the reader to the field
    item = page.locator("section.card")
    row2 = item.locator(".action-row").nth(1)
    await row2.get_by_label("Wat moet er gebeuren?").fill("Intakegesprek verslavingszorg plannen")
    await item.get_by_label("Nieuwe evaluatiedatum").fill((clock.today() + timedelta(days=42)).isoformat())
    await item.get_by_role("button", name="Besluit vastleggen").click()
    await page.wait_for_selector("text=is vastgelegd, met 2 acties")
    assert await page.locator("details.recorded").count() == 1  # recorded: collapsed
    await check_accessibility(page, "24-vergadermodus-vastgelegd")
    async with owner_db.sessions() as session:
        case = await session.get(Case, data["overdue"].id)
        assert case is not None and case.phase == "monitoring"
        police_action = (await session.execute(sa.select(Action).where(
            Action.title == "Huisbezoek met de wijkagent"))).scalar_one()
        assert (await session.execute(sa.select(Action).where(
            Action.title == "Intakegesprek verslavingszorg plannen"))).scalar_one().owner_organisation_id == \
            web_world.orgs["zorg"].id

    # --- on to the last item; the meeting has begun: the list of decisions is published -------
    await page.get_by_role("link", name="Volgend punt →").first.click()
    await page.wait_for_selector("text=Punt 2 van 3")
    await page.get_by_role("link", name="Volgend punt →").first.click()
    await page.wait_for_selector("text=Punt 3 van 3")
    assert "Rita Aanmelding" in await page.locator("#punt-kop").inner_text()  # the triaged case
    clock.travel(timedelta(hours=1, minutes=5))
    await page.reload()
    await page.get_by_role("button", name="Besluitenlijst publiceren").click()
    await page.wait_for_selector("text=De besluitenlijst is gepubliceerd")
    assert "Huisbezoek met de wijkagent" in await page.locator("main").inner_text()
    await check_accessibility(page, "25-besluitenlijst-gepubliceerd")

    # --- the police liaison: the action in "Mijn acties", updated; no health on the case ------
    liaison = await new_page(chromium)
    await sign_in(liaison, web_server, "Politie", "Police Liaison", "/web/acties")
    card = liaison.locator(f"#actie-{police_action.id}")
    assert "Huisbezoek met de wijkagent" in await card.inner_text()
    await card.get_by_label("Status").select_option("in_progress")
    await card.get_by_label("Korte notitie").fill("Afspraak gemaakt voor donderdag")
    await card.get_by_role("button", name="Opslaan").click()
    await liaison.wait_for_selector("text=Opgeslagen")
    async with owner_db.sessions() as session:
        updated = await session.get(Action, police_action.id)
        assert updated is not None and updated.status == "in_progress"
    await liaison.goto(f"{web_server.base}/web/casussen/{data['overdue'].id}")
    shown = await liaison.locator("main").inner_text()
    assert numbers["overdue"] in shown and "Huisbezoek met de wijkagent" in shown
    assert HEALTH_GOAL not in shown and "Intakegesprek verslavingszorg plannen" not in shown
    await check_accessibility(liaison, "26-casus-politie-na-besluit")

    # --- the privacy officer: each of these reads in the clients' access logs -----------------
    async with owner_db.sessions() as session:
        triaged = await session.get(Client, new_case.client_id)
        assert triaged is not None
    officer = await new_page(chromium)
    await sign_in(officer, web_server, "Gemeente", "Privacy Officer", "/web/privacy")
    await officer.goto(f"{web_server.base}/web/privacy/clienten/{numbers['overdue']}")
    log = await officer.locator("main table").inner_text()
    # the liaison's read of the case page and the update of the action, the chair's reads in meeting mode
    assert "Police Liaison" in log and "Chair" in log, log
    liaison_rows = [line for line in log.splitlines() if "Police Liaison" in line]
    assert any("Actie" in line or "actie" in line for line in liaison_rows), liaison_rows
    assert any("Casus" in line or "casus" in line for line in liaison_rows), liaison_rows
    await officer.goto(f"{web_server.base}/web/privacy/clienten/{triaged.client_number}")
    triage_log = await officer.locator("main table").inner_text()
    assert "Chair" in triage_log, triage_log  # the triage (referral read, accepted into a case)
    await check_accessibility(officer, "27-toegangslog-na-vergadering")


async def fits_a_phone(page: Any, name: str) -> None:
    """At 390 px nothing of the page's own content (main) reaches past the viewport, and axe still
    finds nothing serious. (The shared header is the layout's business: issue 15's phone part.)"""
    size = page.viewport_size
    await page.set_viewport_size({"width": 390, "height": 844})
    try:
        wide = await page.evaluate("""() => [...document.querySelectorAll('main, main *')]
            .filter(e => e.getBoundingClientRect().right > 390.5)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ':' + Math.round(e.getBoundingClientRect().right))""")
        assert wide == [], f"{name}: wider than a 390 px viewport: {wide}"
        await check_accessibility(page, name)
    finally:
        await page.set_viewport_size(size)


async def _item_key(page: Any) -> str:
    """The agenda item's id, as the meeting-mode form names its fields."""
    section_id = await page.locator("section.card").get_attribute("id")
    assert section_id and section_id.startswith("punt-")
    return section_id.removeprefix("punt-")
