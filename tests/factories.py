"""Small factories for test data: organisations with their own providers, two conferences,
people in every role, mandates, and cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.models import (
    Action,
    Case,
    Client,
    Conference,
    ConferenceOrganisation,
    Mandate,
    Membership,
    Organisation,
    OrganisationAdmin,
    PartnerSystem,
    Plan,
)
from app.services.cases.clients import new_client_number
from tests.idp import TestIdentityProviders

ORGS = {
    "gemeente": "municipality",
    "politie": "police",
    "zorg": "addiction_care",
    "wijkteam": "neighbourhood_team",
}

# person key -> (organisation slug, role, conference "A" or "B")
PEOPLE = {
    "chair": ("gemeente", "chair", "A"),
    "gemeente_member": ("gemeente", "member", "A"),
    "police_member": ("politie", "member", "A"),
    "police_liaison": ("politie", "liaison", "A"),
    "care_member": ("zorg", "member", "A"),
    "care_liaison": ("zorg", "liaison", "A"),
    "wijkteam_member": ("wijkteam", "member", "A"),
    "privacy_officer": ("gemeente", "privacy_officer", "A"),
    "admin": ("gemeente", "admin", "A"),
    "policy_staff": ("gemeente", "policy_staff", "A"),  # outcome figures only, never a case
    "chair_b": ("gemeente", "chair", "B"),
    "police_member_b": ("politie", "member", "B"),
}


# Administrators of an organisation (not of a conference): "admin" above administers the
# municipality too; these have no conference role at all.
ORG_ADMINS = {
    "gemeente_admin_2": "gemeente",  # the municipality's second administrator (approvals)
    "police_admin": "politie",
    "police_admin_2": "politie",
    "care_admin": "zorg",
    "wijkteam_admin": "wijkteam",
}
# Who administers each organisation of the world first.
ADMIN_OF = {"gemeente": "admin", "politie": "police_admin", "zorg": "care_admin", "wijkteam": "wijkteam_admin"}


@dataclass
class World:
    idp: TestIdentityProviders
    orgs: dict[str, Organisation] = field(default_factory=dict)
    conference_a: Conference | None = None
    conference_b: Conference | None = None
    members: dict[str, Membership] = field(default_factory=dict)
    systems: dict[str, PartnerSystem] = field(default_factory=dict)

    @property
    def a(self) -> Conference:
        assert self.conference_a is not None
        return self.conference_a

    @property
    def b(self) -> Conference:
        assert self.conference_b is not None
        return self.conference_b

    def token(self, person: str, **kwargs: Any) -> str:
        if person in self.systems:
            system = self.systems[person]
            slug = next(s for s, o in self.orgs.items() if o.id == system.organisation_id)
            kwargs.setdefault("scope", " ".join(system.scopes))
            return self.idp.token(slug, system.subject, audience="casusoverleg", **kwargs)
        if person in ORG_ADMINS:
            return self.idp.token(ORG_ADMINS[person], f"{person}-sub", audience="casusoverleg", **kwargs)
        slug = PEOPLE[person][0]
        return self.idp.token(slug, self.members[person].subject, audience="casusoverleg", **kwargs)

    def headers(self, person: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person)}", **extra}


async def build_world(session: AsyncSession, idp: TestIdentityProviders) -> World:
    world = World(idp=idp)
    for slug, kind in ORGS.items():
        issuer = idp.issuer(slug)
        org = Organisation(name=slug.title(), slug=slug, kind=kind, issuer=issuer, audience="casusoverleg",
                           discovery_url=f"{issuer}/.well-known/openid-configuration")
        session.add(org)
        world.orgs[slug] = org
    world.conference_a = Conference(name="Casusoverleg A", municipality="A-stad",
                                    cadence={"weekday": "tuesday", "interval_weeks": 2, "time": "10:00",
                                             "timezone": "Europe/Amsterdam", "duration_minutes": 120})
    world.conference_b = Conference(name="Casusoverleg B", municipality="B-dorp", cadence={})
    session.add_all([world.conference_a, world.conference_b])
    await session.flush()
    for org in world.orgs.values():
        session.add(ConferenceOrganisation(conference_id=world.a.id, organisation_id=org.id))
    for slug in ("gemeente", "politie"):
        session.add(ConferenceOrganisation(conference_id=world.b.id, organisation_id=world.orgs[slug].id))
    for key, (slug, role, conf) in PEOPLE.items():
        org = world.orgs[slug]
        membership = Membership(
            conference_id=(world.a if conf == "A" else world.b).id,
            organisation_id=org.id,
            issuer=org.issuer or "",
            subject=f"{key}-sub",
            display_name=key.replace("_", " ").title(),
            role=role,
        )
        session.add(membership)
        world.members[key] = membership
    for key, slug in {"admin": "gemeente", **ORG_ADMINS}.items():
        org = world.orgs[slug]
        session.add(OrganisationAdmin(organisation_id=org.id, issuer=org.issuer or "", subject=f"{key}-sub",
                                      display_name=key.replace("_", " ").title()))
    police_system = PartnerSystem(organisation_id=world.orgs["politie"].id, name="Politiesysteem",
                                  subject="police-system", scopes=["events:write", "cases:read-minimal"])
    session.add(police_system)
    world.systems["police_system"] = police_system
    # the municipality's own system (the administration matrix's partner-system object)
    gemeente_system = PartnerSystem(organisation_id=world.orgs["gemeente"].id, name="Zaaksysteem",
                                    subject="gemeente-system", scopes=["events:write"])
    session.add(gemeente_system)
    world.systems["gemeente_system"] = gemeente_system
    await session.flush()
    return world


async def add_mandate(
    session: AsyncSession,
    member: Membership,
    scope: str,
    *,
    max_amount_cents: int | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
) -> Mandate:
    today = clock.today()
    mandate = Mandate(membership_id=member.id, scope=scope, max_amount_cents=max_amount_cents,
                      valid_from=valid_from or today - timedelta(days=30),
                      valid_to=valid_to if valid_to is not None else today + timedelta(days=365),
                      granted_by="Directie")
    session.add(mandate)
    await session.flush()
    return mandate


async def add_case(
    session: AsyncSession,
    world: World,
    *,
    conference: Conference | None = None,
    phase: str = "active",
    director: str | None = "care_member",
    name: str = "Jan Testpersoon",
    opened_on: date | None = None,
) -> Case:
    conference = conference or world.a
    client = Client(conference_id=conference.id, client_number=new_client_number(), name=name,
                    date_of_birth=date(1985, 5, 17))
    session.add(client)
    await session.flush()
    case = Case(conference_id=conference.id, client_id=client.id, phase=phase,
                case_director_id=world.members[director].id if director else None,
                opened_on=opened_on or clock.today() - timedelta(days=60),
                closure_reason="other" if phase == "closed" else None)
    session.add(case)
    await session.flush()
    session.add(Plan(case_id=case.id, client_goals="Ik wil weer een eigen plek."))
    await session.flush()
    return case


async def add_action(session: AsyncSession, world: World, case: Case, *, owner: str = "politie",
                     assignee: str | None = "police_liaison", committed_by: str = "police_member",
                     due_in_days: int = 7, status: str = "open", **extra: Any) -> Action:
    action = Action(case_id=case.id, conference_id=case.conference_id, title="Huisbezoek",
                    life_domain="housing", owner_organisation_id=world.orgs[owner].id,
                    assignee_id=world.members[assignee].id if assignee else None,
                    due_date=clock.today() + timedelta(days=due_in_days), status=status,
                    committed_by_id=world.members[committed_by].id, **extra)
    session.add(action)
    await session.flush()
    return action


def uid() -> uuid.UUID:
    return uuid.uuid4()


async def add_organisation_with_member(
    session: AsyncSession, world: World, *, slug: str, subject: str, discovery: bool = False
) -> Organisation:
    """An extra organisation with its own issuer on the test provider and one member in
    conference A (for rotation and key-cache tests that need an issuer of their own)."""
    issuer = world.idp.issuer(slug)
    org = Organisation(name=slug, slug=slug, kind="housing", issuer=issuer, audience="casusoverleg",
                       discovery_url=f"{issuer}/.well-known/openid-configuration" if discovery else None)
    session.add(org)
    await session.flush()
    session.add(Membership(conference_id=world.a.id, organisation_id=org.id, issuer=issuer, subject=subject,
                           display_name=subject, role="member"))
    await session.flush()
    return org
