"""Who is who in the demo conference: organisations (one development issuer each) and people."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    name: str
    kind: str


@dataclass(frozen=True)
class DemoUser:
    key: str  # what you pass to `casusoverleg token --as`
    organisation: str  # slug
    name: str
    roles: tuple[str, ...]
    mandates: tuple[tuple[str, int | None], ...] = ()  # (scope, max amount in cents)
    organisation_admin: bool = False  # administers the organisation's identity settings and systems


@dataclass(frozen=True)
class DemoSystem:
    key: str
    organisation: str
    name: str
    scopes: tuple[str, ...]


DEMO_ORGANISATIONS = (
    DemoOrganisation("gemeente", "Gemeente Zuiderstad", "municipality"),
    DemoOrganisation("politie", "Politie Eenheid Zuid", "police"),
    DemoOrganisation("verslavingszorg", "Verslavingszorg Zuid", "addiction_care"),
    DemoOrganisation("wijkteam", "Sociaal Wijkteam Centrum", "neighbourhood_team"),
)

# Organisations of the wider ring that take part in no conference (issue 17): their people come in
# as guests of one case. Each has its own development issuer like the members' organisations.
DEMO_GUEST_ORGANISATIONS = (
    DemoOrganisation("ggz", "GGZ Zuiderstad", "mental_health_care"),
)
# Organisations whose professionals refer (issue 17): a general practice with its own issuer; it
# takes part in no conference, its practice nurse is a referrer (app/demo/intake.py).
DEMO_REFERRER_ORGANISATIONS = (
    DemoOrganisation("huisartsenpraktijk", "Huisartsenpraktijk De Linde", "general_practice"),
)
ALL_DEMO_ORGANISATIONS = (*DEMO_ORGANISATIONS, *DEMO_GUEST_ORGANISATIONS, *DEMO_REFERRER_ORGANISATIONS)

DEMO_USERS = (
    DemoUser("voorzitter", "gemeente", "Anouk de Vries", ("chair",),
             (("housing_allocation", 500_000), ("debt_fast_track", 250_000), ("budget", 1_000_000),
              ("sign_agreements", None))),
    DemoUser("gemeente-lid", "gemeente", "Bram Jansen", ("member",),
             (("debt_fast_track", 100_000), ("budget", 200_000))),
    DemoUser("politie-lid", "politie", "Chantal Bakker", ("member",), (("enforcement_priority", None),)),
    DemoUser("politie-liaison", "politie", "Dennis Visser", ("liaison",)),
    DemoUser("zorg-lid", "verslavingszorg", "Eva Smit", ("member",),
             (("treatment_intake", None), ("outreach", None), ("sign_agreements", None))),
    DemoUser("zorg-liaison", "verslavingszorg", "Frank Mulder", ("liaison",)),
    DemoUser("wijkteam-lid", "wijkteam", "Gina de Boer", ("member",), (("outreach", None),)),
    DemoUser("privacy", "gemeente", "Hanna Meijer", ("privacy_officer",)),
    # The municipality's policy staff: the outcome figures (/web/uitkomsten), never a case.
    DemoUser("beleid", "gemeente", "Noor Willems", ("policy_staff",)),
    DemoUser("beheer", "gemeente", "Ivo de Groot", ("admin",), organisation_admin=True),
    # Administrators of each organisation (no conference role): a change of an organisation's
    # issuer or keys needs two of them, so the municipality has a second one.
    DemoUser("beheer-2", "gemeente", "Jasmijn Kok", (), organisation_admin=True),
    DemoUser("politie-beheer", "politie", "Karim El Amrani", (), organisation_admin=True),
    DemoUser("zorg-beheer", "verslavingszorg", "Lotte Hendriks", (), organisation_admin=True),
    DemoUser("wijkteam-beheer", "wijkteam", "Milan Peters", (), organisation_admin=True),
)

# Guests of one case (no membership): the demo invites this GGZ practitioner to one case.
DEMO_GUESTS = (
    DemoUser("ggz-gast", "ggz", "Sanne Willems", ()),
)

# Referrers: professionals of a non-member organisation who refer and follow their own referrals.
DEMO_REFERRERS = (
    DemoUser("poh", "huisartsenpraktijk", "Ilse Vermeulen", ("referrer",)),
)

DEMO_SYSTEMS = (
    DemoSystem("politie-systeem", "politie", "BVH-koppeling politie",
               ("events:write", "cases:read-minimal", "clients:link")),
    DemoSystem("zorg-systeem", "verslavingszorg", "EPD-koppeling verslavingszorg",
               ("events:write", "cases:read-minimal", "clients:link", "webhooks:manage")),
)

# The demo systems' own client references: ZRG-0001 (care EPD), BVH-0001 (police), one per case
# in the order of the demo cases.
DEMO_REFERENCE_PREFIX = {"verslavingszorg": "ZRG", "politie": "BVH"}


def demo_reference(organisation: str, number: int) -> str:
    return f"{DEMO_REFERENCE_PREFIX[organisation]}-{number:04d}"


def demo_user(key: str) -> DemoUser | DemoSystem:
    for user in (*DEMO_USERS, *DEMO_GUESTS, *DEMO_REFERRERS, *DEMO_SYSTEMS):
        if user.key == key:
            return user
    known = ", ".join(u.key for u in (*DEMO_USERS, *DEMO_GUESTS, *DEMO_REFERRERS, *DEMO_SYSTEMS))
    raise KeyError(f"unknown demo user {key!r}; known: {known}")
