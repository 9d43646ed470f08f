"""Registering identity providers and partner systems of organisations: the work of the
organisation's own administrators. A change of issuer or keys waits for a second administrator
of the organisation (two people, so that one stolen or malicious admin account cannot point the
organisation at keys of its own); the organisation's administrators are notified of it.

A changed registration takes effect on the next request: the routers drop the key cache of the
old and the new issuer. Memberships are bound to an issuer and are not moved when an
organisation changes its issuer: subject identifiers are only unique per issuer, so the same
`sub` at a new provider may be someone else. People are registered again under the new issuer.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from app.models import (
    Conference,
    ConferenceOrganisation,
    IdentityChange,
    Notification,
    Organisation,
    OrganisationAdmin,
    PartnerSystem,
)
from app.models.enums import IdentityChangeStatus
from app.schemas.identity import OrganisationIdentityUpdate, PartnerSystemCreate, PartnerSystemUpdate
from app.services.access.changes import record_admin_change, snapshot


async def load_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation:
    org = await session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("organisation")
    return org


def _url(value: object, pointer: str, *, require_https: bool) -> str:
    text = str(value)
    if require_https and not text.startswith("https://"):
        raise UnprocessableEntity("Identity-provider URLs must use https.", pointer=pointer)
    return text


# Fields that decide whose keys sign trusted tokens: a change takes effect only after a second
# administrator of the organisation approves it. Withdrawing the issuer (null) is immediate: it
# lets nobody in.
KEY_FIELDS = ("issuer", "jwks_uri", "discovery_url")
IDENTITY_FIELDS = ("issuer", "audience", "discovery_url", "jwks_uri", "claim_mapping", "require_typ_at_jwt")


async def update_identity(
    session: AsyncSession,
    principal: Principal,
    org: Organisation,
    data: OrganisationIdentityUpdate,
    *,
    require_https: bool,
) -> IdentityChange | None:
    """Apply the fields that do not touch keys at once; a change of issuer or keys becomes a
    pending IdentityChange (returned) that the organisation's administrators are told about."""
    fields = data.model_dump(exclude_unset=True)
    before = snapshot(org, IDENTITY_FIELDS)
    wanted_keys: dict[str, str | None] = {}
    if "issuer" in fields:
        issuer = _url(data.issuer, "#/issuer", require_https=require_https).rstrip("/") if data.issuer else None
        if issuer is None:
            org.issuer = None
        elif issuer != org.issuer:
            await _issuer_is_free(session, org, issuer)
            wanted_keys["issuer"] = issuer
    for name in ("discovery_url", "jwks_uri"):
        if name in fields:
            value = getattr(data, name)
            url = _url(value, f"#/{name}", require_https=require_https) if value else None
            if url != getattr(org, name):
                wanted_keys[name] = url
    if "audience" in fields:
        org.audience = data.audience
    if "require_typ_at_jwt" in fields and data.require_typ_at_jwt is not None:
        org.require_typ_at_jwt = data.require_typ_at_jwt
    if "claim_mapping" in fields:
        mapping = data.claim_mapping
        if mapping is None:
            org.claim_mapping = {}
        else:
            await _check_grants(session, org, [g.conference_id for g in mapping.grants()])
            org.claim_mapping = mapping.model_dump(mode="json", exclude_none=True)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("Another organisation uses this issuer already.") from None
    after = snapshot(org, IDENTITY_FIELDS)
    if after != before:
        changed = [k for k in IDENTITY_FIELDS if after[k] != before[k]]
        record_admin_change(
            session, principal, entity_type="organisation_identity", entity_id=org.id, operation="update",
            before={k: before[k] for k in changed}, after={k: after[k] for k in changed}, organisation_id=org.id,
        )
    if not wanted_keys:
        return None
    change = IdentityChange(
        organisation_id=org.id,
        changes=wanted_keys,
        before={k: getattr(org, k) for k in wanted_keys},
        requested_by_issuer=principal.issuer,
        requested_by_subject=principal.subject,
        requested_by_name=principal.display_name,
        requested_at=clock.now(),
    )
    session.add(change)
    await session.flush()
    record_admin_change(
        session, principal, entity_type="identity_change", entity_id=change.id, operation="request",
        before=change.before, after=change.changes, organisation_id=org.id,
    )
    _notify_admins(session, org, "identity_change_requested", change)
    return change


