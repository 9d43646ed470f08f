"""Races on the "only one" rules (acceptance 1): many concurrent writers leave exactly one row and
exactly one side effect. The database holds each rule (a unique index, or a lock taken before
the check); the flag rule of partner events is in tests/events/test_races.py."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.db import Database, DatabaseUrls
from app.jobs.tasks import draft_agendas
from app.main import create_app
from app.models import AccessLogEntry, AgendaItem, Agreement, ChangeRecord, Membership
from tests.agreements_support import driepartijen_body
from tests.conftest import make_settings
from tests.factories import World, add_action, add_case
from tests.meeting_helpers import NOW, add_meeting, etag

WRITERS = 12


async def count(owner_db: Database, model: Any, *where: Any) -> int:
    async with owner_db.sessions() as session:
        return int(
            (await session.execute(sa.select(sa.func.count()).select_from(model).where(*where))).scalar_one()
        )


async def test_concurrent_drafts_of_one_agreement_make_one(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    body = driepartijen_body(world)
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/cases/{case.id}/agreements", json=body, headers=world.headers("chair"))
          for _ in range(WRITERS))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * (WRITERS - 1), [r.text for r in responses]
    assert await count(owner_db, Agreement, Agreement.case_id == case.id) == 1
    assert await count(owner_db, ChangeRecord, ChangeRecord.entity_type == "agreement") == 1  # one history row


async def test_concurrent_registrations_of_one_membership_make_one(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    body = {"organisation_id": str(world.orgs["politie"].id), "subject": "nieuw-lid", "display_name": "Nieuw Lid",
            "role": "member"}
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/conferences/{world.a.id}/memberships", json=body, headers=world.headers("admin"))
          for _ in range(WRITERS))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * (WRITERS - 1), [r.text for r in responses]
    assert await count(owner_db, Membership, Membership.subject == "nieuw-lid") == 1


async def test_concurrent_agenda_drafts_leave_one_agenda(
    client: httpx.AsyncClient, app: Any, world: World, owner_db: Database
) -> None:
    """The chair regenerating from several tabs while the scheduled job drafts: the meeting row
    is locked first, so the items are one agenda, each case once."""
    clock.freeze(NOW)
    async with owner_db.sessions() as session:
        meeting = await add_meeting(session, world)
        for i in range(3):
            case = await add_case(session, world, name=f"Naam {i}")
            await add_action(session, world, case, due_in_days=-3)  # overdue: on the agenda
        await session.commit()
    url = f"/api/v1/meetings/{meeting.id}/agenda/draft"
    tag = await etag(client, world, meeting.id)
    responses = await asyncio.gather(
        *(client.post(url, headers=world.headers("chair", **{"If-Match": tag})) for _ in range(WRITERS))
    )
    assert sorted(r.status_code for r in responses) == [200] + [412] * (WRITERS - 1)  # one saw that version
    tag = await etag(client, world, meeting.id)
    settings = app.state.settings.model_copy(update={"agenda_draft_days_before": 30})
    results = await asyncio.gather(
        draft_agendas(app.state.db, NOW, settings=settings),
        *(client.post(url, headers=world.headers("chair", **{"If-Match": tag})) for _ in range(WRITERS)),
    )
    assert {r.status_code for r in results[1:]} <= {200, 412}
    async with owner_db.sessions() as session:
        cases = (
            await session.execute(
                sa.select(AgendaItem.case_id).where(
                    AgendaItem.meeting_id == meeting.id, AgendaItem.case_id.is_not(None)  # type: ignore[union-attr]
                )
            )
        ).scalars().all()
    assert len(cases) == 3 and len(set(cases)) == 3, cases


# --- the BSN look-up throttle ------------------------------------------------------------------

LIMIT = 3


@pytest.fixture(scope="module")
async def throttled_app(database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    application = create_app(make_settings(database_urls, tmp_path_factory.mktemp("throttle"), bsn_lookup_limit=LIMIT))
    async with application.router.lifespan_context(application):
        yield application


async def test_a_burst_of_bsn_lookups_passes_the_limit_exactly(
    throttled_app: Any, world: World, owner_db: Database
) -> None:
    transport = httpx.ASGITransport(app=throttled_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        responses = await asyncio.gather(
            *(api.post(f"/api/v1/conferences/{world.a.id}/clients/lookup", json={"bsn": "999993653"},
                       headers=world.headers("chair"))
              for _ in range(WRITERS))
        )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {404: LIMIT, 429: WRITERS - LIMIT}, statuses  # no such BSN: an answer, counted
    flagged = await count(owner_db, AccessLogEntry, AccessLogEntry.part == "bsn:throttled")
    searched = await count(owner_db, AccessLogEntry, AccessLogEntry.part == "bsn", AccessLogEntry.action == "search")
    assert (searched, flagged) == (LIMIT, WRITERS - LIMIT)


# --- one active agreement per template and case --------------------------------------------------


def _signed(case: Any, world: World, starts_on: Any, ends_on: Any, status: str = "signed") -> Agreement:
    text = f"Overeenkomst {starts_on}"
    return Agreement(
        case_id=case.id, conference_id=case.conference_id, template_id="driepartijen", template_version=1,
        template_sha256="0" * 64, title="Driepartijenovereenkomst", status=status, parties={}, commitments={},
        options=[], scope={}, starts_on=starts_on, ends_on=ends_on, rendered_text=text, text_hash="0" * 64,
        created_by_id=world.members["chair"].id,
    )


async def test_two_signed_agreements_of_one_template_never_overlap(world: World, owner_db: Database) -> None:
    from datetime import timedelta

    from sqlalchemy.exc import IntegrityError

    today = clock.today()
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        session.add(_signed(case, world, today - timedelta(days=400), today - timedelta(days=35)))  # expired
        session.add(_signed(case, world, today - timedelta(days=300), today + timedelta(days=30), "superseded"))
        session.add(_signed(case, world, today - timedelta(days=30), today + timedelta(days=300)))  # the active one
        await session.commit()
    with pytest.raises(IntegrityError, match="ex_agreement_one_active"):
        async with owner_db.sessions() as session:
            session.add(_signed(case, world, today + timedelta(days=100), today + timedelta(days=500)))
            await session.commit()
