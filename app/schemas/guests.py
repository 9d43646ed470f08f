"""Guests of one case, peer supporters and buddies (issue 17)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import GuestKind, GuestStatus
from app.schemas.common import Strict


class GuestInvitationCreate(Strict):
    """The reason and the end date are required (checked by the service, so that a refusal is
    logged like any other)."""

    kind: GuestKind = GuestKind.guest
    organisation_id: uuid.UUID = Field(description="The guest's organisation (its identity provider registered).")
    subject: Annotated[str, Field(min_length=1, max_length=255,
                                  description="The guest's subject at their organisation's identity provider.")]
    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    reason: Annotated[str, Field(max_length=1000, description="Why this person is invited.")] = ""
    ends_on: date | None = Field(default=None, description="The last day of the invitation (at most 90 days "
                                                           "ahead for a guest, 365 for a peer supporter or buddy).")
    agenda_item_id: uuid.UUID | None = Field(default=None, description="Invited for this agenda item of the case.")
    consent_agreement_id: uuid.UUID | None = Field(
        default=None, description="Peer supporters and buddies: the signed agreement that records the client's consent.")


class GuestReadOut(BaseModel):
    occurred_at: datetime
    part: str | None
    outcome: str


class GuestInvitationOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: GuestKind
    organisation_id: uuid.UUID
    organisation_name: str
    display_name: str
    reason: str
    agenda_item_id: uuid.UUID | None
    consent_agreement_id: uuid.UUID | None
    invited_by_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    revoked_at: datetime | None
    status: GuestStatus
    reads: list[GuestReadOut] = Field(default_factory=list, description="The guest's reads of the case and "
                                                                         "refusals, from the access log.")
