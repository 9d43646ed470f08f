"""Issue 15 on the web client's case page and case list: the timeline (open flags and partner
events, hidden items shown as hidden), the intake checklist and the reader's own organisation's
client reference, each read through the API's read path so the access log is written; and the
case list's filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import AccessLogEntry, CaseFlag, ClientReference, PartnerEvent
from tests.factories import World, add_case
from tests.web.conftest import WebServer
from tests.web.test_web import sign_in


@pytest.fixture
async def browser(web_server: WebServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web_server.base, follow_redirects=True, timeout=20) as c:
        yield c


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
