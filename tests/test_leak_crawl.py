"""Issue 11, acceptance 1 and 2: crawl every GET route of the API, and every page of the web
client, as the police (member and liaison), a partner system and the neighbourhood team, with ids
filled from what the chair sees, and look for the health-labelled texts of the seeded case in every
answer: JSON, HTML, PDF text, iCalendar. No basis gives them health: none may appear. After a
three-party agreement that shares health with the police, the police see them; after the client
withdraws that consent, they are hidden again on the next request."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from app.clock import clock
from app.db import Database
from app.models import Action, CaseNote, Goal, PartnerEvent, Plan
from tests.agreements_support import create, driepartijen_body, sign_all
from tests.factories import World, add_case, add_mandate
from tests.meeting_helpers import add_flag, add_meeting, chair_post
from tests.referrer_support import add_gp_referrer
from tests.ring_support import headers_of, invitation_body, invite, outside_organisation
from tests.routes import gets_with_ids

GOAL = "Klinische opname voor GHB-detox regelen"
ACTION = "Intake ambulante behandeling cocaïne"
NOTE = "Terugval in GHB-gebruik besproken met de behandelaar"
FLAG = "Overdosis GHB na ontslag uit de kliniek"
EVENT = "opname-afdeling-detox"
# What the agenda writes for a health flag; the issue found these in the chair's agenda.
AGENDA = ("Overdosis gemeld op", "Terugval gemeld op")
HEALTH_TEXTS = (GOAL, ACTION, NOTE, FLAG, EVENT, '"ghb"', *AGENDA)

READERS = ("police_member", "police_liaison", "wijkteam_member", "police_system")


async def _seed(owner_db: Database, world: World) -> dict[str, Any]:
    now = clock.now()
    async with owner_db.sessions() as session:
        meeting = await add_meeting(session, world, starts_at=now + timedelta(days=2))
        case = await add_case(session, world)
        case.substances = ["ghb"]
        for person in ("gemeente_member", "care_member"):  # who sign the three-party agreement
            await add_mandate(session, world.members[person], "sign_agreements")
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        session.add(Goal(plan_id=plan.id, life_domain="substance_use", description=GOAL))
        session.add(Goal(plan_id=plan.id, life_domain="housing", description="Een eigen woning"))
        action = Action(case_id=case.id, conference_id=case.conference_id, title=ACTION, life_domain="substance_use",
                        owner_organisation_id=world.orgs["zorg"].id, due_date=clock.today() + timedelta(days=3),
                        committed_by_id=world.members["care_member"].id,
                        assignee_id=world.members["care_liaison"].id)
        session.add(action)
        session.add(CaseNote(case_id=case.id, author_id=world.members["care_member"].id,
                             organisation_id=world.orgs["zorg"].id, label="health", text=NOTE))
        session.add(PartnerEvent(organisation_id=world.orgs["zorg"].id, source="urn:zorg", event_id="e-1",
                                 type="admission", subject_reference="ZORG-1", client_id=case.client_id,
                                 case_id=case.id, occurred_at=now - timedelta(days=1), label="health",
                                 severity="high", data={"ward": EVENT, "substances": ["ghb"]},
                                 payload_hash="0" * 64))
        await session.commit()
    await add_flag(owner_db, case.id, "overdose", now - timedelta(hours=5), reason=FLAG, label="health")
    return {"case": case, "action": action, "meeting": meeting}


async def _chair_builds_the_agenda(client: httpx.AsyncClient, world: World, meeting_id: uuid.UUID) -> None:
    draft = await chair_post(client, world, meeting_id, "/agenda/draft")
    assert draft.status_code == 200, draft.text
    assert any(i["kind"] == "case" for i in draft.json()["items"]), draft.text
    published = await chair_post(client, world, meeting_id, "/agenda/publish")
    assert published.status_code == 200, published.text


def _ids(world: World, seeded: dict[str, Any], agreement_id: str | None) -> dict[str, str]:
    case = seeded["case"]
    return {
        "case_id": str(case.id), "action_id": str(seeded["action"].id), "meeting_id": str(seeded["meeting"].id),
        "conference_id": str(world.a.id), "agreement_id": agreement_id or str(uuid.uuid4()),
    }


def _text(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/pdf"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.content)).pages)
    return response.text


async def _crawl(client: httpx.AsyncClient, app: FastAPI, world: World, reader: str,
                 ids: dict[str, str], headers: dict[str, str] | None = None,
                 texts: tuple[str, ...] = HEALTH_TEXTS) -> dict[str, list[str]]:
    """Health texts found per route; also the routes visited, to prove the crawl covered them."""
    found: dict[str, list[str]] = {}
    headers = headers or world.headers(reader)
    # routes of objects without client data (organisations, subscriptions, log rows): no id in `ids`
    for path, url in gets_with_ids(app, "/api/v1", ids):
        response = await client.get(url, headers=headers)
        assert response.status_code < 500, f"{reader} GET {url}: {response.status_code} {response.text[:300]}"
        text = _text(response)
        found[path] = [t for t in texts if t in text]
    # Notifications and webhook payloads are ids only: they are among the routes above
    # (/me/notifications) and the outbox rows checked by the caller.
    return found


def _leaks(found: dict[str, list[str]]) -> dict[str, list[str]]:
    return {path: texts for path, texts in found.items() if texts}


async def test_no_health_text_reaches_police_wijkteam_or_a_partner_system(
    client: httpx.AsyncClient, app: FastAPI, world: World, owner_db: Database
) -> None:
    seeded = await _seed(owner_db, world)
    await _chair_builds_the_agenda(client, world, seeded["meeting"].id)
    ids = _ids(world, seeded, None)
    chair_view = await _crawl(client, app, world, "care_member", ids)
    assert _leaks(chair_view), "the crawl must reach the texts at all (care sees them natively)"
    for reader in READERS:
        found = await _crawl(client, app, world, reader, ids)
        assert len(found) > 20, f"{reader}: the crawl visited too few routes"
        assert _leaks(found) == {}, reader
    async with owner_db.engine.connect() as conn:
        payloads = " ".join(str(r[0]) for r in await conn.execute(sa.text("SELECT payload FROM outbox_message")))
        notifications = " ".join(str(r) for r in await conn.execute(sa.text("SELECT * FROM notification")))
    assert not [t for t in HEALTH_TEXTS if t in payloads + notifications]


async def test_consent_opens_health_to_the_police_and_its_withdrawal_closes_it(
    client: httpx.AsyncClient, app: FastAPI, world: World, owner_db: Database
) -> None:
    seeded = await _seed(owner_db, world)
    created = await create(client, world, seeded["case"], driepartijen_body(world))
    assert created.status_code == 201, created.text
    agreement_id = created.json()["id"]
    await sign_all(client, world, agreement_id)
    ids = _ids(world, seeded, agreement_id)

    shared = set().union(*_leaks(await _crawl(client, app, world, "police_member", ids)).values())
    assert {GOAL, ACTION, NOTE, FLAG, EVENT} <= shared
    assert not _leaks(await _crawl(client, app, world, "wijkteam_member", ids))  # not named in the consent

    withdrawn = await client.post(f"/api/v1/agreements/{agreement_id}/withdrawals",
                                  json={"whole": False, "label": "health", "organisation_kinds": ["police"]},
                                  headers=world.headers("care_member"))
    assert withdrawn.status_code == 201, withdrawn.text
    assert _leaks(await _crawl(client, app, world, "police_member", ids)) == {}


async def test_guests_see_only_what_their_invitation_and_kind_give(
    client: httpx.AsyncClient, app: FastAPI, world: World, owner_db: Database
) -> None:
    """Issue 17: guests in the crawl. A guest of work and income invited to the case, a GGZ guest
    invited to another case, and a GGZ guest whose invitation ended find no health text anywhere;
    a GGZ guest during the invitation does (GGZ reads health natively), so the crawl reaches it."""
    seeded = await _seed(owner_db, world)
    await _chair_builds_the_agenda(client, world, seeded["meeting"].id)
    ids = _ids(world, seeded, None)
    ggz = await outside_organisation(owner_db, world)
    work = await outside_organisation(owner_db, world, "werk", "work_income")
    async with owner_db.sessions() as session:
        other = await add_case(session, world, name="Els Ander")
        await session.commit()
    case_id = seeded["case"].id
    for org, subject, on_case, days in ((work, "klantmanager", case_id, 30), (ggz, "ggz-elders", other.id, 30),
                                        (ggz, "ggz-tijdelijk", case_id, 1), (ggz, "ggz-nu", case_id, 30)):
        response = await invite(client, world, on_case, invitation_body(org, subject, days=days))
        assert response.status_code == 201, response.text

    native = await _crawl(client, app, world, "ggz-nu", ids, headers_of(world, "ggz", "ggz-nu"))
    assert GOAL in set().union(*_leaks(native).values()), "the crawl must reach the case as a guest"
    clock.travel(timedelta(days=3))  # the one-day invitation has ended
    for slug, subject in (("werk", "klantmanager"), ("ggz", "ggz-elders"), ("ggz", "ggz-tijdelijk")):
        found = await _crawl(client, app, world, subject, ids, headers_of(world, slug, subject))
        assert len(found) > 20, f"{subject}: the crawl visited too few routes"
        assert _leaks(found) == {}, subject


async def test_a_referrer_sees_nothing_of_any_case(
    client: httpx.AsyncClient, app: FastAPI, world: World, owner_db: Database
) -> None:
    """Issue 17, acceptance 3: a general practice's practice nurse (a referrer) crawls every GET
    route with the ids the care member uses. A general practice reads health natively, so any
    case access would show the texts; the referrer sees none of them, nor the client's name, nor
    the case's client number (their own referral is the only client data they see)."""
    seeded = await _seed(owner_db, world)
    await _chair_builds_the_agenda(client, world, seeded["meeting"].id)
    async with owner_db.sessions() as session:
        poh = await add_gp_referrer(session, world)
        await session.commit()
        number = (await session.execute(sa.text("SELECT client_number FROM client WHERE id = :i"),
                                        {"i": seeded["case"].client_id})).scalar_one()
    own = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", headers=poh.headers(),
                            json={"client": {"name": "Karin Linde", "date_of_birth": "1979-04-12"},
                                  "reason": "Zorgen om alcoholgebruik."})
    assert own.status_code == 201, own.text
    ids = {**_ids(world, seeded, None), "referral_id": own.json()["id"]}
    texts = (*HEALTH_TEXTS, "Jan Testpersoon", number)
    found = await _crawl(client, app, world, "referrer", ids, headers=poh.headers(), texts=texts)
    assert len(found) > 20, "the crawl visited too few routes"
    assert _leaks(found) == {}
    # ... while their own referral's status is there for them.
    status = await client.get(f"/api/v1/referrals/{own.json()['id']}", headers=poh.headers())
    assert status.status_code == 200 and status.json()["status"] == "pending"


