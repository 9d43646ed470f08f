"""Shapes of the access log, its verification, the subject-access report and the data export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AccessLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    occurred_at: datetime
    actor_issuer: str
    actor_subject: str
    actor_name: str
    actor_kind: str
    organisation_id: uuid.UUID | None
    role: str | None
    conference_id: uuid.UUID | None
    client_number: str | None
    case_id: uuid.UUID | None
    resource_type: str
    resource_id: str | None
    action: str
    part: str | None
    basis: str | None
    outcome: str
    request_id: str | None
    source_address: str | None
    prev_hash: str | None
    row_hash: str | None


class ChainReportOut(BaseModel):
    ok: bool
    from_seq: int
    to_seq: int
    rows_checked: int
    first_broken_seq: int | None = None
    problem: str | None = None
    last_hash: str | None = None
    heads: dict[int, str] | None = None
    checkpoint: str | None = None  # the signed checkpoint checked against (file name)


class AccessReportEntry(BaseModel):
    occurred_at: datetime
    organisation_id: uuid.UUID | None
    organisation_name: str | None
    role: str | None
    person: str
    action: str
    resource_type: str
    part: str | None
    case_id: uuid.UUID | None
    basis: str | None
    outcome: str


class SharedWith(BaseModel):
    """An organisation that was shown an item, on which basis (None: taking part in the
    conference, or the organisation's own data), first and last time."""

    organisation_id: uuid.UUID
    organisation_name: str
    basis: str | None
    first_at: datetime
    last_at: datetime


class HeldItem(BaseModel):
    """One item the service holds about the client, of one kind of client data."""

    kind: str
    kind_nl: str
    id: str
    case_id: uuid.UUID | None
    summary: str
    shared_with: list[SharedWith]


class AccessReportOut(BaseModel):
    client_number: str
    conference_id: uuid.UUID
    conference_name: str
    generated_at: datetime
    entries: list[AccessReportEntry]
    plain_language: bool = Field(default=False, description="The client needs plain language or reading support.")
    data_held: list[HeldItem] = Field(
        default_factory=list, description="Every item held about the client, by kind, with whom it was shared."
    )


class ClientExportOut(BaseModel):
    """Everything the service holds on one client."""

    generated_at: datetime
    client: dict[str, Any]
    references: list[dict[str, Any]]
    referrals: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    kinds: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="Every kind of client data (table) -> its rows for this client."
    )
    held: list[HeldItem] = Field(default_factory=list, description="Every item, with whom it was shared and on which basis.")
