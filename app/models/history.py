"""Versions: every change to a case, plan or action, with who, when and what changed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, ts_field


class ChangeRecord(SQLModel, table=True):
    __tablename__ = "change_record"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    entity_type: str = Field(max_length=32)
    entity_id: uuid.UUID = Field(index=True)
    version: int
    operation: str = Field(max_length=16)  # create / update
    actor_issuer: str = Field(max_length=500)
    actor_subject: str = Field(max_length=255)
    actor_name: str = Field(max_length=200)
    organisation_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    # {field: {"from": old, "to": new}}; free text is recorded as changed, never copied.
    changes: dict = json_field()
    changed_at: datetime = ts_field()
