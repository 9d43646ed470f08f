"""Acceptance 3: scheduled work runs each slot once across instances; missed slots are caught up
once (coalesced); the jobs themselves do what they promise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.jobs.registry import JobSpec, build_registry
from app.jobs.runner import catch_up, run_slot
from app.jobs.schedule import Daily, Every
from app.jobs.scheduler import create_scheduler
from app.main import create_app
from app.models import AgendaItem, Conference, JobRun, Meeting, Notification
from tests.conftest import make_settings
from tests.factories import World, add_action, add_case, add_mandate
from tests.meeting_helpers import add_meeting


def _counting_job(job_id: str, schedule, calls: list, *, pause: float = 0.05) -> JobSpec:
    async def work(db: Database, slot: datetime) -> dict:
        calls.append(slot)
        await asyncio.sleep(pause)
        return {"n": 1}

    return JobSpec(job_id, schedule, work)


async def _runs(owner_db, job_id: str) -> list:
    async with owner_db.sessions() as s:
        return list(
            (
                await s.execute(sa.select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.slot))
            ).scalars()
        )


async def test_two_callers_on_separate_connections_run_each_slot_once(database_urls, owner_db) -> None:
    one, two = Database(database_urls.app, pool_size=2), Database(database_urls.app, pool_size=2)
    calls: list = []
    job = _counting_job("test.concurrent", Every(60), calls, pause=0.1)
    try:
        slots = [datetime(2026, 3, 10, 12, minute, tzinfo=UTC) for minute in range(5)]
        for slot in slots:
            results = await asyncio.gather(
                run_slot(one, job, slot, instance="replica-1"), run_slot(two, job, slot, instance="replica-2")
            )
            assert sorted(results) == [False, True]
    finally:
        await one.dispose()
        await two.dispose()
    runs = await _runs(owner_db, "test.concurrent")
    assert calls == slots
    assert [r.slot for r in runs] == slots
    assert all(r.outcome == "ok" and r.finished_at is not None for r in runs)


async def test_two_schedulers_run_each_due_slot_once(app, owner_db, database_urls, tmp_path) -> None:
    calls: list = []
    job = _counting_job("test.tick", Every(1), calls, pause=0.2)
    settings = make_settings(database_urls, tmp_path)
    one, two = Database(database_urls.app, pool_size=2), Database(database_urls.app, pool_size=2)
    schedulers = [
        create_scheduler(one, settings.model_copy(update={"scheduler_instance_id": "replica-1"}), jobs=[job]),
        create_scheduler(two, settings.model_copy(update={"scheduler_instance_id": "replica-2"}), jobs=[job]),
    ]
    try:
        for scheduler in schedulers:
            scheduler.start()
        await asyncio.sleep(3.5)
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=False)
        await asyncio.sleep(0.5)  # let a run in flight finish its bookkeeping
        await one.dispose()
        await two.dispose()
    runs = await _runs(owner_db, "test.tick")
    assert len(calls) >= 2
    assert len(calls) == len(set(calls)) == len(runs)
    assert sorted(calls) == [r.slot for r in runs]
    assert {r.instance for r in runs} <= {"replica-1", "replica-2"}


async def test_missed_slots_are_caught_up_once_coalesced(owner_db, app) -> None:
    db = app.state.db
    calls: list = []
    job = _counting_job("test.daily", Daily(time(6, 0), ZoneInfo("Europe/Amsterdam")), calls, pause=0)
    clock.freeze(datetime(2026, 3, 10, 14, 0, tzinfo=UTC))
    assert await catch_up(db, [job]) == ["test.daily"]
    assert await catch_up(db, [job]) == []  # a restart the same day: nothing to catch up
    clock.travel(timedelta(days=3))  # down for three days: one run for the latest missed slot
    assert await catch_up(db, [job]) == ["test.daily"]
    assert calls == [datetime(2026, 3, 10, 5, 0, tzinfo=UTC), datetime(2026, 3, 13, 5, 0, tzinfo=UTC)]
    assert len(await _runs(owner_db, "test.daily")) == 2


async def test_a_failing_job_keeps_its_claim_and_is_not_rerun_for_that_slot(owner_db, app) -> None:
    async def boom(db: Database, slot: datetime) -> dict:
        raise RuntimeError("partner down")

    job = JobSpec("test.fails", Every(60), boom)
    slot = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert await run_slot(app.state.db, job, slot) is True
    assert await run_slot(app.state.db, job, slot) is False
    [run] = await _runs(owner_db, "test.fails")
    assert run.outcome == "failed" and run.result == {"error": "RuntimeError"}


def _job(app, job_id: str) -> JobSpec:
    return next(j for j in build_registry(app.state.settings) if j.id == job_id)


async def test_reminders_for_overdue_and_due_soon_actions_once_a_day(
    app, client, world: World, owner_db
) -> None:
    clock.freeze(datetime(2026, 3, 10, 5, 30, tzinfo=UTC))
    async with owner_db.sessions() as s:
        case = await add_case(s, world)
        overdue = await add_action(s, world, case, due_in_days=-1)
        soon = await add_action(s, world, case, due_in_days=2)
        await add_action(s, world, case, due_in_days=30)
        await add_action(s, world, case, due_in_days=-3, status="done")
        await s.commit()
    job = _job(app, "actions.reminders")
    assert await run_slot(app.state.db, job, datetime(2026, 3, 10, 5, 0, tzinfo=UTC))
    assert await run_slot(app.state.db, job, datetime(2026, 3, 10, 5, 1, tzinfo=UTC))  # same day again
    async with owner_db.sessions() as s:
        rows = (
            await s.execute(
                sa.select(Notification.kind, Notification.ref_id, Notification.organisation_id).order_by(
                    Notification.kind
                )
            )
        ).all()
    assert [(r.kind, r.ref_id) for r in rows] == [
        ("action_due_soon", soon.id),
        ("action_overdue", overdue.id),
    ]
    assert {r.organisation_id for r in rows} == {world.orgs["politie"].id}

    # the police see them (the liaison is the assignee); other organisations do not
    police = await client.get("/api/v1/me/notifications", headers=world.headers("police_liaison"))
    care = await client.get("/api/v1/me/notifications", headers=world.headers("care_member"))
    assert police.status_code == 200, police.text
    assert [(n["kind"], n["ref_id"], n["addressed_to_you"]) for n in police.json()] == [
        ("action_due_soon", str(soon.id), True),
        ("action_overdue", str(overdue.id), True),
    ]
    assert care.json() == []


async def test_mandate_expiry_warning(app, world: World, owner_db) -> None:
    clock.freeze(datetime(2026, 3, 10, 5, 30, tzinfo=UTC))
    async with owner_db.sessions() as s:
        ending = await add_mandate(
            s, world.members["police_member"], "outreach", valid_to=clock.today() + timedelta(days=10)
        )
        await add_mandate(
            s, world.members["care_member"], "treatment_intake", valid_to=clock.today() + timedelta(days=200)
        )
        await s.commit()
    assert await run_slot(app.state.db, _job(app, "expiry.warnings"), clock.now())
    async with owner_db.sessions() as s:
        rows = (await s.execute(sa.select(Notification))).scalars().all()
    assert [(n.kind, n.ref_id, n.membership_id) for n in rows] == [
        ("mandate_expiring", ending.id, world.members["police_member"].id)
    ]


async def test_jobs_lay_out_meetings_and_draft_agendas_ahead(app, world: World, owner_db) -> None:
    clock.freeze(datetime(2026, 3, 2, 5, 30, tzinfo=UTC))
    async with owner_db.sessions() as s:
        case = await add_case(s, world)
        await add_action(s, world, case, due_in_days=-1)
        soon = await add_meeting(s, world, starts_at=datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
        later = await add_meeting(s, world, starts_at=datetime(2026, 3, 20, 13, 0, tzinfo=UTC))
        await s.execute(
            sa.update(Conference)
            .where(Conference.id == world.a.id)
            .values(cadence={**world.a.cadence, "anchor": "2026-01-06"})
        )
        await s.commit()
    assert await run_slot(app.state.db, _job(app, "meetings.generate"), clock.now())
    assert await run_slot(app.state.db, _job(app, "agenda.draft"), clock.now())
    async with owner_db.sessions() as s:
        generated = (
            await s.execute(
                sa.select(sa.func.count())
                .select_from(Meeting)
                .where(Meeting.ad_hoc.is_(False), Meeting.id.not_in([soon.id, later.id]))
            )
        ).scalar()
        drafted = {
            m: (
                await s.execute(
                    sa.select(sa.func.count()).select_from(AgendaItem).where(AgendaItem.meeting_id == m)
                )
            ).scalar()
            for m in (soon.id, later.id)
        }
        runs = {r.job_id: r.result for r in (await s.execute(sa.select(JobRun))).scalars()}
    assert generated == 6  # every other Tuesday over the 12-week horizon
    assert drafted == {soon.id: 1, later.id: 0}
    assert runs["meetings.generate"] == {"created": 6, "conferences_skipped": 1}  # B has no cadence
    assert runs["agenda.draft"] == {"drafted": 2}  # the soon meeting and the generated 3 March one


async def test_scheduler_starts_with_the_app_and_catches_up_every_registered_job(
    database_urls, owner_db, tmp_path
) -> None:
    application = create_app(make_settings(database_urls, tmp_path, scheduler_enabled=True))
    async with application.router.lifespan_context(application):
        for _ in range(100):
            runs = {r.job_id: r.outcome for r in await _all_runs(owner_db)}
            if len(runs) == 8 and "running" not in runs.values():
                break
            await asyncio.sleep(0.1)
    assert runs == {
        "meetings.generate": "ok",
        "agenda.draft": "ok",
        "actions.reminders": "ok",
        "expiry.warnings": "ok",
        "client_requests.overdue": "ok",
        "outbox.deliver": "ok",
        "retention.purge": "ok",
        "audit.checkpoint": "ok",
    }


async def _all_runs(owner_db) -> list:
    async with owner_db.sessions() as s:
        return list((await s.execute(sa.select(JobRun))).scalars())
