"""From verified claims to a Principal: the organisation is the one whose registered issuer
signed the token, and only that organisation's memberships and partner systems count."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import MembershipRef, Principal
from app.auth.tokens import IssuerConfig
from app.models import Membership, Organisation, PartnerSystem


async def registered_issuers(session: AsyncSession) -> dict[str, tuple[IssuerConfig, Organisation]]:
    rows = (await session.execute(sa.select(Organisation).where(Organisation.issuer.is_not(None)))).scalars()  # type: ignore[union-attr]
    result: dict[str, tuple[IssuerConfig, Organisation]] = {}
    for org in rows:
        assert org.issuer is not None
        cfg = IssuerConfig(
            issuer=org.issuer,
            audience=org.audience or "casusoverleg",
            jwks_uri=org.jwks_uri,
            discovery_url=org.discovery_url,
        )
        result[org.issuer] = (cfg, org)
    return result


def _claim(claims: dict[str, Any], mapping: dict[str, Any], name: str, default: str) -> Any:
    return claims.get(str(mapping.get(name, default)))


async def principal_from_claims(
    session: AsyncSession,
    claims: dict[str, Any],
    org: Organisation,
    *,
    request_id: str | None = None,
    source_address: str | None = None,
) -> Principal | None:
    mapping = org.claim_mapping or {}
    subject = claims["sub"]
    name = _claim(claims, mapping, "name", "name")
    memberships = (
        await session.execute(
            sa.select(Membership).where(
                Membership.issuer == org.issuer,
                Membership.subject == subject,
                Membership.organisation_id == org.id,  # never another organisation's memberships
                Membership.active.is_(True),  # type: ignore[attr-defined]
            )
        )
    ).scalars().all()
    amr = claims.get("amr")
    common = {
        "issuer": org.issuer or "",
        "subject": subject,
        "organisation_id": org.id,
        "organisation_kind": org.kind,
        "request_id": request_id,
        "source_address": source_address,
        "acr": claims.get("acr") if isinstance(claims.get("acr"), str) else None,
        "amr": tuple(str(a) for a in amr) if isinstance(amr, list) else (),
    }
    if memberships:
        refs = tuple(MembershipRef(m.id, m.conference_id, m.organisation_id, m.role) for m in memberships)
        display = name if isinstance(name, str) and name else memberships[0].display_name
        return Principal(kind="person", display_name=display, memberships=refs, **common)
    system = (
        await session.execute(
            sa.select(PartnerSystem).where(
                PartnerSystem.organisation_id == org.id,
                PartnerSystem.subject == subject,
                PartnerSystem.active.is_(True),  # type: ignore[attr-defined]
            )
        )
    ).scalar_one_or_none()
    if system is None:
        return None
    token_scopes = claims.get("scope")
    granted = set(system.scopes)
    if isinstance(token_scopes, str):
        granted &= set(token_scopes.split())
    return Principal(
        kind="system",
        display_name=system.name,
        scopes=frozenset(granted),
        partner_system_id=system.id,
        **common,
    )
