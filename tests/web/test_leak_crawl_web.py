"""Issue 11, acceptance 1 for the web client: every page, signed in as a police liaison and as a
neighbourhood-team member, shows none of the health-labelled texts of the seeded case."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.db import Database
from tests.agreements_support import create, driepartijen_body, sign_all
from tests.factories import World
from tests.meeting_helpers import add_referral
from tests.routes import gets_with_ids
from tests.test_leak_crawl import GOAL, HEALTH_TEXTS, _chair_builds_the_agenda, _ids, _seed, _text
from tests.web.conftest import browsing, sign_in, use_dev_providers


@pytest.mark.parametrize("reader", ["police_liaison", "wijkteam_member"])
async def test_no_health_text_on_any_web_page(reader: str, world: World, owner_db: Database, web_server: Any,
                                              client: httpx.AsyncClient, app: FastAPI) -> None:
    seeded = await _seed(owner_db, world)
    await _chair_builds_the_agenda(client, world, seeded["meeting"].id)  # with the test providers' tokens
    # A signed three-party agreement whose commitments hold a health text: it shares health with the
    # municipality only, so its pages show these readers the status and the scope, never the text.
    body = driepartijen_body(world, options=[])
    body["commitments"]["addiction_care"] = GOAL
    created = await create(client, world, seeded["case"], body)
    assert created.status_code == 201, created.text
    await sign_all(client, world, created.json()["id"])
    web_world = await use_dev_providers(world, owner_db, web_server)  # then sign-in moves to the web's providers
    ids = _ids(web_world, seeded, created.json()["id"])
    async with owner_db.sessions() as session:  # a referral of the police, for the triage pages
        ids["referral_id"] = str((await add_referral(session, web_world, by="police_member")).id)
        await session.commit()
    async with browsing(web_server) as browser:
        assert (await sign_in(browser, web_world, reader)).status_code == 200
        visited, reached = 0, False
        for path, url in gets_with_ids(app, "/web", ids):
            if "uitloggen" in path:
                continue
            response = await browser.get(url)
            assert response.status_code < 500, f"{reader} {path}: {response.status_code}"
            if path == "/web/overeenkomsten/{agreement_id}":  # the crawl reached the agreement itself
                assert response.status_code == 200 and "getekend en geldig" in response.text, reader
                reached = True
            visited += 1
            assert [t for t in HEALTH_TEXTS if t in _text(response)] == [], f"{reader} {path}"
        assert visited >= 5 and reached
