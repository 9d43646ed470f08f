"""Conferences (casusoverleg), memberships of people, and the mandates members carry."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, ts_field


class Conference(SQLModel, table=True):
    __tablename__ = "conference"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    municipality: str = Field(max_length=200)
    # {"weekday": "tuesday", "interval_weeks": 2, "time": "10:00", "timezone": "Europe/Amsterdam",
    #  "duration_minutes": 120, "anchor": "2026-01-06"}
    cadence: dict = json_field()
    retention_days: int = Field(default=730, ge=0)
    # Takes part in known-elsewhere questions (hit/no-hit, docs/known-elsewhere.md): may ask, and
    # is asked. Off until the municipality decides to join.
    known_elsewhere: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    created_at: datetime = ts_field()


class ConferenceOrganisation(SQLModel, table=True):
    """An organisation taking part in a conference."""

    __tablename__ = "conference_organisation"

    conference_id: uuid.UUID = Field(foreign_key="conference.id", primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", primary_key=True)


class Membership(SQLModel, table=True):
    """A person, known by identity-provider issuer + subject, in one conference with one role."""

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("conference_id", "issuer", "subject", "role"),)

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    display_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: str = Field(max_length=32)
    active: bool = True
    created_at: datetime = ts_field()


sa.Index("ix_membership_identity", Membership.issuer, Membership.subject)


class Mandate(SQLModel, table=True):
    """What a member may commit on behalf of their organisation: scope, amount and time."""

    __tablename__ = "mandate"

    id: uuid.UUID = id_field()
    membership_id: uuid.UUID = Field(foreign_key="membership.id", index=True)
    scope: str = Field(max_length=64)
    max_amount_cents: int | None = Field(default=None, ge=0, sa_type=sa.BigInteger)
    valid_from: date
    valid_to: date | None = None
    granted_by: str = Field(max_length=200)
    created_at: datetime = ts_field()
    extra: dict = json_field()
