"""The scheduled purge: anonymise closed cases past their retention period (as the application
role), then remove access-log rows past theirs (as the owner; the application role may not
delete log rows). Each batch is its own transaction, so an interrupted run loses at most the
batch in flight and the next run picks up where it stopped."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from app.clock import clock
from app.config import Settings
from app.db import Database
from app.services.privacy import retention as service

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class PurgeResult:
    dry_run: bool
    due_cases: list[service.DueCase] = field(default_factory=list)
    cases_anonymised: int = 0
    clients_anonymised: int = 0
    log_rows_due: int = 0
    log_rows_removed: int = 0


async def purge_cases(
    db: Database, settings: Settings, result: PurgeResult, progress: Progress | None
) -> None:
    now = clock.now()
    async with db.sessions() as session:
        await service.check_periods(session)
        result.due_cases = await service.due_cases(session, now)
    if result.dry_run:
        return
    total = len(result.due_cases)
    while True:
        async with db.sessions() as session, session.begin():
            batch = await service.due_cases(session, now, limit=settings.purge_batch_size)
            for due in batch:
                if await service.anonymise_case(session, due, now):
                    result.clients_anonymised += 1
        if not batch:
            break
        result.cases_anonymised += len(batch)
        log.info("retention purge: %d of %d closed cases anonymised", result.cases_anonymised, total)
        if progress:
            progress("cases", result.cases_anonymised, total)


async def purge_log(
    owner_db: Database,
    settings: Settings,
    result: PurgeResult,
    progress: Progress | None,
    retention_days: int | None = None,
) -> None:
    now = clock.now()
    cutoff = service.log_cutoff(
        now, settings.access_log_retention_days if retention_days is None else retention_days
    )
    async with owner_db.sessions() as session:
        result.log_rows_due = await service.count_expired_log_rows(session, cutoff)
    if result.dry_run:
        return
    while True:
        async with owner_db.sessions() as session, session.begin():
            removed = await service.remove_expired_log_batch(
                session, cutoff, settings.purge_batch_size, now, settings.audit_chain_key
            )
        if not removed:
            break
        result.log_rows_removed += removed
        log.info(
            "retention purge: %d of %d access-log rows removed", result.log_rows_removed, result.log_rows_due
        )
        if progress:
            progress("log", result.log_rows_removed, result.log_rows_due)


async def purge_job(
    db: Database,
    settings: Settings,
    *,
    owner_db: Database | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    log_retention_days: int | None = None,
) -> PurgeResult:
    """The scheduler's entry point. `db` is the application's database; `owner_db` connects as
    the owner (needed to remove expired log rows; without it only cases are purged)."""
    if log_retention_days is not None and log_retention_days < 0:
        raise service.RetentionError("the access-log retention period cannot be negative")
    result = PurgeResult(dry_run=dry_run)
    await purge_cases(db, settings, result, progress)
    if owner_db is not None:
        await purge_log(owner_db, settings, result, progress, log_retention_days)
    else:
        log.warning("retention purge: no owner connection, expired access-log rows are kept")
    return result
