"""Guests of one case (issue 17): the chair invites a professional of another organisation to one
case (or one agenda item of it) for a stated reason until an end date; peer supporters and buddies
take part in the plan the same way, with the client's consent recorded in a signed agreement.

The access itself is decided by the policy (app/auth/policy.py `_as_guest`) from the principal's
grants (app/auth/identity.py); every read under an invitation carries the basis `guest:<id>` in the
access log. This module writes the invitations, ends them, records their expiry in the case's
history and lists them with the guest's reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, Read
from app.auth.policy import Op, authorize
from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, NotFound, UnprocessableEntity
from app.models import (
    AccessLogEntry,
    AgendaItem,
    Agreement,
    Case,
    ChangeRecord,
    Client,
    GuestInvitation,
    Membership,
    Organisation,
)
from app.models.enums import GuestKind, GuestStatus, Phase, Role
from app.models.predicates import agreement_is_active
from app.schemas.guests import GuestInvitationCreate, GuestInvitationOut, GuestReadOut
from app.services.cases.lifecycle import LoadedCase
from app.services.common import record_change

# How far ahead an invitation may end: a guest joins for a short while; a peer supporter or buddy
# takes part in the plan for longer (both remain bounded).
MAX_DAYS = {GuestKind.guest: 90, GuestKind.peer_supporter: 365, GuestKind.buddy: 365}
LOCAL = ZoneInfo("Europe/Amsterdam")  # an end date ends at midnight, local time
MAX_READS_SHOWN = 50


def status_of(invitation: GuestInvitation, now: datetime) -> GuestStatus:
    if invitation.revoked_at is not None:
        return GuestStatus.revoked
    return GuestStatus.active if now < invitation.ends_at else GuestStatus.expired


def guest_access(loaded: LoadedCase, action: str, invitation_id: uuid.UUID | None = None) -> Access:
    return Access(action=action, resource_type="guest_invitation",
                  resource_id=str(invitation_id) if invitation_id else None, case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number,
                  part="guests")


def check_invitation(data: GuestInvitationCreate) -> None:
    """The rules a request breaks on its face (reason, end date): checked before anything is
    looked up, so that the refusal can be logged and nothing is written."""
    if not data.reason.strip():
        raise UnprocessableEntity("State why this person is invited to the case.", pointer="/reason")
    if data.ends_on is None:
        raise UnprocessableEntity("Give the last day of the invitation.", pointer="/ends_on")
    today = clock.now().astimezone(LOCAL).date()
    if data.ends_on < today:
        raise UnprocessableEntity("The last day of the invitation cannot lie in the past.", pointer="/ends_on")
    limit = MAX_DAYS[data.kind]
    if data.ends_on > today + timedelta(days=limit):
        raise UnprocessableEntity(f"An invitation of this kind ends within {limit} days.", pointer="/ends_on")
    if data.kind is not GuestKind.guest and data.consent_agreement_id is None:
        raise UnprocessableEntity("A peer supporter or buddy takes part only with the client's consent: name the "
                                  "signed agreement that records it.", pointer="/consent_agreement_id")


async def invite(session: AsyncSession, principal: Principal, loaded: LoadedCase,
                 data: GuestInvitationCreate) -> GuestInvitation:
    check_invitation(data)
    assert data.ends_on is not None
    case = loaded.case
    if case.phase == Phase.closed:
        raise Conflict("A closed case takes no guests.")
    org = await session.get(Organisation, data.organisation_id)
    if org is None or not org.issuer:
        raise UnprocessableEntity("The guest's organisation must be registered with its identity provider.",
                                  pointer="/organisation_id")
    member = (await session.execute(
        sa.select(sa.func.count()).select_from(Membership).where(
            col(Membership.conference_id) == case.conference_id, col(Membership.organisation_id) == org.id,
            col(Membership.subject) == data.subject, col(Membership.active).is_(True))
    )).scalar_one()
    if member:
        raise UnprocessableEntity("This person takes part in the conference already; a guest is someone from "
                                  "outside it.", pointer="/subject")
    if data.agenda_item_id is not None:
        item = await session.get(AgendaItem, data.agenda_item_id)
        if item is None or item.case_id != case.id:
            raise UnprocessableEntity("The agenda item is not one of this case.", pointer="/agenda_item_id")
    if data.consent_agreement_id is not None:
        consent = (await session.execute(
            sa.select(col(Agreement.id)).where(col(Agreement.id) == data.consent_agreement_id,
                                               col(Agreement.case_id) == case.id,
                                               agreement_is_active(clock.today()))
        )).scalar_one_or_none()
        if consent is None:
            raise UnprocessableEntity("The consent must be a signed agreement of this case that is in force.",
                                      pointer="/consent_agreement_id")
    inviter = principal.membership_in(case.conference_id, Role.chair)
    assert inviter is not None  # the policy admitted the chair
    invitation = GuestInvitation(
        case_id=case.id, conference_id=case.conference_id, agenda_item_id=data.agenda_item_id, kind=data.kind,
        organisation_id=org.id, issuer=org.issuer, subject=data.subject, display_name=data.display_name,
        reason=data.reason.strip(), consent_agreement_id=data.consent_agreement_id, invited_by_id=inviter.id,
        starts_at=clock.now(),
        ends_at=datetime.combine(data.ends_on + timedelta(days=1), time(0), tzinfo=LOCAL),
    )
    session.add(invitation)
    await session.flush()
    record_change(session, principal, case_id=case.id, entity_type="guest_invitation", entity_id=invitation.id,
                  version=1, operation="create",
                  changes={"kind": {"from": None, "to": data.kind.value},
                           "ends_at": {"from": None, "to": invitation.ends_at.isoformat()},
                           "reason": {"changed": True}})
    return invitation


async def revoke(session: AsyncSession, principal: Principal, loaded: LoadedCase,
                 invitation_id: uuid.UUID) -> GuestInvitation:
    invitation = await _one(session, loaded, invitation_id, for_update=True)
    if status_of(invitation, clock.now()) is not GuestStatus.active:
        raise Conflict("This invitation has ended already.")
    invitation.revoked_at = clock.now()
    record_change(session, principal, case_id=loaded.case.id, entity_type="guest_invitation",
                  entity_id=invitation.id, version=2, operation="update",
                  changes={"revoked_at": {"from": None, "to": invitation.revoked_at.isoformat()}})
    await session.flush()
    return invitation


async def _one(session: AsyncSession, loaded: LoadedCase, invitation_id: uuid.UUID, *,
               for_update: bool = False) -> GuestInvitation:
    query = sa.select(GuestInvitation).where(col(GuestInvitation.id) == invitation_id,
                                             col(GuestInvitation.case_id) == loaded.case.id)
    if for_update:
        query = query.with_for_update()
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound("guest invitation")
    return found


async def invitations_of(session: AsyncSession, loaded: LoadedCase) -> list[GuestInvitationOut]:
    """The case's invitations, newest first, each with the guest's reads and refusals."""
    rows = (await session.execute(
        sa.select(GuestInvitation, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(GuestInvitation.organisation_id))
        .where(col(GuestInvitation.case_id) == loaded.case.id)
        .order_by(col(GuestInvitation.starts_at).desc())
    )).all()
    now = clock.now()
    return [
        present(invitation, name, now, await _reads(session, invitation))
        for invitation, name in rows
    ]


def present(invitation: GuestInvitation, organisation_name: str, now: datetime,
            reads: list[GuestReadOut] | None = None) -> GuestInvitationOut:
    return GuestInvitationOut(
        id=invitation.id, case_id=invitation.case_id, kind=invitation.kind,
        organisation_id=invitation.organisation_id, organisation_name=organisation_name,
        display_name=invitation.display_name, reason=invitation.reason, agenda_item_id=invitation.agenda_item_id,
        consent_agreement_id=invitation.consent_agreement_id, invited_by_id=invitation.invited_by_id,
        starts_at=invitation.starts_at, ends_at=invitation.ends_at, revoked_at=invitation.revoked_at,
        status=status_of(invitation, now), reads=reads or [],
    )


async def _reads(session: AsyncSession, invitation: GuestInvitation) -> list[GuestReadOut]:
    # The rows of one access share their time: one line per access (its first part).
    rows = (await session.execute(
        sa.select(col(AccessLogEntry.occurred_at), sa.func.min(col(AccessLogEntry.part)), col(AccessLogEntry.outcome))
        .where(col(AccessLogEntry.actor_subject) == invitation.subject,
               col(AccessLogEntry.actor_issuer) == invitation.issuer,
               col(AccessLogEntry.case_id) == invitation.case_id,
               col(AccessLogEntry.occurred_at) >= invitation.starts_at)
        .group_by(col(AccessLogEntry.occurred_at), col(AccessLogEntry.outcome))
        .order_by(col(AccessLogEntry.occurred_at).desc()).limit(MAX_READS_SHOWN)
    )).all()
    return [GuestReadOut(occurred_at=at, part=part, outcome=outcome) for at, part, outcome in rows]


async def record_expiries(session: AsyncSession) -> int:
    """Write the end of every invitation that ran out into its case's history (once each)."""
    now = clock.now()
    ended = (await session.execute(
        sa.select(GuestInvitation).where(col(GuestInvitation.ends_at) <= now,
                                         col(GuestInvitation.revoked_at).is_(None),
                                         col(GuestInvitation.expiry_recorded_at).is_(None))
        .with_for_update(skip_locked=True)
    )).scalars().all()
    numbers = dict((await session.execute(
        sa.select(col(Case.id), col(Client.client_number)).join(Client, col(Client.id) == col(Case.client_id))
        .where(col(Case.id).in_([i.case_id for i in ended]))
    )).all()) if ended else {}
    for invitation in ended:
        invitation.expiry_recorded_at = now
        # The end in the access log, as the system (like the retention purge's rows).
        session.add(AccessLogEntry(
            occurred_at=now, actor_issuer="casusoverleg", actor_subject="guests-expire",
            actor_name="Verloop gastuitnodiging (automatisch)", actor_kind="system",
            conference_id=invitation.conference_id, client_number=numbers.get(invitation.case_id),
            case_id=invitation.case_id, resource_type="guest_invitation", resource_id=str(invitation.id),
            action="update", part="guest:expired", basis=f"guest:{invitation.id}", outcome="allowed",
        ))
        session.add(ChangeRecord(
            case_id=invitation.case_id, entity_type="guest_invitation", entity_id=invitation.id, version=2,
            operation="expire", actor_issuer="casusoverleg", actor_subject="job:guests.expire",
            actor_name="Casusoverleg (verloop uitnodiging)", organisation_id=None,
            changes={"ends_at": {"from": None, "to": invitation.ends_at.isoformat()}}, changed_at=now,
        ))
    await session.flush()
    return len(ended)


