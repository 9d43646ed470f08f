"""Meeting mode in the web client (issue 15): the chair runs the meeting one agenda item at a time
(item n of m, previous and next), records per item a decision with several actions, a phase
change, a review date and a case director (all or nothing), sees recorded items collapsed, and
publishes the list of decisions at the end. And: a fresh demo opens with a draft agenda."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.config import Settings
from app.db import Database
from app.demo.seed import demo_agenda_line, load_demo_data, prepare_next_agenda
from app.models import Action, AgendaItem, Case, Decision, Meeting
from tests.factories import World
from tests.meeting_helpers import add_referral
from tests.web.conftest import agenda_world, form_of, sign_in
from tests.web.test_web import agenda_rows, item_ids, publish_agenda_as_chair


async def test_a_fresh_demo_has_a_draft_agenda_for_the_next_meeting(owner_db: Database) -> None:
    base = "http://127.0.0.1:8000"
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=base)
        await session.commit()
    async with owner_db.sessions() as session:
        meetings = (await session.execute(sa.select(Meeting).order_by(Meeting.starts_at))).scalars().all()
        assert meetings, "the demo lays out the cadence's meetings"
        first = meetings[0]
        assert first.agenda_generated_at is not None and first.agenda_status == "draft"
        items = (await session.execute(sa.select(AgendaItem).where(AgendaItem.meeting_id == first.id,
                                                                   AgendaItem.removed.is_(False)))).scalars().all()
        assert items, "the draft of the next meeting has items"
        assert {i.kind for i in items} >= {"case"}
        line = await demo_agenda_line(session, base_url=base)
    assert line is not None and f"{base}/web/vergaderingen/{first.id}" in line
    assert f"{len(items)} items" in line and "(draft)" in line

    # A demo database from before (no meetings yet): the next start lays them out and drafts the
    # next agenda once; a draft that exists is left as it is.
    settings = Settings()
    async with owner_db.sessions() as session:
        await session.execute(sa.delete(AgendaItem))
        await session.execute(sa.delete(Meeting))
        assert await prepare_next_agenda(session, settings=settings)
        assert not await prepare_next_agenda(session, settings=settings)
        await session.commit()
        again = (await session.execute(sa.select(Meeting).order_by(Meeting.starts_at))).scalars().first()
        assert again is not None and again.agenda_generated_at is not None


def _decision(world: World, due: str, review: str) -> dict[str, str]:
    police, care = world.orgs["politie"].id, world.orgs["zorg"].id
    return {
        "tekst": "Gezamenlijk huisbezoek; daarna intake bij de verslavingszorg.", "rijen": "2",
        "a0-titel": "Huisbezoek met wijkagent", "a0-leefgebied": "housing", "a0-eigenaar": str(police),
        "a0-uitvoerder": str(world.members["police_liaison"].id), "a0-uiterlijk": due,
        "a0-middel": "", "a0-bedrag": "", "a0-toegezegd": str(world.members["police_member"].id),
        "a1-titel": "Intakegesprek plannen", "a1-leefgebied": "substance_use", "a1-eigenaar": str(care),
        "a1-uitvoerder": str(world.members["care_liaison"].id), "a1-uiterlijk": due,
        "a1-middel": "", "a1-bedrag": "", "a1-toegezegd": str(world.members["care_member"].id),
        "fase": "monitoring", "sluitreden": "", "evaluatiedatum": review,
        "casusregisseur": str(world.members["gemeente_member"].id),
    }


async def test_chair_runs_the_meeting_item_by_item_and_records_a_decision_all_or_nothing(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    meeting = data["meeting"]
    base = f"/web/vergaderingen/{meeting.id}"
    agenda = await publish_agenda_as_chair(browser, web_world, base)
    first, second = item_ids(agenda)
    assert "Vergadering leiden (punt voor punt)" in agenda

    page = await browser.get(f"{base}/vergadering")
    assert page.status_code == 200 and "Punt 1 van 2" in page.text
    assert "Volgend punt" in page.text and "Vorig punt" not in page.text
    assert data["numbers"]["overdue"] in page.text.split('id="punt-kop"')[1].split("</h2>")[0]
    assert "Besluitenlijst publiceren" not in page.text  # only after the last item
    decide = f"{base}/punten/{first}/besluit"
    form = form_of(page.text, decide)
    assert form["weergave"] == "vergadering" and form["rijen"] == "1"
    assert 'name="a1-titel"' not in page.text

    # "Actie toevoegen": the same form again with one more row, what was typed kept, nothing recorded.
    more = await browser.post(decide, data={**form, "knop": "actie-erbij", "tekst": "Huisbezoek",
                                            "a0-titel": "Huisbezoek met wijkagent"})
    assert more.status_code == 200 and 'name="a1-titel"' in more.text
    assert form_of(more.text, decide)["rijen"] == "2" and 'value="Huisbezoek met wijkagent"' in more.text

    due = (clock.today() + timedelta(days=14)).isoformat()
    review = (clock.today() + timedelta(days=42)).isoformat()
    full = _decision(web_world, due, review)

    # Every field checked in one round: both messages, next to their fields and in the summary.
    bad = await browser.post(decide, data={**form, **full, "a1-titel": "", "evaluatiedatum": "2020-01-01"})
    assert bad.status_code == 422
    assert f'id="a1-titel-{first}-fout"' in bad.text and f'id="evaluatiedatum-{first}-fout"' in bad.text
    summary = bad.text.split('class="error-summary"')[1].split("</div>")[0]
    assert f'href="#a1-titel-{first}"' in summary and f'href="#evaluatiedatum-{first}"' in summary
    assert 'value="Huisbezoek met wijkagent"' in bad.text and "Punt 1 van 2" in bad.text

    # The second action's assignee is not of its organisation: the service refuses it, and the
    # first action, the phase change, the review date and the director are not written either.
    wrong = await browser.post(decide, data={**form, **full, "a1-uitvoerder": str(web_world.members["police_member"].id)})
    assert wrong.status_code == 422 and f'id="a1-uitvoerder-{first}-fout"' in wrong.text
    async with owner_db.sessions() as session:
        case = await session.get(Case, data["overdue"].id)
        assert case is not None and case.phase == "active" and case.next_review_date is None
        assert (await session.execute(sa.select(sa.func.count()).select_from(Decision))).scalar_one() == 0
        assert (await session.execute(sa.select(sa.func.count()).select_from(Action).where(
            Action.title == "Huisbezoek met wijkagent"))).scalar_one() == 0

    done = await browser.post(decide, data={**form, **full})
    assert done.status_code == 200 and done.url.path == f"{base}/vergadering"
    assert "is vastgelegd, met 2 acties" in done.text and "Punt 1 van 2" in done.text
    # Recorded: the decision collapsed; another decision on the item only behind a summary.
    assert '<details class="recorded">' in done.text and "Besluit vastgelegd: Gezamenlijk huisbezoek" in done.text
    assert '<details class="decide">' in done.text
    async with owner_db.sessions() as session:
        case = await session.get(Case, data["overdue"].id)
        assert case is not None and case.phase == "monitoring"
        assert case.next_review_date is not None and case.next_review_date.isoformat() == review
        assert case.case_director_id == web_world.members["gemeente_member"].id
        decision = (await session.execute(sa.select(Decision))).scalar_one()
        assert decision.phase_from == "active" and decision.phase_to == "monitoring" and len(decision.action_ids) == 2
        actions = (await session.execute(sa.select(Action).where(Action.id.in_(decision.action_ids)))).scalars().all()
    assert {(a.title, a.owner_organisation_id) for a in actions} == {
        ("Huisbezoek met wijkagent", web_world.orgs["politie"].id), ("Intakegesprek plannen", web_world.orgs["zorg"].id)}
    chair = web_world.members["chair"].subject
    logged = await agenda_rows(owner_db, chair, case_id=data["overdue"].id, action="create")
    assert sorted(r.resource_type for r in logged) == ["action", "action", "decision"]
    assert await agenda_rows(owner_db, chair, case_id=data["overdue"].id, action="update", part="phase")

    # The last item: the list of decisions is published from here once the meeting has begun.
    last = await browser.get(f"{base}/vergadering?punt=2")
    assert "Punt 2 van 2" in last.text and "Vorig punt" in last.text and "Volgend punt" not in last.text
    assert "zodra de vergadering begonnen is" in last.text
    clock.travel(timedelta(hours=1, minutes=5))
    last = await browser.get(f"{base}/vergadering?punt=2")
    publish = f"{base}/besluiten/publiceren"
    published = await browser.post(publish, data=form_of(last.text, publish))
    assert published.status_code == 200 and "De besluitenlijst is gepubliceerd" in published.text
    async with owner_db.sessions() as session:
        held = await session.get(Meeting, meeting.id)
        assert held is not None and held.status == "held" and held.decisions_published_at is not None

    # Meeting mode is the chair's: a liaison is refused (and the refusal logged).
    await sign_in(browser2, web_world, "police_liaison")
    refused = await browser2.get(f"{base}/vergadering")
    assert refused.status_code == 403 and "Geen toegang" in refused.text


async def test_the_decisions_page_shows_items_collapsed_and_opens_the_one_with_an_error(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    base = f"/web/vergaderingen/{data['meeting'].id}"
    agenda = await publish_agenda_as_chair(browser, web_world, base)
    first, second = item_ids(agenda)
    page = await browser.get(f"{base}/besluiten")
    assert page.text.count('<details class="card item"') == 2 and '<details class="card item" id' in page.text
    assert " open>" not in page.text.split('<details class="card item"')[1].split(">")[0] + ">"
    decide = f"{base}/punten/{second}/besluit"
    bad = await browser.post(decide, data={**form_of(page.text, decide), "tekst": ""})
    assert bad.status_code == 422
    assert f'<details class="card item" id="punt-{second}" open>' in bad.text
    assert f'<details class="card item" id="punt-{first}">' in bad.text
    assert f'href="#tekst-{second}"' in bad.text and "autofocus" in bad.text


async def test_a_referral_on_the_agenda_takes_a_text_and_links_to_its_triage(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    async with owner_db.sessions() as session:
        referral = await add_referral(session, web_world, name="Rita Aanmelding", created_at=clock.now())
        await session.commit()
    base = f"/web/vergaderingen/{data['meeting'].id}"
    agenda = await publish_agenda_as_chair(browser, web_world, base)
    items = item_ids(agenda)
    page = None
    for position in range(1, len(items) + 1):
        page = await browser.get(f"{base}/vergadering?punt={position}")
        if f'href="/web/aanmeldingen/{referral.id}"' in page.text:
            break
    else:
        raise AssertionError("the pending referral is not on the draft agenda")
    assert "Aanmelding" in page.text.split('id="punt-kop"')[1].split("</h2>")[0]
    assert 'name="a0-titel"' not in page.text and 'name="fase"' not in page.text  # a text only
    item = page.text.split('id="punt-')[1].split('"')[0]
    decide = f"{base}/punten/{item}/besluit"
    done = await browser.post(decide, data={**form_of(page.text, decide), "tekst": "Eerst een kennismakingsgesprek."})
    assert done.status_code == 200 and "is vastgelegd" in done.text
    # An action sent anyway (a forged form) is refused next to the text; nothing is recorded.
    forged = await browser.post(decide, data={**form_of(page.text, decide), "tekst": "Nog een",
                                              "a0-titel": "Iets doen", "a0-leefgebied": "housing",
                                              "a0-eigenaar": str(web_world.orgs["politie"].id),
                                              "a0-uiterlijk": (clock.today() + timedelta(days=7)).isoformat()})
    assert forged.status_code == 422 and f'id="tekst-{item}-fout"' in forged.text
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Decision))).scalar_one() == 1


async def test_a_refused_agenda_change_shows_a_summary_that_links_to_the_field(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    data = await agenda_world(owner_db, web_world)
    base = f"/web/vergaderingen/{data['meeting'].id}"
    page = await sign_in(browser, web_world, "chair", start=base)
    page = await browser.post(f"{base}/agenda/concept", data=form_of(page.text, f"{base}/agenda/concept"))
    first = item_ids(page.text)[0]
    path = f"{base}/agenda/punten/{first}/tijd"
    bad = await browser.post(path, data={**form_of(page.text, path), "minuten": "tien"})
    assert bad.status_code == 422
    summary = bad.text.split('class="error-summary"')[1].split("</div>")[0]
    assert f'href="#minuten-{first}"' in summary and "Vul een heel aantal minuten in" in summary
    add = f"{base}/agenda/punten"
    missing = await browser.post(add, data={**form_of(page.text, add), "casus": "", "reden": "", "minuten": ""})
    summary = missing.text.split('class="error-summary"')[1].split("</div>")[0]
    assert 'href="#casus"' in summary and 'href="#reden"' in summary
