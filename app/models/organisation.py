"""Partner organisations (ketenpartners) with their identity provider, and partner systems."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, text_array_field, ts_field


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    slug: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=32)
    # The organisation's own identity provider. Tokens are trusted for this organisation only
    # when their exact `iss` equals this issuer.
    issuer: str | None = Field(default=None, max_length=500, sa_column_kwargs={"unique": True})
    audience: str | None = Field(default=None, max_length=500)
    discovery_url: str | None = Field(default=None, max_length=500)
    jwks_uri: str | None = Field(default=None, max_length=500)
    # Claim mapping: {"subject": "sub", "name": "name", "email": "email", "groups": "groups",
    #                 "group_roles": {"casusoverleg-chair": {"role": "chair", "conference_id": "..."}}}
    claim_mapping: dict = json_field()
    # Refuse this provider's tokens unless their header says `typ: at+jwt` (RFC 9068), so that an
    # ID token cannot serve as an access token. Set it for every provider that sends the header.
    require_typ_at_jwt: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = ts_field()


class PartnerSystem(SQLModel, table=True):
    """A machine client of an organisation, known by the client-credentials token's subject."""

    __tablename__ = "partner_system"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "subject"),)

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    subject: str = Field(max_length=255)
    scopes: list[str] = text_array_field()
    active: bool = True
    created_at: datetime = ts_field()
