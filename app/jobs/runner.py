"""Exactly once per job slot, across any number of replicas against one database.

Claiming: a run first INSERTs (job_id, slot) into `job_run` with ON CONFLICT DO NOTHING and
commits. The unique key makes exactly one claimant win, even when two instances fire in the same
millisecond (the second INSERT waits for the first transaction and then inserts nothing). Only
the winner runs the job function; the row then records finished_at and the outcome.

Failure policy: at most once per slot. A run that fails (or whose process dies mid-run) keeps its
claim and is not retried for that slot; the next slot runs normally. Job functions are written to
be idempotent per day (e.g. notifications are unique per kind, subject and day), so the next run
picks up what a failed one missed.

Misfire policy (after downtime): on start, `catch_up()` runs, for every job, the LATEST slot at
or before now if nobody has claimed it; older missed slots are coalesced into that one run and
never run separately. APScheduler itself is configured with coalesce=True for the same reason.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col

from app.clock import clock
from app.db import Database
from app.jobs.registry import JobSpec
from app.metrics import JOB_RUNS
from app.models import JobRun

log = logging.getLogger(__name__)


def default_instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def claim(db: Database, job_id: str, slot: datetime, instance: str) -> Any | None:
    async with db.sessions() as session:
        claimed = (
            await session.execute(
                pg_insert(JobRun)
                .values(
                    job_id=job_id,
                    slot=slot,
                    instance=instance,
                    started_at=clock.now(),
                    outcome="running",
                    result={},
                )
                .on_conflict_do_nothing(index_elements=["job_id", "slot"])
                .returning(col(JobRun.id))
            )
        ).scalar_one_or_none()
        await session.commit()
        return claimed


async def run_slot(db: Database, job: JobSpec, slot: datetime, *, instance: str | None = None) -> bool:
    """Run `job` for `slot` unless some instance already did. Returns True when this call ran it."""
    run_id = await claim(db, job.id, slot, instance or default_instance())
    if run_id is None:
        return False
    outcome, result = "ok", {}
    try:
        result = dict(await job.func(db, slot) or {})
        if result.get("skipped"):
            outcome = "skipped"
    except Exception as exc:  # a failing job must not take the scheduler down; the claim stays
        log.exception("job %s failed for slot %s", job.id, slot.isoformat())
        outcome, result = "failed", {"error": type(exc).__name__}
    async with db.sessions() as session:
        await session.execute(
            update(JobRun)
            .where(col(JobRun.id) == run_id)
            .values(finished_at=clock.now(), outcome=outcome, result=result)
        )
        await session.commit()
    JOB_RUNS.labels(job.id, outcome).inc()
    log.info("job %s slot %s: %s", job.id, slot.isoformat(), outcome)
    return True


async def run_due(db: Database, job: JobSpec, *, instance: str | None = None) -> bool:
    """What the scheduler calls when a trigger fires: run the slot that is due now."""
    return await run_slot(db, job, job.schedule.latest_slot(clock.now()), instance=instance)


async def catch_up(db: Database, jobs: list[JobSpec], *, instance: str | None = None) -> list[str]:
    """On start: run each job's latest slot at or before now if it was missed (coalesced)."""
    ran = []
    for job in jobs:
        if await run_due(db, job, instance=instance):
            ran.append(job.id)
    return ran
