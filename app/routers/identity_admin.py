"""Administration of an organisation's identity provider and partner systems: only by the
administrators of that organisation (not of a conference, not of another organisation). A change
of issuer or keys waits for a second administrator of the organisation. Refusals are written to
the access log like every denial; every change to the record of administrative changes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from app.audit import Access
from app.auth.policy import visible_admin_changes
from app.auth.tokens import TokenValidator
from app.deps import GuardDep, SettingsDep
from app.errors import Forbidden
from app.http.paging import PagingDep
from app.schemas.common import PageOut
from app.schemas.identity import (
    AdminChangeOut,
    IdentityChangeOut,
    OrganisationAdminCreate,
    OrganisationAdminOut,
    OrganisationIdentityOut,
    OrganisationIdentityUpdate,
    PartnerSystemCreate,
    PartnerSystemOut,
    PartnerSystemUpdate,
)
from app.services.access import changes as change_service
from app.services.access import organisations as service

router = APIRouter(tags=["administration"])


def _access(action: str, organisation_id: uuid.UUID, part: str) -> Access:
    """Administrative operations on an organisation: resource_id names the organisation, so
    that its privacy officers find refused attempts on it (they have no conference)."""
    return Access(action=action, resource_type="organisation", resource_id=str(organisation_id), part=part)


def _forget_keys(request: Request, *issuers: str | None) -> None:
    validator: TokenValidator = request.app.state.token_validator
    for issuer in issuers:
        if issuer:
            validator.key_cache.forget(issuer)


async def _identity_out(guard: GuardDep, org: Any) -> OrganisationIdentityOut:
    out = OrganisationIdentityOut.model_validate(org)
    out.pending_changes = [
        IdentityChangeOut.model_validate(c) for c in await service.pending_changes(guard.session, org)
    ]
    return out


@router.get("/organisations/{organisation_id}/identity", response_model=OrganisationIdentityOut)
async def get_identity(organisation_id: uuid.UUID, guard: GuardDep) -> OrganisationIdentityOut:
    """The organisation's identity-provider registration, with changes awaiting approval."""
    await guard.require_organisation_admin(organisation_id, _access("read", organisation_id, "identity"))
    org = await service.load_organisation(guard.session, organisation_id)
    return await _identity_out(guard, org)


@router.patch(
    "/organisations/{organisation_id}",
    response_model=OrganisationIdentityOut,
    responses={202: {"model": OrganisationIdentityOut,
                     "description": "A change of issuer or keys awaits a second administrator."}},
)
async def update_identity(
    organisation_id: uuid.UUID,
    body: OrganisationIdentityUpdate,
    guard: GuardDep,
    request: Request,
    response: Response,
    settings: SettingsDep,
) -> OrganisationIdentityOut:
    """Change the organisation's identity provider: audience, claim mapping (with optional
    groups-to-roles seeding) and `typ` check take effect at once; a new issuer, JWKS URI or
    discovery URL is answered 202 and takes effect only when a second administrator of the
    organisation approves it (`pending_changes`). `issuer: null` withdraws the trust at once."""
    await guard.require_organisation_admin(organisation_id, _access("update", organisation_id, "identity"))
    org = await service.load_organisation(guard.session, organisation_id)
    before = org.issuer
    pending = await service.update_identity(
        guard.session, guard.principal, org, body, require_https=not settings.is_development
    )
    _forget_keys(request, before, org.issuer)
    if pending is not None:
        response.status_code = status.HTTP_202_ACCEPTED
    return await _identity_out(guard, org)


@router.post(
    "/organisations/{organisation_id}/identity-changes/{change_id}/approve", response_model=IdentityChangeOut
)
async def approve_identity_change(
    organisation_id: uuid.UUID, change_id: uuid.UUID, guard: GuardDep, request: Request
) -> IdentityChangeOut:
    """A second administrator of the organisation (not the requester) makes a pending change of
    issuer or keys take effect."""
    access = _access("update", organisation_id, "identity_change")
    await guard.require_organisation_admin(organisation_id, access)
    org = await service.load_organisation(guard.session, organisation_id)
    before = org.issuer
    async with guard.refusals_logged(access):
        change = await service.approve_identity_change(guard.session, guard.principal, org, change_id)
    _forget_keys(request, before, org.issuer)
    return IdentityChangeOut.model_validate(change)


