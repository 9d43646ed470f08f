"""The demo's wider ring (issue 17), so that `make run` shows each of these: a GGZ practitioner
invited as a guest to Fatima Bouzid's case (her anxiety treatment), a household of Sandra Koster
and her daughter Lotte (16) with one coordinator from the neighbourhood team, Sandra recorded as
Lotte's parent with parental authority, and Henk Smeets's mentor. Everything here is invented. The
caller (app/demo/seed.py) flushes and never commits."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dev_idp import DEV_AUDIENCE, issuer_url
from app.clock import clock
from app.demo.people import DEMO_GUEST_ORGANISATIONS, DEMO_GUESTS
from app.models import (
    Case,
    Client,
    ClientRepresentative,
    Conference,
    GuestInvitation,
    Household,
    HouseholdMember,
    Membership,
    Organisation,
    Plan,
)
from app.models.enums import GuestKind, HouseholdRelation, Phase, RepresentativeKind
from app.services.cases.clients import new_client_number
from app.services.cases.guests import LOCAL

GUEST_CASE = "Fatima Bouzid"
GUEST_REASON = ("Behandelaar GGZ sluit aan voor de afstemming van de behandeling van de angstklachten "
                "naast de verslavingszorg.")
PARENT, CHILD = "Sandra Koster", "Lotte Koster"
MENTORED = "Henk Smeets"


async def add_demo_ring(
    session: AsyncSession, *, base_url: str, conference: Conference,
    cases: dict[str, tuple[Case, Client]], memberships: dict[str, Membership],
) -> None:
    today, now = clock.today(), clock.now()
    chair = memberships["voorzitter"]
    outside = {}
    for demo_org in DEMO_GUEST_ORGANISATIONS:
        issuer = issuer_url(base_url, demo_org.slug)
        outside[demo_org.slug] = Organisation(name=demo_org.name, slug=demo_org.slug, kind=demo_org.kind,
                                              issuer=issuer, audience=DEV_AUDIENCE, jwks_uri=f"{issuer}/jwks.json")
    session.add_all(outside.values())
    await session.flush()

    guest_case, _ = cases[GUEST_CASE]
    last_day = now.astimezone(LOCAL).date() + timedelta(days=30)
    session.add_all(
        GuestInvitation(case_id=guest_case.id, conference_id=conference.id, kind=GuestKind.guest,
                        organisation_id=outside[guest.organisation].id, issuer=outside[guest.organisation].issuer or "",
                        subject=guest.key, display_name=guest.name, reason=GUEST_REASON, invited_by_id=chair.id,
                        starts_at=now - timedelta(days=2),
                        ends_at=datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=LOCAL))
        for guest in DEMO_GUESTS
    )

    # One household, one plan coordinator: Sandra and her daughter Lotte, coordinated by the
    # neighbourhood team's member (already Sandra's case director).
    parent_case, parent = cases[PARENT]
    coordinator = memberships["wijkteam-lid"]
    child = Client(conference_id=conference.id, client_number=new_client_number(), name=CHILD,
                   date_of_birth=date(today.year - 16, 3, 14), created_at=now - timedelta(days=9))
    session.add(child)
    await session.flush()
    child_case = Case(conference_id=conference.id, client_id=child.id, phase=Phase.selected,
                      case_director_id=coordinator.id, opened_on=today - timedelta(days=9),
                      opened_at=now - timedelta(days=9), updated_at=now)
    session.add(child_case)
    await session.flush()
    session.add(Plan(case_id=child_case.id, client_goals="Ik wil gewoon naar school en weer bij mama logeren.",
                     updated_at=now))
    parent_case.case_director_id = coordinator.id
    household = Household(conference_id=conference.id, coordinator_id=coordinator.id, created_by_id=chair.id)
    session.add(household)
    await session.flush()
    session.add_all([
        HouseholdMember(household_id=household.id, client_id=parent.id, relation=HouseholdRelation.parent),
        HouseholdMember(household_id=household.id, client_id=child.id, relation=HouseholdRelation.child),
    ])
    session.add(ClientRepresentative(
        client_id=child.id, conference_id=conference.id, kind=RepresentativeKind.parent, name=PARENT,
        basis="Ouderlijk gezag (eenhoofdig gezag, ingeschreven in het gezagsregister)",
        valid_until=date(today.year + 2, 3, 14), recorded_by_id=coordinator.id))
    _, mentored = cases[MENTORED]
    session.add(ClientRepresentative(
        client_id=mentored.id, conference_id=conference.id, kind=RepresentativeKind.mentor, name="mr. J. de Wit",
        basis="Mentorschap, beschikking kantonrechter Zuiderstad, zaaknummer 2025/0412",
        recorded_by_id=chair.id))
    await session.flush()
