from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.models.enums import MandateScope, OrganisationKind, Role
from app.schemas.common import ProviderUrl, Strict

# The largest amount an action may claim or a mandate may cover (100 million euro); the columns
# are bigint, so every value the schema lets through fits.
MAX_AMOUNT_CENTS = 100_000_000_00

Name = Annotated[str, Field(min_length=1, max_length=200)]


class AdministratorIn(Strict):
    subject: Annotated[str, Field(min_length=1, max_length=255, description="Their `sub` at the organisation's provider.")]
    display_name: Name


class OrganisationCreate(Strict):
    """A new organisation with its identity provider and first administrators: from then on
    only those administrators change its identity settings and partner systems."""

    name: Name
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
    kind: OrganisationKind
    issuer: ProviderUrl | None = None
    audience: str | None = Field(default=None, max_length=500)
    discovery_url: ProviderUrl | None = None
    jwks_uri: ProviderUrl | None = None
    claim_mapping: dict[str, Any] = Field(default_factory=dict)
    require_typ_at_jwt: bool = False
    administrators: list[AdministratorIn] = Field(
        default_factory=list, max_length=10,
        description="The organisation's first administrators, known by its provider (needs `issuer`).",
    )


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    slug: str
    kind: OrganisationKind
    issuer: str | None
    audience: str | None


class Cadence(Strict):
    weekday: Annotated[str, Field(pattern="^(monday|tuesday|wednesday|thursday|friday|saturday|sunday)$")]
    interval_weeks: int = Field(default=2, ge=1, le=12)
    time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "10:00"
    timezone: str = "Europe/Amsterdam"
    duration_minutes: int = Field(default=120, ge=15, le=600)
    anchor: date | None = None


class ConferenceCreate(Strict):
    name: Name
    municipality: Name
    cadence: Cadence
    organisation_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    retention_days: int = Field(default=730, ge=0, le=36500)
    known_elsewhere: bool = Field(default=False, description="Take part in known-elsewhere (hit/no-hit) questions.")


class ConferenceUpdate(Strict):
    known_elsewhere: bool | None = Field(default=None, description="Take part in known-elsewhere (hit/no-hit) "
                                         "questions: ask, and be asked (docs/known-elsewhere.md).")


class ConferenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    municipality: str
    cadence: dict
    retention_days: int
    known_elsewhere: bool = False


class MembershipCreate(Strict):
    organisation_id: uuid.UUID
    subject: Annotated[str, Field(min_length=1, max_length=255)]
    display_name: Name
    email: str | None = Field(default=None, max_length=320)
    role: Role


class MembershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    conference_id: uuid.UUID
    organisation_id: uuid.UUID
    display_name: str
    role: Role
    active: bool


class MandateCreate(Strict):
    scope: MandateScope
    max_amount_cents: int | None = Field(default=None, ge=0, le=MAX_AMOUNT_CENTS)
    valid_from: date
    valid_to: date | None = None
    granted_by: Name


class MandateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    membership_id: uuid.UUID
    scope: MandateScope
    max_amount_cents: int | None
    valid_from: date
    valid_to: date | None
    granted_by: str
