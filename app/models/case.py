"""A case (casus): one client's trajectory in one conference."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, state_field, text_array_field, ts_field
from app.models.enums import Phase


class Case(SQLModel, table=True):
    __tablename__ = "case"
    # The case list's order within a conference: a top-N index scan instead of sorting every case
    # of the conference (docs/performance.md has the EXPLAIN).
    __table_args__ = (sa.Index("ix_case_conference_opened", "conference_id", sa.text("opened_at DESC"), "id"),)

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    client_id: uuid.UUID = Field(foreign_key="client.id", index=True)
    phase: Phase = state_field(Phase, Phase.selected, index=True)
    closure_reason: str | None = Field(default=None, max_length=32)
    case_director_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    priority: str = Field(default="normal", max_length=16)
    substances: list[str] = text_array_field()
    next_review_date: date | None = None
    opened_on: date
    # The neighbourhood (wijk) the client lives in: outcome figures are filtered by it (issue 18).
    area: str | None = Field(default=None, max_length=64)
    opened_at: datetime = ts_field()
    closed_at: datetime | None = ts_field(nullable=True, default_now=False)
    updated_at: datetime = ts_field()
    version: int = 1


class CaseNote(SQLModel, table=True):
    """Free text about a case, carrying a need-to-know label and its author's organisation."""

    __tablename__ = "case_note"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    author_id: uuid.UUID = Field(foreign_key="membership.id")
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    label: str = Field(default="general", max_length=16)
    text: str = Field(max_length=8000)
    created_at: datetime = ts_field()


class BreakGlass(SQLModel, table=True):
    """An emergency opening (doorbraak) of hidden information on one case by one person, with a
    stated reason and a short expiry. Every read under it is marked in the access log; the privacy
    officers of the conference and the case director are notified when it is opened."""

    __tablename__ = "break_glass"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id")
    membership_id: uuid.UUID = Field(foreign_key="membership.id", index=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    reason: str = Field(max_length=1000)
    opened_at: datetime = ts_field()
    expires_at: datetime = ts_field(default_now=False)
