"""Guests of one case (issue 17): a professional of another organisation whom the chair invites to
one case (or one agenda item of it) for a stated reason and a bounded time, or a peer supporter or
buddy who takes part in the plan with the client's recorded consent. The person is identified by
their organisation's issuer and their subject there, like a membership; the grant is decided by
the policy (app/auth/policy.py) from the principal's `guest_grants`."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, state_field, ts_field
from app.models.enums import GuestKind


class GuestInvitation(SQLModel, table=True):
    __tablename__ = "guest_invitation"
    __table_args__ = (sa.Index("ix_guest_invitation_person", "organisation_id", "issuer", "subject"),)

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id")
    agenda_item_id: uuid.UUID | None = Field(default=None, foreign_key="agenda_item.id")
    kind: GuestKind = state_field(GuestKind, GuestKind.guest)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    display_name: str = Field(max_length=200)
    reason: str = Field(max_length=1000)
    # Peer supporters and buddies: the signed agreement that records the client's consent.
    consent_agreement_id: uuid.UUID | None = Field(default=None, foreign_key="agreement.id")
    invited_by_id: uuid.UUID = Field(foreign_key="membership.id")
    starts_at: datetime = ts_field()
    ends_at: datetime = ts_field(default_now=False)
    revoked_at: datetime | None = ts_field(nullable=True, default_now=False)
    # When the expiry job wrote the end into the case's history (once).
    expiry_recorded_at: datetime | None = ts_field(nullable=True, default_now=False)
