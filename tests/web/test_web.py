"""The web client end to end over real HTTP: a real server (uvicorn on loopback) with the
development providers enabled; sign-in runs the real authorization-code flow with PKCE through
the provider's pages, and the session cookie then drives the Dutch pages."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import AccessLogEntry, Action, Assessment, Goal, Plan, Referral, WebSession
from app.services.dev_idp_flow import s256
from tests.factories import World, add_action, add_case
from tests.web.conftest import DEV_SLUGS, WebServer

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
async def browser(web_server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web_server.base, follow_redirects=True, timeout=20) as c:
        yield c


@pytest.fixture
async def browser2(web_server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web_server.base, follow_redirects=True, timeout=20) as c:
        yield c


async def titled(session: object, world: World, case: object, title: str, **kwargs: object) -> Action:
    action = await add_action(session, world, case, **kwargs)  # type: ignore[arg-type]
    action.title = title
    await session.flush()  # type: ignore[attr-defined]
    return action


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def csrf_of(page: str) -> str:
    return hidden_fields(page)["csrf"]


async def sign_in(c: httpx.AsyncClient, world: World, person: str, *, start: str = "/web/acties") -> httpx.Response:
    """Open a page, get sent to sign-in, pick the organisation, pick the person at the provider."""
    page = await c.get(start)
    assert page.url.path == "/web/inloggen"
    assert "Kies uw organisatie" in page.text
    slug = next(s for s, o in world.orgs.items() if o.id == world.members[person].organisation_id)
    provider = await c.post("/web/inloggen", data={"organisatie": slug,
                                                   "next": hidden_fields(page.text)["next"]})
    assert provider.url.path == f"/dev-idp/{DEV_SLUGS.get(slug, slug)}/authorize", provider.text
    params = hidden_fields(provider.text)
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    return await c.post(str(provider.url.copy_with(query=None)),
                        data={**params, "subject": world.members[person].subject})


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
    assert out.url.path == "/web/inloggen" and "U bent afgemeld" in out.text
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
    assert hidden.status_code == 404 and "Niet gevonden" in hidden.text
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
    assert "Actief (plan van aanpak)" in care.text
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
