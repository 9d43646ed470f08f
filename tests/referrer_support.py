"""The wider ring in tests (issue 17): a general practice with its own identity provider, whose
practice nurse (praktijkondersteuner) is a referrer in conference A; the practice does not take
part in the conference."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Membership, Organisation
from tests.factories import World

GP_SLUG = "huisarts"
POH_SUBJECT = "poh-sub"


@dataclass
class Referrer:
    world: World
    organisation: Organisation
    membership: Membership

    def headers(self, **extra: str) -> dict[str, str]:
        token = self.world.idp.token(GP_SLUG, self.membership.subject, audience="casusoverleg")
        return {"Authorization": f"Bearer {token}", **extra}


async def add_gp_referrer(session: AsyncSession, world: World) -> Referrer:
    """A general practice (its own issuer on the test provider, served over real HTTP JWKS) and its
    practice nurse as a referrer of conference A."""
    issuer = world.idp.issuer(GP_SLUG)
    org = Organisation(name="Huisartsenpraktijk De Linde", slug=GP_SLUG, kind="general_practice", issuer=issuer,
                       audience="casusoverleg", discovery_url=f"{issuer}/.well-known/openid-configuration")
    session.add(org)
    await session.flush()
    membership = Membership(conference_id=world.a.id, organisation_id=org.id, issuer=issuer, subject=POH_SUBJECT,
                            display_name="Praktijkondersteuner", role="referrer")
    session.add(membership)
    await session.flush()
    return Referrer(world, org, membership)