@router.post(
    "/organisations/{organisation_id}/identity-changes/{change_id}/reject", response_model=IdentityChangeOut
)
async def reject_identity_change(
    organisation_id: uuid.UUID, change_id: uuid.UUID, guard: GuardDep
) -> IdentityChangeOut:
    """Any administrator of the organisation stops a pending change of issuer or keys."""
    await guard.require_organisation_admin(organisation_id, _access("update", organisation_id, "identity_change"))
    org = await service.load_organisation(guard.session, organisation_id)
    change = await service.reject_identity_change(guard.session, guard.principal, org, change_id)
    return IdentityChangeOut.model_validate(change)


@router.get("/organisations/{organisation_id}/partner-systems", response_model=list[PartnerSystemOut])
async def list_partner_systems(organisation_id: uuid.UUID, guard: GuardDep) -> list[PartnerSystemOut]:
    await guard.require_organisation_admin(organisation_id, _access("list", organisation_id, "partner_system"))
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
    await guard.require_organisation_admin(organisation_id, _access("create", organisation_id, "partner_system"))
    org = await service.load_organisation(guard.session, organisation_id)
    system = await service.create_partner_system(guard.session, guard.principal, org, body)
    return PartnerSystemOut.model_validate(system)


@router.patch("/organisations/{organisation_id}/partner-systems/{system_id}", response_model=PartnerSystemOut)
async def update_partner_system(
    organisation_id: uuid.UUID, system_id: uuid.UUID, body: PartnerSystemUpdate, guard: GuardDep
) -> PartnerSystemOut:
    """Change a partner system's scopes, or deactivate it (`active: false`): its tokens are
    refused from the next request on."""
    await guard.require_organisation_admin(organisation_id, _access("update", organisation_id, "partner_system"))
    org = await service.load_organisation(guard.session, organisation_id)
    system = await service.update_partner_system(guard.session, guard.principal, org, system_id, body)
    return PartnerSystemOut.model_validate(system)


@router.get("/organisations/{organisation_id}/administrators", response_model=list[OrganisationAdminOut])
async def list_organisation_admins(organisation_id: uuid.UUID, guard: GuardDep) -> list[OrganisationAdminOut]:
    """The organisation's administrators (its administrators only)."""
    await guard.require_organisation_admin(organisation_id, _access("list", organisation_id, "administrators"))
    org = await service.load_organisation(guard.session, organisation_id)
    return [OrganisationAdminOut.model_validate(a) for a in await service.list_organisation_admins(guard.session, org)]


@router.post(
    "/organisations/{organisation_id}/administrators",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationAdminOut,
)
async def add_organisation_admin(
    organisation_id: uuid.UUID, body: OrganisationAdminCreate, guard: GuardDep
) -> OrganisationAdminOut:
    """Another administrator of the organisation, known by its provider (by one of its
    administrators; the others are notified). The first is registered by the operator
    (`casusoverleg organisation-admin add`) or named when the organisation is created."""
    access = _access("create", organisation_id, "administrators")
    await guard.require_organisation_admin(organisation_id, access)
    org = await service.load_organisation(guard.session, organisation_id)
    async with guard.refusals_logged(access):
        admin = await service.add_organisation_admin(
            guard.session, guard.principal, org, subject=body.subject, display_name=body.display_name
        )
    return OrganisationAdminOut.model_validate(admin)


@router.get("/admin-changes", response_model=PageOut[AdminChangeOut])
async def list_admin_changes(
    guard: GuardDep,
    page: PagingDep,
    organisation_id: uuid.UUID | None = None,
    conference_id: uuid.UUID | None = None,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
) -> PageOut[AdminChangeOut]:
    """The record of administrative changes (who, what, before and after), newest first: for an
    organisation's administrators the changes concerning it; for a conference's administrators
    and privacy officers those in the conference; for privacy officers also their
    organisation's changes outside any conference."""
    access = Access(action="list", resource_type="admin_change", part="admin_changes")
    principal = guard.principal
    if principal.kind != "person" or not (
        principal.organisation_admin or principal.conference_ids("admin", "privacy_officer")
    ):
        await guard.audit.denied(access)
        raise Forbidden("Only administrators and privacy officers review administrative changes.")
    rows, total = await change_service.list_admin_changes(
        guard.session,
        visible_admin_changes(principal),
        change_service.ChangeFilter(organisation_id=organisation_id, conference_id=conference_id,
                                    entity_type=entity_type),
        limit=page.limit,
        offset=page.offset,
    )
    guard.record(access)
    return PageOut(items=[AdminChangeOut.model_validate(r) for r in rows], total=total, limit=page.limit,
                   offset=page.offset, next=page.next_link(total))
