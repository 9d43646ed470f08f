"""Actions (acties, afspraken): one commitment of an organisation for a client."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, state_field, ts_field
from app.models.enums import ActionStatus


class Action(SQLModel, table=True):
    __tablename__ = "action"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    life_domain: str = Field(max_length=32)
    # Need-to-know label when recorded otherwise than the life domain's (app/auth/policy.py).
    label: str | None = Field(default=None, max_length=16)
    owner_organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id", index=True)
    due_date: date = Field(index=True)
    status: ActionStatus = state_field(ActionStatus, ActionStatus.open, index=True)
    resource_scope: str | None = Field(default=None, max_length=64)
    # bigint: the schema allows up to 10^10 cents (app/schemas/cases.py), beyond a 32-bit column
    resource_amount_cents: int | None = Field(default=None, ge=0, sa_type=sa.BigInteger)
    committed_by_id: uuid.UUID = Field(foreign_key="membership.id")
    mandate_id: uuid.UUID | None = Field(default=None, foreign_key="mandate.id")
    coverage: str = Field(default="not_applicable", max_length=24, index=True)
    note: str = Field(default="", max_length=2000)
    # The catalogue's intervention it was created from (issue 17), if any.
    intervention_id: uuid.UUID | None = Field(default=None, foreign_key="intervention.id", index=True)
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()
    version: int = 1
