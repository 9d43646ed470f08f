"""From verified claims to a Principal: the organisation is the one whose registered issuer
signed the token, and only that organisation's memberships and partner systems count.

An organisation's claim mapping (Organisation.claim_mapping) names the claims to read:

    {"subject": "sub", "name": "name", "email": "email",
     "groups": "groups",
     "group_roles": {"cg-chair": {"role": "chair", "conference_id": "<uuid>"}}}

Roles live in this service's memberships. A person of that organisation who has no membership
at all yet gets memberships seeded from the groups claim, but only for the (group, role,
conference) triples the mapping lists, and only in conferences the organisation takes part in.
A person who has (or had: deactivated rows count) a membership is never re-seeded, so a
deactivation sticks and the groups claim cannot widen someone's roles later.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import GuestGrant, MembershipRef, Principal
from app.auth.tokens import IssuerConfig, is_development_issuer
from app.clock import clock
from app.models import (
    ConferenceOrganisation,
    GuestInvitation,
    Membership,
    Organisation,
    OrganisationAdmin,
    PartnerSystem,
)
from app.models.enums import Role

log = logging.getLogger(__name__)

MAX_GROUPS = 200


@dataclass(frozen=True)
class GroupRole:
    role: str
    conference_id: uuid.UUID


@dataclass(frozen=True)
class ClaimMapping:
    subject: str = "sub"
    name: str = "name"
    email: str = "email"
    groups: str | None = None
    group_roles: dict[str, tuple[GroupRole, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any) -> ClaimMapping:
        """Tolerant reading of the stored JSON: anything malformed is ignored, never trusted.
        (The admin API validates strictly before storing.)"""
        if not isinstance(raw, dict):
            return cls()

        def name_of(key: str, default: str | None) -> str | None:
            value = raw.get(key, default)
            return value if isinstance(value, str) and value else default

        group_roles: dict[str, tuple[GroupRole, ...]] = {}
        mapping = raw.get("group_roles")
        if isinstance(mapping, dict):
            for group, spec in mapping.items():
                specs = spec if isinstance(spec, list) else [spec]
                parsed = []
                for item in specs:
                    if not isinstance(item, dict) or item.get("role") not in {r.value for r in Role}:
                        continue
                    try:
                        parsed.append(GroupRole(str(item["role"]), uuid.UUID(str(item.get("conference_id")))))
                    except ValueError:
                        continue
                if parsed:
                    group_roles[str(group)] = tuple(parsed)
        return cls(
            subject=name_of("subject", "sub") or "sub",
            name=name_of("name", "name") or "name",
            email=name_of("email", "email") or "email",
            groups=name_of("groups", None),
            group_roles=group_roles,
        )

    def roles_from(self, claims: dict[str, Any]) -> list[GroupRole]:
        if not self.groups:
            return []
        groups = claims.get(self.groups)
        if isinstance(groups, str):
            groups = groups.split()
        if not isinstance(groups, list):
            return []
        found: dict[tuple[str, uuid.UUID], GroupRole] = {}
        for group in groups[:MAX_GROUPS]:
            if isinstance(group, str):
                for grant in self.group_roles.get(group, ()):
                    found[(grant.role, grant.conference_id)] = grant
        return list(found.values())


async def registered_issuers(
    session: AsyncSession, *, only: str | None = None
) -> dict[str, tuple[IssuerConfig, Organisation]]:
    """Registered issuers with their organisation; `only` narrows it to one exact issuer string
    (the token's claimed `iss`, which then still has to verify with that issuer's keys)."""
    query = sa.select(Organisation).where(col(Organisation.issuer).is_not(None))
    if only is not None:
        query = query.where(col(Organisation.issuer) == only)
    rows = (await session.execute(query)).scalars()
    result: dict[str, tuple[IssuerConfig, Organisation]] = {}
    for org in rows:
        assert org.issuer is not None
        cfg = IssuerConfig(
            issuer=org.issuer,
            audience=org.audience or "casusoverleg",
            jwks_uri=org.jwks_uri,
            discovery_url=org.discovery_url,
            require_typ_at_jwt=bool(org.require_typ_at_jwt),
        )
        result[org.issuer] = (cfg, org)
    return result


async def development_issuer_organisations(session: AsyncSession) -> list[str]:
    """Slugs of organisations registered with a development identity provider."""
    rows = await session.execute(
        sa.select(Organisation.slug, Organisation.issuer, Organisation.jwks_uri, Organisation.discovery_url)
    )
    return [slug for slug, *urls in rows if is_development_issuer(*urls)]


def _text(claims: dict[str, Any], name: str, limit: int) -> str | None:
    value = claims.get(name)
    return value[:limit] if isinstance(value, str) and value else None


async def _memberships(session: AsyncSession, org: Organisation, subject: str) -> list[Membership]:
    return list(
        (
            await session.execute(
                sa.select(Membership).where(
                    col(Membership.issuer) == org.issuer,
                    col(Membership.subject) == subject,
                    col(Membership.organisation_id) == org.id,  # never another organisation's memberships
                    col(Membership.active).is_(True),
                )
            )
        ).scalars().all()
    )


# An ended invitation still makes its person known for this long, so that a read after the end is
# refused like a missing case (and logged), not answered 401 as if they had never been invited.
GUEST_MEMORY_DAYS = 365
MAX_GUEST_GRANTS = 100


async def _guest_grants(session: AsyncSession, org: Organisation, subject: str) -> tuple[GuestGrant, ...]:
    rows = (
        await session.execute(
            sa.select(GuestInvitation).where(
                col(GuestInvitation.organisation_id) == org.id,  # never another organisation's guests
                col(GuestInvitation.issuer) == org.issuer,
                col(GuestInvitation.subject) == subject,
                col(GuestInvitation.ends_at) > clock.now() - timedelta(days=GUEST_MEMORY_DAYS),
            ).order_by(col(GuestInvitation.ends_at).desc()).limit(MAX_GUEST_GRANTS)
        )
    ).scalars().all()
    return tuple(
        GuestGrant(invitation_id=g.id, case_id=g.case_id, conference_id=g.conference_id, kind=g.kind.value,
                   starts_at=g.starts_at, ends_at=g.ends_at, revoked=g.revoked_at is not None)
        for g in rows
    )


async def _organisation_admin(session: AsyncSession, org: Organisation, subject: str) -> OrganisationAdmin | None:
    return (
        await session.execute(
            sa.select(OrganisationAdmin).where(
                col(OrganisationAdmin.organisation_id) == org.id,
                col(OrganisationAdmin.issuer) == org.issuer,
                col(OrganisationAdmin.subject) == subject,
                col(OrganisationAdmin.active).is_(True),
            )
        )
    ).scalar_one_or_none()


async def _seed_from_groups(
    session: AsyncSession,
    org: Organisation,
    subject: str,
    grants: list[GroupRole],
    display_name: str,
    email: str | None,
) -> list[Membership]:
    known = (
        await session.execute(
            sa.select(sa.func.count()).select_from(Membership).where(
                col(Membership.issuer) == org.issuer, col(Membership.subject) == subject,
                col(Membership.organisation_id) == org.id,
            )
        )
    ).scalar_one()
    if known:
        return []  # someone who has (or had) memberships is managed by hand from then on
    conference_ids = {g.conference_id for g in grants}
    taking_part = set(
        (
            await session.execute(
                sa.select(col(ConferenceOrganisation.conference_id)).where(
                    col(ConferenceOrganisation.organisation_id) == org.id,
                    col(ConferenceOrganisation.conference_id).in_(conference_ids),
                )
            )
        ).scalars()
    )
    seeded = [
        Membership(conference_id=g.conference_id, organisation_id=org.id, issuer=org.issuer or "",
                   subject=subject, display_name=display_name, email=email, role=g.role)
        for g in grants
        if g.conference_id in taking_part
    ]
    if not seeded:
        return []
    session.add_all(seeded)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a parallel first request seeded them already
        return await _memberships(session, org, subject)
    log.info("seeded %d membership(s) from the groups claim for organisation %s", len(seeded), org.slug)
    return seeded


async def principal_from_claims(
    session: AsyncSession,
    claims: dict[str, Any],
    org: Organisation,
    *,
    request_id: str | None = None,
    source_address: str | None = None,
) -> Principal | None:
    mapping = ClaimMapping.parse(org.claim_mapping)
    subject = _text(claims, mapping.subject, 255)
    if subject is None:
        return None
    name = _text(claims, mapping.name, 200)
    memberships = await _memberships(session, org, subject)
    admin = await _organisation_admin(session, org, subject)
    # An organisation's administrator writes its group mapping: it never seeds their own roles
    # (nobody grants a role to themselves); a conference's administrators give them one.
    if not memberships and admin is None:
        grants = mapping.roles_from(claims)
        if grants:
            memberships = await _seed_from_groups(
                session, org, subject, grants, name or subject, _text(claims, mapping.email, 320)
            )
    amr = claims.get("amr")
    common: dict[str, Any] = {
        "issuer": org.issuer or "",
        "subject": subject,
        "organisation_id": org.id,
        "organisation_kind": org.kind,
        "request_id": request_id,
        "source_address": source_address,
        "amr": tuple(str(a) for a in amr) if isinstance(amr, list) else (),
    }
    guests = await _guest_grants(session, org, subject)
    if memberships or admin is not None or guests:
        refs = tuple(MembershipRef(m.id, m.conference_id, m.organisation_id, m.role) for m in memberships)
        display = name or (memberships[0].display_name if memberships else admin.display_name if admin else subject)
        return Principal(kind="person", display_name=display, memberships=refs,
                         organisation_admin=admin is not None, guest_grants=guests, **common)
    system = (
        await session.execute(
            sa.select(PartnerSystem).where(
                col(PartnerSystem.organisation_id) == org.id,
                col(PartnerSystem.subject) == subject,
                col(PartnerSystem.active).is_(True),
            )
        )
    ).scalar_one_or_none()
    if system is None:
        return None
    token_scopes = claims.get("scope")
    granted = set(system.scopes)
    if isinstance(token_scopes, str):  # RFC 8693/9068: space-separated
        granted &= set(token_scopes.split())
    elif isinstance(token_scopes, list):
        granted &= {s for s in token_scopes if isinstance(s, str)}
    return Principal(
        kind="system",
        display_name=system.name,
        scopes=frozenset(granted),
        partner_system_id=system.id,
        **common,
    )
