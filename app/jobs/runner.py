"""Exactly once per job slot, across any number of replicas against one database, and no slot
lost to an outage or a killed process.

Claiming: a run first INSERTs (job_id, slot) into `job_run` with ON CONFLICT DO NOTHING and
commits. A partial unique index (one claim per slot that is not abandoned) makes exactly one
claimant win, even when two instances fire in the same millisecond (the second INSERT waits for
the first transaction and then inserts nothing). Only the winner runs the job function; while it
runs, it writes a heartbeat every `heartbeat` seconds; the row then records finished_at and the
outcome.

Failure policy:
- A job that fails on its own (a bug, a partner down) keeps its claim: `failed`, not retried for
  that slot; the next slot runs normally. Job functions are idempotent per day (notifications are
  unique per kind, subject and day), so the next run picks up what a failed one missed.
- A claim that fails because the database is away claims nothing: the slot stays free, and the
  next catch-up (every SCHEDULER_CATCH_UP_SECONDS, on every replica) runs it once the database is
  back, while it is still the job's latest slot.
- A run whose database went away mid-run is `abandoned`; so is a run whose heartbeat stopped (its
  process was killed) for longer than `stale_after`. An abandoned slot can be claimed again, at
  most `max_attempts` claims per slot in all, and the next catch-up does so.

Misfire policy (after downtime): `catch_up()` runs, for every job, the LATEST slot at or before
now if nobody has claimed it; older missed slots are coalesced into that one run and never run
separately. APScheduler itself is configured with coalesce=True for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from app.clock import clock
from app.config import Settings
from app.db import Database, database_fault
from app.jobs.registry import JobSpec
from app.metrics import JOB_RUNS
from app.models import JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPolicy:
    heartbeat: float = 30.0  # seconds between heartbeats of a running job
    stale_after: float = 300.0  # a running job without a heartbeat for this long is abandoned
    max_attempts: int = 3  # claims of one slot, abandoned ones included

    @classmethod
    def from_settings(cls, settings: Settings) -> RunPolicy:
        return cls(
            heartbeat=settings.job_heartbeat_seconds,
            stale_after=settings.job_stale_after_seconds,
            max_attempts=settings.job_max_attempts,
        )


def default_instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_CLAIM = sa.text(
    """
    INSERT INTO job_run (id, job_id, slot, instance, started_at, heartbeat_at, outcome, result)
    SELECT CAST(:id AS uuid), CAST(:job_id AS varchar), CAST(:slot AS timestamptz), CAST(:instance AS varchar),
           CAST(:now AS timestamptz), CAST(:now AS timestamptz), 'running', CAST('{}' AS jsonb)
    WHERE (SELECT count(*) FROM job_run WHERE job_id = CAST(:job_id AS varchar)
                                          AND slot = CAST(:slot AS timestamptz)) < CAST(:max_attempts AS int)
    ON CONFLICT (job_id, slot) WHERE outcome <> 'abandoned' DO NOTHING
    RETURNING id
    """
)


async def claim(
    db: Database, job_id: str, slot: datetime, instance: str, *, max_attempts: int = 3
) -> uuid.UUID | None:
    async with db.sessions() as session:
        claimed: uuid.UUID | None = (
            await session.execute(
                _CLAIM,
                {"id": uuid.uuid4(), "job_id": job_id, "slot": slot, "instance": instance,
                 "now": clock.now(), "max_attempts": max_attempts},
            )
        ).scalar_one_or_none()
        await session.commit()
        return claimed


async def _heartbeat(db: Database, run_id: uuid.UUID, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            async with db.sessions() as session:
                await session.execute(
                    sa.update(JobRun)
                    .where(col(JobRun.id) == run_id, col(JobRun.outcome) == "running")
                    .values(heartbeat_at=clock.now())
                )
                await session.commit()
        except Exception as exc:  # noqa: BLE001  (the database away for a moment: the next beat tries again)
            log.warning("job run %s: heartbeat failed (%s)", run_id, database_fault(exc) or type(exc).__name__)


async def _finish(db: Database, run_id: uuid.UUID, outcome: str, result: dict[str, Any]) -> None:
    async with db.sessions() as session:
        await session.execute(
            sa.update(JobRun)
            .where(col(JobRun.id) == run_id, col(JobRun.outcome) == "running")
            .values(finished_at=clock.now(), outcome=outcome, result=result)
        )
        await session.commit()


async def run_slot(
    db: Database,
    job: JobSpec,
    slot: datetime,
    *,
    instance: str | None = None,
    policy: RunPolicy | None = None,
) -> bool:
    """Run `job` for `slot` unless some instance already did. Returns True when this call ran it."""
    policy = policy or RunPolicy()
    try:
        run_id = await claim(db, job.id, slot, instance or default_instance(), max_attempts=policy.max_attempts)
    except Exception as exc:
        cause = database_fault(exc)
        if cause is None:
            raise
        log.warning("job %s slot %s: claim failed (%s); the next catch-up retries it",
                    job.id, slot.isoformat(), cause)
        return False
    if run_id is None:
        return False
    heartbeat = asyncio.create_task(_heartbeat(db, run_id, policy.heartbeat))
    outcome, result = "ok", {}
    try:
        result = dict(await job.func(db, slot) or {})
        if result.get("skipped"):
            outcome = "skipped"
    except Exception as exc:  # a failing job must not take the scheduler down
        cause = database_fault(exc)
        if cause is not None:  # the database went away: the slot is claimable again
            log.warning("job %s slot %s: abandoned, the database went away (%s)", job.id, slot.isoformat(), cause)
            outcome, result = "abandoned", {"error": type(exc).__name__, "cause": cause}
        else:  # the claim stays
            log.exception("job %s failed for slot %s", job.id, slot.isoformat())
            outcome, result = "failed", {"error": type(exc).__name__}
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    JOB_RUNS.labels(job.id, outcome).inc()
    try:
        await _finish(db, run_id, outcome, result)
    except Exception as exc:
        cause = database_fault(exc)
        if cause is None:
            raise
        # Left `running` without heartbeat: a later catch-up marks it abandoned and reruns the slot.
        log.warning("job %s slot %s: %s, but the outcome was not recorded (%s)",
                    job.id, slot.isoformat(), outcome, cause)
        return True
    log.info("job %s slot %s: %s", job.id, slot.isoformat(), outcome)
    return True


async def run_due(
    db: Database, job: JobSpec, *, instance: str | None = None, policy: RunPolicy | None = None
) -> bool:
    """What the scheduler calls when a trigger fires: run the slot that is due now."""
    return await run_slot(db, job, job.schedule.latest_slot(clock.now()), instance=instance, policy=policy)


async def abandon_stale(db: Database, policy: RunPolicy) -> list[tuple[str, datetime]]:
    """Mark runs whose heartbeat stopped (their process died) abandoned: their slots become
    claimable again. Returns (job_id, slot) of each."""
    now = clock.now()
    async with db.sessions() as session:
        rows = (
            await session.execute(
                sa.update(JobRun)
                .where(
                    col(JobRun.outcome) == "running",
                    sa.func.coalesce(col(JobRun.heartbeat_at), col(JobRun.started_at))
                    < now - timedelta(seconds=policy.stale_after),
                )
                .values(outcome="abandoned", finished_at=now, result={"abandoned": "no heartbeat"})
                .returning(col(JobRun.job_id), col(JobRun.slot), col(JobRun.instance))
            )
        ).all()
        await session.commit()
    for job_id, slot, instance in rows:
        log.warning("job %s slot %s: abandoned, no heartbeat from %s", job_id, slot.isoformat(), instance)
    return [(job_id, slot) for job_id, slot, _ in rows]


async def catch_up(
    db: Database, jobs: list[JobSpec], *, instance: str | None = None, policy: RunPolicy | None = None
) -> list[str]:
    """At start and then periodically: abandon runs whose process died, then run each job's
    latest slot at or before now if it was missed (coalesced), lost to an outage, or abandoned."""
    policy = policy or RunPolicy()
    try:
        await abandon_stale(db, policy)
    except Exception as exc:
        cause = database_fault(exc)
        if cause is None:
            raise
        log.warning("catch-up skipped: the database is away (%s)", cause)
        return []
    ran = []
    for job in jobs:
        if await run_due(db, job, instance=instance, policy=policy):
            ran.append(job.id)
    return ran


async def recent_runs(db: Database, *, since: datetime) -> list[JobRun]:
    """The runs of slots since `since`, newest first (for `casusoverleg jobs list`)."""
    async with db.sessions() as session:
        return list(
            (
                await session.execute(
                    sa.select(JobRun)
                    .where(col(JobRun.slot) >= since)
                    .order_by(col(JobRun.slot).desc(), col(JobRun.started_at).desc())
                )
            ).scalars()
        )
