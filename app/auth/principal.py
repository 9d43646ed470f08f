"""Who is calling: a person with memberships, or a partner system with scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class MembershipRef:
    id: uuid.UUID
    conference_id: uuid.UUID
    organisation_id: uuid.UUID
    role: str


@dataclass(frozen=True)
class GuestGrant:
    """An invitation of this person to one case (app/models/guest.py), as the policy needs it."""

    invitation_id: uuid.UUID
    case_id: uuid.UUID
    conference_id: uuid.UUID
    kind: str  # GuestKind: guest, peer_supporter, buddy
    starts_at: datetime
    ends_at: datetime
    revoked: bool = False

    def active(self, now: datetime) -> bool:
        return not self.revoked and self.starts_at <= now < self.ends_at

    @property
    def basis(self) -> str:
        return f"guest:{self.invitation_id}"


@dataclass(frozen=True)
class Principal:
    kind: Literal["person", "system"]
    issuer: str
    subject: str
    display_name: str
    organisation_id: uuid.UUID
    organisation_kind: str
    memberships: tuple[MembershipRef, ...] = ()
    scopes: frozenset[str] = field(default_factory=frozenset)
    partner_system_id: uuid.UUID | None = None
    request_id: str | None = None
    source_address: str | None = None
    # Authentication methods as the provider reports them (amr, RFC 8176): the access-log reads of
    # the privacy officer need a second factor where they are reported (app/routers/audit.py).
    amr: tuple[str, ...] = ()
    # An administrator of their own organisation (organisation_id): its identity settings and
    # partner systems. Not a conference role (app/models/administration.py OrganisationAdmin).
    organisation_admin: bool = False
    # Invitations to single cases (guests, peer supporters, buddies), active or not: the policy
    # decides by their dates, so an ended one is refused (and logged) rather than unknown.
    guest_grants: tuple[GuestGrant, ...] = ()

    def roles_in(self, conference_id: uuid.UUID) -> frozenset[str]:
        return frozenset(m.role for m in self.memberships if m.conference_id == conference_id)

    def membership_in(self, conference_id: uuid.UUID, *roles: str) -> MembershipRef | None:
        for m in self.memberships:
            if m.conference_id == conference_id and (not roles or m.role in roles):
                return m
        return None

    def membership_ids(self) -> frozenset[uuid.UUID]:
        return frozenset(m.id for m in self.memberships)

    def conference_ids(self, *roles: str) -> frozenset[uuid.UUID]:
        return frozenset(m.conference_id for m in self.memberships if not roles or m.role in roles)

    @property
    def primary_role(self) -> str:
        return self.memberships[0].role if self.memberships else ("system" if self.kind == "system" else "")
