"""Scheduled work of the agreements: warn case directors before an agreement ends.

Sharing itself needs no job: expiry is computed on every request (app/services/agreements/lifecycle.py).
The function fits the scheduler's convention `async def f(db, slot, *, settings) -> dict` and can
also be called as `await f(db)` (settings then come from the environment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.config import Settings, get_settings
from app.db import Database
from app.services.agreements.lifecycle import create_expiry_warnings

JOB_ID = "agreements.expiry_warnings"


async def expiry_warnings_job(
    db: Database, slot: datetime | None = None, *, settings: Settings | None = None
) -> dict[str, Any]:
    """Write one warning row per signed agreement that ends within the warning window, for its
    case director. Idempotent: a second run writes nothing new for the same end date."""
    days = (settings or get_settings()).agreement_expiry_warning_days
    async with db.sessions() as session:
        warnings = await create_expiry_warnings(session, days_before=days)
        await session.commit()
    return {"agreement_warnings": len(warnings)}
