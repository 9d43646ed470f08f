"""The job functions: plain `async def f(db, slot) -> dict` (the dict is stored in job_run.result;
counts only, never client data). Each opens its own transaction and is idempotent per slot/day."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col

from app.clock import clock
from app.config import Settings
from app.db import Database
from app.errors import AppError
from app.events.delivery import deliver_due
from app.models import Conference, Meeting
from app.models.enums import AgendaStatus, MeetingStatus
from app.models.predicates import open_action_sql, open_case_sql, signed_agreement_sql
from app.services.cases import guests as guest_service
from app.services.meetings import agenda as agenda_service
from app.services.meetings import sittings as meeting_service
from app.services.privacy.requests import notify_overdue

log = logging.getLogger(__name__)

# One outbox run delivers until nothing is due, at most this many batches of this size.
OUTBOX_ROUNDS = 20
OUTBOX_BATCH = 50

async def generate_meetings(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Lay out every conference's cadence over the horizon (idempotent)."""
    created = skipped = 0
    async with db.sessions() as session:
        conferences = (await session.execute(sa.select(Conference))).scalars().all()
        for conference in conferences:
            if not conference.cadence:
                skipped += 1
                continue
            try:
                async with session.begin_nested():
                    new, _ = await meeting_service.generate_meetings(
                        session, conference, weeks=settings.meeting_horizon_weeks
                    )
                created += len(new)
            except AppError:
                skipped += 1
                log.warning("conference %s: its cadence produces no meetings", conference.id)
        await session.commit()
    return {"created": created, "conferences_skipped": skipped}


