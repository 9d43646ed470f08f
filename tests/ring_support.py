"""Helpers for the wider ring's tests (issue 17): an organisation outside the conference with its
own identity provider, its people's tokens, and guest invitations."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from app.clock import clock
from app.db import Database
from app.models import Organisation
from tests.factories import World


async def outside_organisation(owner_db: Database, world: World, slug: str = "ggz",
                               kind: str = "mental_health_care") -> Organisation:
    """An organisation that is no member of any conference, with its own registered provider."""
    issuer = world.idp.issuer(slug)
    async with owner_db.sessions() as session:
        org = Organisation(name=slug.upper(), slug=slug, kind=kind, issuer=issuer, audience="casusoverleg")
        session.add(org)
        await session.commit()
    world.orgs[slug] = org
    return org


def headers_of(world: World, slug: str, subject: str) -> dict[str, str]:
    token = world.idp.token(slug, subject, audience="casusoverleg")
    return {"Authorization": f"Bearer {token}"}


def invitation_body(org: Organisation, subject: str = "ggz-behandelaar", *, days: int = 14,
                    **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation_id": str(org.id), "subject": subject, "display_name": "Sanne Behandelaar",
        "reason": "Behandelaar GGZ sluit aan voor afstemming van de dubbele diagnose.",
        "ends_on": str(local_today() + timedelta(days=days)),
    }
    body.update(overrides)
    return body


def local_today() -> date:
    """Today in the Netherlands: an invitation's last day is a local date."""
    from app.services.cases.guests import LOCAL

    return clock.now().astimezone(LOCAL).date()


async def invite(client: httpx.AsyncClient, world: World, case_id: object, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/api/v1/cases/{case_id}/guests", json=body, headers=world.headers("chair"))


async def add_aftercare_watch(owner_db: Database, world: World, case: Any) -> None:
    """A signed nazorg agreement in force (health shared with the neighbourhood team) and a
    running aftercare watch, written directly (for tests whose tokens cannot make them)."""
    import hashlib

    from app.models import AftercareWatch, Agreement

    today = clock.today()
    text = f"Afspraken voor de nazorg {case.id}"
    async with owner_db.sessions() as session:
        session.add(Agreement(
            case_id=case.id, conference_id=case.conference_id, template_id="nazorg", template_version=1,
            template_sha256="0" * 64, title="Afspraken voor de nazorg", status="signed",
            parties={"client": {"client_id": str(case.client_id)},
                     "addiction_care": {"organisation_id": str(world.orgs["zorg"].id), "name": "Zorg"},
                     "neighbourhood_team": {"organisation_id": str(world.orgs["wijkteam"].id), "name": "Wijkteam"}},
            commitments={}, options=[], scope={"health": ["neighbourhood_team"]},
            starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=170), rendered_text=text,
            text_hash=hashlib.sha256(text.encode()).hexdigest(), created_by_id=world.members["chair"].id))
        session.add(AftercareWatch(case_id=case.id, client_id=case.client_id,
                                   started_at=clock.now() - timedelta(days=5),
                                   ends_at=clock.now() + timedelta(days=170)))
        await session.commit()
