"""Every scheduled job, in one place: id, schedule (trigger) and function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from app.config import Settings
from app.db import Database
from app.jobs import tasks
from app.jobs.schedule import Daily, Every, Schedule

JobFunction = Callable[[Database, datetime], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class JobSpec:
    id: str
    schedule: Schedule
    func: JobFunction


def build_registry(settings: Settings) -> list[JobSpec]:
    zone = ZoneInfo(settings.scheduler_timezone)
    hour, minute = (int(p) for p in settings.scheduler_daily_at.split(":"))
    daily = Daily(time(hour, minute), zone)
    return [
        JobSpec(
            "meetings.generate",
            Daily(time(hour, minute), zone),
            partial(tasks.generate_meetings, settings=settings),
        ),
        # Drafting runs after the meetings are laid out (a few minutes later the same morning).
        JobSpec(
            "agenda.draft",
            Daily(time(hour, (minute + 5) % 60), zone),
            partial(tasks.draft_agendas, settings=settings),
        ),
        JobSpec("actions.reminders", daily, partial(tasks.action_reminders, settings=settings)),
        JobSpec("expiry.warnings", daily, partial(tasks.expiry_warnings, settings=settings)),
        JobSpec("client_requests.overdue", daily, partial(tasks.client_requests_overdue, settings=settings)),
        JobSpec("outbox.deliver", Every(30), partial(tasks.deliver_outbox, settings=settings)),
        JobSpec("retention.purge", Daily(time(3, 0), zone), partial(tasks.purge_retention, settings=settings)),
        JobSpec(
            "audit.checkpoint",
            Every(settings.audit_checkpoint_interval_seconds),
            partial(tasks.publish_audit_checkpoint, settings=settings),
        ),
    ]