async def organisation_name(session: AsyncSession, invitation: GuestInvitation) -> str:
    org = await session.get(Organisation, invitation.organisation_id)
    return org.name if org else ""


@dataclass(frozen=True)
class GuestsPage:
    items: list[GuestInvitationOut]
    organisations: list[tuple[uuid.UUID, str]]  # for the chair's invitation form; empty for others


async def guests_read(session: AsyncSession, principal: Principal, loaded: LoadedCase) -> Read[GuestsPage | None]:
    """The case page's list of guests: for those who may read it (not the guests themselves), with
    its access-log row, and for the chair the organisations a guest may come from; None for the
    others (nothing read, nothing logged)."""
    if not authorize(principal, Op.guest_read, loaded.target).allowed:
        return Read(None, ())
    organisations: list[tuple[uuid.UUID, str]] = []
    if authorize(principal, Op.guest_manage, loaded.target).allowed and loaded.case.phase != Phase.closed:
        organisations = [(o, n) for o, n in (await session.execute(
            sa.select(col(Organisation.id), col(Organisation.name)).where(col(Organisation.issuer).is_not(None))
            .order_by(col(Organisation.name))
        )).all()]
    return Read(GuestsPage(await invitations_of(session, loaded), organisations), (guest_access(loaded, "list"),))
