"""Request and response shapes of meetings, agendas, decisions and exports."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from app.models.enums import AgendaStatus, ClosureReason, MeetingStatus, Phase
from app.schemas.cases import ActionCreate, ActionOut
from app.schemas.common import Strict

Text = Annotated[str, Field(min_length=1, max_length=4000)]


class MeetingOut(BaseModel):
    id: uuid.UUID
    conference_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    ad_hoc: bool
    moved_from: datetime | None
    agenda_status: AgendaStatus
    published_at: datetime | None
    decisions_published_at: datetime | None
    version: int


class GenerateMeetings(Strict):
    weeks: int | None = Field(default=None, ge=1, le=104, description="Horizon; defaults to the setting.")


class GeneratedMeetings(BaseModel):
    created: list[MeetingOut]
    in_window: int


class AdHocMeeting(Strict):
    starts_at: AwareDatetime
    duration_minutes: int = Field(default=60, ge=15, le=600)


class MoveMeeting(Strict):
    starts_at: AwareDatetime
    duration_minutes: int | None = Field(default=None, ge=15, le=600)


class Reason(BaseModel):
    code: str
    text: str
    detail: str | None = Field(default=None, description="Free text of a request or signal; chair only.")


class AgendaItemOut(BaseModel):
    id: uuid.UUID
    position: int
    kind: Literal["case", "referral"]
    case_id: uuid.UUID | None
    referral_id: uuid.UUID | None
    client_number: str
    phase: str | None
    reasons: list[Reason]
    time_box_minutes: int
    added_by_chair: bool
    # chair only
    client_name: str | None = None
    priority: str | None = None
    removed: bool | None = None


class AgendaOut(BaseModel):
    meeting: MeetingOut
    items: list[AgendaItemOut]
    total_minutes: int
    meeting_minutes: int
    over_time: bool


class AgendaItemAdd(Strict):
    case_id: uuid.UUID | None = None
    referral_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=2000)
    time_box_minutes: int | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> AgendaItemAdd:
        if (self.case_id is None) == (self.referral_id is None):
            raise ValueError("give exactly one of case_id and referral_id")
        return self


class AgendaReorder(Strict):
    item_ids: list[uuid.UUID] = Field(max_length=500)


class TimeBox(Strict):
    time_box_minutes: int


class DiscussionRequestCreate(Strict):
    case_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class DiscussionRequestOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    client_number: str
    created_at: datetime
    handled_in_meeting_id: uuid.UUID | None


class PhaseChange(Strict):
    to: Phase
    closure_reason: ClosureReason | None = None


class DecisionCreate(Strict):
    text: Text
    actions: list[ActionCreate] = Field(default_factory=list, max_length=20)
    phase: PhaseChange | None = None
    next_review_date: date | None = None
    case_director_id: uuid.UUID | None = None


class DecisionOut(BaseModel):
    id: uuid.UUID
    meeting_id: uuid.UUID
    agenda_item_id: uuid.UUID
    case_id: uuid.UUID | None
    client_number: str
    text: str
    action_ids: list[uuid.UUID]
    actions: list[ActionOut] = Field(default_factory=list)
    phase_from: str | None
    phase_to: str | None
    new_review_date: date | None
    new_case_director_id: uuid.UUID | None
    created_at: datetime


class DecisionList(BaseModel):
    meeting: MeetingOut
    published: bool
    items: list[DecisionOut]


class CalendarFeedCreate(Strict):
    conference_id: uuid.UUID


class CalendarFeedOut(BaseModel):
    url: str
    note: str = "Keep this address private: anyone with it sees the meeting dates of your conference."


class Digest(BaseModel):
    organisation_id: uuid.UUID
    generated_on: date
    overdue: list[ActionOut]
    due_soon: list[ActionOut]
    later: list[ActionOut]


class NotificationOut(BaseModel):
    """A reminder, a warning, or a flagged case: ids and dates only, never client data."""

    id: uuid.UUID
    kind: str
    conference_id: uuid.UUID | None
    ref_type: str
    ref_id: uuid.UUID
    on_date: date
    due_on: date | None
    addressed_to_you: bool