async def draft_agendas(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Draft the agenda of every scheduled meeting within `agenda_draft_days_before` days that
    has no draft yet. The chair's later regenerations are not overwritten (agenda_generated_at)."""
    now = clock.now()
    drafted = 0
    async with db.sessions() as session:
        rows = (
            await session.execute(
                sa.select(Meeting, col(Conference.cadence))
                .join(Conference, col(Conference.id) == col(Meeting.conference_id))
                .where(
                    col(Meeting.status) == MeetingStatus.scheduled,
                    col(Meeting.agenda_status) == AgendaStatus.draft,
                    col(Meeting.agenda_generated_at).is_(None),
                    col(Meeting.starts_at) > now,
                    col(Meeting.starts_at) <= now + timedelta(days=settings.agenda_draft_days_before),
                )
                .with_for_update(of=Meeting, skip_locked=True)
            )
        ).all()
        for meeting, cadence in rows:
            await agenda_service.build_draft(session, meeting, cadence)
            drafted += 1
        await session.commit()
    return {"drafted": drafted}


def _local_day(slot: datetime, settings: Settings) -> Any:
    return slot.astimezone(ZoneInfo(settings.scheduler_timezone)).date()


_INSERT_NOTIFICATION = """
INSERT INTO notification (id, kind, conference_id, organisation_id, membership_id, ref_type, ref_id,
                          on_date, due_on, created_at)
"""
_ON_CONFLICT = " ON CONFLICT (kind, ref_id, on_date, organisation_id, membership_id) DO NOTHING"

_ACTION_REMINDERS = f"""
SELECT gen_random_uuid(),
       CASE WHEN a.due_date < :day THEN 'action_overdue' ELSE 'action_due_soon' END,
       a.conference_id, a.owner_organisation_id, a.assignee_id, 'action', a.id, :day, a.due_date, :now
FROM action a JOIN "case" c ON c.id = a.case_id
WHERE {open_action_sql("a")} AND {open_case_sql("c")} AND a.due_date <= :soon
"""  # noqa: S608 (only states from app/models/predicates.py are put in)

_MANDATE_WARNINGS = """
SELECT gen_random_uuid(), 'mandate_expiring', m.conference_id, m.organisation_id, m.id, 'mandate', d.id,
       :day, d.valid_to, :now
FROM mandate d JOIN membership m ON m.id = d.membership_id
WHERE m.active AND d.valid_to IS NOT NULL AND d.valid_to >= :day AND d.valid_to <= :until
"""

_AGREEMENT_WARNINGS = f"""
SELECT gen_random_uuid(), 'agreement_expiring', c.conference_id, NULL, c.case_director_id, 'agreement', g.id,
       :day, g.ends_on, :now
FROM agreement g JOIN "case" c ON c.id = g.case_id
WHERE {signed_agreement_sql("g")} AND c.case_director_id IS NOT NULL AND {open_case_sql("c")}
  AND g.ends_on >= :day AND g.ends_on <= :until
"""  # noqa: S608 (only states from app/models/predicates.py are put in)

async def action_reminders(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Notifications for open actions that are overdue or due within `action_due_soon_days`:
    one per action and day (unique key), addressed to the owner organisation and the assignee."""
    day = _local_day(slot, settings)
    async with db.sessions() as session:
        result = await session.execute(
            sa.text(_INSERT_NOTIFICATION + _ACTION_REMINDERS + _ON_CONFLICT),
            {"day": day, "soon": day + timedelta(days=settings.action_due_soon_days), "now": clock.now()},
        )
        await session.commit()
    return {"notifications": _count(result)}


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def expiry_warnings(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Warn members whose mandate ends within `expiry_warning_days` (once per mandate and day),
    and the case director of an open case whose signed agreement ends within the same window;
    write the end of every guest invitation that ran out into its case's history (once)."""
    day = _local_day(slot, settings)
    params = {"day": day, "until": day + timedelta(days=settings.expiry_warning_days), "now": clock.now()}
    async with db.sessions() as session:
        mandates = await session.execute(
            sa.text(_INSERT_NOTIFICATION + _MANDATE_WARNINGS + _ON_CONFLICT), params
        )
        agreements = await session.execute(
            sa.text(_INSERT_NOTIFICATION + _AGREEMENT_WARNINGS + _ON_CONFLICT), params
        )
        guests = await guest_service.record_expiries(session)
        await session.commit()
    return {"mandates": _count(mandates), "agreements": _count(agreements), "guest_invitations_ended": guests}


async def client_requests_overdue(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Tell the privacy officers and chairs of each open client request past its deadline (once
    per request; ids and dates only)."""
    async with db.sessions() as session:
        reported = await notify_overdue(session, _local_day(slot, settings))
        await session.commit()
    return {"requests": reported}


async def deliver_outbox(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Deliver due webhook notifications (rows are claimed with SKIP LOCKED, so replicas that
    happen to run at once never send one twice)."""
    delivered = 0
    for _ in range(OUTBOX_ROUNDS):
        sent = await deliver_due(db, batch=OUTBOX_BATCH, settings=settings)
        delivered += sent
        if sent < OUTBOX_BATCH:
            break
    return {"delivered": delivered}


async def purge_retention(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Anonymise closed cases past their conference's retention, and remove access-log rows past
    theirs (as the owner role, the only one that may)."""
    from app.db import resolve_urls
    from app.jobs.retention import purge_job

    owner = Database(resolve_urls(settings).owner, pool_size=1)
    try:
        result = await purge_job(db, settings, owner_db=owner)
    finally:
        await owner.dispose()
    return {"result": str(result)}


async def publish_audit_checkpoint(db: Database, slot: datetime, *, settings: Settings) -> dict[str, Any]:
    """Verify the access-log rows written since the last checkpoint and write a signed checkpoint
    of every chain's head to AUDIT_CHECKPOINT_DIR (fails, writing nothing, on a broken log)."""
    from app.services.privacy.checkpoints import publish_checkpoint

    async with db.sessions() as session:
        path = await publish_checkpoint(session, settings.checkpoint_dir, settings.audit_chain_key)
    return {"checkpoint": path.name if path else None}
