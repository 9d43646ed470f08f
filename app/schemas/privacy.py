"""Shapes of a client's requests under the AVG (issue 21): recording one, extending its
deadline once, corrections, the decision and answer; and the register the privacy officer reads."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.models.enums import (
    ClientRequestChannel,
    ClientRequestDecision,
    ClientRequestKind,
    ClientRequestStatus,
    CorrectionField,
)
from app.schemas.common import Strict

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class ClientRequestCreate(Strict):
    kind: ClientRequestKind = Field(description="inspection, rectification, erasure, restriction, objection, complaint")
    received_on: date = Field(description="The day the request came in; the deadline is one month later.")
    channel: ClientRequestChannel
    on_behalf_of: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        default=None, description="Who made the request on the client's behalf, if anyone (a relative, a lawyer)."
    )
    description: Text = ""


class ExtensionCreate(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=2000)] = Field(
        description="Why the answer needs more time (told to the client); the deadline moves two months."
    )


class CorrectionCreate(Strict):
    field: CorrectionField
    entity_id: uuid.UUID | None = Field(
        default=None, description="The note, goal, action or agreement corrected (not for the client's name or date of birth)."
    )
    new_value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class AnswerCreate(Strict):
    decision: ClientRequestDecision
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=20000)]


class CorrectionOut(BaseModel):
    id: uuid.UUID
    field: CorrectionField
    entity_id: uuid.UUID
    case_id: uuid.UUID | None
    old_value: str
    new_value: str
    told_organisation_ids: list[uuid.UUID]
    corrected_at: datetime


class ClientRequestOut(BaseModel):
    id: uuid.UUID
    conference_id: uuid.UUID
    client_number: str
    kind: ClientRequestKind
    channel: ClientRequestChannel
    received_on: date
    on_behalf_of: str | None
    description: str
    deadline_on: date
    extended_until: date | None
    extension_reason: str | None
    status: ClientRequestStatus
    overdue: bool
    decision: ClientRequestDecision | None
    answer: str | None
    answered_on: date | None
    corrections: list[CorrectionOut]
    version: int
