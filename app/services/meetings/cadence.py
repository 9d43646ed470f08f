"""Meeting occurrences from a conference's cadence, computed in the conference's own time zone.

A cadence says "every N weeks on <weekday> at HH:MM, <timezone>". Dates are stepped in local
calendar days and each date is combined with the local wall-clock time via zoneinfo, so 10:00 in
Europe/Amsterdam stays 10:00 local across the March and October daylight-saving changes (09:00 UTC
in winter, 08:00 UTC in summer). The result is always a timezone-aware UTC instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from app.errors import UnprocessableEntity
from app.schemas.admin import Cadence

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Without an anchor, week parity counts from this Monday (stable across restarts and replicas).
DEFAULT_ANCHOR = date(2024, 1, 1)


@dataclass(frozen=True)
class ParsedCadence:
    weekday: int
    interval_weeks: int
    at: time
    zone: ZoneInfo
    duration: timedelta
    anchor: date


def parse_cadence(raw: dict | None) -> ParsedCadence:
    """Validate a stored cadence. A cadence that cannot produce dates is a 422 (never a 500)."""
    if not raw:
        raise UnprocessableEntity(
            "This conference has no cadence, so it produces no meeting dates.", pointer="#/cadence"
        )
    try:
        cadence = Cadence.model_validate(raw)
    except ValidationError:
        raise UnprocessableEntity(
            "The conference's cadence is invalid and produces no meeting dates.", pointer="#/cadence"
        ) from None
    try:
        zone = ZoneInfo(cadence.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnprocessableEntity(
            "The cadence names an unknown time zone.", pointer="#/cadence/timezone"
        ) from None
    hours, minutes = (int(p) for p in cadence.time.split(":"))
    weekday = WEEKDAYS.index(cadence.weekday)
    anchor = cadence.anchor or DEFAULT_ANCHOR
    # The first meeting is on the cadence's weekday on or after the anchor.
    anchor = anchor + timedelta(days=(weekday - anchor.weekday()) % 7)
    return ParsedCadence(
        weekday=weekday,
        interval_weeks=cadence.interval_weeks,
        at=time(hours, minutes),
        zone=zone,
        duration=timedelta(minutes=cadence.duration_minutes),
        anchor=anchor,
    )


def local_start(cadence: ParsedCadence, day: date) -> datetime:
    """The UTC instant of the cadence's wall-clock time on a local calendar day. A time that does
    not exist that day (inside a spring-forward gap) is normalised by the UTC round trip."""
    return datetime.combine(day, cadence.at, tzinfo=cadence.zone).astimezone(UTC)


def occurrences(cadence: ParsedCadence, start: datetime, end: datetime) -> list[datetime]:
    """Meeting starts (UTC) with start <= t < end."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("occurrences needs aware datetimes")
    step = timedelta(weeks=cadence.interval_weeks)
    first_local_day = start.astimezone(cadence.zone).date()
    if first_local_day <= cadence.anchor:
        day = cadence.anchor
    else:
        periods = -(-((first_local_day - cadence.anchor).days) // step.days)  # ceiling
        day = cadence.anchor + periods * step
        day -= step  # one step back: the local day boundary may differ from the UTC one
    result: list[datetime] = []
    while True:
        instant = local_start(cadence, day)
        if instant >= end:
            break
        if instant >= start:
            result.append(instant)
        day += step
    return result
