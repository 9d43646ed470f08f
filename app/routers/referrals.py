from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.audit import Access
from app.auth.policy import Op, Target, visible_referrals
from app.deps import GuardDep, SettingsDep
from app.http.paging import PagingDep
from app.models.enums import ReferralStatus, Role
from app.schemas.cases import CaseSummary, ReferralAccept, ReferralCreate, ReferralDecline, ReferralOut
from app.schemas.common import PageOut
from app.services.cases import referrals as service
from app.services.cases.present import case_summary, referral_out

router = APIRouter(tags=["referrals"])


@router.post(
    "/conferences/{conference_id}/referrals", status_code=status.HTTP_201_CREATED, response_model=ReferralOut
)
async def create_referral(
    conference_id: uuid.UUID, body: ReferralCreate, guard: GuardDep, settings: SettingsDep
) -> ReferralOut:
    await guard.require(Op.referral_create, Target(conference_id=conference_id))
    referral, client = await service.create_referral(
        guard.session, guard.principal, conference_id=conference_id, data=body, settings=settings
    )
    guard.audit.allowed(
        Access(action="create", resource_type="referral", resource_id=str(referral.id),
               conference_id=conference_id, client_number=client.client_number)
    )
    return referral_out(referral, client.client_number, with_reason=True)


@router.get("/referrals", response_model=PageOut[ReferralOut])
async def list_referrals(
    guard: GuardDep,
    page: PagingDep,
    conference_id: uuid.UUID | None = None,
    status: Annotated[ReferralStatus | None, Query()] = None,
) -> PageOut[ReferralOut]:
    rows, total = await service.list_referrals(
        guard.session,
        visible_referrals(guard.principal),
        conference_id=conference_id,
        status=status.value if status else None,
        limit=page.limit,
        offset=page.offset,
    )
    guard.audit.allowed(
        *[
            Access(action="list", resource_type="referral", resource_id=str(r.id),
                   conference_id=r.conference_id, client_number=number)
            for r, number in rows
        ]
    )
    return PageOut(
        items=[referral_out(r, n, with_reason=True) for r, n in rows],
        total=total, limit=page.limit, offset=page.offset, next=page.next_link(total),
    )


@router.get("/referrals/{referral_id}", response_model=ReferralOut)
async def get_referral(referral_id: uuid.UUID, guard: GuardDep) -> ReferralOut:
    referral, client = await service.load_referral(guard.session, referral_id)
    access = Access(action="read", resource_type="referral", resource_id=str(referral.id),
                    conference_id=referral.conference_id, client_number=client.client_number)
    target = Target(conference_id=referral.conference_id,
                    referring_organisation_id=referral.referring_organisation_id)
    if Role.chair in guard.principal.roles_in(referral.conference_id):
        await guard.require(Op.referral_decide, target, access)
    else:
        await guard.require(Op.referral_read, target, access)
    guard.audit.allowed(access)
    return referral_out(referral, client.client_number, with_reason=True)


@router.post("/referrals/{referral_id}/accept", status_code=status.HTTP_201_CREATED, response_model=CaseSummary)
async def accept_referral(referral_id: uuid.UUID, body: ReferralAccept, guard: GuardDep) -> CaseSummary:
    referral, client = await service.load_referral(guard.session, referral_id)
    access = Access(action="update", resource_type="referral", resource_id=str(referral.id),
                    conference_id=referral.conference_id, client_number=client.client_number)
    await guard.require(Op.referral_decide, Target(conference_id=referral.conference_id), access)
    case = await service.accept_referral(guard.session, guard.principal, referral=referral, data=body)
    guard.audit.allowed(
        access,
        Access(action="create", resource_type="case", resource_id=str(case.id), case_id=case.id,
               conference_id=case.conference_id, client_number=client.client_number),
    )
    return case_summary(case, client.client_number)


@router.post("/referrals/{referral_id}/decline", response_model=ReferralOut)
async def decline_referral(referral_id: uuid.UUID, body: ReferralDecline, guard: GuardDep) -> ReferralOut:
    referral, client = await service.load_referral(guard.session, referral_id)
    access = Access(action="update", resource_type="referral", resource_id=str(referral.id),
                    conference_id=referral.conference_id, client_number=client.client_number)
    await guard.require(Op.referral_decide, Target(conference_id=referral.conference_id), access)
    referral = await service.decline_referral(guard.session, guard.principal, referral=referral, reason=body.reason)
    guard.audit.allowed(access)
    return referral_out(referral, client.client_number, with_reason=True)
