"""Registering an organisation's identity provider and its partner systems (admin only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models.enums import IdentityChangeStatus, OrganisationKind, PartnerScope, Role
from app.schemas.common import ProviderUrl, Strict

ClaimName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_:./-]{1,100}$")]
GroupName = Annotated[str, Field(min_length=1, max_length=200)]


class GroupRoleIn(Strict):
    role: Role
    conference_id: uuid.UUID


class ClaimMappingIn(Strict):
    """Which claims of this provider's tokens to read. `group_roles` maps a group (as it appears
    in the groups claim) to the membership(s) it seeds for a person who has none yet."""

    subject: ClaimName = "sub"
    name: ClaimName = "name"
    email: ClaimName = "email"
    groups: ClaimName | None = None
    group_roles: dict[GroupName, GroupRoleIn | list[GroupRoleIn]] = Field(
        default_factory=dict, max_length=100
    )

    @field_validator("group_roles")
    @classmethod
    def _needs_groups_claim(cls, value: dict, info) -> dict:
        if value and not info.data.get("groups"):
            raise ValueError("group_roles needs the name of the groups claim in `groups`")
        return value

    def grants(self) -> list[GroupRoleIn]:
        found: list[GroupRoleIn] = []
        for spec in self.group_roles.values():
            found.extend(spec if isinstance(spec, list) else [spec])
        return found


class OrganisationIdentityUpdate(Strict):
    """Only the fields sent are changed. `issuer: null` withdraws the trust in a provider."""

    issuer: ProviderUrl | None = None
    audience: str | None = Field(default=None, min_length=1, max_length=500)
    discovery_url: ProviderUrl | None = None
    jwks_uri: ProviderUrl | None = None
    claim_mapping: ClaimMappingIn | None = None
    require_typ_at_jwt: bool | None = None


class IdentityChangeOut(BaseModel):
    """A change of issuer or keys: `pending` until a second administrator of the organisation
    approves it (then `applied`) or an administrator rejects it."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organisation_id: uuid.UUID
    changes: dict
    before: dict
    status: IdentityChangeStatus
    requested_by_subject: str
    requested_by_name: str
    requested_at: datetime
    decided_by_subject: str | None
    decided_at: datetime | None


class OrganisationIdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    slug: str
    kind: OrganisationKind
    issuer: str | None
    audience: str | None
    discovery_url: str | None
    jwks_uri: str | None
    claim_mapping: dict
    require_typ_at_jwt: bool
    pending_changes: list[IdentityChangeOut] = Field(
        default_factory=list, description="Changes of issuer or keys awaiting a second administrator."
    )


class PartnerSystemCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    subject: Annotated[
        str,
        Field(
            min_length=1, max_length=255, description="The `sub` of this system's client-credentials tokens."
        ),
    ]
    scopes: list[PartnerScope] = Field(min_length=1, max_length=10)


class PartnerSystemUpdate(Strict):
    scopes: list[PartnerScope] | None = Field(default=None, min_length=1, max_length=10)
    active: bool | None = None


class PartnerSystemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    subject: str
    scopes: list[PartnerScope]
    active: bool
    created_at: datetime


class AdminChangeOut(BaseModel):
    """One administrative change: who, what, before and after."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    occurred_at: datetime
    actor_issuer: str
    actor_subject: str
    actor_name: str
    actor_organisation_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    conference_id: uuid.UUID | None
    entity_type: str
    entity_id: uuid.UUID | None
    operation: str
    before: dict
    after: dict


class OrganisationAdminCreate(Strict):
    subject: Annotated[str, Field(min_length=1, max_length=255, description="Their `sub` at the organisation's provider.")]
    display_name: Annotated[str, Field(min_length=1, max_length=200)]


class OrganisationAdminOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organisation_id: uuid.UUID
    subject: str
    display_name: str
    active: bool
    created_at: datetime
