"""Meetings (vergaderingen) of a conference, their agendas, members' discussion requests,
decisions (besluiten), and per-membership calendar feed tokens."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, state_field, ts_field
from app.models.enums import AgendaStatus, MeetingStatus, Phase


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"
    __table_args__ = (sa.UniqueConstraint("conference_id", "starts_at"),)

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    starts_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False, index=True)
    ends_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    status: MeetingStatus = state_field(MeetingStatus, MeetingStatus.scheduled)
    ad_hoc: bool = False
    moved_from: datetime | None = ts_field(nullable=True, default_now=False)
    agenda_status: AgendaStatus = state_field(AgendaStatus, AgendaStatus.draft)
    agenda_generated_at: datetime | None = ts_field(nullable=True, default_now=False)
    published_at: datetime | None = ts_field(nullable=True, default_now=False)
    decisions_published_at: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()
    version: int = 1


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"
    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'case' AND case_id IS NOT NULL AND referral_id IS NULL) OR "
            "(kind = 'referral' AND referral_id IS NOT NULL AND case_id IS NULL)",
            name="subject",
        ),
        # One item per subject per meeting (also the conflict target of the draft's upsert).
        sa.Index(
            "uq_agenda_item_subject", "meeting_id", sa.text("coalesce(case_id, referral_id)"), unique=True
        ),
    )

    id: uuid.UUID = id_field()
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", index=True)
    kind: str = Field(max_length=16)  # case / referral
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.id", index=True)
    referral_id: uuid.UUID | None = Field(default=None, foreign_key="referral.id")
    # [{"code": "review_due", "text": "Evaluatiedatum 12-11-2026 verstreken"}, ...]; an optional
    # "detail" (free text of a request or flag) is shown to the chair only.
    reasons: list = json_field(default_factory=list)
    urgency: int = 99  # lower is more urgent (see app/services/meetings/agenda.py RANK)
    position: int = 0
    time_box_minutes: int = Field(default=10, ge=1)
    added_by_chair: bool = False
    removed: bool = False
    created_at: datetime = ts_field()


class DiscussionRequest(SQLModel, table=True):
    """A member asks for a case to be put on the next agenda (bespreekverzoek)."""

    __tablename__ = "discussion_request"

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    requested_by_id: uuid.UUID = Field(foreign_key="membership.id")
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    reason: str = Field(max_length=2000)
    created_at: datetime = ts_field()
    # Set when an agenda carrying the request is published.
    handled_in_meeting_id: uuid.UUID | None = Field(default=None, foreign_key="meeting.id")
    handled_at: datetime | None = ts_field(nullable=True, default_now=False)


class Decision(SQLModel, table=True):
    """A decision (besluit) on one agenda item."""

    __tablename__ = "decision"

    id: uuid.UUID = id_field()
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", index=True)
    agenda_item_id: uuid.UUID = Field(foreign_key="agenda_item.id", index=True)
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.id", index=True)
    text: str = Field(max_length=4000)
    action_ids: list[uuid.UUID] = Field(
        default_factory=list, sa_type=postgresql.ARRAY(sa.Uuid), nullable=False
    )
    phase_from: Phase | None = state_field(Phase, None)
    phase_to: Phase | None = state_field(Phase, None)
    new_review_date: date | None = None
    new_case_director_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    decided_by_id: uuid.UUID = Field(foreign_key="membership.id")
    created_at: datetime = ts_field()


class CalendarFeed(SQLModel, table=True):
    """A subscribable iCalendar feed of one membership: the URL carries a random token, of which
    only the SHA-256 is stored. Rotating replaces the row."""

    __tablename__ = "calendar_feed"

    id: uuid.UUID = id_field()
    membership_id: uuid.UUID = Field(foreign_key="membership.id", unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = ts_field()