async def test_policy_staff_reach_no_case_and_no_client(
    client: httpx.AsyncClient, app: FastAPI, world: World, owner_db: Database
) -> None:
    """Issue 18: the municipality's policy staff read aggregates only. Every route that names an
    object of a case (the case, its action, agreement, meeting) answers 403 or 404; no answer of
    any GET route holds the client's number or name or a health text; the outcome figures answer."""
    seeded = await _seed(owner_db, world)
    await _chair_builds_the_agenda(client, world, seeded["meeting"].id)
    ids = _ids(world, seeded, None)
    async with owner_db.engine.connect() as conn:
        number = (await conn.execute(sa.text("SELECT client_number FROM client WHERE id = :i"),
                                     {"i": seeded["case"].client_id})).scalar_one()
    secrets = (*HEALTH_TEXTS, number, "Jan Testpersoon")
    headers = world.headers("policy_staff")
    visited, opened, leaks = 0, [], {}
    for path, url in gets_with_ids(app, "/api/v1", ids):
        response = await client.get(url, headers=headers)
        visited += 1
        assert response.status_code < 500, f"{path}: {response.status_code}"
        if set(re.findall(r"{(\w+)}", path)) - {"conference_id"} and response.status_code not in (403, 404):
            opened.append(f"{path}: {response.status_code}")
        found = [t for t in secrets if t in _text(response)]
        if found:
            leaks[path] = found
    assert visited > 20
    assert opened == [] and leaks == {}
    figures = await client.get(f"/api/v1/conferences/{world.a.id}/outcomes", headers=headers)
    assert figures.status_code == 200, figures.text
