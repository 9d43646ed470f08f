"""Interventions: an organisation's catalogue of standard interventions (Moti-4, Wiet-Check, a
home visit, a short intervention) from which actions are created. Not client data: the catalogue
is the same for every client."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import id_field, ts_field


class Intervention(SQLModel, table=True):
    __tablename__ = "intervention"

    id: uuid.UUID = id_field()
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    life_domain: str = Field(max_length=32)
    # The need-to-know label an action made from it records (None: its life domain's label).
    label: str | None = Field(default=None, max_length=16)
    active: bool = True
    created_at: datetime = ts_field()
    updated_at: datetime = ts_field()
    version: int = 1
