"""Issue 17, acceptance 1 in a real browser (Chromium, with axe-core): a general practice's
practice nurse, a referrer signing in with the practice's own provider, refers a client; the chair
accepts the referral on the triage page; the practice nurse follows its status. Skips (and says
why) without Chromium or axe-core, like tests/web/test_browser.py."""

from __future__ import annotations

from typing import Any

from app.db import Database
from app.models import Membership, Organisation
from tests.factories import World
from tests.web.conftest import WebServer
from tests.web.test_browser import check_accessibility, chromium, new_page, pytestmark, sign_in

__all__ = ["chromium", "pytestmark"]  # the fixture and the skip marks, shared with test_browser.py

SLUG = "huisartsenpraktijk"  # the demo's general practice: the development provider serves it


async def test_the_practice_nurse_refers_the_chair_accepts_and_the_nurse_follows_the_status(
    web_world: World, web_server: WebServer, owner_db: Database, chromium: Any  # noqa: F811
) -> None:
    issuer = f"{web_server.base}/dev-idp/{SLUG}"
    async with owner_db.sessions() as session:
        practice = Organisation(name="Huisartsenpraktijk De Linde", slug=SLUG, kind="general_practice",
                                issuer=issuer, audience="casusoverleg", jwks_uri=f"{issuer}/jwks.json")
        session.add(practice)
        await session.flush()
        session.add(Membership(conference_id=web_world.a.id, organisation_id=practice.id, issuer=issuer,
                               subject="poh-browser", display_name="Ilse Vermeulen", role="referrer"))
        await session.commit()

    nurse = await new_page(chromium)
    await sign_in(nurse, web_server, "Huisartsenpraktijk De Linde", "Ilse Vermeulen", "/web/aanmeldingen")
    assert await nurse.get_by_label("BSN (niet verplicht)").count() == 0  # a referrer does not look up
    await nurse.get_by_label("Naam", exact=True).fill("Wim de Graaf")
    await nurse.get_by_label("Geboortedatum").fill("02-09-1961")
    await nurse.get_by_label("Reden van aanmelding").fill("Drinkt fors sinds het overlijden van zijn vrouw.")
    await nurse.get_by_role("button", name="Aanmelding versturen").click()
    await nurse.wait_for_selector("text=De aanmelding is verstuurd naar de voorzitter.")
    await check_accessibility(nurse, "aanmelding-huisarts")

    chair = await new_page(chromium)
    await sign_in(chair, web_server, "Gemeente", "Chair", "/web/aanmeldingen")
    await chair.get_by_text("Wim de Graaf").first.click()
    await chair.get_by_role("button", name="Opnemen als casus").click()
    await chair.wait_for_load_state()

    await nurse.goto(web_server.base + "/web/aanmeldingen")
    assert await nurse.get_by_text("Geaccepteerd").first.is_visible()
    assert await nurse.get_by_text("Wim de Graaf").count() == 0  # the name is for the chair who decides
