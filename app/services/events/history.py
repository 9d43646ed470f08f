"""Reading partner events: the case timeline and the relapse history, each event's details shown
only where the access policy allows its label (police -> justice, care -> health)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clock import clock
from app.events.cloudevents import EventType
from app.models import CaseFlag, PartnerEvent
from app.services.common import paged

RELAPSE_TYPES = (EventType.relapse.value, EventType.lapse.value)


@dataclass(frozen=True)
class Shown:
    event: PartnerEvent
    visible: bool
    basis: str | None


def event_out(item: Shown, *, show_label: bool = False) -> dict[str, Any]:
    e = item.event
    if not item.visible:
        # That something happened, and when, is case information; what it was is not. Only the
        # chair also sees whether it was a health or justice signal (docs/need-to-know.md).
        return {
            "id": str(e.id),
            "occurred_at": e.occurred_at.isoformat(),
            "label": e.label if show_label else None,
            "hidden": True,
            "type": None,
            "severity": None,
            "organisation_id": None,
            "data": None,
            "received_at": None,
        }
    return {
        "id": str(e.id),
        "occurred_at": e.occurred_at.isoformat(),
        "label": e.label,
        "hidden": False,
        "type": e.type,
        "severity": e.severity,
        "organisation_id": str(e.organisation_id),
        "data": e.data,
        "received_at": e.received_at.isoformat(),
        "basis": item.basis,
    }


async def events_of_case(
    session: AsyncSession, case_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[PartnerEvent], int]:
    found, total = await paged(
        session,
        sa.select(PartnerEvent).order_by(col(PartnerEvent.occurred_at).desc(), col(PartnerEvent.id)),
        count_from=PartnerEvent, where=[col(PartnerEvent.case_id) == case_id], limit=limit, offset=offset,
    )
    return [r[0] for r in found], total


def _quarter(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


async def relapse_events(session: AsyncSession, client_id: uuid.UUID) -> list[PartnerEvent]:
    return list(
        (
            await session.execute(
                sa.select(PartnerEvent)
                .where(col(PartnerEvent.client_id) == client_id, col(PartnerEvent.type).in_(RELAPSE_TYPES))
                .order_by(col(PartnerEvent.occurred_at), col(PartnerEvent.id))
            )
        ).scalars()
    )


def relapse_summary(visible: list[Shown]) -> dict[str, Any]:
    """The client's visible relapses and lapses in event-time order, with counts per month and
    quarter and the time since the last relapse. Hidden events are not counted at all."""
    months: dict[str, dict[str, int]] = {}
    quarters: dict[str, dict[str, int]] = {}
    for item in visible:
        e = item.event
        for table, period in ((months, e.occurred_at.strftime("%Y-%m")), (quarters, _quarter(e.occurred_at))):
            counts = table.setdefault(period, {"relapses": 0, "lapses": 0})
            counts["relapses" if e.type == EventType.relapse else "lapses"] += 1
    relapses = [s.event.occurred_at for s in visible if s.event.type == EventType.relapse]
    lapses = [s.event.occurred_at for s in visible if s.event.type == EventType.lapse]
    last_relapse = max(relapses) if relapses else None
    now = clock.now()
    return {
        "items": [event_out(s) for s in visible],
        "total_relapses": len(relapses),
        "total_lapses": len(lapses),
        "last_relapse_at": last_relapse.isoformat() if last_relapse else None,
        "days_since_last_relapse": (now - last_relapse).days
        if last_relapse and last_relapse <= now
        else (0 if last_relapse else None),
        "last_lapse_at": max(lapses).isoformat() if lapses else None,
        "per_month": [{"period": p, **c} for p, c in sorted(months.items())],
        "per_quarter": [{"period": p, **c} for p, c in sorted(quarters.items())],
    }


async def open_flags(session: AsyncSession, case_id: uuid.UUID) -> list[CaseFlag]:
    return list(
        (
            await session.execute(
                sa.select(CaseFlag)
                .where(col(CaseFlag.case_id) == case_id, col(CaseFlag.cleared_at).is_(None))
                .order_by(col(CaseFlag.created_at))
            )
        ).scalars()
    )
