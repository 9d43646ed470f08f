"""Issue 17, acceptance 3 on the web client: a general practice's practice nurse (a referrer)
signs in with the practice's own provider and crawls every page with the ids the care member
uses: no health text of the seeded case, no client name, never a server error. Their own
referral's status is what they find."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from app.db import Database
from app.models import Client, Membership, Organisation, Referral
from app.services.cases.clients import new_client_number
from tests.factories import World
from tests.routes import gets_with_ids
from tests.test_leak_crawl import HEALTH_TEXTS, _chair_builds_the_agenda, _ids, _seed, _text
from tests.web.conftest import browsing, sign_in_as, use_dev_providers

SLUG = "huisartsenpraktijk"  # the demo's general practice: the development provider serves it


async def test_a_referrer_sees_nothing_of_any_case_on_the_web(
    world: World, owner_db: Database, web_server: Any, client: httpx.AsyncClient, app: FastAPI
) -> None:
    seeded = await _seed(owner_db, world)
    await _chair_builds_the_agenda(client, world, seeded["meeting"].id)
    web_world = await use_dev_providers(world, owner_db, web_server)
    issuer = f"{web_server.base}/dev-idp/{SLUG}"
    async with owner_db.sessions() as session:
        practice = Organisation(name="Huisartsenpraktijk De Linde", slug=SLUG, kind="general_practice", issuer=issuer,
                                audience="casusoverleg", jwks_uri=f"{issuer}/jwks.json")
        session.add(practice)
        await session.flush()
        poh = Membership(conference_id=web_world.a.id, organisation_id=practice.id, issuer=issuer,
                         subject="poh-web", display_name="Praktijkondersteuner", role="referrer")
        session.add(poh)
        person = Client(conference_id=web_world.a.id, client_number=new_client_number(), name="Karin Linde",
                        date_of_birth=date(1979, 4, 12))
        session.add(person)
        await session.flush()
        session.add(Referral(conference_id=web_world.a.id, client_id=person.id, referred_by_id=poh.id,
                             referring_organisation_id=practice.id, reason="Zorgen om alcoholgebruik.",
                             kind="external"))
        referral_number = person.client_number
        await session.commit()
    ids = _ids(web_world, seeded, None)
    async with browsing(web_server) as browser:
        signed_in = await sign_in_as(browser, SLUG, "poh-web")
        assert signed_in.status_code < 500, signed_in.text
        assert signed_in.url.path == "/web/acties"
        own = await browser.get("/web/aanmeldingen")  # their own referral: its number and status, no name
        assert own.status_code == 200 and referral_number in own.text and "Karin Linde" not in own.text
        visited = 0
        for path, url in gets_with_ids(app, "/web", ids):
            if "uitloggen" in path:
                continue
            response = await browser.get(url)
            assert response.status_code < 500, f"{path}: {response.status_code}"
            visited += 1
            text = _text(response)
            assert [t for t in (*HEALTH_TEXTS, "Jan Testpersoon") if t in text] == [], path
        assert visited >= 5
