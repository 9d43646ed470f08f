"""A client's request under the AVG (inzage, correctie, verwijdering, beperking, bezwaar, klacht),
its deadline, decision and answer, and the corrections applied on it (issue 21)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, state_field, ts_field
from app.models.enums import (
    ClientRequestChannel,
    ClientRequestDecision,
    ClientRequestKind,
    ClientRequestStatus,
    CorrectionField,
)


class ClientRequest(SQLModel, table=True):
    """One request, recorded by a privacy officer of the client's conference. The deadline is one
    month after receipt, extendable once (with a recorded reason); an answer after the deadline
    without an extension is refused."""

    __tablename__ = "client_request"
    __table_args__ = (sa.Index("ix_client_request_open", "conference_id", "status", "deadline_on"),)

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id")
    client_id: uuid.UUID = Field(foreign_key="client.id", index=True)
    kind: ClientRequestKind = state_field(ClientRequestKind, ClientRequestKind.inspection)
    channel: ClientRequestChannel = state_field(ClientRequestChannel, ClientRequestChannel.letter)
    received_on: date
    # Who made the request on the client's behalf (a relative, a lawyer, a mentor), if anyone.
    on_behalf_of: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=4000)
    deadline_on: date
    extended_until: date | None = None
    extension_reason: str | None = Field(default=None, max_length=2000)
    status: ClientRequestStatus = state_field(ClientRequestStatus, ClientRequestStatus.open)
    decision: ClientRequestDecision | None = state_field(ClientRequestDecision, None)
    answer: str | None = Field(default=None, sa_type=sa.Text)
    answered_on: date | None = None
    recorded_by_id: uuid.UUID = Field(foreign_key="membership.id")
    answered_by_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    overdue_notified_on: date | None = None
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()
    version: int = 1


class ClientCorrection(SQLModel, table=True):
    """One value corrected on a request for rectification: what it was, what it is now, who did
    it, and which organisations had read the old value and were told (by id only)."""

    __tablename__ = "client_correction"

    id: uuid.UUID = id_field()
    request_id: uuid.UUID = Field(foreign_key="client_request.id", index=True)
    field: CorrectionField = state_field(CorrectionField, CorrectionField.name)
    entity_id: uuid.UUID
    case_id: uuid.UUID | None = Field(default=None, foreign_key="case.id")
    old_value: str = Field(sa_type=sa.Text)
    new_value: str = Field(sa_type=sa.Text)
    told_organisation_ids: list[uuid.UUID] = Field(
        default_factory=list, sa_type=sa.ARRAY(sa.Uuid), nullable=False
    )
    corrected_by_id: uuid.UUID = Field(foreign_key="membership.id")
    corrected_at: datetime = ts_field()
