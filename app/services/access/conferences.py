"""Organisations, conferences, memberships and mandates (the admin's work; no case content)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound, UnprocessableEntity
from app.models import Conference, ConferenceOrganisation, Mandate, Membership, Organisation
from app.schemas.admin import ConferenceCreate, MandateCreate, MembershipCreate, OrganisationCreate


async def create_organisation(session: AsyncSession, data: OrganisationCreate) -> Organisation:
    org = Organisation(
        name=data.name,
        slug=data.slug,
        kind=data.kind.value,
        issuer=str(data.issuer).rstrip("/") if data.issuer else None,
        audience=data.audience,
        discovery_url=str(data.discovery_url) if data.discovery_url else None,
        jwks_uri=str(data.jwks_uri) if data.jwks_uri else None,
        claim_mapping=data.claim_mapping,
    )
    session.add(org)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("An organisation with this slug or issuer exists already.") from None
    return org


async def list_organisations(session: AsyncSession) -> list[Organisation]:
    return list((await session.execute(sa.select(Organisation).order_by(Organisation.name))).scalars())


async def create_conference(session: AsyncSession, data: ConferenceCreate) -> Conference:
    conference = Conference(
        name=data.name,
        municipality=data.municipality,
        cadence=data.cadence.model_dump(mode="json"),
        retention_days=data.retention_days,
    )
    session.add(conference)
    await session.flush()
    for org_id in dict.fromkeys(data.organisation_ids):
        if await session.get(Organisation, org_id) is None:
            raise UnprocessableEntity("Unknown organisation.", pointer="#/organisation_ids")
        session.add(ConferenceOrganisation(conference_id=conference.id, organisation_id=org_id))
    await session.flush()
    return conference


async def list_conferences(session: AsyncSession, ids: frozenset[uuid.UUID]) -> list[Conference]:
    if not ids:
        return []
    return list(
        (await session.execute(sa.select(Conference).where(Conference.id.in_(ids)).order_by(Conference.name))).scalars()  # type: ignore[attr-defined]
    )


async def create_membership(session: AsyncSession, conference_id: uuid.UUID, data: MembershipCreate) -> Membership:
    org = await session.get(Organisation, data.organisation_id)
    if org is None or org.issuer is None:
        raise UnprocessableEntity("Unknown organisation, or one without an identity provider.",
                                  pointer="#/organisation_id")
    takes_part = await session.get(ConferenceOrganisation, (conference_id, org.id))
    if takes_part is None:
        session.add(ConferenceOrganisation(conference_id=conference_id, organisation_id=org.id))
    membership = Membership(
        conference_id=conference_id,
        organisation_id=org.id,
        issuer=org.issuer,
        subject=data.subject,
        display_name=data.display_name,
        email=data.email,
        role=data.role.value,
    )
    session.add(membership)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("This person already has this role in the conference.") from None
    return membership


async def list_memberships(session: AsyncSession, conference_id: uuid.UUID) -> list[Membership]:
    return list(
        (
            await session.execute(
                sa.select(Membership).where(Membership.conference_id == conference_id).order_by(Membership.display_name)
            )
        ).scalars()
    )


async def load_membership(session: AsyncSession, membership_id: uuid.UUID) -> Membership:
    membership = await session.get(Membership, membership_id)
    if membership is None:
        raise NotFound("membership")
    return membership


async def create_mandate(session: AsyncSession, membership: Membership, data: MandateCreate) -> Mandate:
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise UnprocessableEntity("A mandate cannot end before it starts.", pointer="#/valid_to")
    mandate = Mandate(
        membership_id=membership.id,
        scope=data.scope.value,
        max_amount_cents=data.max_amount_cents,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        granted_by=data.granted_by,
    )
    session.add(mandate)
    await session.flush()
    return mandate


async def list_mandates(session: AsyncSession, membership_id: uuid.UUID) -> list[Mandate]:
    return list((await session.execute(sa.select(Mandate).where(Mandate.membership_id == membership_id))).scalars())