async def _issuer_is_free(session: AsyncSession, org: Organisation, issuer: str) -> None:
    taken = (
        await session.execute(
            sa.select(col(Organisation.id)).where(col(Organisation.issuer) == issuer, col(Organisation.id) != org.id)
        )
    ).first()
    if taken is not None:
        raise Conflict("Another organisation uses this issuer already.")


def _notify_admins(session: AsyncSession, org: Organisation, kind: str, change: IdentityChange) -> None:
    """A notice to the organisation's administrators (the one notification table; ids only)."""
    session.add(
        Notification(
            kind=kind, organisation_id=org.id, conference_id=None, membership_id=None,
            ref_type="identity_change", ref_id=change.id, on_date=clock.today(),
        )
    )


async def pending_changes(session: AsyncSession, org: Organisation) -> list[IdentityChange]:
    return list(
        (
            await session.execute(
                sa.select(IdentityChange)
                .where(col(IdentityChange.organisation_id) == org.id, col(IdentityChange.status) == IdentityChangeStatus.pending)
                .order_by(col(IdentityChange.requested_at))
            )
        ).scalars()
    )


async def _load_pending(session: AsyncSession, org: Organisation, change_id: uuid.UUID) -> IdentityChange:
    change = (
        await session.execute(
            sa.select(IdentityChange).where(col(IdentityChange.id) == change_id).with_for_update()
        )
    ).scalar_one_or_none()
    if change is None or change.organisation_id != org.id:
        raise NotFound("identity change")
    if change.status != IdentityChangeStatus.pending:
        raise Conflict(f"This change is {change.status} already.")
    return change


async def approve_identity_change(
    session: AsyncSession, principal: Principal, org: Organisation, change_id: uuid.UUID
) -> IdentityChange:
    """A second administrator (not the one who asked) makes the change take effect."""
    change = await _load_pending(session, org, change_id)
    if (change.requested_by_issuer, change.requested_by_subject) == (principal.issuer, principal.subject):
        raise Forbidden("A second administrator of the organisation must approve this change, not its requester.")
    before = snapshot(org, KEY_FIELDS)
    for name, value in change.changes.items():
        if name in KEY_FIELDS:
            setattr(org, name, value)
    change.status = IdentityChangeStatus.applied
    change.decided_by_subject = principal.subject
    change.decided_at = clock.now()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("Another organisation uses this issuer already.") from None
    record_admin_change(
        session, principal, entity_type="organisation_identity", entity_id=org.id, operation="approve",
        before=before, after=snapshot(org, KEY_FIELDS), organisation_id=org.id,
    )
    _notify_admins(session, org, "identity_change_applied", change)
    return change


async def reject_identity_change(
    session: AsyncSession, principal: Principal, org: Organisation, change_id: uuid.UUID
) -> IdentityChange:
    """Any administrator of the organisation (the requester too) may stop a pending change."""
    change = await _load_pending(session, org, change_id)
    change.status = IdentityChangeStatus.rejected
    change.decided_by_subject = principal.subject
    change.decided_at = clock.now()
    await session.flush()
    record_admin_change(
        session, principal, entity_type="identity_change", entity_id=change.id, operation="reject",
        before={"status": IdentityChangeStatus.pending}, after={"status": IdentityChangeStatus.rejected}, organisation_id=org.id,
    )
    return change


async def _check_grants(session: AsyncSession, org: Organisation, conference_ids: list[uuid.UUID]) -> None:
    wanted = set(conference_ids)
    if not wanted:
        return
    known = set(
        (
            await session.execute(
                sa.select(col(ConferenceOrganisation.conference_id))
                .join(Conference, col(Conference.id) == col(ConferenceOrganisation.conference_id))
                .where(
                    col(ConferenceOrganisation.organisation_id) == org.id,
                    col(ConferenceOrganisation.conference_id).in_(wanted),
                )
            )
        ).scalars()
    )
    if wanted - known:
        raise UnprocessableEntity(
            "A group can only grant roles in conferences this organisation takes part in.",
            pointer="#/claim_mapping/group_roles",
        )


