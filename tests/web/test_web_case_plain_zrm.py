"""Issue 21 on the case page of the web client: the plain-language marker where people write to or
about the client, and the ZRM anchors (what a score of 1 to 5 means per life domain) where scores
are read, with the source named."""

from __future__ import annotations

from datetime import date

import httpx
import sqlalchemy as sa

from app.db import Database
from app.models import Assessment, Client
from app.services.cases import zrm
from tests.factories import World, add_case
from tests.web.conftest import sign_in


async def test_case_page_shows_the_plain_language_marker_and_the_zrm_anchors(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        plain = await add_case(session, web_world)
        client = await session.get(Client, plain.client_id)
        assert client is not None
        client.plain_language = True
        session.add(Assessment(case_id=plain.id, assessed_on=date(2026, 3, 1),
                               assessed_by_id=web_world.members["care_member"].id, scores={"housing": 2}))
        ordinary = await add_case(session, web_world)
        await session.commit()
    page = await sign_in(browser, web_world, "care_member", start=f"/web/casussen/{plain.id}")
    assert page.status_code == 200, page.text[:500]
    assert "Eenvoudige taal." in page.text and "Eenvoudige taal (B1) of hulp bij lezen nodig" in page.text
    housing = next(a for a in zrm.anchors() if a["domain"] == "housing")
    assert f"Nu: niet zelfredzaam – {housing['scores'][1]['description']}" in page.text  # type: ignore[index]
    assert "Wat betekenen de scores 1 tot 5 per leefgebied?" in page.text
    assert f"Bron: {zrm.SOURCE}." in page.text
    for domain in zrm.DOMAIN_NAMES.values():
        assert f"<h3>{domain}</h3>" in page.text
    other = await browser.get(f"/web/casussen/{ordinary.id}")
    assert other.status_code == 200 and "Eenvoudige taal" not in other.text
    assert f"Bron: {zrm.SOURCE}." in other.text  # the anchors even before the first score


async def test_agreement_form_asks_the_relapse_plan_and_checks_plain_language(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    """The web form for a new agreement fills the version 3 sections (relapse plan, evaluation
    date) and, for a client who needs plain language, shows the marker and refuses a text that is
    not B1 with a Dutch message on the field; nothing is written."""
    from app.models import Agreement
    from tests.factories import add_mandate
    from tests.web.conftest import hidden_fields

    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        client = await session.get(Client, case.client_id)
        assert client is not None
        client.plain_language = True
        for person in ("care_member", "chair"):
            await add_mandate(session, web_world.members[person], "sign_agreements")
        await session.commit()
    url = f"/web/casussen/{case.id}/overeenkomsten"
    form = await sign_in(browser, web_world, "chair", start=f"{url}/nieuw?sjabloon=driepartijen")
    assert form.status_code == 200 and "Eenvoudige taal." in form.text
    assert "Wat wil de cliënt dat er gebeurt bij een terugval?" in form.text and "Evaluatiedatum" in form.text
    fields = {
        **hidden_fields(form.text),
        "organisatie_municipality": str(web_world.orgs["gemeente"].id),
        "organisatie_addiction_care": str(web_world.orgs["zorg"].id),
        "afspraak_client": "Ik kom elke week op mijn afspraak.",
        "afspraak_municipality": "De gemeente helpt met mijn schulden.",
        "afspraak_addiction_care": "De zorg geeft mij een plek in de groep.",
        "ingangsdatum": "", "einddatum": "", "evaluatiedatum": "",
        "terugval_wens": "Derhalve dient men conform het plan te handelen.", "terugval_wie": "Mijn zus",
    }
    refused = await browser.post(url, data=fields)
    assert refused.status_code == 422 and "Deze cliënt heeft eenvoudige taal nodig" in refused.text
    assert 'id="terugval_wens-fout"' in refused.text and "derhalve" in refused.text
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(Agreement))).first() is None
    made = await browser.post(url, data={**fields, "terugval_wens": "Bel eerst mijn zus. Dan de dokter."})
    assert made.status_code == 200 and "/web/overeenkomsten/" in str(made.url), made.text[:500]
    async with owner_db.sessions() as session:
        [agreement] = (await session.execute(sa.select(Agreement))).scalars().all()
    assert agreement.relapse_wishes == "Bel eerst mijn zus. Dan de dokter." and agreement.relapse_told == "Mijn zus"
    assert "Bel eerst mijn zus. Dan de dokter." in agreement.rendered_text and agreement.evaluation_on is not None
