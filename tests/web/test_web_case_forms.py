"""Issue 15 on the case page: the chair moves the case to another phase, sets the next review date
and the case director, each form with the version the page showed (If-Match): invalid input gets
Dutch messages at the field and in the error summary, a stale version the conflict page with both
versions, and whoever may not change the case sees no forms and gets the Dutch 403 page. The case
list searches by name for who may look a client up by identity, by POST (never a name in a URL)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import AccessLogEntry, Case, ChangeRecord
from app.web.render import nl_date
from tests.factories import World, add_case
from tests.web.conftest import WebServer, browsing, hidden_fields, sign_in


async def _case(owner_db: Database, world: World, **kwargs: object) -> uuid.UUID:
    async with owner_db.sessions() as session:
        case = await add_case(session, world, **kwargs)  # type: ignore[arg-type]
        await session.commit()
        return case.id


async def _stored(owner_db: Database, case_id: uuid.UUID) -> Case:
    async with owner_db.sessions() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def _log(owner_db: Database, case_id: uuid.UUID, subject: str) -> list[tuple[str, str, str | None, str]]:
    async with owner_db.sessions() as session:
        rows = await session.execute(
            sa.select(AccessLogEntry.action, AccessLogEntry.resource_type, AccessLogEntry.part,
                      AccessLogEntry.outcome)
            .where(AccessLogEntry.case_id == case_id, AccessLogEntry.actor_subject == subject)
            .order_by(AccessLogEntry.seq))
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_the_chair_changes_phase_review_date_and_case_director(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case_id}")
    assert page.status_code == 200 and "Casus bijwerken" in page.text
    # Only the transitions the lifecycle allows from "Plan in uitvoering".
    assert '<option value="monitoring"' in page.text and '<option value="closed"' in page.text
    assert '<option value="selected"' not in page.text and '<option value="prioritised"' not in page.text
    fields = hidden_fields(page.text)
    v = int(fields["versie"])

    moved = await browser.post(f"/web/casussen/{case_id}/fase",
                               data={"csrf": fields["csrf"], "versie": str(v), "fase": "monitoring"})
    assert moved.status_code == 200 and moved.url.path == f"/web/casussen/{case_id}"
    assert "De fase is gewijzigd." in moved.text and "Monitoren en nazorg" in moved.text
    assert (await _stored(owner_db, case_id)).phase == "monitoring"

    review = clock.today() + timedelta(days=14)
    fields = hidden_fields(moved.text)
    assert fields["versie"] == str(v + 1)
    saved = await browser.post(f"/web/casussen/{case_id}/evaluatie",
                               data={"csrf": fields["csrf"], "versie": str(v + 1),
                                     "evaluatiedatum": review.strftime("%d-%m-%Y")})
    assert "De evaluatiedatum is opgeslagen." in saved.text
    police = web_world.members["police_member"]
    named = await browser.post(f"/web/casussen/{case_id}/regisseur",
                               data={"csrf": fields["csrf"], "versie": str(v + 2), "casusregisseur": str(police.id)})
    assert "De casusregisseur is opgeslagen." in named.text
    stored = await _stored(owner_db, case_id)
    assert (stored.next_review_date, stored.case_director_id, stored.version) == (review, police.id, v + 3)
    # The API's history and access log: the same rows as its PATCH and transition.
    async with owner_db.sessions() as session:
        changes = (await session.execute(sa.select(ChangeRecord.changes).where(
            ChangeRecord.case_id == case_id, ChangeRecord.entity_type == "case").order_by(ChangeRecord.version))).scalars()
        assert [sorted(c) for c in changes] == [["phase"], ["next_review_date"], ["case_director_id"]]
    updates = [r for r in await _log(owner_db, case_id, web_world.members["chair"].subject) if r[0] == "update"]
    assert updates == [("update", "case", "phase", "allowed"), ("update", "case", None, "allowed"),
                       ("update", "case", None, "allowed")]


async def test_closing_needs_a_reason_and_closes(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case_id}")
    csrf, v = hidden_fields(page.text)["csrf"], hidden_fields(page.text).get("versie", "1")
    refused = await browser.post(f"/web/casussen/{case_id}/fase", data={"csrf": csrf, "versie": v, "fase": "closed"})
    assert refused.status_code == 422
    assert 'href="#sluitreden"' in refused.text and "Kies bij het afsluiten de reden van afsluiten." in refused.text
    closed = await browser.post(f"/web/casussen/{case_id}/fase",
                                data={"csrf": csrf, "versie": v, "fase": "closed", "sluitreden": "goals_reached"})
    assert closed.status_code == 200 and "De fase is gewijzigd." in closed.text
    # A closed case is changed no more: no forms; the page says why it was closed.
    assert "Casus bijwerken" not in closed.text
    assert "<dt>Reden van afsluiten</dt><dd>Doelen bereikt</dd>" in closed.text
    stored = await _stored(owner_db, case_id)
    assert (stored.phase, stored.closure_reason) == ("closed", "goals_reached")


async def test_invalid_input_gets_dutch_messages_and_changes_nothing(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case_id}")
    csrf, v = hidden_fields(page.text)["csrf"], hidden_fields(page.text).get("versie", "1")
    url = f"/web/casussen/{case_id}"
    cases = [
        ("fase", {"fase": ""}, "fase", "Kies de fase waar de casus naartoe gaat."),
        # A transition the lifecycle refuses (the service decides, as for the API).
        ("fase", {"fase": "selected"}, "fase", "Deze faseovergang is vanuit de huidige fase niet mogelijk."),
        ("evaluatie", {"evaluatiedatum": "morgen"}, "evaluatiedatum", "Vul een geldige evaluatiedatum in"),
        ("evaluatie", {"evaluatiedatum": (clock.today() - timedelta(days=1)).isoformat()}, "evaluatiedatum",
         "vandaag of later"),
        ("regisseur", {"casusregisseur": "niemand"}, "casusregisseur", "Kies een casusregisseur uit de lijst"),
        # A liaison is no case director (the service's named_member refuses, as for the API).
        ("regisseur", {"casusregisseur": str(web_world.members["police_liaison"].id)}, "casusregisseur",
         "De casusregisseur moet deelnemer of voorzitter van dit casusoverleg zijn."),
    ]
    for form, data, field, message in cases:
        answer = await browser.post(f"{url}/{form}", data={"csrf": csrf, "versie": v, **data})
        assert answer.status_code == 422, (form, data)
        text = answer.text
        assert message in text, (form, data)
        # In the error summary (a link to the field) and at the field, which is marked.
        assert 'class="error-summary"' in text and f'href="#{field}"' in text
        assert re.search(f'id="{field}" name="{field}"[^>]* aria-invalid="true" aria-describedby="{field}-fout', text)
        assert f'id="{field}-fout"' in text
        assert '<html lang="nl">' in text and "Plan van aanpak" in text  # the case page itself, again
    stored = await _stored(owner_db, case_id)
    assert (stored.phase, stored.version, stored.next_review_date) == ("active", int(v), None)
    assert stored.case_director_id == web_world.members["care_member"].id


async def test_a_stale_version_gets_the_conflict_page_with_both_versions(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, web_server: WebServer
) -> None:
    case_id = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case_id}")
    csrf, v = hidden_fields(page.text)["csrf"], hidden_fields(page.text).get("versie", "1")
    # A colleague (another session of a chair) changes the review date after the page was opened.
    first = clock.today() + timedelta(days=7)
    async with browsing(web_server) as colleague:
        theirs = await sign_in(colleague, web_world, "chair", start=f"/web/casussen/{case_id}")
        changed = await colleague.post(f"/web/casussen/{case_id}/evaluatie", data={
            "csrf": hidden_fields(theirs.text)["csrf"], "versie": v, "evaluatiedatum": first.isoformat()})
        assert "De evaluatiedatum is opgeslagen." in changed.text
    mine = clock.today() + timedelta(days=21)
    stale = await browser.post(f"/web/casussen/{case_id}/evaluatie",
                               data={"csrf": csrf, "versie": v, "evaluatiedatum": mine.isoformat()})
    assert stale.status_code == 412
    text = stale.text
    assert "Uw wijziging is niet opgeslagen" in text
    assert "Uw versie" in text and "Huidige versie" in text and "Volgende evaluatie" in text
    assert nl_date(mine) in text and nl_date(first) in text
    assert (await _stored(owner_db, case_id)).next_review_date == first  # nothing overwritten
    # Keep the stored version: a link back; or save mine on top of the version now shown.
    assert f'href="/web/casussen/{case_id}#casus-bijwerken"' in text
    again = hidden_fields(text)
    assert again["versie"] == str(int(v) + 1) and again["evaluatiedatum"] == mine.isoformat()
    applied = await browser.post(f"/web/casussen/{case_id}/evaluatie", data=again)
    assert applied.status_code == 200 and "De evaluatiedatum is opgeslagen." in applied.text
    assert (await _stored(owner_db, case_id)).next_review_date == mine


async def test_a_stale_phase_that_is_no_longer_possible_is_not_offered_again(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id = await _case(owner_db, web_world, phase="prioritised")
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case_id}")
    csrf, v = hidden_fields(page.text)["csrf"], hidden_fields(page.text).get("versie", "1")
    moved = await browser.post(f"/web/casussen/{case_id}/fase", data={"csrf": csrf, "versie": v, "fase": "active"})
    assert moved.status_code == 200
    # The same form again, from the page as it was: "Plan in uitvoering" is where the case is now.
    stale = await browser.post(f"/web/casussen/{case_id}/fase", data={"csrf": csrf, "versie": v, "fase": "active"})
    assert stale.status_code == 412
    assert "Plan in uitvoering" in stale.text and "Mijn versie toch opslaan" not in stale.text
    assert "kan niet meer worden opgeslagen" in stale.text


async def test_who_may_not_change_the_case_sees_no_forms_and_gets_403(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "police_member", start=f"/web/casussen/{case_id}")
    assert page.status_code == 200
    assert "Casus bijwerken" not in page.text and f"/web/casussen/{case_id}/fase" not in page.text
    csrf, v = hidden_fields(page.text)["csrf"], hidden_fields(page.text).get("versie", "1")
    for form, data in (("fase", {"fase": "monitoring"}),
                       ("evaluatie", {"evaluatiedatum": (clock.today() + timedelta(days=3)).isoformat()}),
                       ("regisseur", {"casusregisseur": str(web_world.members["police_member"].id)})):
        refused = await browser.post(f"/web/casussen/{case_id}/{form}", data={"csrf": csrf, "versie": v, **data})
        assert refused.status_code == 403, form
        assert "Geen toegang" in refused.text and '<html lang="nl">' in refused.text
    stored = await _stored(owner_db, case_id)
    assert (stored.phase, stored.version) == ("active", int(v))
    denied = [r for r in await _log(owner_db, case_id, web_world.members["police_member"].subject)
              if r[3] == "denied"]
    assert denied == [("update", "case", "phase", "denied"), ("update", "case", None, "denied"),
                      ("update", "case", None, "denied")]


async def test_another_conference_s_case_reads_like_a_missing_one(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair_b", start="/web/casussen")
    csrf, v = hidden_fields(page.text)["csrf"], hidden_fields(page.text).get("versie", "1")
    theirs = await browser.post(f"/web/casussen/{case_id}/fase", data={"csrf": csrf, "versie": v, "fase": "closed"})
    missing = await browser.post(f"/web/casussen/{uuid.uuid4()}/fase",
                                 data={"csrf": csrf, "versie": v, "fase": "closed"})
    assert theirs.status_code == missing.status_code == 404
    assert "Pagina niet gevonden" in theirs.text and str(case_id) not in theirs.text.split("<main", 1)[1]


# --- the case list: search by name -----------------------------------------------------------------


async def test_the_chair_searches_by_name_in_the_body_never_in_a_url(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    wanted = await _case(owner_db, web_world, name="Mirjam de Zoeker")
    other = await _case(owner_db, web_world, name="Karel Anders")
    page = await sign_in(browser, web_world, "chair", start="/web/casussen")
    assert '<form method="post" action="/web/casussen"' in page.text and 'name="naam"' in page.text
    csrf = hidden_fields(page.text)["csrf"]
    found = await browser.post("/web/casussen", data={"csrf": csrf, "naam": "  de zoek "})
    assert found.status_code == 200 and found.url.path == "/web/casussen" and not found.url.query
    assert str(wanted) in found.text and str(other) not in found.text
    assert "Mirjam" not in found.text  # the list shows client numbers; the name only in the field
    # Combined with the other filters, from the same form.
    none = await browser.post("/web/casussen", data={"csrf": csrf, "naam": "zoeker", "fase": "closed"})
    assert str(wanted) not in none.text and "die aan deze filters voldoen" in none.text
    short = await browser.post("/web/casussen", data={"csrf": csrf, "naam": "z"})
    assert short.status_code == 422 and 'href="#naam"' in short.text and "ten minste twee letters" in short.text
    # A name in a URL is no search at all.
    url = await browser.get("/web/casussen?naam=Zoeker")
    assert str(wanted) in url.text and str(other) in url.text
    async with owner_db.sessions() as session:
        searches = (await session.execute(sa.select(AccessLogEntry.part).where(
            AccessLogEntry.action == "search", AccessLogEntry.actor_subject == web_world.members["chair"].subject,
            AccessLogEntry.resource_type == "client"))).scalars().all()
    assert searches == ["name", "name"]  # the two searches that ran (not the refused one)


async def test_a_liaison_is_not_offered_a_name_search_and_a_name_sent_is_ignored(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    wanted = await _case(owner_db, web_world, name="Mirjam de Zoeker")
    other = await _case(owner_db, web_world, name="Karel Anders")
    page = await sign_in(browser, web_world, "police_liaison", start="/web/casussen")
    assert 'name="naam"' not in page.text and '<form method="get" action="/web/casussen"' in page.text
    csrf = hidden_fields(page.text)["csrf"]
    for name in ("Zoeker", "Bestaat Niet", "Q"):
        answer = await browser.post("/web/casussen", data={"csrf": csrf, "naam": name})
        # The same list as without a name, whether or not the name exists.
        assert answer.status_code == 200
        assert str(wanted) in answer.text and str(other) in answer.text
        assert 'name="naam"' not in answer.text and f'value="{name}"' not in answer.text
    async with owner_db.sessions() as session:
        searches = await session.scalar(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
            AccessLogEntry.action == "search",
            AccessLogEntry.actor_subject == web_world.members["police_liaison"].subject))
    assert searches == 0


async def test_policy_staff_start_on_the_outcome_figures(
    web_world: World, browser: httpx.AsyncClient
) -> None:
    landed = await sign_in(browser, web_world, "policy_staff")
    assert landed.status_code == 200 and landed.url.path == "/web/uitkomsten"
    # Their menu has no actions, cases, agenda or referrals; a case worker's has.
    assert 'href="/web/acties"' not in landed.text and 'href="/web/casussen"' not in landed.text
    assert 'href="/web/uitkomsten"' in landed.text and 'href="/web/meldingen"' in landed.text


async def test_a_form_without_its_version_asks_to_open_the_page_again(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id = await _case(owner_db, web_world)
    page = await sign_in(browser, web_world, "chair", start=f"/web/casussen/{case_id}")
    answer = await browser.post(f"/web/casussen/{case_id}/fase",
                                data={"csrf": hidden_fields(page.text)["csrf"], "fase": "monitoring"})
    assert answer.status_code == 428 and "Open de pagina opnieuw" in answer.text
    assert (await _stored(owner_db, case_id)).phase == "active"
