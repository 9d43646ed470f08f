"""Households, minors and legal representatives (issue 17)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import HouseholdRelation, RepresentativeKind
from app.schemas.common import Strict


class HouseholdMemberIn(Strict):
    case_id: uuid.UUID
    relation: HouseholdRelation


class HouseholdCreate(Strict):
    coordinator_id: uuid.UUID = Field(description="The one plan coordinator (a member or the chair); "
                                                  "becomes the case director of every member's case.")
    members: list[HouseholdMemberIn] = Field(min_length=2, max_length=20)


class HouseholdMemberOut(BaseModel):
    case_id: uuid.UUID
    client_id: uuid.UUID
    client_number: str
    relation: HouseholdRelation
    minor: bool


class HouseholdOut(BaseModel):
    id: uuid.UUID
    conference_id: uuid.UUID
    coordinator_id: uuid.UUID
    coordinator_name: str
    members: list[HouseholdMemberOut]
    created_at: datetime


class CaseHouseholdOut(BaseModel):
    household: HouseholdOut | None = Field(description="None: the client belongs to no household.")


class RepresentativeCreate(Strict):
    """The basis is required (checked by the service, so that a refusal is logged)."""

    kind: RepresentativeKind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    basis: Annotated[str, Field(max_length=500, description="The basis of the representation: a court order "
                                                           "(curatele, mentorschap, voogdij) or parental authority, "
                                                           "with its reference.")] = ""
    valid_until: date | None = None


class RepresentativeOut(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    kind: RepresentativeKind
    name: str | None
    basis: str
    valid_until: date | None
    created_at: datetime
    ended_at: datetime | None
