"""The single call site where meetings announce something to partner systems.

`emit()` is called exactly once per published agenda and once per published list of decisions.
Today it only logs (ids, no client data). When the events issue's outbox exists
(app/events/outbox.py), the integrator replaces the body with an outbox write inside the same
transaction; nothing else in this module's callers needs to change.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

AGENDA_PUBLISHED = "meeting.agenda_published"
DECISIONS_PUBLISHED = "meeting.decisions_published"


async def emit(session: AsyncSession, event_type: str, payload: dict[str, Any]) -> None:
    # Integration point for the outbox (issue: events). Payload holds ids only.
    log.info("meeting event %s %s", event_type, {k: str(v) for k, v in payload.items()})
