"""Referrals: any case worker, or a referrer of a non-member organisation, refers a person; a
member records a worry from the social surroundings; the chair accepts (a case opens) or declines."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Conflict, NotFound, UnprocessableEntity
from app.models import Case, Client, Membership, Organisation, Plan, Referral
from app.models.enums import ReferralKind, ReferralStatus, Role
from app.schemas.cases import ConcernCreate, ReferralAccept, ReferralCreate
from app.services.cases.clients import get_or_create_client
from app.services.common import named_member, paged, record_change
from app.services.partners import references


async def create_referral(
    session: AsyncSession,
    principal: Principal,
    *,
    conference_id: uuid.UUID,
    data: ReferralCreate,
    settings: Settings,
    kind: ReferralKind | None = None,
) -> tuple[Referral, Client]:
    membership = principal.membership_in(conference_id)
    assert membership is not None  # the guard has checked membership
    if kind is None:
        kind = ReferralKind.external if membership.role == Role.referrer else ReferralKind.professional
    client = await get_or_create_client(
        session,
        conference_id=conference_id,
        name=data.client.name,
        date_of_birth=data.client.date_of_birth,
        bsn=data.client.bsn,
        settings=settings,
    )
    if data.reference is not None:
        await references.reference_is_free_for(session, principal.organisation_id, client.id, data.reference)
    referral = Referral(
        conference_id=conference_id,
        client_id=client.id,
        referred_by_id=membership.id,
        referring_organisation_id=principal.organisation_id,
        reason=data.reason,
        client_reference=data.reference,
        kind=kind,
    )
    session.add(referral)
    await session.flush()
    return referral, client


async def create_concern(
    session: AsyncSession,
    principal: Principal,
    *,
    conference_id: uuid.UUID,
    data: ConcernCreate,
    settings: Settings,
) -> tuple[Referral, Client]:
    """A worry from the social surroundings: a referral of its own kind, with who reported it and
    their relation; what they saw is its reason."""
    referral, client = await create_referral(
        session, principal, conference_id=conference_id,
        data=ReferralCreate(client=data.client, reason=data.observation), settings=settings,
        kind=ReferralKind.surroundings,
    )
    referral.reporter = data.reporter
    referral.reporter_relation = data.relation
    await session.flush()
    return referral, client


async def load_referral(session: AsyncSession, referral_id: uuid.UUID) -> tuple[Referral, Client]:
    row = (
        await session.execute(
            sa.select(Referral, Client).join(Client, Client.id == Referral.client_id).where(
                Referral.id == referral_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("referral")
    return row[0], row[1]


async def accept_referral(
    session: AsyncSession, principal: Principal, *, referral: Referral, data: ReferralAccept
) -> Case:
    if referral.status != ReferralStatus.pending:
        raise Conflict(f"This referral was already {referral.status}.")
    if data.case_director_id is not None:
        await named_member(session, data.case_director_id, referral.conference_id, Role.member, Role.chair,
                           pointer="#/case_director_id",
                           detail="A case director must be a member or the chair of the conference.")
    today = clock.today()
    if data.next_review_date is not None and data.next_review_date < today:
        raise UnprocessableEntity("The review date lies in the past.", pointer="#/next_review_date")
    case = Case(
        conference_id=referral.conference_id,
        client_id=referral.client_id,
        case_director_id=data.case_director_id,
        priority=data.priority.value,
        substances=list(data.substances),
        next_review_date=data.next_review_date,
        opened_on=today,
    )
    session.add(case)
    await session.flush()
    session.add(Plan(case_id=case.id))
    decider = principal.membership_in(referral.conference_id, Role.chair)
    referral.status = ReferralStatus.accepted
    referral.case_id = case.id
    referral.decided_at = clock.now()
    referral.decided_by_id = decider.id if decider else None
    referral.version += 1
    if referral.client_reference:  # the referrer's own reference travels along
        await references.link_quietly(
            session, referral.referring_organisation_id, referral.client_id, referral.client_reference
        )
    record_change(
        session,
        principal,
        case_id=case.id,
        entity_type="case",
        entity_id=case.id,
        version=case.version,
        operation="create",
        changes={"phase": {"from": None, "to": case.phase}, "referral": {"from": None, "to": str(referral.id)}},
    )
    await session.flush()
    return case


async def decline_referral(
    session: AsyncSession, principal: Principal, *, referral: Referral, reason: str
) -> Referral:
    if referral.status != ReferralStatus.pending:
        raise Conflict(f"This referral was already {referral.status}.")
    decider = principal.membership_in(referral.conference_id, Role.chair)
    referral.status = ReferralStatus.declined
    referral.decline_reason = reason
    referral.decided_at = clock.now()
    referral.decided_by_id = decider.id if decider else None
    referral.version += 1
    await session.flush()
    return referral


async def list_referrals(
    session: AsyncSession,
    visibility: sa.ColumnElement[bool],
    *,
    conference_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[Referral, str]], int]:
    where = [visibility]
    if conference_id is not None:
        where.append(Referral.conference_id == conference_id)
    if status is not None:
        where.append(Referral.status == status)
    rows, total = await paged(
        session,
        sa.select(Referral, Client.client_number)
        .join(Client, Client.id == Referral.client_id)
        .order_by(Referral.created_at.desc(), Referral.id),  # type: ignore[attr-defined]
        count_from=Referral, where=where, limit=limit, offset=offset,
    )
    return [(r[0], r[1]) for r in rows], total


@dataclass(frozen=True)
class ReferralRow:
    """A referral with whom it is about and who referred it (person and organisation)."""

    referral: Referral
    client: Client
    referrer: Membership | None
    organisation: Organisation | None


def _rows_query() -> sa.Select:
    return (
        sa.select(Referral, Client, Membership, Organisation)
        .join(Client, Client.id == Referral.client_id)
        .outerjoin(Membership, Membership.id == Referral.referred_by_id)
        .outerjoin(Organisation, Organisation.id == Referral.referring_organisation_id)
    )


async def list_referral_rows(
    session: AsyncSession, visibility: sa.ColumnElement[bool], *, limit: int, offset: int
) -> tuple[list[ReferralRow], int]:
    """The referrals `visibility` admits: those waiting for a decision first, newest first."""
    waiting = sa.case((Referral.status == ReferralStatus.pending, 0), else_=1)
    rows, total = await paged(
        session,
        _rows_query().order_by(waiting, Referral.created_at.desc(), Referral.id),  # type: ignore[attr-defined]
        count_from=Referral, where=[visibility], limit=limit, offset=offset,
    )
    return [ReferralRow(*row) for row in rows], total


async def load_referral_row(session: AsyncSession, referral_id: uuid.UUID, *,
                            for_update: bool = False) -> ReferralRow:
    """One referral; `for_update` locks it, so two decisions on it cannot both pass."""
    query = _rows_query().where(Referral.id == referral_id)
    if for_update:
        query = query.with_for_update(of=Referral)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("referral")
    return ReferralRow(*row)
