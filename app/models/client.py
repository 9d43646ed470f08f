"""The person discussed (betrokkene). The BSN is stored encrypted and found by a keyed hash."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, ts_field


class Client(SQLModel, table=True):
    __tablename__ = "client"
    __table_args__ = (
        sa.UniqueConstraint("conference_id", "bsn_hash"),
        sa.UniqueConstraint("client_number"),
    )

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    # Stable pseudonymous number shown in lists instead of the name.
    client_number: str = Field(max_length=16)
    name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    bsn_ciphertext: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    bsn_hash: str | None = Field(default=None, max_length=64)
    # The client needs plain language or support in reading (many clients of the approach have a
    # mild intellectual disability): texts for them are B1-checked and printed larger (issue 21).
    plain_language: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # A restriction of processing (AVG art. 18) granted on the client's request: the retention
    # purge keeps the client's data until it is lifted (app/services/privacy/retention.py).
    restricted_at: datetime | None = ts_field(nullable=True, default_now=False)
    created_at: datetime = ts_field()
    anonymised_at: datetime | None = ts_field(nullable=True, default_now=False)


class ClientReference(SQLModel, table=True):
    """A partner organisation's own reference for a client (its EPD or BVH number). Linked by the
    organisation's people or its partner system (app/services/partners/references.py), or carried
    along by an accepted referral. Each organisation sees only its own."""

    __tablename__ = "client_reference"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "reference"),)

    id: uuid.UUID = id_field()
    client_id: uuid.UUID = Field(foreign_key="client.id", index=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    reference: str = Field(max_length=128)
    created_at: datetime = ts_field()
