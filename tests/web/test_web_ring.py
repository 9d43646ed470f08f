"""Issue 17 in the web client: the case page lists the case's guests (who, why, until when, how
often they read it) for the people working on the case."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.demo.seed import load_demo_data
from app.models import Case, Client, GuestInvitation
from app.models.enums import Phase
from tests.factories import World, add_case
from tests.ring_support import add_aftercare_watch
from tests.web.conftest import WebServer, csrf_of, sign_in, sign_in_as


async def test_the_case_page_lists_its_guests(web_world: World, owner_db: Database,
                                             browser: httpx.AsyncClient) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        wijkteam = web_world.orgs["wijkteam"]
        session.add(GuestInvitation(case_id=case.id, conference_id=case.conference_id, organisation_id=wijkteam.id,
                                    issuer=wijkteam.issuer or "", subject="gast-1", display_name="Sanne Gast",
                                    reason="Afstemming over de dagbesteding", invited_by_id=web_world.members["chair"].id,
                                    ends_at=clock.now() + timedelta(days=10)))
        await session.commit()
    page = await sign_in(browser, web_world, "police_member", start=f"/web/casussen/{case.id}")
    assert page.status_code == 200
    assert "Gasten en deelnemers van buiten het overleg" in page.text
    assert "Sanne Gast" in page.text and "Afstemming over de dagbesteding" in page.text and "Loopt" in page.text
    assert "0 keer ingezien" in page.text


async def test_a_wijkteam_member_reports_on_the_case_page_and_the_care_liaison_answers(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        await session.commit()
    await add_aftercare_watch(owner_db, web_world, case)
    page = await sign_in(browser, web_world, "wijkteam_member", start=f"/web/casussen/{case.id}")
    assert "Melding doen aan de verslavingszorg" in page.text
    sent = await browser.post(f"/web/casussen/{case.id}/nazorg", data={
        "csrf": csrf_of(page.text), "soort": "worry", "datum": "", "toelichting": "Hij neemt de telefoon niet op"})
    assert sent.status_code == 200 and "Uw melding is verstuurd" in sent.text
    assert "Hij neemt de telefoon niet op" in sent.text
    wrong = await browser.post(f"/web/casussen/{case.id}/nazorg", data={"csrf": csrf_of(page.text), "soort": "x"})
    assert wrong.status_code == 422 and "Kies wat u wilt melden" in wrong.text

    care = await sign_in(browser2, web_world, "care_liaison", start=f"/web/casussen/{case.id}")
    assert "Zorgen" in care.text and "Hij neemt de telefoon niet op" in care.text
    assert "Melding doen aan de verslavingszorg" not in care.text  # only the neighbourhood team reports
    report_id = re.search(r'/nazorg/([0-9a-f-]{36})/antwoord', care.text)
    assert report_id is not None
    answered = await browser2.post(f"/web/casussen/{case.id}/nazorg/{report_id.group(1)}/antwoord",
                                   data={"csrf": csrf_of(care.text), "antwoord": "We gaan vandaag langs."})
    assert answered.status_code == 200 and "Uw antwoord is verstuurd" in answered.text
    team = await browser.get(f"/web/casussen/{case.id}")
    assert "Antwoord van de verslavingszorg" in team.text and "We gaan vandaag langs." in team.text


async def test_the_demo_shows_a_guest_a_household_and_a_representative(
    owner_db: Database, web_server: WebServer, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    """What `make run` shows: the GGZ practitioner signs in as a guest of Fatima Bouzid's case and
    reads it (health too: GGZ reads health natively), and nothing else; Lotte Koster's case shows
    her household's one coordinator and her mother's parental authority."""
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=web_server.base)
        await session.commit()
        cases = dict((await session.execute(sa.select(Client.name, Case.id).join(Case, Case.client_id == Client.id)
                                            .where(Client.name.in_(["Fatima Bouzid", "Lotte Koster", "Jeroen Bos"])))).all())
    start = f"/web/casussen/{cases['Fatima Bouzid']}"
    guest = await sign_in_as(browser, "ggz", "ggz-gast", start=start)
    assert guest.url.path == start and guest.status_code == 200
    assert "<span>Sanne Willems</span>" in guest.text  # the demo's GGZ guest, in the header
    assert "Behandeling van de angstklachten naast de verslavingszorg." in guest.text
    assert "Gasten en deelnemers" not in guest.text  # a guest does not see the list of guests
    assert (await browser.get(f"/web/casussen/{cases['Jeroen Bos']}")).status_code == 404
    listed = await browser.get("/web/casussen")
    assert listed.status_code == 200 and str(cases["Fatima Bouzid"]) in listed.text
    assert str(cases["Jeroen Bos"]) not in listed.text
    for path in ("/web/acties", "/web/aanmeldingen", "/web/vergaderingen", "/web/"):
        assert (await browser.get(path)).status_code < 500, path

    start = f"/web/casussen/{cases['Lotte Koster']}"
    chair = await sign_in_as(browser2, "gemeente", "voorzitter", start=start)
    section = chair.text.split('id="gezin-kop"')[1]
    assert "Gina de Boer" in section and "(minderjarig)" in section
    assert "Ouder met gezag: Sandra Koster" in section and "Ouderlijk gezag" in section
    fatima = await browser2.get(f"/web/casussen/{cases['Fatima Bouzid']}")
    guests = fatima.text.split("id=\"gasten-kop\"")[1].split("</section>")[0]
    assert "Sanne Willems (GGZ Zuiderstad)" in guests and "2 keer ingezien" in guests  # the page and the list


async def test_the_chair_invites_a_guest_on_the_case_page(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        await session.commit()
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case.id}")
    assert "Iemand van buiten het overleg uitnodigen" in page.text
    form = {"csrf": csrf_of(page.text), "soort": "guest", "organisatie": str(web_world.orgs["wijkteam"].id),
            "gebruiker": "gast-7", "naam": "Rik Gast", "reden": "", "tot": ""}
    refused = await browser.post(f"/web/casussen/{case.id}/gasten", data=form)
    assert refused.status_code == 422 and "Vul de reden" in refused.text
    too_far = await browser.post(f"/web/casussen/{case.id}/gasten", data={
        **form, "reden": "Afstemming", "tot": (clock.today() + timedelta(days=200)).strftime("%d-%m-%Y")})
    assert too_far.status_code == 422 and "hoogstens 90 dagen" in too_far.text
    done = await browser.post(f"/web/casussen/{case.id}/gasten", data={
        **form, "reden": "Afstemming over de woning", "tot": (clock.today() + timedelta(days=20)).strftime("%d-%m-%Y")})
    assert done.status_code == 200 and "De uitnodiging is vastgelegd." in done.text
    assert "Rik Gast (Wijkteam)" in done.text and "Afstemming over de woning" in done.text
    async with owner_db.engine.connect() as conn:
        denied = (await conn.execute(sa.text("SELECT count(*) FROM access_log WHERE resource_type = "
                                             "'guest_invitation' AND outcome = 'denied'"))).scalar_one()
        made = (await conn.execute(sa.text("SELECT count(*) FROM guest_invitation"))).scalar_one()
    assert (denied, made) == (2, 1)


async def test_each_refused_ring_form_answers_in_dutch_and_logs_the_refusal(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    """No watch (409), an answer too long (422), a report answered twice (409), a guest for a closed
    case (409): each a Dutch page and one denied row in the access log, nothing written."""
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        closed = await add_case(session, web_world, phase=Phase.closed)
        await session.commit()
    page = await sign_in(browser, web_world, "wijkteam_member", start=f"/web/casussen/{case.id}")
    report = {"csrf": csrf_of(page.text), "soort": "worry", "datum": "", "toelichting": "Geen contact"}
    no_watch = await browser.post(f"/web/casussen/{case.id}/nazorg", data=report)
    assert no_watch.status_code == 409 and "Er loopt nu geen nazorg" in no_watch.text
    await add_aftercare_watch(owner_db, web_world, case)
    assert (await browser.post(f"/web/casussen/{case.id}/nazorg", data=report)).status_code == 200

    care = await sign_in(browser2, web_world, "care_liaison", start=f"/web/casussen/{case.id}")
    found = re.search(r'/nazorg/([0-9a-f-]{36})/antwoord', care.text)
    assert found is not None
    answer = f"/web/casussen/{case.id}/nazorg/{found.group(1)}/antwoord"
    too_long = await browser2.post(answer, data={"csrf": csrf_of(care.text), "antwoord": "x" * 2001})
    assert too_long.status_code == 422 and "Schrijf een antwoord voor het wijkteam" in too_long.text
    assert (await browser2.post(answer, data={"csrf": csrf_of(care.text), "antwoord": "We bellen."})).status_code == 200
    twice = await browser2.post(answer, data={"csrf": csrf_of(care.text), "antwoord": "Nog eens."})
    assert twice.status_code == 409 and "Deze melding is al beantwoord." in twice.text

    await browser.post("/web/uitloggen", data={"csrf": csrf_of(page.text)})
    browser.cookies.clear()
    chair = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{closed.id}")
    guest = await browser.post(f"/web/casussen/{closed.id}/gasten", data={
        "csrf": csrf_of(chair.text), "soort": "guest", "organisatie": str(web_world.orgs["wijkteam"].id),
        "gebruiker": "gast-8", "naam": "Rik Gast", "reden": "Afstemming",
        "tot": (clock.today() + timedelta(days=20)).strftime("%d-%m-%Y")})
    assert guest.status_code == 409 and "Een gesloten casus krijgt geen gasten." in guest.text
    async with owner_db.engine.connect() as conn:
        denied = dict((await conn.execute(sa.text(
            "SELECT resource_type || ' ' || action, count(*) FROM access_log WHERE outcome = 'denied' "
            "GROUP BY 1"))).all())
        made = (await conn.execute(sa.text("SELECT (SELECT count(*) FROM aftercare_report), "
                                           "(SELECT count(*) FROM guest_invitation)"))).one()
    assert denied == {"aftercare_report create": 1, "aftercare_report update": 2, "guest_invitation create": 1}
    assert tuple(made) == (1, 0)
