"""Acceptance 4: the purge anonymises exactly the closed cases past their conference's retention
period, leaves the others untouched, and can be interrupted and resumed; the access log has its
own retention and stays verifiable after old rows are removed."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from app.cli_audit import run_purge
from app.clock import clock
from app.config import Settings
from app.db import Database, DatabaseUrls
from app.jobs.retention import purge_job
from app.models import (
    AgendaItem,
    Case,
    CaseNote,
    Client,
    Conference,
    Decision,
    DiscussionRequest,
    Goal,
    Meeting,
    PartnerEvent,
    Plan,
    Referral,
)
from app.services.cases.clients import bsn_hash, encrypt_bsn
from app.services.privacy import retention as service
from app.services.privacy.verify import verify_chain
from tests.factories import World, add_action, add_case

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
async def app_db(database_urls: DatabaseUrls) -> AsyncIterator[Database]:
    db = Database(database_urls.app, pool_size=2)
    yield db
    await db.dispose()


def _settings(**values: object) -> Settings:
    return Settings(purge_batch_size=1, **values)  # type: ignore[arg-type]


async def _closed_case(
    session, world: World, *, conference=None, name: str = "Jan Testpersoon", client: Client | None = None
) -> Case:
    case = await add_case(session, world, conference=conference, name=name)
    if client is not None:
        orphan = await session.get(Client, case.client_id)
        case.client_id = client.id
        await session.flush()
        await session.delete(orphan)
    case.phase, case.closure_reason, case.closed_at = "closed", "goals_reached", clock.now()
    client_row = await session.get(Client, case.client_id)
    client_row.bsn_ciphertext = encrypt_bsn("111222333", _settings())
    client_row.bsn_hash = bsn_hash(f"{case.id}", _settings())
    session.add(
        CaseNote(
            case_id=case.id,
            author_id=world.members["chair"].id,
            organisation_id=world.orgs["gemeente"].id,
            label="health",
            text="Opname in de kliniek.",
        )
    )
    plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
    session.add(Goal(plan_id=plan.id, life_domain="housing", description="Eigen woning voor Jan."))
    session.add(
        Referral(
            conference_id=case.conference_id,
            client_id=case.client_id,
            case_id=case.id,
            referred_by_id=world.members["chair"].id,
            referring_organisation_id=world.orgs["gemeente"].id,
            reason="Zorgen over Jan.",
            status="accepted",
        )
    )
    await add_action(session, world, case, description="Met Jan naar de woningcorporatie.", note="Jan belde.")
    await session.flush()
    return case


async def _snapshot(owner_db: Database, case_id) -> dict:
    async with owner_db.sessions() as session:
        case = await session.get(Case, case_id)
        client = await session.get(Client, case.client_id)
        notes = (
            (await session.execute(sa.select(CaseNote.text).where(CaseNote.case_id == case_id)))
            .scalars()
            .all()
        )
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case_id))).scalar_one()
        goals = (
            (await session.execute(sa.select(Goal.description).where(Goal.plan_id == plan.id)))
            .scalars()
            .all()
        )
        reasons = (
            (await session.execute(sa.select(Referral.reason).where(Referral.case_id == case_id)))
            .scalars()
            .all()
        )
        actions = (
            await session.execute(
                sa.text(
                    "SELECT title, description, note, life_domain, status FROM action WHERE case_id = :c"
                ),
                {"c": case_id},
            )
        ).all()
        return {
            "name": client.name,
            "dob": client.date_of_birth,
            "bsn": client.bsn_ciphertext,
            "bsn_hash": client.bsn_hash,
            "anonymised_at": client.anonymised_at,
            "notes": list(notes),
            "client_goals": plan.client_goals,
            "goals": list(goals),
            "reasons": list(reasons),
            "actions": [tuple(a) for a in actions],
            "phase": case.phase,
            "substances": list(case.substances),
        }


async def _build(owner_db: Database, world: World) -> dict[str, Case]:
    clock.freeze(T0)
    async with owner_db.sessions() as session:
        await session.execute(
            sa.update(Conference).where(Conference.id == world.b.id).values(retention_days=30)
        )
        cases = {
            "due_a": await _closed_case(session, world, name="Anna Eerst"),
            "due_b": await _closed_case(session, world, conference=world.b, name="Bert Bdorp"),
            "open": await add_case(session, world, name="Otto Open"),
        }
        # A client with a closed case and an open one: the closed case's text goes, the identity stays.
        twice = await _closed_case(session, world, name="Tess Twee")
        cases["due_shared"] = twice
        other = await add_case(session, world, name="placeholder")
        cases["open_shared"] = other
        placeholder = await session.get(Client, other.client_id)
        other.client_id = twice.client_id
        await session.flush()
        await session.delete(placeholder)
        await session.commit()
    clock.travel(timedelta(days=400))
    async with owner_db.sessions() as session:
        cases["recent"] = await _closed_case(session, world, name="Rita Recent")
        await session.commit()
    clock.travel(timedelta(days=331))  # T0 + 731 days: conference A's 730 days have passed for the first ones
    return cases


async def test_purge_anonymises_exactly_the_cases_due_and_resumes_after_interruption(
    world: World, owner_db: Database, app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = await _build(owner_db, world)
    before = {k: await _snapshot(owner_db, c.id) for k, c in cases.items()}
    due = {cases["due_a"].id, cases["due_b"].id, cases["due_shared"].id}

    dry = await purge_job(app_db, _settings(), owner_db=owner_db, dry_run=True)
    assert {d.case_id for d in dry.due_cases} == due
    assert {k: await _snapshot(owner_db, c.id) for k, c in cases.items()} == before

    # Interrupted after the first batch (one case): that batch is kept, nothing half-done.
    real_anonymise = service.anonymise_case
    calls = 0

    async def failing(session, due_case, now):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("power cut")
        return await real_anonymise(session, due_case, now)

    monkeypatch.setattr(service, "anonymise_case", failing)
    with pytest.raises(RuntimeError):
        await purge_job(app_db, _settings(), owner_db=owner_db)
    monkeypatch.setattr(service, "anonymise_case", real_anonymise)
    after_cut = {k: await _snapshot(owner_db, c.id) for k, c in cases.items()}
    changed = {k for k in cases if after_cut[k] != before[k]}
    assert len(changed) == 1 and cases[changed.pop()].id in due

    progress: list[tuple[str, int, int]] = []
    result = await purge_job(
        app_db,
        _settings(),
        owner_db=owner_db,
        progress=lambda what, done, total: progress.append((what, done, total)),
    )
    assert result.cases_anonymised == 2
    assert progress == [("cases", 1, 2), ("cases", 2, 2)]
    after = {k: await _snapshot(owner_db, c.id) for k, c in cases.items()}

    for key in ("due_a", "due_b"):
        gone = after[key]
        assert (
            gone["name"] is None and gone["dob"] is None and gone["bsn"] is None and gone["bsn_hash"] is None
        )
        assert gone["anonymised_at"] is not None
        assert gone["notes"] == ["[verwijderd]"] and gone["goals"] == ["[verwijderd]"]
        assert gone["client_goals"] == "" and gone["reasons"] == ["[verwijderd]"]
        # Pseudonymous figures stay for statistics: life domain, status, phase.
        assert gone["actions"] == [("[verwijderd]", "", "", "housing", "open")]
        assert gone["phase"] == "closed"
    shared = after["due_shared"]
    assert (
        shared["notes"] == ["[verwijderd]"]
        and shared["name"] == "Tess Twee"
        and shared["anonymised_at"] is None
    )
    for key in ("open", "recent", "open_shared"):
        assert after[key] == before[key], key

    # Running again changes nothing; the purge wrote one log row per case and per client.
    again = await purge_job(app_db, _settings(), owner_db=owner_db)
    assert again.cases_anonymised == 0 and again.due_cases == []
    async with owner_db.sessions() as session:
        rows = (
            await session.execute(
                sa.text(
                    "SELECT resource_type, count(*) FROM access_log WHERE actor_subject = 'retention-purge' "
                    "GROUP BY resource_type"
                )
            )
        ).all()
        assert dict(rows) == {"case": 3, "client": 2}
        assert (await verify_chain(session)).ok


async def test_negative_retention_is_refused_and_nothing_changes(
    world: World, owner_db: Database, app_db: Database, database_urls: DatabaseUrls
) -> None:
    cases = await _build(owner_db, world)
    async with owner_db.sessions() as session:
        await session.execute(
            sa.update(Conference).where(Conference.id == world.b.id).values(retention_days=-5)
        )
        await session.commit()
    before = await _snapshot(owner_db, cases["due_a"].id)
    with pytest.raises(service.RetentionError, match="negative retention"):
        await purge_job(app_db, _settings(), owner_db=owner_db)
    assert await _snapshot(owner_db, cases["due_a"].id) == before
    out, err = io.StringIO(), io.StringIO()
    code = await run_purge(
        database_urls, _settings(), dry_run=False, log_retention_days=None, out=out, err=err
    )
    assert code == 2 and "negative retention" in err.getvalue()
    with pytest.raises(service.RetentionError):
        await purge_job(app_db, _settings(), owner_db=owner_db, log_retention_days=-1)
    assert await _snapshot(owner_db, cases["due_a"].id) == before


async def test_cli_dry_run_lists_and_real_run_reports_progress(
    world: World, owner_db: Database, database_urls: DatabaseUrls
) -> None:
    cases = await _build(owner_db, world)
    out, err = io.StringIO(), io.StringIO()
    assert (
        await run_purge(database_urls, _settings(), dry_run=True, log_retention_days=None, out=out, err=err)
        == 0
    )
    text = out.getvalue()
    assert "3 closed case(s)" in text and str(cases["due_a"].id) in text and str(cases["open"].id) not in text
    # item by item, each numbered, before the summary
    assert [line.split(" would")[0].strip() for line in text.splitlines() if "would anonymise case" in line] == [
        "1/3", "2/3", "3/3"]
    assert "Anna" not in text
    out = io.StringIO()
    assert (
        await run_purge(database_urls, _settings(), dry_run=False, log_retention_days=None, out=out, err=err)
        == 0
    )
    assert "closed cases anonymised: 3/3" in out.getvalue()
    assert "3 case(s) and 2 client(s) anonymised" in out.getvalue()


async def test_log_rows_past_their_retention_are_removed_and_the_chain_still_verifies(
    client: httpx.AsyncClient, world: World, owner_db: Database, app_db: Database
) -> None:
    clock.freeze(T0)
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    headers = world.headers("police_member")
    for _ in range(3):
        await client.get(f"/api/v1/cases/{case.id}", headers=headers)
    clock.travel(timedelta(days=3 * 365))
    for _ in range(2):
        await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))
    clock.travel(timedelta(days=2 * 365 + 5))  # the first three are past 1826 days, the others not

    settings = _settings()
    dry = await purge_job(app_db, settings, owner_db=owner_db, dry_run=True)
    assert dry.log_rows_due == 3
    result = await purge_job(app_db, settings, owner_db=owner_db)
    assert result.log_rows_removed == 3
    async with owner_db.sessions() as session:
        left = (await session.execute(sa.text("SELECT count(*) FROM access_log"))).scalar_one()
        assert left == 2
        report = await verify_chain(session)
        assert report.ok and report.rows_checked == 2
    # New rows chain on; and when every row has gone, the next one links to the anchor.
    await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))
    clock.travel(timedelta(days=6 * 365))
    result = await purge_job(app_db, settings, owner_db=owner_db)
    assert result.log_rows_removed == 3
    await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))
    async with owner_db.sessions() as session:
        report = await verify_chain(session)
        assert report.ok and report.rows_checked == 1
    # Removing the oldest rows by hand (not through the purge, so without an anchor) is detected:
    # a list writes two rows in one transaction, so in one chain; the first one goes.
    async with owner_db.sessions() as session:
        await add_case(session, world)
        await session.commit()
    assert (await client.get("/api/v1/cases", headers=world.headers("police_member"))).status_code == 200
    async with owner_db.engine.begin() as conn:
        listed = (
            await conn.execute(sa.text("SELECT seq FROM access_log WHERE action = 'list' ORDER BY seq"))
        ).all()
        await conn.execute(sa.text("DELETE FROM access_log WHERE seq <= :s"), {"s": listed[0].seq})
    async with owner_db.sessions() as session:
        report = await verify_chain(session)
        assert not report.ok and report.first_broken_seq == listed[1].seq


async def test_purge_also_removes_free_text_of_meetings_events_and_agreements(
    world: World, owner_db: Database, app_db: Database
) -> None:
    """What other areas keep about a case goes too: discussion requests, decision texts, the
    free-text details of agenda reasons, partner events' data, agreement texts and commitments."""
    clock.freeze(T0)
    async with owner_db.sessions() as session:
        case = await _closed_case(session, world, name="Vera Vrij")
        await session.commit()
    async with owner_db.sessions() as session:
        request = DiscussionRequest(conference_id=world.a.id, case_id=case.id,
                                    requested_by_id=world.members["police_member"].id,
                                    organisation_id=world.orgs["politie"].id, reason="Vera belde over haar terugval.")
        meeting = Meeting(conference_id=world.a.id, starts_at=T0, ends_at=T0 + timedelta(hours=2), status="held",
                          agenda_status="published")
        session.add_all([request, meeting])
        await session.flush()
        item = AgendaItem(meeting_id=meeting.id, kind="case", case_id=case.id,
                          reasons=[{"code": "request", "text": "Verzoek", "detail": "Vera belde."}])
        session.add(item)
        await session.flush()
        decision = Decision(meeting_id=meeting.id, agenda_item_id=item.id, case_id=case.id,
                            text="Vera gaat naar de kliniek.", decided_by_id=world.members["chair"].id)
        event = PartnerEvent(organisation_id=world.orgs["politie"].id, source="bvh", event_id="e-1",
                             type="police_contact", subject_reference="REF-1", client_id=case.client_id,
                             case_id=case.id, occurred_at=T0, label="justice", severity="medium",
                             data={"toelichting": "Vera op straat aangetroffen."}, payload_hash="x")
        session.add_all([decision, event])
        await session.commit()
        request_id, item_id, decision_id, event_id = request.id, item.id, decision.id, event.id
    clock.travel(timedelta(days=731))
    await purge_job(app_db, _settings())
    async with owner_db.engine.begin() as conn:
        texts = (await conn.execute(sa.text(
            "SELECT (SELECT reason FROM discussion_request WHERE id = :r), (SELECT text FROM decision WHERE id = :d), "
            "(SELECT reasons::text FROM agenda_item WHERE id = :i), (SELECT data::text FROM partner_event WHERE id = :e)"),
            {"r": request_id, "d": decision_id, "i": item_id, "e": event_id})).one()
    assert all("Vera" not in text for text in texts), texts
    assert '"Verzoek"' in texts[2]  # the reason's code and fixed text stay for the statistics
