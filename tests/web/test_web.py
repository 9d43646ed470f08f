"""The web client end to end over real HTTP: a real server (uvicorn on loopback) with the
development providers enabled; sign-in runs the real authorization-code flow with PKCE through
the provider's pages, and the session cookie then drives the Dutch pages."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.config import Settings
from app.db import Database
from app.main import create_app
from app.models import AccessLogEntry, Action, Assessment, Goal, Meeting, Plan, Referral, WebSession
from app.routers import web as web_router
from app.routers import web_meetings
from app.services.access.dev_idp_flow import s256
from tests.factories import World, add_action, add_case
from tests.web.conftest import WebServer, agenda_world, csrf_of, form_of, hidden_fields, sign_in


async def titled(session: object, world: World, case: object, title: str, **kwargs: object) -> Action:
    action = await add_action(session, world, case, **kwargs)  # type: ignore[arg-type]
    action.title = title
    await session.flush()  # type: ignore[attr-defined]
    return action


async def test_police_liaison_signs_in_with_the_code_flow_and_marks_own_action_done(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        police = await titled(session, web_world, case, "Huisbezoek politie", owner="politie", due_in_days=-3)
        later = await titled(session, web_world, case, "Buurtgesprek", owner="politie", due_in_days=10)
        await titled(session, web_world, case, "Intake verslavingszorg", owner="zorg", assignee="care_liaison",
                         committed_by="care_member")
        await session.commit()

    page = await sign_in(browser, web_world, "police_liaison")
    assert page.status_code == 200 and page.url.path == "/web/acties"
    assert '<html lang="nl">' in page.text
    assert "Huisbezoek politie" in page.text and "Buurtgesprek" in page.text
    assert "Intake verslavingszorg" not in page.text  # another organisation's action
    assert page.text.index("Huisbezoek politie") < page.text.index("Buurtgesprek")  # by due date
    assert "Te laat" in page.text.split("Buurtgesprek")[0]
    # The cookie is HttpOnly and SameSite=Lax; the database keeps only a hash of it.
    cookie = browser.cookies.get("casusoverleg_sessie")
    assert cookie
    set_cookie = next(h for r in page.history for h in r.headers.get_list("set-cookie")
                      if h.startswith("casusoverleg_sessie="))
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    async with owner_db.sessions() as session:
        stored = (await session.execute(sa.select(WebSession.token_hash))).scalars().all()
        # The page wrote the same access-log rows as the API would: one per action shown.
        logged = (await session.execute(sa.select(AccessLogEntry.resource_id).where(
            AccessLogEntry.actor_subject == web_world.members["police_liaison"].subject,
            AccessLogEntry.action == "list", AccessLogEntry.resource_type == "action"))).scalars().all()
    assert stored and cookie not in stored
    assert set(logged) == {str(police.id), str(later.id)}

    form = hidden_fields(page.text.split(f'id="actie-{police.id}"')[1])
    done = await browser.post(f"/web/acties/{police.id}", data={"csrf": form["csrf"], "version": form["version"],
                                                                 "status": "done", "note": "Bezoek afgelegd"})
    assert done.status_code == 200 and "Opgeslagen" in done.text
    assert "Huisbezoek politie" not in done.text.split('<ul class="cards">')[1]  # done: no longer open
    async with owner_db.sessions() as session:
        saved = await session.get(Action, police.id)
        assert saved is not None and saved.status == "done" and saved.note == "Bezoek afgelegd"
        assert saved.version == 2
        untouched = await session.get(Action, later.id)
        assert untouched is not None and untouched.status == "open"

    # Sign-out deletes the server-side session: the old cookie no longer opens pages.
    out = await browser.post("/web/uitloggen", data={"csrf": form["csrf"]})
    assert out.url.path == "/web/inloggen" and "U bent uitgelogd" in out.text
    browser.cookies.set("casusoverleg_sessie", cookie)
    again = await browser.get("/web/acties")
    assert again.url.path == "/web/inloggen"


async def test_forged_or_missing_csrf_token_is_refused_on_every_form(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        action = await add_action(session, web_world, case, owner="politie")
        await session.commit()
    page = await sign_in(browser, web_world, "police_member")
    version = hidden_fields(page.text)["version"]
    forms = [
        (f"/web/acties/{action.id}", {"version": version, "status": "done", "note": "x"}),
        ("/web/aanmeldingen", {"naam": "Piet", "geboortedatum": "1980-01-01", "reden": "zorgen"}),
        ("/web/uitloggen", {}),
    ]
    for path, data in forms:
        for token in (None, "vervalst-" + csrf_of(page.text)[:10], ""):
            body = dict(data) if token is None else {**data, "csrf": token}
            refused = await browser.post(path, data=body)
            assert refused.status_code == 403, path
            assert "Dit formulier is verlopen" in refused.text
    async with owner_db.sessions() as session:
        unchanged = await session.get(Action, action.id)
        assert unchanged is not None and unchanged.status == "open"
        assert (await session.execute(sa.select(sa.func.count()).select_from(Referral))).scalar_one() == 0
    still_in = await browser.get("/web/acties")
    assert still_in.url.path == "/web/acties"  # sign-out was refused too


async def test_concurrent_change_is_shown_as_a_conflict_never_overwritten(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        action = await add_action(session, web_world, case, owner="politie")
        await session.commit()
    mine = await sign_in(browser, web_world, "police_liaison")
    theirs = await sign_in(browser2, web_world, "police_member")
    first = await browser2.post(f"/web/acties/{action.id}", data={
        "csrf": csrf_of(theirs.text), "version": hidden_fields(theirs.text)["version"], "status": "blocked",
        "note": "Wacht op toestemming officier"})
    assert first.status_code == 200
    stale = await browser.post(f"/web/acties/{action.id}", data={
        "csrf": csrf_of(mine.text), "version": hidden_fields(mine.text)["version"], "status": "done",
        "note": "Afgerond"})
    assert stale.status_code == 409
    assert "Uw wijziging is niet opgeslagen" in stale.text
    assert "Afgerond" in stale.text and "Wacht op toestemming officier" in stale.text  # both versions
    assert "Gedaan" in stale.text and "Geblokkeerd" in stale.text
    async with owner_db.sessions() as session:
        current = await session.get(Action, action.id)
        assert current is not None and current.status == "blocked" and current.version == 2
    # Choosing "mine" after seeing the conflict saves it on top of the version now shown.
    fields = hidden_fields(stale.text)
    forced = await browser.post(f"/web/acties/{action.id}", data=fields)
    assert forced.status_code == 200 and "Opgeslagen" in forced.text
    async with owner_db.sessions() as session:
        current = await session.get(Action, action.id)
        assert current is not None and current.status == "done" and current.note == "Afgerond"


async def test_a_police_session_cannot_reach_care_data(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        care = await titled(session, web_world, case, "Intake verslavingszorg", owner="zorg",
                            assignee="care_liaison", committed_by="care_member")
        other = await add_case(session, web_world, conference=web_world.b, director=None)
        await session.commit()
    page = await sign_in(browser, web_world, "police_liaison")
    assert "Intake verslavingszorg" not in page.text
    refused = await browser.post(f"/web/acties/{care.id}", data={
        "csrf": csrf_of(page.text), "version": "1", "status": "done", "note": ""})
    assert refused.status_code == 403 and "Geen toegang" in refused.text
    hidden = await browser.get(f"/web/casussen/{other.id}")  # a conference the liaison is not in
    assert hidden.status_code == 404 and "Pagina niet gevonden" in hidden.text
    async with owner_db.sessions() as session:
        unchanged = await session.get(Action, care.id)
        assert unchanged is not None and unchanged.status == "open"


async def test_expired_session_returns_to_sign_in_and_back_to_the_page(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        await session.commit()
    await sign_in(browser, web_world, "care_member")
    clock.travel(timedelta(hours=9))
    expired = await browser.get(f"/web/casussen/{case.id}")
    assert expired.url.path == "/web/inloggen" and "Uw sessie is verlopen" in expired.text
    back = await sign_in(browser, web_world, "care_member", start=f"/web/casussen/{case.id}")
    assert back.url.path == f"/web/casussen/{case.id}"


async def test_case_page_shows_plan_and_zrm_chart_only_to_who_may_see_it(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        session.add(Goal(plan_id=plan.id, life_domain="housing", description="Binnen drie maanden een kamer"))
        for i, score in enumerate((1, 3)):
            session.add(Assessment(case_id=case.id, assessed_on=date(2026, 1 + i * 3, 1),
                                   assessed_by_id=web_world.members["care_member"].id,
                                   scores={"housing": score, "substance_use": 2}))
        await session.commit()
    care = await sign_in(browser, web_world, "care_member", start=f"/web/casussen/{case.id}")
    assert "Plan in uitvoering" in care.text
    assert "Huisvesting" in care.text and "Binnen drie maanden een kamer" in care.text
    assert "Care Member" in care.text  # the case director
    assert '<svg' in care.text and 'aria-label="Huisvesting: van 1 naar 3"' in care.text
    police = await sign_in(browser2, web_world, "police_member", start=f"/web/casussen/{case.id}")
    assert police.status_code == 200 and "Binnen drie maanden een kamer" in police.text
    assert "<svg" not in police.text and "geen toestemming of wettelijke grondslag" in police.text


async def test_referral_form_keeps_input_and_shows_errors_then_lists_the_referral(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    page = await sign_in(browser, web_world, "wijkteam_member", start="/web/aanmeldingen")
    token = csrf_of(page.text)
    bad = await browser.post("/web/aanmeldingen", data={
        "csrf": token, "naam": "Piet Pieters", "geboortedatum": "31-02-1980", "bsn": "123456789", "reden": ""})
    assert bad.status_code == 422
    assert 'value="Piet Pieters"' in bad.text and 'value="31-02-1980"' in bad.text
    assert 'id="geboortedatum-fout"' in bad.text and 'id="reden-fout"' in bad.text
    assert 'id="naam-fout"' not in bad.text
    good = await browser.post("/web/aanmeldingen", data={
        "csrf": token, "naam": "Piet Pieters", "geboortedatum": "17-05-1985", "bsn": "", "reden": "Overlast"})
    assert good.status_code == 200 and "De aanmelding is verstuurd" in good.text
    assert "In behandeling" in good.text
    async with owner_db.sessions() as session:
        referral = (await session.execute(sa.select(Referral))).scalar_one()
        assert referral.referring_organisation_id == web_world.orgs["wijkteam"].id


async def test_development_provider_requires_pkce_and_single_use_codes(
    web_world: World, web_server: WebServer, browser: httpx.AsyncClient
) -> None:
    redirect = f"{web_server.base}/web/callback"
    base_params = {"response_type": "code", "client_id": "casusoverleg", "redirect_uri": redirect,
                   "state": "s", "nonce": "n"}
    no_pkce = await browser.get("/dev-idp/politie/authorize", params=base_params)
    assert no_pkce.status_code == 400 and "PKCE" in no_pkce.text
    plain = await browser.get("/dev-idp/politie/authorize", params={
        **base_params, "code_challenge": "a" * 43, "code_challenge_method": "plain"})
    assert plain.status_code == 400
    elsewhere = await browser.get("/dev-idp/politie/authorize", params={
        **base_params, "redirect_uri": "https://evil.example/cb", "code_challenge": s256("v" * 50),
        "code_challenge_method": "S256"})
    assert elsewhere.status_code == 400
    verifier = "v" * 50
    chosen = await browser.post("/dev-idp/politie/authorize", data={
        **base_params, "code_challenge": s256(verifier), "code_challenge_method": "S256",
        "subject": web_world.members["police_member"].subject}, follow_redirects=False)
    assert chosen.status_code == 303
    code = httpx.URL(chosen.headers["location"]).params["code"]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                "client_id": "casusoverleg"}
    wrong = await browser.post("/dev-idp/politie/token", data={**exchange, "code_verifier": "w" * 50})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The failed attempt used the code up: even the right verifier no longer works.
    replay = await browser.post("/dev-idp/politie/token", data={**exchange, "code_verifier": verifier})
    assert replay.status_code == 400

    chosen = await browser.post("/dev-idp/politie/authorize", data={
        **base_params, "code_challenge": s256(verifier), "code_challenge_method": "S256",
        "subject": web_world.members["police_member"].subject}, follow_redirects=False)
    code = httpx.URL(chosen.headers["location"]).params["code"]
    ok = await browser.post("/dev-idp/politie/token", data={**exchange, "code": code, "code_verifier": verifier})
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer"
    api = await browser.get("/api/v1/actions", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert api.status_code == 200  # the same token works against the API
    again = await browser.post("/dev-idp/politie/token", data={**exchange, "code": code, "code_verifier": verifier})
    assert again.status_code == 400


async def test_development_provider_pages_are_absent_without_dev_idp(client: httpx.AsyncClient) -> None:
    response = await client.get("/dev-idp/politie/authorize", params={"response_type": "code"})
    assert response.status_code == 404
    page = await client.get("/web/acties", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/web/inloggen")


# --- the chair's agenda and decisions --------------------------------------------------------------


def item_ids(page: str) -> list[str]:
    """The agenda items on a page, in the order shown."""
    return re.findall(r'<li class="card" id="punt-([0-9a-f-]{36})">', page)


async def agenda_rows(owner_db: Database, subject: str, **where: object) -> list[AccessLogEntry]:
    async with owner_db.sessions() as session:
        query = sa.select(AccessLogEntry).where(AccessLogEntry.actor_subject == subject)
        for key, value in where.items():
            query = query.where(getattr(AccessLogEntry, key) == value)
        return list((await session.execute(query)).scalars())


async def test_chair_builds_reorders_time_boxes_and_publishes_the_agenda(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    meeting, numbers = data["meeting"], data["numbers"]
    base = f"/web/vergaderingen/{meeting.id}"

    # The liaison finds the next meeting, but no agenda yet: a clear message, nothing of it shown.
    early = await sign_in(browser2, web_world, "police_liaison", start="/web/agenda")
    assert early.url.path == base
    assert "De agenda van deze vergadering is nog niet gepubliceerd" in early.text

    page = await sign_in(browser, web_world, "chair", start="/web/agenda")
    assert page.url.path == base and "Concept" in page.text and not item_ids(page.text)
    page = await browser.post(f"{base}/agenda/concept", data=form_of(page.text, f"{base}/agenda/concept"))
    assert page.status_code == 200 and "De conceptagenda is opnieuw samengesteld" in page.text
    first, second = item_ids(page.text)
    assert numbers["overdue"] in page.text.split(f'id="punt-{first}"')[1].split("</li>")[0]
    assert "Anna Agenda" in page.text and "over de termijn" in page.text and "Evaluatiedatum" in page.text

    # Move the review up: the order changes, and the change is logged per item.
    page = await browser.post(f"{base}/agenda/punten/{second}/verplaatsen",
                              data={**form_of(page.text, f"{base}/agenda/punten/{second}/verplaatsen"),
                                    "richting": "omhoog"})
    assert "De volgorde is aangepast" in page.text and item_ids(page.text) == [second, first]

    # Time boxes: zero and longer than the meeting are shown next to the field, input kept.
    path = f"{base}/agenda/punten/{first}/tijd"
    for value, message in (("0", "minstens 1 minuut"), ("500", "niet langer duren dan de vergadering (120 minuten)"),
                           ("tien", "Vul een heel aantal minuten in")):
        bad = await browser.post(path, data={**form_of(page.text, path), "minuten": value})
        assert bad.status_code == 422, value
        assert f'id="minuten-fout-{first}"' in bad.text and message in bad.text
        assert f'value="{value}"' in bad.text
    page = await browser.post(path, data={**form_of(page.text, path), "minuten": "25"})
    assert "De tijd is aangepast" in page.text
    assert "25 minuten" in page.text.split(f'id="punt-{first}"')[1].split("</li>")[0]

    # An unknown item, and a form from before someone else's change: refused, nothing changes.
    unknown = await browser.post(f"{base}/agenda/punten/{uuid.uuid4()}/tijd",
                                 data={**form_of(page.text, path), "minuten": "10"})
    assert unknown.status_code == 422 and "staat niet (meer) op de agenda" in unknown.text
    stale = await browser.post(path, data={**form_of(page.text, path), "versie": "1", "minuten": "10"})
    assert stale.status_code == 409 and "intussen door iemand anders gewijzigd" in stale.text

    # Add a case by hand: a reason is needed; then it lands at the end with that reason.
    add = f"{base}/agenda/punten"
    missing = await browser.post(add, data={**form_of(page.text, add), "casus": str(data["extra"].id),
                                            "reden": "", "minuten": "10"})
    assert missing.status_code == 422 and 'id="reden-fout"' in missing.text
    assert f'<option value="{data["extra"].id}" selected>' in missing.text
    page = await browser.post(add, data={**form_of(page.text, add), "casus": str(data["extra"].id),
                                         "reden": "Nieuwe signalen van de woningcorporatie", "minuten": "10"})
    assert "De casus staat op de agenda" in page.text
    added = item_ids(page.text)[-1]
    assert "Nieuwe signalen van de woningcorporatie" in page.text.split(f'id="punt-{added}"')[1]
    # Every case is on the agenda now (no add form): a form sent anyway is refused.
    current = form_of(page.text, f"{base}/agenda/publiceren")  # csrf and version, as on every form
    again = await browser.post(add, data={**current, "casus": str(data["extra"].id), "reden": "Nog eens"})
    assert again.status_code == 409 and "staat al op de agenda" in again.text
    other = await browser.post(add, data={**current, "casus": str(uuid.uuid4()), "reden": "x"})
    assert other.status_code == 422 and 'id="casus-fout"' in other.text

    # Remove it again, then publish.
    page = await browser.post(f"{base}/agenda/punten/{added}/verwijderen",
                              data=form_of(page.text, f"{base}/agenda/punten/{added}/verwijderen"))
    assert item_ids(page.text) == [second, first] and "Van de agenda gehaald" in page.text
    restore = f"{base}/agenda/punten/{added}/terugzetten"
    page = await browser.post(restore, data=form_of(page.text, restore))
    assert "Het agendapunt staat weer op de agenda" in page.text and item_ids(page.text) == [second, first, added]
    page = await browser.post(f"{base}/agenda/punten/{added}/verwijderen",
                              data=form_of(page.text, f"{base}/agenda/punten/{added}/verwijderen"))
    assert item_ids(page.text) == [second, first]
    page = await browser.post(f"{base}/agenda/publiceren", data=form_of(page.text, f"{base}/agenda/publiceren"))
    assert "De agenda is gepubliceerd" in page.text and "Agenda heropenen" in page.text
    assert "/agenda/tijd" not in page.text and 'name="minuten"' not in page.text  # read-only now

    chair = web_world.members["chair"].subject
    assert len(await agenda_rows(owner_db, chair, action="create", part="agenda_item")) == 2
    assert len(await agenda_rows(owner_db, chair, action="delete", part="agenda_item")) == 2
    published = await agenda_rows(owner_db, chair, action="update", part="published")
    assert {r.client_number for r in published} == {numbers["overdue"], numbers["review"]}

    # The liaison now sees the agenda: client number, phase and reasons; no names.
    shown = await browser2.get(base)
    assert shown.status_code == 200 and item_ids(shown.text) == [second, first]
    assert numbers["overdue"] in shown.text and numbers["review"] in shown.text
    assert "over de termijn" in shown.text and "Plan in uitvoering" in shown.text
    assert "Anna Agenda" not in shown.text and "Bert Bespreken" not in shown.text
    assert numbers["extra"] not in shown.text and "Cees Toevoegen" not in shown.text
    assert 'name="minuten"' not in shown.text and "Agenda publiceren" not in shown.text
    printed = await browser2.get(f"{base}/agenda/afdrukken")
    assert printed.status_code == 200 and numbers["review"] in printed.text and "Anna Agenda" not in printed.text
    assert "style-src 'unsafe-inline'" in printed.headers["content-security-policy"]
    liaison = web_world.members["police_liaison"].subject
    assert await agenda_rows(owner_db, liaison, action="print", resource_type="agenda")
    assert await agenda_rows(owner_db, liaison, outcome="denied", resource_type="agenda")  # the early look


async def publish_agenda_as_chair(browser: httpx.AsyncClient, world: World, base: str) -> str:
    page = await sign_in(browser, world, "chair", start=base)
    page = await browser.post(f"{base}/agenda/concept", data=form_of(page.text, f"{base}/agenda/concept"))
    page = await browser.post(f"{base}/agenda/publiceren", data=form_of(page.text, f"{base}/agenda/publiceren"))
    assert "De agenda is gepubliceerd" in page.text
    return page.text


async def test_chair_records_a_decision_that_creates_an_action_for_the_police(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    meeting, numbers = data["meeting"], data["numbers"]
    base = f"/web/vergaderingen/{meeting.id}"
    agenda = await publish_agenda_as_chair(browser, web_world, base)
    item = item_ids(agenda)[0]  # the overdue case
    page = await browser.get(f"{base}/besluiten")
    assert page.status_code == 200 and "Besluit vastleggen" in page.text
    decide = f"{base}/punten/{item}/besluit"
    deadline = (clock.today() + timedelta(days=14)).isoformat()
    action = {"tekst": "Politie legt samen met de wijkcoach een huisbezoek af.", "a0-titel": "Huisbezoek met wijkcoach",
              "a0-leefgebied": "housing", "a0-eigenaar": "",
              "a0-uitvoerder": str(web_world.members["police_liaison"].id), "a0-uiterlijk": deadline,
              "a0-middel": "enforcement_priority", "a0-bedrag": "", "a0-toegezegd": ""}

    # Missing owner: shown next to the field, the input kept.
    bad = await browser.post(decide, data={**form_of(page.text, decide), **action})
    assert bad.status_code == 422 and f'id="a0-eigenaar-{item}-fout"' in bad.text
    assert 'value="Huisbezoek met wijkcoach"' in bad.text
    unknown = await browser.post(f"{base}/punten/{uuid.uuid4()}/besluit", data={
        **form_of(page.text, decide), **action, "a0-eigenaar": str(web_world.orgs["politie"].id)})
    assert unknown.status_code == 422 and "staat niet (meer) op de agenda" in unknown.text
    wrong = await browser.post(decide, data={**form_of(page.text, decide), **action,
                                             "a0-eigenaar": str(web_world.orgs["zorg"].id)})
    assert wrong.status_code == 422 and f'id="a0-uitvoerder-{item}-fout"' in wrong.text  # assignee not of that org
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Action)
                                      .where(Action.title == "Huisbezoek met wijkcoach"))).scalar_one() == 0

    # The chair commits the police to an enforcement priority: no mandate of the chair's, so the
    # action is recorded as an escalation and the page says so.
    page = await browser.post(decide, data={**form_of(page.text, decide), **action,
                                            "a0-eigenaar": str(web_world.orgs["politie"].id)})
    assert page.status_code == 200 and "is vastgelegd" in page.text
    assert "met 1 actie die nu in de lijst van de uitvoerende organisatie staat." in page.text
    assert "Mandaat-escalatie nodig" in page.text and "Huisbezoek met wijkcoach" in page.text
    async with owner_db.sessions() as session:
        created = (await session.execute(sa.select(Action).where(Action.title == "Huisbezoek met wijkcoach"))
                   ).scalar_one()
    assert created.coverage == "escalation_required" and created.owner_organisation_id == web_world.orgs["politie"].id
    chair = web_world.members["chair"].subject
    assert {r.resource_type for r in await agenda_rows(owner_db, chair, action="create", case_id=data["overdue"].id)
            } >= {"decision", "action"}

    # With a decision recorded, the agenda can no longer be reopened.
    agenda_page = await browser.get(base)
    reopen = await browser.post(f"{base}/agenda/heropenen", data=form_of(agenda_page.text, f"{base}/agenda/heropenen"))
    assert reopen.status_code == 409 and "Er zijn al besluiten vastgelegd" in reopen.text

    # The police liaison finds it in "Mijn acties"; the list of decisions is not published yet.
    mine = await sign_in(browser2, web_world, "police_liaison")
    assert "Huisbezoek met wijkcoach" in mine.text
    hidden = await browser2.get(f"{base}/besluiten")
    assert "nog niet gepubliceerd" in hidden.text and "Huisbezoek met wijkcoach" not in hidden.text

    # Publishing the decisions waits for the meeting to start; then the members see them.
    assert "zodra de vergadering begonnen is" in page.text  # no publish button yet
    async with owner_db.sessions() as session:
        version = (await session.get(Meeting, meeting.id)).version  # type: ignore[union-attr]
    early = await browser.post(f"{base}/besluiten/publiceren", data={"csrf": csrf_of(page.text),
                                                                     "versie": str(version)})
    assert early.status_code == 409
    assert "pas worden gepubliceerd als de vergadering is begonnen" in early.text
    clock.travel(timedelta(hours=1, minutes=5))
    page = await browser.get(f"{base}/besluiten")
    page = await browser.post(f"{base}/besluiten/publiceren", data=form_of(page.text, f"{base}/besluiten/publiceren"))
    assert "De besluitenlijst is gepubliceerd" in page.text and "Besluit vastleggen" not in page.text
    shown = await browser2.get(f"{base}/besluiten")
    assert "Huisbezoek met wijkcoach" in shown.text and numbers["overdue"] in shown.text
    assert "Anna Agenda" not in shown.text
    printed = await browser2.get(f"{base}/besluiten/afdrukken")
    assert printed.status_code == 200 and "Huisbezoek met wijkcoach" in printed.text


async def test_chair_plans_meetings_and_finds_the_next_one(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    page = await sign_in(browser, web_world, "chair", start="/web/agenda")
    assert page.url.path == "/web/agenda" and "geen vergaderingen gepland" in page.text
    plan = "/web/vergaderingen/plannen"
    page = await browser.post(plan, data=form_of(page.text, plan))
    assert page.url.path == "/web/vergaderingen" and "(en)" not in page.text
    assert "Volgende" in page.text
    async with owner_db.sessions() as session:
        meetings = (await session.execute(sa.select(Meeting).order_by(Meeting.starts_at))).scalars().all()
    planned = f"{len(meetings)} vergadering{'' if len(meetings) == 1 else 'en'} ingepland."
    assert planned in page.text
    assert meetings and {m.conference_id for m in meetings} == {web_world.a.id}
    nxt = await browser.get("/web/agenda")
    assert nxt.url.path == f"/web/vergaderingen/{meetings[0].id}"
    again = await browser.post(plan, data=form_of(page.text, plan))
    assert "stonden al gepland" in again.text  # idempotent

    # Conference B has no fixed rhythm: said so, nothing planned.
    other = await sign_in(browser2, web_world, "chair_b", start="/web/vergaderingen")
    refused = await browser2.post(plan, data=form_of(other.text, plan))
    assert refused.status_code == 422 and "geen vast vergaderritme" in refused.text


CHAIR_FORMS = ("agenda/concept", "agenda/punten", "agenda/punten/{item}/verwijderen",
               "agenda/punten/{item}/terugzetten", "agenda/punten/{item}/verplaatsen", "agenda/punten/{item}/tijd",
               "agenda/publiceren", "agenda/heropenen", "punten/{item}/besluit", "besluiten/publiceren")


async def test_forged_or_missing_csrf_token_is_refused_on_the_meeting_forms(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    meeting = data["meeting"]
    base = f"/web/vergaderingen/{meeting.id}"
    page = await sign_in(browser, web_world, "chair", start=base)
    page = await browser.post(f"{base}/agenda/concept", data=form_of(page.text, f"{base}/agenda/concept"))
    item = item_ids(page.text)[0]
    async with owner_db.sessions() as session:
        before = (await session.get(Meeting, meeting.id)).version  # type: ignore[union-attr]
    fields = {"versie": str(before), "casus": str(data["extra"].id), "reden": "x", "minuten": "10",
              "richting": "omlaag", "tekst": "Besluit", "overleg": str(web_world.a.id)}
    for path in [f"{base}/{form.format(item=item)}" for form in CHAIR_FORMS] + ["/web/vergaderingen/plannen"]:
        for token in (None, "vervalst-" + csrf_of(page.text)[:10], ""):
            body = dict(fields) if token is None else {**fields, "csrf": token}
            refused = await browser.post(path, data=body)
            assert refused.status_code == 403, path
            assert "Dit formulier is verlopen" in refused.text
    async with owner_db.sessions() as session:
        after = await session.get(Meeting, meeting.id)
        assert after is not None and after.version == before and after.agenda_status == "draft"
        assert (await session.execute(sa.select(sa.func.count()).select_from(Meeting))).scalar_one() == 1


async def test_a_liaison_cannot_post_the_chair_forms_and_another_conference_sees_nothing(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    meeting = data["meeting"]
    base = f"/web/vergaderingen/{meeting.id}"
    chair_page = await sign_in(browser, web_world, "chair", start=base)
    chair_page = await browser.post(f"{base}/agenda/concept",
                                    data=form_of(chair_page.text, f"{base}/agenda/concept"))
    item = item_ids(chair_page.text)[0]
    async with owner_db.sessions() as session:
        before = (await session.get(Meeting, meeting.id)).version  # type: ignore[union-attr]

    page = await sign_in(browser2, web_world, "police_liaison", start=base)
    assert "nog niet gepubliceerd" in page.text and data["numbers"]["overdue"] not in page.text
    fields = {"csrf": csrf_of(page.text), "versie": str(before), "casus": str(data["extra"].id), "reden": "x",
              "minuten": "10", "richting": "omlaag", "tekst": "Besluit", "overleg": str(web_world.a.id)}
    for path in [f"{base}/{form.format(item=item)}" for form in CHAIR_FORMS] + ["/web/vergaderingen/plannen"]:
        refused = await browser2.post(path, data=fields)
        assert refused.status_code == 403, path
        assert "Geen toegang" in refused.text and data["numbers"]["overdue"] not in refused.text
    async with owner_db.sessions() as session:
        after = await session.get(Meeting, meeting.id)
        assert after is not None and after.version == before and after.agenda_status == "draft"
    denied = await agenda_rows(owner_db, web_world.members["police_liaison"].subject, outcome="denied")
    assert len(denied) >= len(CHAIR_FORMS)

    # The chair of another conference: the meeting does not exist for them; a page that says so.
    browser2.cookies.clear()
    other = await sign_in(browser2, web_world, "chair_b", start="/web/vergaderingen")
    assert "Casusoverleg B" in other.text and "Casusoverleg A" not in other.text
    for path in (base, f"{base}/besluiten", f"{base}/agenda/afdrukken"):
        hidden = await browser2.get(path)
        assert hidden.status_code == 404 and "Pagina niet gevonden" in hidden.text
        assert data["numbers"]["overdue"] not in hidden.text and "Casusoverleg A" not in hidden.text
    posted = await browser2.post(f"{base}/agenda/publiceren", data={"csrf": csrf_of(other.text),
                                                                     "versie": str(before)})
    assert posted.status_code == 404


def test_web_pages_are_not_in_the_openapi_document() -> None:
    app = create_app(Settings(dev_idp_enabled=False, load_demo_data=False, scheduler_enabled=False))
    web = {getattr(r, "path", "") for module in (web_router, web_meetings) for r in module.router.routes}
    assert {"/web/agenda", "/web/vergaderingen/{meeting_id}", "/web/vergaderingen/{meeting_id}/besluiten"} <= web
    assert not [p for p in app.openapi()["paths"] if p.startswith("/web")]


async def test_a_form_with_a_nul_character_is_refused_not_a_server_error(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    page = await sign_in(browser, web_world, "police_member")
    data = {"csrf": csrf_of(page.text), "naam": "Piet\u0000", "geboortedatum": "1980-01-01", "reden": "zorgen"}
    refused = await browser.post("/web/aanmeldingen", data=data)
    assert refused.status_code == 422
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Referral))).scalar_one() == 0
    # Forms read without a schema (sign-in) reach the database's own refusal: still no 500.
    start = await browser.post("/web/inloggen", data={"organisatie": "politie\u0000"})
    assert start.status_code == 422


async def test_case_list_shows_what_the_policy_lets_each_reader_see(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        active = await add_case(session, web_world, name="Actieve Casus")
        closed = await add_case(session, web_world, name="Gesloten Casus", phase="closed")
        other = await add_case(session, web_world, conference=web_world.b, name="Ander Overleg")
        numbers = {}
        for case in (active, closed, other):
            numbers[case.id] = (await session.execute(
                sa.text("SELECT client_number FROM client WHERE id = :c"), {"c": case.client_id})).scalar_one()
        await session.commit()
    page = await sign_in(browser, web_world, "chair", start="/web/casussen")
    assert page.status_code == 200 and page.url.path == "/web/casussen"
    assert numbers[active.id] in page.text and numbers[closed.id] in page.text
    assert numbers[other.id] not in page.text  # another conference's case is not listed
    assert "Actieve Casus" not in page.text  # client numbers in lists, never names
    only_closed = await browser.get("/web/casussen", params={"fase": "closed"})
    assert numbers[closed.id] in only_closed.text and numbers[active.id] not in only_closed.text
    liaison = await sign_in(browser2, web_world, "police_liaison", start="/web/casussen")
    assert numbers[active.id] in liaison.text and numbers[closed.id] not in liaison.text  # minimisation


# --- Dutch error pages for every /web path ---------------------------------------------------------


def assert_dutch_error_page(response: httpx.Response, status: int, title: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in response.text
    assert f"<title>{title} · Casusoverleg</title>" in response.text and f"<h1>{title}</h1>" in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


async def test_unknown_pages_and_malformed_ids_answer_with_a_dutch_page_never_json(
    web_world: World, browser: httpx.AsyncClient
) -> None:
    # Before signing in: an unknown page is a page too.
    assert_dutch_error_page(await browser.get("/web/bestaat-niet"), 404, "Pagina niet gevonden")
    await sign_in(browser, web_world, "chair")
    assert_dutch_error_page(await browser.get("/web/bestaat-niet"), 404, "Pagina niet gevonden")
    assert_dutch_error_page(await browser.get("/web/casussen/not-a-uuid"), 404, "Pagina niet gevonden")
    assert_dutch_error_page(await browser.get("/web/vergaderingen/12/besluiten"), 404, "Pagina niet gevonden")
    assert_dutch_error_page(await browser.get("/web/static/bestaat-niet.css"), 404, "Pagina niet gevonden")
    not_allowed = await browser.delete("/web/casussen")
    assert_dutch_error_page(not_allowed, 405, "Niet mogelijk")
    assert set(not_allowed.headers["allow"].split(", ")) == {"GET", "POST"}
    # The API keeps answering problem+json.
    api = await browser.get("/api/v1/bestaat-niet")
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    api = await browser.get("/api/v1/cases/not-a-uuid")
    assert api.headers["content-type"] == "application/problem+json"
