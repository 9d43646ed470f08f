"""Scheduled job: deliver due webhook notifications from the outbox."""

from __future__ import annotations

from app.config import Settings
from app.db import Database
from app.events.delivery import deliver_due

JOB_ID = "outbox-delivery"
# Every few seconds; several replicas may run it at once (rows are claimed with SKIP LOCKED).
TRIGGER = {"trigger": "interval", "seconds": 5}


async def outbox_job(
    db: Database, settings: Settings | None = None, *, rounds: int = 20, batch: int = 50
) -> int:
    """Deliver until nothing is due (at most `rounds` batches); returns how many were delivered."""
    delivered = 0
    for _ in range(rounds):
        sent = await deliver_due(db, batch=batch, settings=settings)
        delivered += sent
        if sent < batch:
            break
    return delivered
