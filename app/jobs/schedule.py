"""When a job is due: a schedule gives the latest slot at or before an instant (what the runner
claims) and the APScheduler trigger that wakes the process up near each slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Daily:
    """Once a day at a local wall-clock time (stays at that local time across DST)."""

    at: time
    zone: ZoneInfo

    def latest_slot(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        today = datetime.combine(local.date(), self.at, tzinfo=self.zone)
        slot = (
            today
            if today <= local
            else datetime.combine(local.date() - timedelta(days=1), self.at, tzinfo=self.zone)
        )
        return slot.astimezone(UTC)

    def trigger(self) -> BaseTrigger:
        return CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=self.zone)


@dataclass(frozen=True)
class Every:
    """Every `seconds`, on slots aligned to a fixed epoch (the same on every replica)."""

    seconds: int

    def latest_slot(self, now: datetime) -> datetime:
        elapsed = int((now - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=elapsed - elapsed % self.seconds)

    def trigger(self) -> BaseTrigger:
        return IntervalTrigger(seconds=self.seconds, start_date=_EPOCH)


Schedule = Daily | Every
