"""Issue 15 on the web client's case page and case list: the timeline (open flags and partner
events, hidden items shown as hidden), the intake checklist and the reader's own organisation's
client reference, each read through the API's read path so the access log is written; and the
case list's filters."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import AccessLogEntry, CaseFlag, ClientReference, PartnerEvent
from tests.factories import World, add_case
from tests.web.conftest import WebServer, browsing, sign_in


async def _case_with_signals(owner_db: Database, world: World) -> tuple[str, str]:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        now = clock.now()
        session.add(PartnerEvent(organisation_id=world.orgs["zorg"].id, source="urn:zorg", event_id="ev-web-1",
                                 type="relapse", subject_reference="ZRG-W1", client_id=case.client_id,
                                 case_id=case.id, occurred_at=now - timedelta(hours=2), label="health",
                                 severity="high", data={"substances": ["ghb"]}, payload_hash="0" * 64))
        session.add(PartnerEvent(organisation_id=world.orgs["politie"].id, source="urn:politie",
                                 event_id="ev-web-2", type="nuisance_report", subject_reference="BVH-W1",
                                 client_id=case.client_id, case_id=case.id, occurred_at=now - timedelta(hours=1),
                                 label="general", severity="low", data={}, payload_hash="1" * 64))
        session.add(CaseFlag(case_id=case.id, kind="relapse", reason="Relapse reported by a partner", label="health"))
        session.add(ClientReference(client_id=case.client_id, organisation_id=world.orgs["zorg"].id,
                                    reference="ZRG-W1"))
        session.add(ClientReference(client_id=case.client_id, organisation_id=world.orgs["politie"].id,
                                    reference="BVH-W1"))
        await session.commit()
        return str(case.id), str(case.client_id)


async def test_case_page_shows_timeline_checklist_and_own_reference(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id, _client = await _case_with_signals(owner_db, web_world)
    page = await sign_in(browser, web_world, "care_member", start=f"/web/casussen/{case_id}")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    # The order of the sections: timeline, checklist, reference.
    assert text.index("Signalen en tijdlijn") < text.index("Intakechecklist") < text.index(
        "Cliëntnummer bij uw organisatie")
    # Addiction care reads health natively: the flag's Dutch reason and both events.
    assert "Terugval gemeld door een ketenpartner" in text
    assert "Relapse reported" not in text
    assert "<strong>Terugval</strong>" in text and "<strong>Melding van overlast</strong>" in text
    assert "2 signalen" in text
    # The checklist, with the automatic item answered (a case director is named).
    assert "Casusregisseur benoemd" in text and "Cliënt geïnformeerd over de aanpak" in text
    assert "van 6 punten gedaan" in text
    # Only the reader's own organisation's reference.
    assert "ZRG-W1" in text and "BVH-W1" not in text
    async with owner_db.sessions() as session:
        parts = set((await session.execute(
            sa.select(AccessLogEntry.resource_type, AccessLogEntry.part).where(
                AccessLogEntry.case_id == sa.cast(case_id, sa.Uuid), AccessLogEntry.outcome == "allowed")
        )).all())
    assert {("case", "events"), ("case", "flags"), ("checklist", None), ("client_reference", "reference")} <= parts


async def test_police_member_sees_the_health_flag_and_event_as_hidden(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    case_id, _client = await _case_with_signals(owner_db, web_world)
    page = await sign_in(browser, web_world, "police_member", start=f"/web/casussen/{case_id}")
    assert page.status_code == 200, page.text[:500]
    text = page.text
    timeline = text[text.index("Signalen en tijdlijn"):text.index("Intakechecklist")]
    assert timeline.count("afgeschermd") == 2  # the health flag and the health event
    assert "Terugval" not in timeline and "ghb" not in text and "(gezondheid)" not in timeline
    assert "<strong>Melding van overlast</strong>" in timeline  # the general event is shown
    assert "BVH-W1" in text and "ZRG-W1" not in text


async def test_case_list_filters_narrow_the_list(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient
) -> None:
    """Signal, overdue actions, my organisation's actions, next review before a date and client
    number each narrow the list to the one case that matches."""
    from app.models import Client
    from tests.factories import add_action

    async with owner_db.sessions() as session:
        flagged = await add_case(session, web_world)
        session.add(CaseFlag(case_id=flagged.id, kind="relapse", reason="Relapse reported by a partner"))
        cleared = await add_case(session, web_world)
        session.add(CaseFlag(case_id=cleared.id, kind="detention", reason="Detention", cleared_at=clock.now()))
        late = await add_case(session, web_world)
        await add_action(session, web_world, late, owner="zorg", due_in_days=-3)
        police = await add_case(session, web_world)
        await add_action(session, web_world, police, owner="politie", due_in_days=10)
        await add_action(session, web_world, police, owner="politie", due_in_days=-10, status="done")
        review = await add_case(session, web_world)
        review.next_review_date = clock.today() + timedelta(days=5)
        later = await add_case(session, web_world)
        later.next_review_date = clock.today() + timedelta(days=40)
        await session.flush()
        numbers = {c.id: (await session.get(Client, c.client_id)).client_number  # type: ignore[union-attr]
                   for c in (flagged, cleared, late, police, review, later)}
        await session.commit()

    def shown(text: str) -> set:
        return {case_id for case_id, number in numbers.items() if number in text}

    page = await sign_in(browser, web_world, "police_member", start="/web/casussen")
    assert page.status_code == 200 and shown(page.text) == set(numbers)
    assert shown((await browser.get("/web/casussen?signaal=1")).text) == {flagged.id}
    assert shown((await browser.get("/web/casussen?te_laat=1")).text) == {late.id}
    assert shown((await browser.get("/web/casussen?mijn_organisatie=1")).text) == {police.id}
    before = (clock.today() + timedelta(days=10)).isoformat()
    assert shown((await browser.get(f"/web/casussen?evaluatie_voor={before}")).text) == {review.id}
    number = numbers[later.id]
    found = await browser.get(f"/web/casussen?clientnummer={number.lower()}")
    assert shown(found.text) == {later.id} and "1 casus" in found.text
    none = await browser.get("/web/casussen?signaal=1&te_laat=1")
    assert shown(none.text) == set() and "die aan deze filters voldoen" in none.text
    wrong = await browser.get("/web/casussen?evaluatie_voor=morgen")
    assert wrong.status_code == 422 and "Geef een geldige datum" in wrong.text
    assert 'aria-invalid="true"' in wrong.text


async def test_case_page_shows_decisions_and_phase_changes(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, web_server: WebServer
) -> None:
    """The conference's decisions on the case (members: once the list is published) and its phase
    changes from the case history (chair and members; a liaison sees the decisions only)."""
    from app.models import AgendaItem, ChangeRecord, Decision
    from tests.meeting_helpers import add_meeting

    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        published = await add_meeting(session, web_world, starts_at=clock.now() - timedelta(days=7))
        published.decisions_published_at = clock.now() - timedelta(days=7)
        draft = await add_meeting(session, web_world, starts_at=clock.now() - timedelta(hours=2))
        for meeting, text in ((published, "Huisbezoek door de wijkagent"), (draft, "Nog niet gepubliceerd besluit")):
            item = AgendaItem(meeting_id=meeting.id, kind="case", case_id=case.id)
            session.add(item)
            await session.flush()
            session.add(Decision(meeting_id=meeting.id, agenda_item_id=item.id, case_id=case.id, text=text,
                                 decided_by_id=web_world.members["chair"].id))
        session.add(ChangeRecord(case_id=case.id, entity_type="case", entity_id=case.id, version=2,
                                 operation="update", actor_issuer="test", actor_subject="chair",
                                 actor_name="Voorzitter Test", organisation_id=web_world.orgs["gemeente"].id,
                                 changes={"phase": {"from": "active", "to": "monitoring"}}))
        await session.commit()
        case_id = str(case.id)
    page = await sign_in(browser, web_world, "care_member", start=f"/web/casussen/{case_id}")
    assert page.status_code == 200, page.text[:500]
    assert "Huisbezoek door de wijkagent" in page.text and "Nog niet gepubliceerd besluit" not in page.text
    assert "Fasewijzigingen" in page.text and "Plan in uitvoering → Monitoren en nazorg" in page.text
    async with browsing(web_server) as chair:
        seen = await sign_in(chair, web_world, "chair", start=f"/web/casussen/{case_id}")
        assert "Nog niet gepubliceerd besluit" in seen.text
    async with browsing(web_server) as liaison:
        seen = await sign_in(liaison, web_world, "police_liaison", start=f"/web/casussen/{case_id}")
        assert "Huisbezoek door de wijkagent" in seen.text and "Fasewijzigingen" not in seen.text
