"""Administration: who administers an organisation, pending changes of its identity provider,
and the record of every administrative change (who, what, before and after)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, state_field, ts_field
from app.models.enums import IdentityChangeStatus


class OrganisationAdmin(SQLModel, table=True):
    """An administrator of one organisation (not of a conference): a person known by the
    organisation's own identity provider (issuer + subject). Only they change the
    organisation's identity settings and partner systems."""

    __tablename__ = "organisation_admin"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "issuer", "subject"),)

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    display_name: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = ts_field()


class IdentityChange(SQLModel, table=True):
    """A requested change of an organisation's issuer or keys (issuer, JWKS URI, discovery URL).
    It takes effect only when a second administrator of the organisation approves it."""

    __tablename__ = "identity_change"

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    changes: dict = json_field()  # {field: new value}
    before: dict = json_field()  # {field: value when requested}
    status: IdentityChangeStatus = state_field(IdentityChangeStatus, IdentityChangeStatus.pending)
    requested_by_issuer: str = Field(max_length=500)
    requested_by_subject: str = Field(max_length=255)
    requested_by_name: str = Field(max_length=200)
    requested_at: datetime = ts_field()
    decided_by_subject: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = ts_field(nullable=True, default_now=False)


class AdminChange(SQLModel, table=True):
    """One administrative change: identity settings, partner systems, organisations,
    conferences, memberships, mandates. Append-only for the application role (alembic/env.py)."""

    __tablename__ = "admin_change"
    __table_args__ = (
        sa.Index("ix_admin_change_organisation_time", "organisation_id", "occurred_at"),
        sa.Index("ix_admin_change_conference_time", "conference_id", "occurred_at"),
    )

    id: uuid.UUID = id_field()
    occurred_at: datetime = ts_field()
    actor_issuer: str = Field(max_length=500)
    actor_subject: str = Field(max_length=255)
    actor_name: str = Field(max_length=200)
    actor_organisation_id: uuid.UUID | None = None
    # What the change concerns: the organisation whose settings changed (or whose person was
    # given a role), and the conference where it applies (None: not bound to one).
    organisation_id: uuid.UUID | None = None
    conference_id: uuid.UUID | None = None
    entity_type: str = Field(max_length=32)
    entity_id: uuid.UUID | None = None
    operation: str = Field(max_length=16)  # create / update / request / approve / reject
    before: dict = json_field()
    after: dict = json_field()
