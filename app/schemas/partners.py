"""Client references and the minimal case view for partner systems."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import ActionStatus, Phase
from app.schemas.common import Strict

# An organisation's own number for a client (EPD, BVH, ...): printable, no spaces.
Reference = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/#-]*$")]


class ReferenceCreate(Strict):
    reference: Reference


class ReferenceLookup(Strict):
    reference: Reference


class ReferenceOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    organisation_id: uuid.UUID
    reference: str
    created_at: datetime


class MinimalAction(BaseModel):
    id: uuid.UUID
    status: ActionStatus
    due_date: date | None = None


class MinimalCase(BaseModel):
    """What a partner system may read about a case of a client it holds a reference for."""

    case_id: uuid.UUID
    references: list[str] = Field(description="Your organisation's own references for the client.")
    phase: Phase
    next_meeting_date: date | None = None
    case_director_organisation_id: uuid.UUID | None = None
    case_director_organisation: str | None = None
    case_director_role: str | None = Field(
        default=None, description="The case director's role in the conference (chair or member): the contact."
    )
    actions: list[MinimalAction] = Field(description="Your organisation's actions on the case.")
