"""Administration of identity providers and partner systems: administrators only.

Organisations are not conference-bound, so the check is "an administrator in some conference"
(as for creating organisations); refusals are written to the access log like every denial."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from app.audit import Access
from app.auth.tokens import TokenValidator
from app.deps import GuardDep, SettingsDep
from app.errors import Forbidden
from app.models.enums import Role
from app.schemas.identity import (
    OrganisationIdentityOut,
    OrganisationIdentityUpdate,
    PartnerSystemCreate,
    PartnerSystemOut,
    PartnerSystemUpdate,
)
from app.services.access import organisations as service

router = APIRouter(tags=["administration"])


async def _require_admin(guard: GuardDep, action: str, resource_type: str, resource_id: uuid.UUID) -> None:
    if guard.principal.kind == "person" and guard.principal.conference_ids(Role.admin):
        return
    await guard.audit.denied(Access(action=action, resource_type=resource_type, resource_id=str(resource_id)))
    raise Forbidden("Only an administrator may do this.")


def _forget_keys(request: Request, *issuers: str | None) -> None:
    validator: TokenValidator = request.app.state.token_validator
    for issuer in issuers:
        if issuer:
            validator.key_cache.forget(issuer)


@router.get("/organisations/{organisation_id}/identity", response_model=OrganisationIdentityOut)
async def get_identity(organisation_id: uuid.UUID, guard: GuardDep) -> OrganisationIdentityOut:
    await _require_admin(guard, "read", "organisation", organisation_id)
    org = await service.load_organisation(guard.session, organisation_id)
    return OrganisationIdentityOut.model_validate(org)


@router.patch("/organisations/{organisation_id}", response_model=OrganisationIdentityOut)
async def update_identity(
    organisation_id: uuid.UUID,
    body: OrganisationIdentityUpdate,
    guard: GuardDep,
    request: Request,
    settings: SettingsDep,
) -> OrganisationIdentityOut:
    """Register or change the organisation's identity provider: issuer, audience, discovery
    URL, JWKS URI, claim mapping (with optional groups-to-roles seeding) and `typ` check."""
    await _require_admin(guard, "update", "organisation", organisation_id)
    org = await service.load_organisation(guard.session, organisation_id)
    before = org.issuer
    org = await service.update_identity(guard.session, org, body, require_https=not settings.is_development)
    _forget_keys(request, before, org.issuer)
    return OrganisationIdentityOut.model_validate(org)


@router.get("/organisations/{organisation_id}/partner-systems", response_model=list[PartnerSystemOut])
async def list_partner_systems(organisation_id: uuid.UUID, guard: GuardDep) -> list[PartnerSystemOut]:
    await _require_admin(guard, "list", "partner_system", organisation_id)
    org = await service.load_organisation(guard.session, organisation_id)
    systems = await service.list_partner_systems(guard.session, org)
    return [PartnerSystemOut.model_validate(s) for s in systems]


@router.post(
    "/organisations/{organisation_id}/partner-systems",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnerSystemOut,
)
async def create_partner_system(
    organisation_id: uuid.UUID, body: PartnerSystemCreate, guard: GuardDep
) -> PartnerSystemOut:
    """Register a machine client: tokens of this organisation's provider whose `sub` is
    `subject` act as this partner system, with at most the scopes given here."""
    await _require_admin(guard, "create", "partner_system", organisation_id)
    org = await service.load_organisation(guard.session, organisation_id)
    return PartnerSystemOut.model_validate(await service.create_partner_system(guard.session, org, body))


@router.patch("/organisations/{organisation_id}/partner-systems/{system_id}", response_model=PartnerSystemOut)
async def update_partner_system(
    organisation_id: uuid.UUID, system_id: uuid.UUID, body: PartnerSystemUpdate, guard: GuardDep
) -> PartnerSystemOut:
    """Change a partner system's scopes, or deactivate it (`active: false`): its tokens are
    refused from the next request on."""
    await _require_admin(guard, "update", "partner_system", system_id)
    org = await service.load_organisation(guard.session, organisation_id)
    system = await service.update_partner_system(guard.session, org, system_id, body)
    return PartnerSystemOut.model_validate(system)
