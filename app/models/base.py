"""Column helpers shared by the tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
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


class StateColumn(sa.types.TypeDecorator[StrEnum]):
    """A domain state (app/models/enums.py) stored as VARCHAR: the database keeps plain text, the
    code gets the enum back, and a value outside the enum is refused before it is written."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


def state_field(enum: type[StrEnum], default: StrEnum | None, *, index: bool = False) -> Any:
    """A state column; nullable exactly when its default is None."""
    return Field(default=default, sa_type=StateColumn(enum), nullable=default is None, index=index)


# Stable constraint names, so that migrations are reviewable and reversible.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
