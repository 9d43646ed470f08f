"""Organisations, conferences, memberships and mandates (the admins' work; no case content).

A conference is run by its own administrators: whoever creates one becomes its first
administrator. Nobody grants a role or a mandate to themselves. Every change is recorded with
before and after (app/services/access/changes.py)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from app.models import (
    Conference,
    ConferenceOrganisation,
    Mandate,
    Membership,
    Organisation,
    OrganisationAdmin,
)
from app.models.enums import Role
from app.schemas.admin import (
    ConferenceCreate,
    ConferenceUpdate,
    MandateCreate,
    MembershipCreate,
    OrganisationCreate,
)
from app.services.access.changes import record_admin_change, snapshot

ORGANISATION_FIELDS = ("name", "slug", "kind", "issuer", "audience", "discovery_url", "jwks_uri", "claim_mapping")
CONFERENCE_FIELDS = ("name", "municipality", "cadence", "retention_days", "known_elsewhere")
MEMBERSHIP_FIELDS = ("conference_id", "organisation_id", "issuer", "subject", "display_name", "email", "role", "active")
MANDATE_FIELDS = ("membership_id", "scope", "max_amount_cents", "valid_from", "valid_to", "granted_by")


async def create_organisation(session: AsyncSession, principal: Principal, data: OrganisationCreate) -> Organisation:
    org = Organisation(
        name=data.name,
        slug=data.slug,
        kind=data.kind.value,
        issuer=str(data.issuer).rstrip("/") if data.issuer else None,
        audience=data.audience,
        discovery_url=str(data.discovery_url) if data.discovery_url else None,
        jwks_uri=str(data.jwks_uri) if data.jwks_uri else None,
        claim_mapping=data.claim_mapping,
        require_typ_at_jwt=data.require_typ_at_jwt,
    )
    if data.administrators and org.issuer is None:
        raise UnprocessableEntity("Administrators are known by the organisation's provider: give its issuer.",
                                  pointer="#/issuer")
    session.add(org)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("An organisation with this slug or issuer exists already.") from None
    admins = [
        OrganisationAdmin(organisation_id=org.id, issuer=org.issuer or "", subject=a.subject,
                          display_name=a.display_name)
        for a in {a.subject: a for a in data.administrators}.values()
    ]
    session.add_all(admins)
    await session.flush()
    record_admin_change(session, principal, entity_type="organisation", entity_id=org.id, operation="create",
                        after={**snapshot(org, ORGANISATION_FIELDS),
                               "administrators": sorted(a.subject for a in admins)},
                        organisation_id=org.id)
    return org


async def list_organisations(session: AsyncSession) -> list[Organisation]:
    return list((await session.execute(sa.select(Organisation).order_by(Organisation.name))).scalars())


async def update_conference(
    session: AsyncSession, principal: Principal, conference_id: uuid.UUID, data: ConferenceUpdate
) -> Conference:
    """A conference's administrator changes its settings (today: whether it takes part in
    known-elsewhere questions); recorded with before and after."""
    conference = await session.get(Conference, conference_id, with_for_update=True)
    if conference is None:
        raise NotFound("conference")
    before = snapshot(conference, CONFERENCE_FIELDS)
    if data.known_elsewhere is not None:
        conference.known_elsewhere = data.known_elsewhere
    after = snapshot(conference, CONFERENCE_FIELDS)
    if after != before:
        await session.flush()
        record_admin_change(session, principal, entity_type="conference", entity_id=conference.id,
                            operation="update", before=before, after=after, conference_id=conference.id)
    return conference


async def create_conference(session: AsyncSession, principal: Principal, data: ConferenceCreate) -> Conference:
    """The creator becomes the conference's first administrator (their organisation takes part)."""
    conference = Conference(
        name=data.name,
        municipality=data.municipality,
        cadence=data.cadence.model_dump(mode="json"),
        retention_days=data.retention_days,
        known_elsewhere=data.known_elsewhere,
    )
    session.add(conference)
    await session.flush()
    for org_id in dict.fromkeys([*data.organisation_ids, principal.organisation_id]):
        if await session.get(Organisation, org_id) is None:
            raise UnprocessableEntity("Unknown organisation.", pointer="#/organisation_ids")
        session.add(ConferenceOrganisation(conference_id=conference.id, organisation_id=org_id))
    admin = Membership(
        conference_id=conference.id,
        organisation_id=principal.organisation_id,
        issuer=principal.issuer,
        subject=principal.subject,
        display_name=principal.display_name[:200],
        role=Role.admin.value,
    )
    session.add(admin)
    await session.flush()
    record_admin_change(session, principal, entity_type="conference", entity_id=conference.id, operation="create",
                        after={**snapshot(conference, CONFERENCE_FIELDS),
                               "organisation_ids": sorted({str(o) for o in data.organisation_ids}
                                                          | {str(principal.organisation_id)})},
                        conference_id=conference.id)
    record_admin_change(session, principal, entity_type="membership", entity_id=admin.id, operation="create",
                        after=snapshot(admin, MEMBERSHIP_FIELDS), conference_id=conference.id,
                        organisation_id=admin.organisation_id)
    return conference


async def list_conferences(session: AsyncSession, ids: frozenset[uuid.UUID]) -> list[Conference]:
    if not ids:
        return []
    return list(
        (await session.execute(sa.select(Conference).where(Conference.id.in_(ids)).order_by(Conference.name))).scalars()  # type: ignore[attr-defined]
    )


def _is_self(principal: Principal, issuer: str | None, subject: str) -> bool:
    return principal.kind == "person" and (issuer, subject) == (principal.issuer, principal.subject)


async def create_membership(
    session: AsyncSession, principal: Principal, conference_id: uuid.UUID, data: MembershipCreate
) -> Membership:
    org = await session.get(Organisation, data.organisation_id)
    if org is None or org.issuer is None:
        raise UnprocessableEntity("Unknown organisation, or one without an identity provider.",
                                  pointer="#/organisation_id")
    if _is_self(principal, org.issuer, data.subject):
        raise Forbidden("Nobody grants a role to themselves: ask another administrator of the conference.")
    takes_part = await session.get(ConferenceOrganisation, (conference_id, org.id))
    # A referrer's organisation does not take part: it is not a party, owner or addressee of
    # anything in the conference; its professional only refers (issue 17).
    if takes_part is None and data.role != Role.referrer:
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
    record_admin_change(session, principal, entity_type="membership", entity_id=membership.id, operation="create",
                        after=snapshot(membership, MEMBERSHIP_FIELDS), conference_id=conference_id,
                        organisation_id=org.id)
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


async def create_mandate(
    session: AsyncSession, principal: Principal, membership: Membership, data: MandateCreate
) -> Mandate:
    if _is_self(principal, membership.issuer, membership.subject):
        raise Forbidden("Nobody grants a mandate to themselves: ask another administrator of the conference.")
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
    record_admin_change(session, principal, entity_type="mandate", entity_id=mandate.id, operation="create",
                        after=snapshot(mandate, MANDATE_FIELDS), conference_id=membership.conference_id,
                        organisation_id=membership.organisation_id)
    return mandate


async def list_mandates(session: AsyncSession, membership_id: uuid.UUID) -> list[Mandate]:
    return list((await session.execute(sa.select(Mandate).where(Mandate.membership_id == membership_id))).scalars())
