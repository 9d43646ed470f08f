"""Issue 17, guests: the chair invites a professional of another organisation to one case for a
stated reason until an end date. A guest from GGZ (which reads health natively) reads the case
while the invitation runs, and is refused like a missing case after it; the invitation, every read
(basis guest:<id>), the refusal and the expiry are logged and shown on the case. Bad input writes
nothing and the refusal is logged. Peer supporters and buddies need the client's recorded consent."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.jobs.registry import build_registry
from app.models import Goal, Plan
from tests.agreements_support import create, driepartijen_body, sign_all
from tests.factories import World, add_case, add_mandate
from tests.ring_support import headers_of, invitation_body, invite, outside_organisation

HEALTH_GOAL = "Behandeling van angstklachten naast de GHB-detox"


async def _case(owner_db: Database, world: World, **kwargs: object):
    async with owner_db.sessions() as session:
        case = await add_case(session, world, **kwargs)  # type: ignore[arg-type]
        case.substances = ["ghb"]
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        session.add(Goal(plan_id=plan.id, life_domain="mental_health", description=HEALTH_GOAL))
        await session.commit()
    return case


async def _log(owner_db: Database, where: str, **params: object) -> list:
    async with owner_db.engine.connect() as conn:
        return list((await conn.execute(sa.text(
            "SELECT action, resource_type, basis, outcome, role, part, actor_subject FROM access_log "
            f"WHERE {where} ORDER BY seq"), params)).all())


async def _count(owner_db: Database, table: str) -> int:
    async with owner_db.engine.connect() as conn:
        return int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_ggz_guest_reads_the_case_during_the_invitation_and_is_refused_after_it(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    ggz = await outside_organisation(owner_db, world)
    case = await _case(owner_db, world)
    other = await _case(owner_db, world, name="Els Ander")
    guest = headers_of(world, "ggz", "ggz-behandelaar")

    assert (await client.get(f"/api/v1/cases/{case.id}", headers=guest)).status_code == 401  # not invited: unknown

    created = await invite(client, world, case.id, invitation_body(ggz, days=14))
    assert created.status_code == 201, created.text
    invitation = created.json()
    assert invitation["status"] == "active" and invitation["kind"] == "guest"
    basis = f"guest:{invitation['id']}"

    read = await client.get(f"/api/v1/cases/{case.id}", headers=guest)
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["substances"] == ["ghb"]  # GGZ reads health natively
    assert HEALTH_GOAL in read.text
    assert (await client.get(f"/api/v1/cases/{case.id}/notes", headers=guest)).status_code == 200
    rows = await _log(owner_db, "actor_subject = 'ggz-behandelaar' AND outcome = 'allowed' AND resource_type = 'case'")
    assert rows and all(r.basis == basis and r.role == "guest" for r in rows), rows

    # Only this case, and only reading it.
    listed = await client.get("/api/v1/cases", headers=guest)
    assert [c["id"] for c in listed.json()["items"]] == [str(case.id)]
    assert (await client.get(f"/api/v1/cases/{other.id}", headers=guest)).status_code == 404
    assert (await client.post(f"/api/v1/cases/{case.id}/notes", json={"label": "general", "text": "Hallo"},
                              headers=guest)).status_code == 403
    assert (await client.get(f"/api/v1/cases/{case.id}/history", headers=guest)).status_code == 403
    assert (await client.get(f"/api/v1/cases/{case.id}/guests", headers=guest)).status_code == 403

    clock.travel(timedelta(days=16))
    after = await client.get(f"/api/v1/cases/{case.id}", headers=headers_of(world, "ggz", "ggz-behandelaar"))
    assert after.status_code == 404
    assert after.json()["detail"] == (await client.get(f"/api/v1/cases/{other.id}",
                                                       headers=world.headers("police_member_b"))).json()["detail"]
    assert await _log(owner_db, "actor_subject = 'ggz-behandelaar' AND outcome = 'denied' AND action = 'read' "
                                "AND case_id = :c", c=case.id)
    assert (await client.get("/api/v1/cases", headers=headers_of(world, "ggz", "ggz-behandelaar"))).json()["total"] == 0

    # The expiry is recorded once (the daily expiry job), in the history and the access log.
    job = next(j for j in build_registry(client._transport.app.state.settings)  # type: ignore[attr-defined]
               if j.id == "expiry.warnings")
    app_db = client._transport.app.state.db  # type: ignore[attr-defined]
    assert (await job.func(app_db, clock.now()))["guest_invitations_ended"] == 1
    assert (await job.func(app_db, clock.now()))["guest_invitations_ended"] == 0
    assert await _log(owner_db, "part = 'guest:expired' AND basis = :b", b=basis)
    history = (await client.get(f"/api/v1/cases/{case.id}/history", headers=world.headers("chair"))).json()
    assert any(c["entity_type"] == "guest_invitation" and c["operation"] == "expire" for c in history)

    # Shown on the case: the invitation, its status and the guest's reads and refusal.
    shown = await client.get(f"/api/v1/cases/{case.id}/guests", headers=world.headers("police_member"))
    assert shown.status_code == 200, shown.text
    [item] = shown.json()
    assert item["status"] == "expired" and item["display_name"] == "Sanne Behandelaar"
    outcomes = {r["outcome"] for r in item["reads"]}
    assert outcomes == {"allowed", "denied"}


async def test_bad_invitations_write_nothing_and_their_refusals_are_logged(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    ggz = await outside_organisation(owner_db, world)
    case = await _case(owner_db, world)
    bad = [
        (invitation_body(ggz, reason=""), "/reason"),
        (invitation_body(ggz, reason="   "), "/reason"),
        ({k: v for k, v in invitation_body(ggz).items() if k != "ends_on"}, "/ends_on"),
        (invitation_body(ggz, days=91), "/ends_on"),
        (invitation_body(ggz, days=-1), "/ends_on"),
        (invitation_body(ggz, kind="peer_supporter"), "/consent_agreement_id"),
        (invitation_body(world.orgs["politie"], subject="police_member-sub"), "/subject"),
    ]
    for body, pointer in bad:
        response = await invite(client, world, case.id, body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["pointer"] == pointer
    assert await _count(owner_db, "guest_invitation") == 0
    denied = await _log(owner_db, "resource_type = 'guest_invitation' AND outcome = 'denied'")
    assert len(denied) == len(bad)

    # Only the chair invites; another conference's case reads like a missing one.
    member = await client.post(f"/api/v1/cases/{case.id}/guests", json=invitation_body(ggz),
                               headers=world.headers("care_member"))
    assert member.status_code == 403
    elsewhere = await client.post(f"/api/v1/cases/{case.id}/guests", json=invitation_body(ggz),
                                  headers=world.headers("chair_b"))
    assert elsewhere.status_code == 404
    assert await _count(owner_db, "guest_invitation") == 0


async def test_a_revoked_invitation_ends_the_guests_access_at_once(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    ggz = await outside_organisation(owner_db, world)
    case = await _case(owner_db, world)
    invitation = (await invite(client, world, case.id, invitation_body(ggz))).json()
    guest = headers_of(world, "ggz", "ggz-behandelaar")
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=guest)).status_code == 200
    revoked = await client.post(f"/api/v1/cases/{case.id}/guests/{invitation['id']}/revoke",
                                headers=world.headers("chair"))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=guest)).status_code == 404
    again = await client.post(f"/api/v1/cases/{case.id}/guests/{invitation['id']}/revoke",
                              headers=world.headers("chair"))
    assert again.status_code == 409


async def test_a_guest_of_another_kind_sees_no_health_and_a_peer_supporter_needs_consent(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    work = await outside_organisation(owner_db, world, "werk", "work_income")
    peers = await outside_organisation(owner_db, world, "herstel", "peer_support")
    case = await _case(owner_db, world)
    assert (await invite(client, world, case.id, invitation_body(work, "klantmanager"))).status_code == 201
    read = await client.get(f"/api/v1/cases/{case.id}", headers=headers_of(world, "werk", "klantmanager"))
    assert read.status_code == 200
    assert read.json()["substances"] == [] and read.json()["substances_hidden"] is True
    assert HEALTH_GOAL not in read.text

    async with owner_db.sessions() as session:
        for person in ("gemeente_member", "care_member"):
            await add_mandate(session, world.members[person], "sign_agreements")
        await session.commit()
    agreement = (await create(client, world, case, driepartijen_body(world))).json()["id"]
    draft_consent = invitation_body(peers, "ervaringsdeskundige", kind="peer_supporter", days=200,
                                    consent_agreement_id=agreement)
    assert (await invite(client, world, case.id, draft_consent)).status_code == 422  # not signed yet
    await sign_all(client, world, agreement)
    created = await invite(client, world, case.id, draft_consent)
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "peer_supporter"
    peer = await client.get(f"/api/v1/cases/{case.id}", headers=headers_of(world, "herstel", "ervaringsdeskundige"))
    assert peer.status_code == 200
    assert HEALTH_GOAL not in peer.text  # the consent does not name peer support for health
