"""Issue 21: the privacy officer's register of client requests over real HTTP (Dutch pages): bad
input gets a Dutch page and nothing written; an answer after the deadline without an extension is
refused; only the privacy officer sees the page and its menu entry."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import Client, ClientRequest
from tests.factories import World, add_case
from tests.web.conftest import csrf_of, hidden_fields, sign_in


async def _count(owner_db: Database) -> int:
    async with owner_db.sessions() as session:
        return int((await session.execute(sa.select(sa.func.count()).select_from(ClientRequest))).scalar_one())


async def test_register_refuses_bad_input_in_dutch_and_a_late_answer(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        client = await session.get(Client, case.client_id)
        await session.commit()
    assert client is not None
    page = await sign_in(browser, web_world, "privacy_officer", start="/web/privacy/verzoeken")
    assert page.status_code == 200 and "Verzoeken van cliënten" in page.text
    assert 'href="/web/privacy/verzoeken"' in page.text
    csrf = csrf_of(page.text)
    for form, message in (
        ({"clientnummer": client.client_number, "ontvangen": "", "via": "letter", "soort": "inspection"},
         "Vul de datum van ontvangst in"),
        ({"clientnummer": client.client_number, "ontvangen": "01-01-2026", "via": "letter", "soort": ""},
         "Kies de soort verzoek."),
        ({"clientnummer": "K-NIEMAND", "ontvangen": "01-01-2026", "via": "letter", "soort": "inspection"},
         "Er is geen cliënt met dit cliëntnummer"),
        ({"clientnummer": client.client_number, "ontvangen": (clock.today() + timedelta(days=3)).strftime("%d-%m-%Y"),
          "via": "letter", "soort": "inspection"}, "niet in de toekomst"),
    ):
        refused = await browser.post("/web/privacy/verzoeken", data={"csrf": csrf, **form})
        assert refused.status_code == 422 and message in refused.text, (form, refused.status_code)
        assert '<html lang="nl">' in refused.text and "problem" not in refused.headers["content-type"]
    assert await _count(owner_db) == 0

    late = (clock.today() - timedelta(days=45)).strftime("%d-%m-%Y")
    made = await browser.post("/web/privacy/verzoeken", data={"csrf": csrf, "clientnummer": client.client_number,
                                                             "ontvangen": late, "via": "email", "soort": "objection"})
    assert made.status_code == 200 and "Het verzoek is vastgelegd." in made.text and "Te laat" in made.text
    async with owner_db.sessions() as session:
        [row] = (await session.execute(sa.select(ClientRequest))).scalars().all()
    fields = hidden_fields(made.text.split(f'/web/privacy/verzoeken/{row.id}/antwoord')[1])
    answer = await browser.post(f"/web/privacy/verzoeken/{row.id}/antwoord",
                                data={"csrf": csrf, "versie": fields["versie"], "besluit": "refused",
                                      "antwoord": "Het delen is nodig voor uw hulp."})
    assert answer.status_code == 409 and "Leg eerst de verlenging en de reden vast" in answer.text
    extended = await browser.post(f"/web/privacy/verzoeken/{row.id}/verlengen",
                                  data={"csrf": csrf, "versie": fields["versie"],
                                        "reden": "Het antwoord vraagt overleg met drie partners."})
    assert extended.status_code == 200 and "De termijn is verlengd" in extended.text
    fields = hidden_fields(extended.text.split(f'/web/privacy/verzoeken/{row.id}/antwoord')[1])
    answer = await browser.post(f"/web/privacy/verzoeken/{row.id}/antwoord",
                                data={"csrf": csrf, "versie": fields["versie"], "besluit": "refused",
                                      "antwoord": "Het delen is nodig voor uw hulp."})
    assert answer.status_code == 200 and "Het antwoord is vastgelegd." in answer.text


async def test_others_do_not_get_the_register(web_world: World, browser: httpx.AsyncClient) -> None:
    page = await sign_in(browser, web_world, "police_member", start="/web/acties")
    assert 'href="/web/privacy/verzoeken"' not in page.text
    refused = await browser.get("/web/privacy/verzoeken")
    assert refused.status_code == 403 and '<html lang="nl">' in refused.text


async def test_a_correction_in_the_web_client(web_world: World, owner_db: Database, browser: httpx.AsyncClient) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world, name="Jan Tespersoon")
        client = await session.get(Client, case.client_id)
        await session.commit()
    assert client is not None
    page = await sign_in(browser, web_world, "privacy_officer", start="/web/privacy/verzoeken")
    csrf = csrf_of(page.text)
    made = await browser.post("/web/privacy/verzoeken", data={
        "csrf": csrf, "clientnummer": client.client_number, "ontvangen": clock.today().strftime("%d-%m-%Y"),
        "via": "letter", "soort": "rectification", "omschrijving": "Mijn naam is verkeerd gespeld."})
    assert made.status_code == 200 and "Gegevens corrigeren" in made.text
    async with owner_db.sessions() as session:
        [row] = (await session.execute(sa.select(ClientRequest))).scalars().all()
    url = f"/web/privacy/verzoeken/{row.id}/correctie"
    for data, message in (({"veld": "", "waarde": "X"}, "Kies wat u corrigeert."),
                          ({"veld": "note_text", "waarde": "Nieuwe tekst"}, "Vul het nummer (id)"),
                          ({"veld": "note_text", "onderdeel": str(uuid.uuid4()), "waarde": "Nieuwe tekst"},
                           "geen notitie, doel of actie met dit nummer")):
        refused = await browser.post(url, data={"csrf": csrf, **data})
        assert refused.status_code in (404, 422) and message in refused.text, (data, refused.status_code)
    done = await browser.post(url, data={"csrf": csrf, "veld": "name", "waarde": "Jan Testpersoon"})
    assert done.status_code == 200 and "De correctie is doorgevoerd." in done.text
    assert "„Jan Tespersoon” is nu „Jan Testpersoon”" in done.text
    async with owner_db.sessions() as session:
        fixed = await session.get(Client, client.id)
    assert fixed is not None and fixed.name == "Jan Testpersoon"


async def test_notifications_of_issue_21_read_in_dutch_and_lead_to_their_object(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    from app.models import Notification

    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        client = await session.get(Client, case.client_id)
        assert client is not None
        request = ClientRequest(conference_id=web_world.a.id, client_id=client.id, kind="inspection",
                                channel="letter", received_on=clock.today() - timedelta(days=40),
                                deadline_on=clock.today() - timedelta(days=9),
                                recorded_by_id=web_world.members["privacy_officer"].id)
        session.add(request)
        await session.flush()
        officer = web_world.members["privacy_officer"]
        session.add(Notification(kind="client_request_overdue", conference_id=web_world.a.id,
                                 organisation_id=officer.organisation_id, membership_id=officer.id,
                                 ref_type="client_request", ref_id=request.id, on_date=clock.today()))
        await session.commit()
    page = await sign_in(browser, web_world, "privacy_officer", start="/web/meldingen")
    assert page.status_code == 200 and "Verzoek van een cliënt is over de termijn" in page.text
    async with owner_db.sessions() as session:
        [note] = (await session.execute(sa.select(Notification))).scalars().all()
    opened = await browser.get(f"/web/meldingen/{note.id}")
    assert opened.status_code == 200 and opened.url.path == "/web/privacy/verzoeken"
