"""APScheduler 3.x wiring: one AsyncIOScheduler per process, started in the app's lifespan when
settings.scheduler_enabled. Every trigger only wakes the process; `runner.run_due` decides (via
the job_run claim) whether this replica runs the slot. The catch-up runs at start and then every
SCHEDULER_CATCH_UP_SECONDS: it reruns slots lost to an outage or abandoned by a killed process.
See app/jobs/runner.py for the failure and misfire policies."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.config import Settings
from app.db import Database
from app.jobs.registry import JobSpec, build_registry
from app.jobs.runner import RunPolicy, catch_up, default_instance, run_due


def create_scheduler(db: Database, settings: Settings, jobs: list[JobSpec] | None = None) -> AsyncIOScheduler:
    jobs = jobs if jobs is not None else build_registry(settings)
    instance = settings.scheduler_instance_id or default_instance()
    policy = RunPolicy.from_settings(settings)
    scheduler = AsyncIOScheduler(timezone=UTC)
    for job in jobs:
        scheduler.add_job(
            run_due,
            job.schedule.trigger(),
            args=[db, job],
            kwargs={"instance": instance, "policy": policy},
            id=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            replace_existing=True,
        )
    scheduler.add_job(
        catch_up,
        IntervalTrigger(seconds=settings.scheduler_catch_up_seconds),
        args=[db, jobs],
        kwargs={"instance": instance, "policy": policy},
        id="catch_up",
        next_run_time=datetime.now(UTC),  # at start too
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    return scheduler
