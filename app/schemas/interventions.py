"""An organisation's catalogue of interventions, and an action created from one."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import Label, LifeDomain
from app.schemas.common import Strict

Name = Annotated[str, Field(min_length=1, max_length=200)]


class InterventionCreate(Strict):
    name: Name
    description: str = Field(default="", max_length=2000)
    life_domain: LifeDomain
    label: Label | None = Field(default=None, description="The label actions made from it record "
                                "(default: the life domain's).")


class InterventionUpdate(Strict):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    life_domain: LifeDomain | None = None
    label: Label | None = None
    active: bool | None = None


class InterventionOut(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    description: str
    life_domain: LifeDomain
    label: Label | None
    active: bool
    version: int


class ActionFromIntervention(Strict):
    """An action prefilled from an intervention: its name as the title, its organisation as the
    owner, its life domain and label."""

    intervention_id: uuid.UUID
    due_date: date
    assignee_id: uuid.UUID | None = None
    description: str | None = Field(default=None, max_length=4000,
                                    description="Instead of the intervention's own description.")