async def list_partner_systems(session: AsyncSession, org: Organisation) -> list[PartnerSystem]:
    return list(
        (
            await session.execute(
                sa.select(PartnerSystem)
                .where(col(PartnerSystem.organisation_id) == org.id)
                .order_by(col(PartnerSystem.name))
            )
        ).scalars()
    )


SYSTEM_FIELDS = ("name", "subject", "scopes", "active")


async def create_partner_system(
    session: AsyncSession, principal: Principal, org: Organisation, data: PartnerSystemCreate
) -> PartnerSystem:
    if org.issuer is None:
        raise UnprocessableEntity("Register the organisation's identity provider first.", pointer="#/")
    system = PartnerSystem(
        organisation_id=org.id,
        name=data.name,
        subject=data.subject,
        scopes=sorted({s.value for s in data.scopes}),
    )
    session.add(system)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("This organisation has a partner system with this subject already.") from None
    record_admin_change(
        session, principal, entity_type="partner_system", entity_id=system.id, operation="create",
        after=snapshot(system, SYSTEM_FIELDS), organisation_id=org.id,
    )
    return system


async def update_partner_system(
    session: AsyncSession, principal: Principal, org: Organisation, system_id: uuid.UUID, data: PartnerSystemUpdate
) -> PartnerSystem:
    system = await session.get(PartnerSystem, system_id)
    if system is None or system.organisation_id != org.id:
        raise NotFound("partner system")
    before = snapshot(system, SYSTEM_FIELDS)
    if data.scopes is not None:
        system.scopes = sorted({s.value for s in data.scopes})
    if data.active is not None:
        system.active = data.active
    await session.flush()
    after = snapshot(system, SYSTEM_FIELDS)
    if after != before:
        record_admin_change(
            session, principal, entity_type="partner_system", entity_id=system.id, operation="update",
            before=before, after=after, organisation_id=org.id,
        )
    return system


# Who acts when an operator registers an organisation's first administrator from the command
# line (`casusoverleg organisation-admin add`): recorded as such in the admin changes.
OPERATOR_ISSUER = "urn:casusoverleg:operator"


def operator(org: Organisation, who: str) -> Principal:
    return Principal(kind="person", issuer=OPERATOR_ISSUER, subject=who[:255],
                     display_name=f"operator {who}"[:200], organisation_id=org.id, organisation_kind=org.kind)


async def load_organisation_by_slug(session: AsyncSession, slug: str) -> Organisation:
    org = (await session.execute(sa.select(Organisation).where(col(Organisation.slug) == slug))).scalar_one_or_none()
    if org is None:
        raise NotFound("organisation")
    return org


async def add_organisation_admin(
    session: AsyncSession, principal: Principal, org: Organisation, *, subject: str, display_name: str
) -> OrganisationAdmin:
    """Register an administrator of the organisation, known by its provider. Nobody makes
    themselves one; the organisation's administrators are told."""
    if org.issuer is None:
        raise UnprocessableEntity("Register the organisation's identity provider first.", pointer="#/")
    if (principal.issuer, principal.subject) == (org.issuer, subject):
        raise Forbidden("Nobody makes themselves an administrator.")
    admin = OrganisationAdmin(organisation_id=org.id, issuer=org.issuer, subject=subject, display_name=display_name)
    session.add(admin)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("This person administers the organisation already.") from None
    record_admin_change(
        session, principal, entity_type="organisation_admin", entity_id=admin.id, operation="create",
        after=snapshot(admin, ("issuer", "subject", "display_name", "active")), organisation_id=org.id,
    )
    session.add(
        Notification(
            kind="organisation_admin_added", organisation_id=org.id, conference_id=None, membership_id=None,
            ref_type="organisation_admin", ref_id=admin.id, on_date=clock.today(),
        )
    )
    return admin


async def list_organisation_admins(session: AsyncSession, org: Organisation) -> list[OrganisationAdmin]:
    return list(
        (
            await session.execute(
                sa.select(OrganisationAdmin)
                .where(col(OrganisationAdmin.organisation_id) == org.id)
                .order_by(col(OrganisationAdmin.display_name))
            )
        ).scalars()
    )
