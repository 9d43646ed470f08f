"""Meetings of a conference: laid out from the cadence (idempotently), ad hoc, moved, cancelled."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.clock import clock
from app.errors import Conflict, NotFound, PreconditionFailed, UnprocessableEntity
from app.models import Conference, Meeting
from app.models.enums import AgendaStatus, MeetingStatus
from app.schemas.meetings import AdHocMeeting, MeetingOut, MoveMeeting
from app.services.meetings.cadence import occurrences, parse_cadence

log = logging.getLogger(__name__)


def meeting_out(meeting: Meeting) -> MeetingOut:
    return MeetingOut(
        id=meeting.id,
        conference_id=meeting.conference_id,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        status=meeting.status,
        ad_hoc=meeting.ad_hoc,
        moved_from=meeting.moved_from,
        agenda_status=meeting.agenda_status,
        published_at=meeting.published_at,
        decisions_published_at=meeting.decisions_published_at,
        version=meeting.version,
    )


MAX_AHEAD = timedelta(days=5 * 366)


def _check_start(starts_at: datetime, pointer: str) -> None:
    now = clock.now()
    if starts_at <= now:
        raise UnprocessableEntity("A meeting must start in the future.", pointer=pointer)
    if starts_at > now + MAX_AHEAD:
        raise UnprocessableEntity("A meeting cannot be planned more than five years ahead.", pointer=pointer)


def meeting_minutes(meeting: Meeting | MeetingOut) -> int:
    return int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)


async def load_conference(session: AsyncSession, conference_id: uuid.UUID) -> Conference:
    conference = await session.get(Conference, conference_id)
    if conference is None:
        raise NotFound("conference")
    return conference


async def load_meeting(session: AsyncSession, meeting_id: uuid.UUID, *, for_update: bool = False) -> Meeting:
    query = sa.select(Meeting).where(col(Meeting.id) == meeting_id)
    if for_update:
        query = query.with_for_update()
    meeting = (await session.execute(query)).scalar_one_or_none()
    if meeting is None:
        raise NotFound("meeting")
    return meeting


async def load_meeting_and_cadence(session: AsyncSession, meeting_id: uuid.UUID) -> tuple[Meeting, dict]:
    """The meeting, locked as `load_meeting(for_update=True)` locks it, and its conference's
    cadence, in one statement (regenerating a draft needs both)."""
    row = (
        await session.execute(
            sa.select(Meeting, col(Conference.cadence))
            .join(Conference, col(Conference.id) == col(Meeting.conference_id))
            .where(col(Meeting.id) == meeting_id)
            .with_for_update(of=Meeting)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("meeting")
    return row[0], row[1]


async def current_meetings(session: AsyncSession, conference_ids: Collection[uuid.UUID]) -> list[Meeting]:
    """Per conference, the meeting to prepare or hold now: the earliest one that is neither
    cancelled nor held (its list of decisions not yet published) and did not end more than a day
    ago, so that the chair still finds it the day after to publish the decisions."""
    if not conference_ids:
        return []
    since = clock.now() - timedelta(days=1)
    rows = await session.execute(
        sa.select(Meeting)
        .where(
            col(Meeting.conference_id).in_(list(conference_ids)),
            col(Meeting.status) == MeetingStatus.scheduled,
            col(Meeting.ends_at) > since,
        )
        .distinct(col(Meeting.conference_id))
        .order_by(col(Meeting.conference_id), col(Meeting.starts_at))
    )
    return sorted(rows.scalars(), key=lambda m: m.starts_at)


async def list_meetings(
    session: AsyncSession,
    conference_id: uuid.UUID,
    *,
    start: datetime | None,
    end: datetime | None,
    limit: int = 200,
) -> list[Meeting]:
    """Meetings with start <= starts_at < end; by default from a month ago for a year."""
    try:
        start = start or clock.now() - timedelta(days=31)
        end = end or start + timedelta(days=366)
    except OverflowError:
        raise UnprocessableEntity("The period lies outside the calendar.", pointer="#query:from") from None
    if end <= start:
        raise UnprocessableEntity("'to' must lie after 'from'.", pointer="#query:to")
    return list(
        (
            await session.execute(
                sa.select(Meeting)
                .where(
                    col(Meeting.conference_id) == conference_id,
                    col(Meeting.starts_at) >= start,
                    col(Meeting.starts_at) < end,
                )
                .order_by(col(Meeting.starts_at))
                .limit(limit)
            )
        ).scalars()
    )


async def generate_meetings(
    session: AsyncSession, conference: Conference, *, weeks: int
) -> tuple[list[Meeting], int]:
    """Lay out the cadence's meetings from now over `weeks`. Idempotent: the unique key
    (conference_id, starts_at) makes a second run (or a second replica) insert nothing; a slot
    whose meeting was moved away (moved_from) or cancelled is not filled again.
    Returns (newly created meetings, number of cadence dates in the window)."""
    cadence = parse_cadence(conference.cadence)
    now = clock.now()
    starts = occurrences(cadence, now, now + timedelta(weeks=weeks))
    if not starts:
        raise UnprocessableEntity(
            f"The cadence produces no meeting dates in the next {weeks} weeks.", pointer="#/cadence"
        )
    moved_away = set(
        (
            await session.execute(
                sa.select(col(Meeting.moved_from)).where(
                    col(Meeting.conference_id) == conference.id,
                    col(Meeting.moved_from).in_(starts),
                )
            )
        ).scalars()
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "conference_id": conference.id,
            "starts_at": s,
            "ends_at": s + cadence.duration,
            "status": MeetingStatus.scheduled,
            "ad_hoc": False,
            "agenda_status": AgendaStatus.draft,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for s in starts
        if s not in moved_away
    ]
    if not rows:
        return [], len(starts)
    created_ids = (
        (
            await session.execute(
                pg_insert(Meeting)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["conference_id", "starts_at"])
                .returning(col(Meeting.id))
            )
        )
        .scalars()
        .all()
    )
    if not created_ids:
        return [], len(starts)
    created = (
        (
            await session.execute(
                sa.select(Meeting).where(col(Meeting.id).in_(created_ids)).order_by(col(Meeting.starts_at))
            )
        )
        .scalars()
        .all()
    )
    return list(created), len(starts)


async def _taken(
    session: AsyncSession, conference_id: uuid.UUID, starts_at: datetime, except_id: uuid.UUID | None = None
) -> bool:
    query = sa.select(col(Meeting.id)).where(
        col(Meeting.conference_id) == conference_id, col(Meeting.starts_at) == starts_at
    )
    if except_id is not None:
        query = query.where(col(Meeting.id) != except_id)
    return (await session.execute(query)).first() is not None


async def create_ad_hoc(session: AsyncSession, conference: Conference, data: AdHocMeeting) -> Meeting:
    data = data.model_copy(update={"starts_at": data.starts_at.astimezone(UTC)})
    _check_start(data.starts_at, "#/starts_at")
    if await _taken(session, conference.id, data.starts_at):
        raise Conflict("There is already a meeting of this conference at that time.")
    meeting = Meeting(
        conference_id=conference.id,
        starts_at=data.starts_at,
        ends_at=data.starts_at + timedelta(minutes=data.duration_minutes),
        ad_hoc=True,
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def bump(session: AsyncSession, meeting: Meeting, **values: object) -> Meeting:
    """Write `values` and the next version, only if nobody changed the meeting in between."""
    now = clock.now()
    result = await session.execute(
        sa.update(Meeting)
        .where(col(Meeting.id) == meeting.id, col(Meeting.version) == meeting.version)
        .values(version=col(Meeting.version) + 1, updated_at=now, **values)
        .returning(col(Meeting.version))
    )
    new_version = result.scalar_one_or_none()
    if new_version is None:
        raise PreconditionFailed(
            "This meeting was changed by someone else at the same moment; read it again."
        )
    for key, value in values.items():
        setattr(meeting, key, value)
    meeting.version = new_version
    meeting.updated_at = now
    return meeting


def require_open(meeting: Meeting, what: str) -> None:
    if meeting.status == MeetingStatus.cancelled:
        raise Conflict(f"The meeting is cancelled: no {what}.")
    if meeting.status == MeetingStatus.held:
        raise Conflict(f"The meeting has been held: no {what}.")


async def move_meeting(session: AsyncSession, meeting: Meeting, data: MoveMeeting) -> Meeting:
    data = data.model_copy(update={"starts_at": data.starts_at.astimezone(UTC)})
    require_open(meeting, "move")
    if data.starts_at <= clock.now():
        raise UnprocessableEntity(
            "A meeting can only be moved to a time in the future.", pointer="#/starts_at"
        )
    if await _taken(session, meeting.conference_id, data.starts_at, except_id=meeting.id):
        raise Conflict("There is already a meeting of this conference at that time.")
    duration = (
        timedelta(minutes=data.duration_minutes)
        if data.duration_minutes
        else meeting.ends_at - meeting.starts_at
    )
    return await bump(
        session,
        meeting,
        starts_at=data.starts_at,
        ends_at=data.starts_at + duration,
        moved_from=meeting.moved_from or meeting.starts_at,
    )


async def cancel_meeting(session: AsyncSession, meeting: Meeting) -> Meeting:
    require_open(meeting, "cancellation")
    return await bump(session, meeting, status=MeetingStatus.cancelled)
