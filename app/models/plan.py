"""The plan (plan van aanpak): goals per life domain, the client's own goals, assessments."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, ts_field


class Plan(SQLModel, table=True):
    __tablename__ = "plan"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", unique=True)
    # The client's own goals, in their own words.
    client_goals: str = Field(default="", max_length=8000)
    updated_at: datetime = ts_field()
    version: int = 1


class Goal(SQLModel, table=True):
    __tablename__ = "goal"

    id: uuid.UUID = id_field()
    plan_id: uuid.UUID = Field(foreign_key="plan.id", index=True)
    life_domain: str = Field(max_length=32)
    description: str = Field(max_length=4000)
    # Need-to-know label when recorded otherwise than the life domain's (app/auth/policy.py).
    label: str | None = Field(default=None, max_length=16)
    position: int = 0


class Assessment(SQLModel, table=True):
    """ZRM scores (1 acute .. 5 self-sufficient) per life domain at a date."""

    __tablename__ = "assessment"
    __table_args__ = (sa.UniqueConstraint("case_id", "assessed_on"),)

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    assessed_on: date
    assessed_by_id: uuid.UUID = Field(foreign_key="membership.id")
    label: str = Field(default="health", max_length=16)
    scores: dict = json_field()
    created_at: datetime = ts_field()
