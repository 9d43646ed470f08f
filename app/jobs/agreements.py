"""Scheduled work of the agreements: warn case directors before an agreement ends.

Sharing itself needs no job: expiry is computed on every request (app/services/agreements.py)."""

from __future__ import annotations

from app.config import Settings
from app.db import Database
from app.services.agreements import create_expiry_warnings

JOB_ID = "agreements.expiry_warnings"
TRIGGER = {"trigger": "cron", "hour": 6, "minute": 15}  # daily, before the working day


async def expiry_warnings_job(db: Database, settings: Settings) -> int:
    """Write one warning row per agreement that ends within the warning window; returns how many.
    Idempotent: a second run on the same day writes nothing new."""
    async with db.sessions() as session:
        warnings = await create_expiry_warnings(session, days_before=settings.agreement_expiry_warning_days)
        await session.commit()
    return len(warnings)
