"""Browser sign-in: server-side web sessions, pending sign-ins, and the development providers'
authorization codes. All in the database so that any replica can serve any request."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import ts_field


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    display_name: str = Field(default="", max_length=200)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field(index=True)


class WebSignIn(SQLModel, table=True):
    """A sign-in in progress: the OIDC state (hashed), the PKCE verifier and the nonce."""

    __tablename__ = "web_sign_in"

    state_hash: str = Field(primary_key=True, max_length=64)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    code_verifier: str = Field(max_length=128)
    nonce: str = Field(max_length=128)
    next_path: str = Field(default="/web/acties", max_length=500)
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field()


class DevAuthorizationCode(SQLModel, table=True):
    """An authorization code of a development provider: single use, short-lived, PKCE-bound."""

    __tablename__ = "dev_authorization_code"

    code_hash: str = Field(primary_key=True, max_length=64)
    slug: str = Field(max_length=64)
    subject: str = Field(max_length=255)
    name: str = Field(default="", max_length=200)
    client_id: str = Field(max_length=200)
    redirect_uri: str = Field(max_length=500)
    code_challenge: str = Field(max_length=128)
    nonce: str | None = Field(default=None, max_length=128)
    created_at: datetime = ts_field()
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(nullable=True, default_now=False)
