"""Column helpers shared by the tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from app.clock import clock


def utcnow() -> datetime:
    return clock.now()


def id_field() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def ts_field(*, nullable: bool = False, default_now: bool = True, index: bool = False) -> Any:
    kwargs: dict[str, Any] = {}
    if default_now:
        kwargs["default_factory"] = utcnow
    else:
        kwargs["default"] = None
    return Field(sa_type=sa.DateTime(timezone=True), nullable=nullable, index=index, **kwargs)


def json_field(*, default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_type=postgresql.JSONB, nullable=False)


def text_array_field() -> Any:
    return Field(default_factory=list, sa_type=postgresql.ARRAY(sa.Text), nullable=False)


# Stable constraint names, so that migrations are reviewable and reversible.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
