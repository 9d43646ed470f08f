"""Referral triage in the web client (issue 15): the chair sees who referred whom and why, accepts
a referral into a case (the referrer's own reference travels along) or declines it with a reason;
the referring organisation follows its own referrals' status, and nobody else sees them."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import AccessLogEntry, Case, Client, ClientReference, Plan, Referral
from app.services.cases.clients import new_client_number
from tests.factories import World
from tests.meeting_helpers import add_referral
from tests.referrer_support import add_gp_referrer
from tests.web.conftest import form_of, sign_in


async def _referrals(owner_db: Database, world: World) -> tuple[Referral, Referral, Referral]:
    async with owner_db.sessions() as session:
        first = await add_referral(session, world, by="wijkteam_member", name="Rita Aanmelding")
        first.client_reference = "WT-2026-17"
        first.reason = "Huurachterstand en overlast; vermoedelijk GHB."
        second = await add_referral(session, world, by="police_member", name="Sem Signaal",
                                    created_at=clock.now() - timedelta(days=2))
        second.reason = "Drie meldingen van overlast in een maand."
        foreign = await add_referral(session, world, by="wijkteam_member", name="Bas Buiten")
        foreign.conference_id = world.b.id  # another conference: nobody of A sees it
        await session.commit()
    return first, second, foreign


async def test_chair_sees_who_referred_whom_and_why_and_accepts_into_a_case(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    first, second, foreign = await _referrals(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair", start="/web/aanmeldingen")
    assert page.status_code == 200 and page.url.path == "/web/aanmeldingen"
    waiting = page.text.split('id="beoordelen-kop"')[1].split('id="lijst-kop"')[0]
    assert "2 aanmeldingen wachten" in waiting
    assert "Rita Aanmelding" in waiting and "Sem Signaal" in waiting  # the chair sees whom
    assert "Huurachterstand en overlast" in waiting  # and why
    card = waiting.split(f'id="aanmelding-{first.id}"')[1].split("</li>")[0]
    assert "door Wijkteam Member (deelnemer), Wijkteam" in card  # who referred: person, role, organisation
    assert "Bas Buiten" not in page.text and str(foreign.id) not in page.text
    assert "Aanmeldingen van uw organisatie" not in page.text  # the chair's list is the conference's

    detail = await browser.get(f"/web/aanmeldingen/{first.id}")
    assert detail.status_code == 200 and "Opnemen als casus" in detail.text and "Aanmelding afwijzen" in detail.text
    assert "Rita Aanmelding" in detail.text and "Huurachterstand en overlast" in detail.text
    accept = f"/web/aanmeldingen/{first.id}/accepteren"

    # A review date in the past: the message next to the field and in the summary (a link to it).
    bad = await browser.post(accept, data={**form_of(detail.text, accept), "casusregisseur": "",
                                                 "prioriteit": "high", "evaluatiedatum": "01-01-2020"})
    assert bad.status_code == 422
    assert 'id="evaluatiedatum-fout"' in bad.text and 'href="#evaluatiedatum"' in bad.text
    assert 'class="error-summary"' in bad.text and "autofocus" in bad.text.split('class="error-summary"')[1][:200]
    assert 'value="01-01-2020"' in bad.text and '<option value="high" selected>' in bad.text

    director = web_world.members["care_member"]
    review = (clock.today() + timedelta(days=21)).isoformat()
    done = await browser.post(accept, data={**form_of(detail.text, accept), "casusregisseur": str(director.id),
                                                  "prioriteit": "high", "evaluatiedatum": review})
    assert done.status_code == 200
    assert done.url.path.startswith("/web/casussen/")
    case_id = done.url.path.rsplit("/", 1)[1]
    async with owner_db.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None and case.case_director_id == director.id and case.priority == "high"
        assert case.next_review_date.isoformat() == review  # type: ignore[union-attr]
        assert (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        referral = await session.get(Referral, first.id)
        assert referral is not None and referral.status == "accepted" and referral.case_id == case.id
        # The referring organisation's own reference travelled along into the case.
        reference = (await session.execute(sa.select(ClientReference).where(
            ClientReference.client_id == referral.client_id))).scalar_one()
        assert reference.reference == "WT-2026-17"
        assert reference.organisation_id == web_world.orgs["wijkteam"].id
        rows = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.actor_subject == web_world.members["chair"].subject))).scalars().all()
    assert {(r.action, r.resource_type) for r in rows} >= {("list", "referral"), ("read", "referral"),
                                                           ("update", "referral"), ("create", "case")}

    # The same form again (another tab): over it has been decided; nothing new is created.
    again = await browser.post(accept, data={**form_of(detail.text, accept), "casusregisseur": "",
                                                   "prioriteit": "normal", "evaluatiedatum": ""})
    assert again.status_code == 409 and "intussen al beslist" in again.text
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Case))).scalar_one() == 1

    # Back on the list: one waits, the accepted one is listed with its status.
    page = await browser.get("/web/aanmeldingen")
    assert "1 aanmelding wacht" in page.text and "Geaccepteerd" in page.text


async def test_chair_declines_with_a_required_reason_and_the_referrer_sees_it(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    first, second, _foreign = await _referrals(owner_db, web_world)
    await sign_in(browser, web_world, "chair", start="/web/aanmeldingen")
    detail = await browser.get(f"/web/aanmeldingen/{second.id}")
    decline = f"/web/aanmeldingen/{second.id}/afwijzen"
    empty = await browser.post(decline, data={**form_of(detail.text, decline), "afwijzing": "   "})
    assert empty.status_code == 422 and 'id="afwijzing-fout"' in empty.text and 'href="#afwijzing"' in empty.text
    async with owner_db.sessions() as session:
        assert (await session.get(Referral, second.id)).status == "pending"  # type: ignore[union-attr]
    done = await browser.post(decline, data={**form_of(detail.text, decline),
                                                   "afwijzing": "Past beter bij het reguliere wijkteamoverleg."})
    assert done.status_code == 200 and "De aanmelding is afgewezen" in done.text
    assert "Past beter bij het reguliere wijkteamoverleg." in done.text and "Opnemen als casus" not in done.text

    # The police member who referred: their organisation's referrals, with status and the reason;
    # not the neighbourhood team's, no names, and no triage forms.
    page = await sign_in(browser2, web_world, "police_member", start="/web/aanmeldingen")
    assert "Aanmeldingen van uw organisatie" in page.text and "Te beoordelen" not in page.text
    assert "Afgewezen" in page.text and str(second.id) in page.text
    assert str(first.id) not in page.text and "Rita Aanmelding" not in page.text
    own = await browser2.get(f"/web/aanmeldingen/{second.id}")
    assert own.status_code == 200 and "Past beter bij het reguliere wijkteamoverleg." in own.text
    assert "Sem Signaal" not in own.text and "afwijzen" not in own.text.split("<main")[1].lower().replace(
        "reden van afwijzing", "")
    other = await browser2.get(f"/web/aanmeldingen/{first.id}")
    # Another organisation's referral in the same conference: refused, as in the API (403).
    assert other.status_code == 403 and "Geen toegang" in other.text and "Rita Aanmelding" not in other.text
    forged = await browser2.post(f"/web/aanmeldingen/{first.id}/accepteren", data={
        "csrf": form_of(page.text, "/web/aanmeldingen")["csrf"], "versie": "1", "prioriteit": "normal"})
    assert forged.status_code in (403, 404)
    async with owner_db.sessions() as session:
        assert (await session.get(Referral, first.id)).status == "pending"  # type: ignore[union-attr]


async def test_liaison_cannot_decide_and_another_conference_sees_nothing(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    _first, second, foreign = await _referrals(owner_db, web_world)
    page = await sign_in(browser, web_world, "police_liaison", start="/web/aanmeldingen")
    assert "Aanmeldingen van uw organisatie" in page.text and str(second.id) in page.text
    csrf = form_of(page.text, "/web/aanmeldingen")["csrf"]
    refused = await browser.post(f"/web/aanmeldingen/{second.id}/afwijzen",
                                       data={"csrf": csrf, "versie": "1", "afwijzing": "Nee"})
    assert refused.status_code == 403 and "Geen toegang" in refused.text
    hidden = await browser.get(f"/web/aanmeldingen/{foreign.id}")
    assert hidden.status_code == 404
    async with owner_db.sessions() as session:
        assert (await session.get(Referral, second.id)).status == "pending"  # type: ignore[union-attr]


async def test_a_referral_from_a_referrer_of_the_wider_ring_is_listed_with_its_referrer(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        gp = await add_gp_referrer(session, web_world)
        client = Client(conference_id=web_world.a.id, client_number=new_client_number(), name="Gert Huisarts")
        session.add(client)
        await session.flush()
        referral = Referral(conference_id=web_world.a.id, client_id=client.id, referred_by_id=gp.membership.id,
                            referring_organisation_id=gp.organisation.id, reason="Valt steeds terug; huisarts bezorgd.")
        session.add(referral)
        await session.commit()
    page = await sign_in(browser, web_world, "chair", start="/web/aanmeldingen")
    card = page.text.split(f'id="aanmelding-{referral.id}"')[1].split("</li>")[0]
    assert "Praktijkondersteuner (aanmelder), Huisartsenpraktijk De Linde" in card and "Gert Huisarts" in card
