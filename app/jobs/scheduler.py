"""APScheduler 3.x wiring: one AsyncIOScheduler per process, started in the app's lifespan when
settings.scheduler_enabled. Every trigger only wakes the process; `runner.run_due` decides (via
the job_run claim) whether this replica runs the slot. See app/jobs/runner.py for the misfire
policy (coalesce to the latest missed slot, once)."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.config import Settings
from app.db import Database
from app.jobs.registry import JobSpec, build_registry
from app.jobs.runner import catch_up, default_instance, run_due


def create_scheduler(db: Database, settings: Settings, jobs: list[JobSpec] | None = None) -> AsyncIOScheduler:
    jobs = jobs if jobs is not None else build_registry(settings)
    instance = settings.scheduler_instance_id or default_instance()
    scheduler = AsyncIOScheduler(timezone=UTC)
    for job in jobs:
        scheduler.add_job(
            run_due,
            job.schedule.trigger(),
            args=[db, job],
            kwargs={"instance": instance},
            id=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            replace_existing=True,
        )
    scheduler.add_job(
        catch_up,
        "date",
        run_date=datetime.now(UTC),
        args=[db, jobs],
        kwargs={"instance": instance},
        id="catch_up",
        misfire_grace_time=None,
    )
    return scheduler
