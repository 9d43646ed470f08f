"""Referrals (aanmeldingen): a request to discuss a person."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import id_field, state_field, ts_field
from app.models.enums import ReferralKind, ReferralStatus, ReporterRelation


class Referral(SQLModel, table=True):
    __tablename__ = "referral"

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    client_id: uuid.UUID = Field(foreign_key="client.id", index=True)
    referred_by_id: uuid.UUID = Field(foreign_key="membership.id")
    referring_organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    reason: str = Field(max_length=4000)
    # The referring organisation's own reference for the client (its EPD or BVH number); linked
    # as a client reference when the referral is accepted.
    client_reference: str | None = Field(default=None, max_length=128)
    status: ReferralStatus = state_field(ReferralStatus, ReferralStatus.pending, index=True)
    # Where it comes from (issue 17). A worry from the social surroundings names who reported it
    # (as the member recorded it: "buurvrouw", a first name) and their relation; `reason` holds
    # what they saw.
    kind: ReferralKind = state_field(ReferralKind, ReferralKind.professional)
    reporter: str | None = Field(default=None, max_length=200)
    reporter_relation: ReporterRelation | None = state_field(ReporterRelation, None)
    decline_reason: str | None = Field(default=None, max_length=4000)
    decided_by_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    decided_at: datetime | None = ts_field(nullable=True, default_now=False)
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.id")
    created_at: datetime = ts_field()
    version: int = 1
