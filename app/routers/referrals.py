from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, status

from app.audit import Access, Read
from app.auth.policy import Op, Target
from app.config import Settings
from app.deps import Guard, GuardDep, SettingsDep
from app.http.paging import PagingDep
from app.models.enums import ReferralStatus, Role
from app.schemas.cases import (
    CaseSummary,
    ConcernCreate,
    ReferralAccept,
    ReferralCreate,
    ReferralDecline,
    ReferralOut,
)
from app.schemas.common import PageOut
from app.services.cases import reads as case_reads
from app.services.cases import referrals as service
from app.services.cases.present import case_summary, referral_out

if TYPE_CHECKING:  # the types only: the router hands these back to the presenter, never queries them
    from app.models import Client, Referral

router = APIRouter(tags=["referrals"])


async def _bsn_lookup(
    guard: Guard, conference_id: uuid.UUID, body: ReferralCreate | ConcernCreate, settings: Settings
) -> tuple[Access, ...]:
    """A BSN finds an existing client: it is a look-up, by the look-up's rules and throttle, so a
    referral never tells someone who may not look up whether, or which, client exists."""
    if body.client.bsn is None:
        return ()
    return (await guard.require_bsn_lookup(conference_id, settings, part="bsn:referral"),)


def _created(guard: Guard, conference_id: uuid.UUID, looked_up: tuple[Access, ...], referral: Referral,
             client: Client, *, part: str | None = None) -> ReferralOut:
    """The new referral, its create row and the BSN look-up's row, both naming the client found or made."""
    rows = tuple(Access(**{**a.__dict__, "client_number": client.client_number}) for a in looked_up)
    return guard.deliver(Read(
        referral_out(referral, client.client_number, with_reason=True),
        (*rows, Access(action="create", resource_type="referral", resource_id=str(referral.id),
                       conference_id=conference_id, client_number=client.client_number, part=part)),
    ))


@router.post(
    "/conferences/{conference_id}/referrals", status_code=status.HTTP_201_CREATED, response_model=ReferralOut
)
async def create_referral(
    conference_id: uuid.UUID, body: ReferralCreate, guard: GuardDep, settings: SettingsDep
) -> ReferralOut:
    await guard.require(Op.referral_create, Target(conference_id=conference_id))
    looked_up = await _bsn_lookup(guard, conference_id, body, settings)
    referral, client = await service.create_referral(
        guard.session, guard.principal, conference_id=conference_id, data=body, settings=settings
    )
    return _created(guard, conference_id, looked_up, referral, client)


@router.post(
    "/conferences/{conference_id}/concerns", status_code=status.HTTP_201_CREATED, response_model=ReferralOut
)
async def create_concern(
    conference_id: uuid.UUID, body: ConcernCreate, guard: GuardDep, settings: SettingsDep
) -> ReferralOut:
    """A worry from the client's social surroundings (zorgmelding uit de omgeving), recorded by a
    member: a referral of the kind `surroundings` in the chair's triage."""
    await guard.require(Op.concern_create, Target(conference_id=conference_id))
    looked_up = await _bsn_lookup(guard, conference_id, body, settings)
    referral, client = await service.create_concern(
        guard.session, guard.principal, conference_id=conference_id, data=body, settings=settings
    )
    return _created(guard, conference_id, looked_up, referral, client, part="surroundings")


@router.get("/referrals", response_model=PageOut[ReferralOut])
async def list_referrals(
    guard: GuardDep,
    page: PagingDep,
    conference_id: uuid.UUID | None = None,
    status: Annotated[ReferralStatus | None, Query()] = None,
) -> PageOut[ReferralOut]:
    rows, total = guard.deliver(await case_reads.referral_list(
        guard.session, guard.principal, conference_id=conference_id, status=status.value if status else None,
        limit=page.limit, offset=page.offset,
    ))
    return PageOut(
        items=[referral_out(r, n, with_reason=True) for r, n in rows],
        total=total, limit=page.limit, offset=page.offset, next=page.next_link(total),
    )


@router.get("/referrals/{referral_id}", response_model=ReferralOut)
async def get_referral(referral_id: uuid.UUID, guard: GuardDep) -> ReferralOut:
    row = await service.load_referral_row(guard.session, referral_id)
    referral = row.referral
    access = case_reads.referral_access(row, "read")
    target = Target(conference_id=referral.conference_id,
                    referring_organisation_id=referral.referring_organisation_id,
                    referred_by_id=referral.referred_by_id)
    if Role.chair in guard.principal.roles_in(referral.conference_id):
        await guard.require(Op.referral_decide, target, access)
    else:
        await guard.require(Op.referral_read, target, access)
    # The read path's view, answered as a ReferralOut (the response model leaves out the rest).
    return guard.deliver(case_reads.referral_read(guard.principal, row))


@router.post("/referrals/{referral_id}/accept", status_code=status.HTTP_201_CREATED, response_model=CaseSummary)
async def accept_referral(referral_id: uuid.UUID, body: ReferralAccept, guard: GuardDep) -> CaseSummary:
    referral, client = await service.load_referral(guard.session, referral_id)
    access = Access(action="update", resource_type="referral", resource_id=str(referral.id),
                    conference_id=referral.conference_id, client_number=client.client_number)
    await guard.require(Op.referral_decide, Target(conference_id=referral.conference_id), access, record=True)
    case = await service.accept_referral(guard.session, guard.principal, referral=referral, data=body)
    return guard.deliver(Read(case_summary(case, client.client_number), (
        Access(action="create", resource_type="case", resource_id=str(case.id), case_id=case.id,
               conference_id=case.conference_id, client_number=client.client_number),
    )))


@router.post("/referrals/{referral_id}/decline", response_model=ReferralOut)
async def decline_referral(referral_id: uuid.UUID, body: ReferralDecline, guard: GuardDep) -> ReferralOut:
    referral, client = await service.load_referral(guard.session, referral_id)
    access = Access(action="update", resource_type="referral", resource_id=str(referral.id),
                    conference_id=referral.conference_id, client_number=client.client_number)
    await guard.require(Op.referral_decide, Target(conference_id=referral.conference_id), access, record=True)
    referral = await service.decline_referral(guard.session, guard.principal, referral=referral, reason=body.reason)
    return referral_out(referral, client.client_number, with_reason=True)
