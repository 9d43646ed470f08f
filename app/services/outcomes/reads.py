"""The read path of a conference's outcome figures: filters checked, figures counted in one
statement, every table suppressed, and one access-log row about the conference (no client: the
figures hold none).

The router asks the policy first (`Op.outcomes_read`), then hands the result to `guard.deliver`."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Access, Read
from app.clock import clock
from app.errors import NotFound, UnprocessableEntity
from app.models import Conference
from app.schemas.outcomes import OutcomesOut
from app.services.outcomes import present
from app.services.outcomes.figures import Filters, raw_figures
from app.services.outcomes.suppression import THRESHOLD

DEFAULT_TIMEZONE = "Europe/Amsterdam"
AREA_MAX = 64

# Figures that cannot be counted for an area, with the reason (in the JSON and on the page, so
# nobody reads a missing figure as zero).
NOT_PER_AREA = {
    "consultations": "Consultations (spreekuur) are anonymous and have no area: counted only without an area.",
}


def outcomes_access(conference_id: uuid.UUID, action: str = "read", part: str | None = None) -> Access:
    """The log row of a figures read: about the conference, never a client or a case."""
    return Access(action=action, resource_type="outcomes", resource_id=str(conference_id),
                  conference_id=conference_id, part=part)


async def _conference(session: AsyncSession, conference_id: uuid.UUID) -> Conference:
    conference = await session.get(Conference, conference_id)
    if conference is None:
        raise NotFound("conference")
    return conference


def _months_back(day: date, months: int) -> date:
    """The first day of the month `months` months before `day`'s month."""
    index = max(day.year * 12 + day.month - 1 - months, 12)  # never before the year 1
    return date(index // 12, index % 12 + 1, 1)


def period(start: date | None, end: date | None, *, retention_days: int, today: date) -> tuple[date, date]:
    """The period asked for, or the last twelve calendar months up to today. Refused (422): a
    period that starts after it ends, or that is longer than the conference keeps its closed
    cases (the retention period): figures over it would count cases that are gone."""
    end = end or today
    start = start or _months_back(end, 11)
    if start > end:
        raise UnprocessableEntity(f"The period starts ({start.isoformat()}) after it ends ({end.isoformat()}).",
                                  pointer="#query:from")
    length = (end - start).days + 1
    if length > retention_days:
        raise UnprocessableEntity(
            f"The period covers {length} days; this conference keeps closed cases {retention_days} days "
            f"(its retention period), so a period may be at most that long.", pointer="#query:from")
    return start, end


def area_filter(area: str | None) -> str | None:
    cleaned = (area or "").strip()
    if "\x00" in cleaned:
        raise UnprocessableEntity("An area name may not contain the NUL character.", pointer="#query:area")
    if len(cleaned) > AREA_MAX:
        raise UnprocessableEntity(f"An area name has at most {AREA_MAX} characters.", pointer="#query:area")
    return cleaned or None


async def checked_filters(
    session: AsyncSession, conference_id: uuid.UUID, *, start: date | None, end: date | None, area: str | None
) -> Filters:
    conference = await _conference(session, conference_id)
    first, last = period(start, end, retention_days=conference.retention_days, today=clock.today())
    timezone = str((conference.cadence or {}).get("timezone") or DEFAULT_TIMEZONE)
    return Filters(conference_id=conference_id, start=first, end=last, area=area_filter(area), timezone=timezone)


async def outcomes_read(session: AsyncSession, filters: Filters, *, action: str = "read") -> Read[OutcomesOut]:
    now = clock.now()
    raw = await raw_figures(session, filters, now=now, threshold=THRESHOLD)
    body = OutcomesOut(
        conference_id=filters.conference_id, period_from=filters.start, period_to=filters.end, area=filters.area,
        areas=raw["areas"], threshold=THRESHOLD, generated_at=now, tables=present.tables(raw, filters.area),
        not_available=[f"{key}: {why}" for key, why in NOT_PER_AREA.items()] if filters.area else [],
    )
    part = f"area:{filters.area}" if filters.area else None
    return Read(body, (outcomes_access(filters.conference_id, action, part),))
