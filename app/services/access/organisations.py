"""Registering identity providers and partner systems of organisations (the admin's work).

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

from app.errors import Conflict, NotFound, UnprocessableEntity
from app.models import Conference, ConferenceOrganisation, Organisation, PartnerSystem
from app.schemas.identity import OrganisationIdentityUpdate, PartnerSystemCreate, PartnerSystemUpdate


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


async def update_identity(
    session: AsyncSession, org: Organisation, data: OrganisationIdentityUpdate, *, require_https: bool
) -> Organisation:
    fields = data.model_dump(exclude_unset=True)
    if "issuer" in fields:
        org.issuer = (
            _url(data.issuer, "#/issuer", require_https=require_https).rstrip("/") if data.issuer else None
        )
    if "audience" in fields:
        org.audience = data.audience
    for name in ("discovery_url", "jwks_uri"):
        if name in fields:
            value = getattr(data, name)
            setattr(org, name, _url(value, f"#/{name}", require_https=require_https) if value else None)
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
    return org


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


async def create_partner_system(
    session: AsyncSession, org: Organisation, data: PartnerSystemCreate
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
    return system


async def update_partner_system(
    session: AsyncSession, org: Organisation, system_id: uuid.UUID, data: PartnerSystemUpdate
) -> PartnerSystem:
    system = await session.get(PartnerSystem, system_id)
    if system is None or system.organisation_id != org.id:
        raise NotFound("partner system")
    if data.scopes is not None:
        system.scopes = sorted({s.value for s in data.scopes})
    if data.active is not None:
        system.active = data.active
    await session.flush()
    return system
