"""Retention bookkeeping: where the access-log chain was cut by the log purge, and which cases
the case purge has anonymised (so that an interrupted purge resumes where it stopped)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import ts_field


class AccessLogAnchor(SQLModel, table=True):
    """Written by the log purge (as the owner) in the same transaction that removes expired log
    rows: per chain, the hash of the last removed row, which the chain's first remaining row
    must point to."""

    __tablename__ = "access_log_anchor"

    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger)
    chain: int = Field(default=0, sa_type=sa.SmallInteger)
    anchored_seq: int = Field(sa_type=sa.BigInteger, index=True)
    row_hash: str = Field(max_length=64)
    rows_removed: int = 0
    removed_before: datetime = ts_field()
    created_at: datetime = ts_field()
    # HMAC under AUDIT_CHAIN_KEY over the anchor (app/services/privacy/verify.py anchor_mac): the
    # database owner cannot remove the oldest rows and pass that off as the retention purge.
    mac: str | None = Field(default=None, max_length=64)


class AnonymisedCase(SQLModel, table=True):
    """A closed case whose personal data and free text were removed after its retention period."""

    __tablename__ = "anonymised_case"

    case_id: uuid.UUID = Field(foreign_key="case.id", primary_key=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    anonymised_at: datetime = ts_field()
