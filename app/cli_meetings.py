"""CLI for scheduled work: `jobs list` and `jobs run <job_id>` (runs the slot due now, claimed in
job_run like any scheduler run, so it never duplicates a run another replica already did).

Wire-up: app/cli.py calls `register(subparsers)`; each command sets `handler(args) -> int`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

from app.clock import clock
from app.config import get_settings
from app.db import DEFAULT_DB_NAME, Database, Timeouts, ensure_database, resolve_urls


def register(subparsers: argparse._SubParsersAction) -> None:
    jobs = subparsers.add_parser("jobs", help="scheduled work (meetings, agendas, reminders)")
    commands = jobs.add_subparsers(dest="jobs_command", required=True)
    listing = commands.add_parser("list", help="list the registered jobs and their latest slot")
    listing.set_defaults(handler=_list)
    run = commands.add_parser("run", help="run the slot of a job that is due now (once across replicas)")
    run.add_argument("job_id")
    run.set_defaults(handler=_run)


def _list(args: argparse.Namespace) -> int:
    """Each registered job with its latest slot, the last run's outcome, and the runs of the last
    week that need a look (running, failed, abandoned). Without a database, the registry only."""
    from app.jobs.registry import build_registry
    from app.jobs.runner import recent_runs
    from app.models import JobRun

    settings = get_settings()
    now = clock.now()
    jobs = build_registry(settings)

    async def load() -> list[JobRun]:
        urls = resolve_urls(settings)
        if not settings.database_url:
            await ensure_database(urls.owner, DEFAULT_DB_NAME)
        db = Database(urls.app, pool_size=1, timeouts=Timeouts.from_settings(settings))
        try:
            return await recent_runs(db, since=now - timedelta(days=7))
        finally:
            await db.dispose()

    runs: list[JobRun] = []
    try:
        runs = asyncio.run(load())
    except Exception as exc:  # noqa: BLE001  (the registry is still worth showing)
        print(f"(job runs not shown: the database cannot be reached: {type(exc).__name__})")
    for job in jobs:
        last = next((r for r in runs if r.job_id == job.id), None)
        shown = f"{last.slot.isoformat()} {last.outcome} ({last.instance})" if last else "none this week"
        print(f"{job.id:24} latest slot {job.schedule.latest_slot(now).isoformat()}  last run {shown}")
    trouble = [r for r in runs if r.outcome in ("running", "failed", "abandoned")]
    if trouble:
        print("\nruns to look at (last 7 days):")
    for run in trouble:
        beat = run.heartbeat_at or run.started_at
        detail = f"heartbeat {beat.isoformat()}" if run.outcome == "running" else _reason(run.result)
        print(f"  {run.job_id:22} slot {run.slot.isoformat()} {run.outcome:9} {run.instance}  {detail}")
    return 0


def _reason(result: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(result.items()) if k in ("error", "cause", "abandoned"))


def _run(args: argparse.Namespace) -> int:
    from app.jobs.registry import build_registry
    from app.jobs.runner import RunPolicy, run_due

    settings = get_settings()
    jobs = {job.id: job for job in build_registry(settings)}
    if args.job_id not in jobs:
        print(f"unknown job {args.job_id}; known: {', '.join(sorted(jobs))}")
        return 2

    async def go() -> bool:
        urls = resolve_urls(settings)
        if not settings.database_url:
            await ensure_database(urls.owner, DEFAULT_DB_NAME)
        db = Database(urls.app, pool_size=1, timeouts=Timeouts.from_settings(settings))
        try:
            return await run_due(db, jobs[args.job_id], instance="cli", policy=RunPolicy.from_settings(settings))
        finally:
            await db.dispose()

    ran = asyncio.run(go())
    print("ran" if ran else "already run for this slot")
    return 0
