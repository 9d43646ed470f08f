"""CLI for scheduled work: `jobs list` and `jobs run <job_id>` (runs the slot due now, claimed in
job_run like any scheduler run, so it never duplicates a run another replica already did).

Wire-up: app/cli.py calls `register(subparsers)`; each command sets `handler(args) -> int`."""

from __future__ import annotations

import argparse
import asyncio

from app.clock import clock
from app.config import get_settings
from app.db import DEFAULT_DB_NAME, Database, ensure_database, resolve_urls


def register(subparsers: argparse._SubParsersAction) -> None:
    jobs = subparsers.add_parser("jobs", help="scheduled work (meetings, agendas, reminders)")
    commands = jobs.add_subparsers(dest="jobs_command", required=True)
    listing = commands.add_parser("list", help="list the registered jobs and their latest slot")
    listing.set_defaults(handler=_list)
    run = commands.add_parser("run", help="run the slot of a job that is due now (once across replicas)")
    run.add_argument("job_id")
    run.set_defaults(handler=_run)


def _list(args: argparse.Namespace) -> int:
    from app.jobs.registry import build_registry

    for job in build_registry(get_settings()):
        print(f"{job.id:28} latest slot {job.schedule.latest_slot(clock.now()).isoformat()}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from app.jobs.registry import build_registry
    from app.jobs.runner import run_due

    settings = get_settings()
    jobs = {job.id: job for job in build_registry(settings)}
    if args.job_id not in jobs:
        print(f"unknown job {args.job_id}; known: {', '.join(sorted(jobs))}")
        return 2

    async def go() -> bool:
        urls = resolve_urls(settings)
        if not settings.database_url:
            await ensure_database(urls.owner, DEFAULT_DB_NAME)
        db = Database(urls.app, pool_size=1)
        try:
            return await run_due(db, jobs[args.job_id], instance="cli")
        finally:
            await db.dispose()

    ran = asyncio.run(go())
    print("ran" if ran else "already run for this slot")
    return 0
