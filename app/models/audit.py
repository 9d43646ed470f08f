"""The access log (NEN 7513): one row per access to client data, allowed or denied."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import ts_field


class AccessLogEntry(SQLModel, table=True):
    __tablename__ = "access_log"
    __table_args__ = (
        sa.Index("ix_access_log_client_time", "client_number", "occurred_at"),
        sa.Index("ix_access_log_actor_time", "actor_subject", "occurred_at"),
        sa.Index("ix_access_log_org_time", "organisation_id", "occurred_at"),
        sa.Index("ix_access_log_conference_time", "conference_id", "occurred_at"),
        sa.Index("ix_access_log_chain_seq", "chain", "seq"),
    )

    seq: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    occurred_at: datetime = ts_field()
    actor_issuer: str = Field(max_length=500)
    actor_subject: str = Field(max_length=255)
    actor_name: str = Field(default="", max_length=200)
    actor_kind: str = Field(default="person", max_length=16)  # person / system
    organisation_id: uuid.UUID | None = None
    role: str | None = Field(default=None, max_length=32)
    conference_id: uuid.UUID | None = None
    client_number: str | None = Field(default=None, max_length=16)
    case_id: uuid.UUID | None = None
    resource_type: str = Field(max_length=32)
    resource_id: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=16)  # read / list / create / update / delete / export / print
    part: str | None = Field(default=None, max_length=64)  # which part of the record, never content
    basis: str | None = Field(default=None, max_length=200)
    outcome: str = Field(max_length=8)  # allowed / denied
    request_id: str | None = Field(default=None, max_length=64)
    source_address: str | None = Field(default=None, max_length=64)
    # Hash chains, filled in by the database (trigger access_log_chain, migration 0003): the row
    # joins one of 16 chains (lanes, so that concurrent requests do not wait for each other's
    # commit); prev_hash is the row_hash of the previous row of that chain, and row_hash is sha256
    # over the canonical text of this row. app/services/privacy/verify.py recomputes them.
    chain: int = Field(default=0, sa_type=sa.SmallInteger)
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)
