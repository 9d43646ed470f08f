"""The neighbourhood team's reports during an aftercare watch and the institution's answers (issue 17)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import AftercareReportKind
from app.schemas.common import Strict


class AftercareReportCreate(Strict):
    kind: AftercareReportKind
    observed_on: date | None = Field(default=None, description="When it was noticed (default today).")
    note: Annotated[str, Field(max_length=2000)] | None = Field(
        default=None, description="What was seen, briefly (carries the label of the report's kind).")


class AftercareReplyCreate(Strict):
    text: Annotated[str, Field(max_length=2000, description="The institution's answer.")] = ""


class AftercareReportOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: AftercareReportKind | None = Field(description="None where the label hides it.")
    label: str
    organisation_id: uuid.UUID
    observed_on: date
    created_at: datetime
    note: str | None
    hidden: bool
    basis: str | None = None
    via_partner_event: bool
    answered: bool
    reply: str | None
    reply_hidden: bool
    reply_basis: str | None = None
    reply_organisation_id: uuid.UUID | None
    replied_at: datetime | None
