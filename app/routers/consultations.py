"""Consultations without a file (spreekuur): a professional (a member or a referrer) asks the
conference or its addiction care institution about an anonymous situation; the answer is
recorded; the conference counts them; with consent one becomes a referral."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.audit import Access, Read
from app.auth.policy import Op, Target
from app.deps import GuardDep, SettingsDep
from app.errors import UnprocessableEntity
from app.http.paging import PagingDep
from app.models.enums import ConsultationStatus
from app.schemas.cases import ReferralOut
from app.schemas.common import IsoDate, PageOut
from app.schemas.consultations import (
    ConsultationAnswer,
    ConsultationConvert,
    ConsultationCountOut,
    ConsultationCreate,
    ConsultationOut,
)
from app.services.cases.present import referral_out
from app.services.consultations import lifecycle as service
from app.services.consultations import reads

router = APIRouter(tags=["consultations"])


@router.post("/conferences/{conference_id}/consultations", status_code=status.HTTP_201_CREATED,
             response_model=ConsultationOut)
async def create_consultation(conference_id: uuid.UUID, body: ConsultationCreate, guard: GuardDep) -> ConsultationOut:
    """Ask anonymously. A name, a BSN, a date of birth or contact details in any field is refused
    (422 naming the field; the refusal is in the access log, the value nowhere)."""
    access = Access(action="create", resource_type="consultation", conference_id=conference_id)
    await guard.require(Op.consultation_create, Target(conference_id=conference_id), access)
    async with guard.refusals_logged(Access(**{**access.__dict__, "part": "anonymity"}), UnprocessableEntity):
        consultation = await service.create_consultation(guard.session, guard.principal,
                                                         conference_id=conference_id, data=body)
    return guard.deliver(reads.consultation_read(consultation, "create"))


@router.get("/consultations", response_model=PageOut[ConsultationOut])
async def list_consultations(
    guard: GuardDep, page: PagingDep, conference_id: uuid.UUID | None = None,
    status: Annotated[ConsultationStatus | None, Query()] = None,
) -> PageOut[ConsultationOut]:
    """Your own consultations, and those asked of you (the chair: all of the conference's)."""
    items, total = guard.deliver(await reads.consultation_list(
        guard.session, guard.principal, conference_id=conference_id, status=status,
        limit=page.limit, offset=page.offset))
    return PageOut(items=items, total=total, limit=page.limit, offset=page.offset, next=page.next_link(total))


@router.get("/consultations/{consultation_id}", response_model=ConsultationOut)
async def get_consultation(consultation_id: uuid.UUID, guard: GuardDep) -> ConsultationOut:
    consultation = await service.load_consultation(guard.session, consultation_id)
    await guard.require(Op.consultation_read, reads.consultation_target(consultation),
                        reads.consultation_access(consultation, "read"))
    return guard.deliver(reads.consultation_read(consultation))


@router.post("/consultations/{consultation_id}/answer", response_model=ConsultationOut)
async def answer_consultation(consultation_id: uuid.UUID, body: ConsultationAnswer, guard: GuardDep) -> ConsultationOut:
    consultation = await service.load_consultation(guard.session, consultation_id, for_update=True)
    access = reads.consultation_access(consultation, "update")
    await guard.require(Op.consultation_answer, reads.consultation_target(consultation), access)
    async with guard.refusals_logged(Access(**{**access.__dict__, "part": "anonymity"}), UnprocessableEntity):
        consultation = await service.answer_consultation(guard.session, guard.principal, consultation, body)
    return guard.deliver(reads.consultation_read(consultation, "update"))


@router.post("/consultations/{consultation_id}/referral", status_code=status.HTTP_201_CREATED,
             response_model=ReferralOut)
async def convert_consultation(consultation_id: uuid.UUID, body: ConsultationConvert, guard: GuardDep,
                               settings: SettingsDep) -> ReferralOut:
    """Who asked turns the consultation into a referral, with the person's consent: the referral
    names them (BSN rules as for any referral); the consultation keeps only the link."""
    consultation = await service.load_consultation(guard.session, consultation_id, for_update=True)
    access = reads.consultation_access(consultation, "update")
    await guard.require(Op.consultation_convert, reads.consultation_target(consultation), access)
    rows: tuple[Access, ...] = ()
    if body.client.bsn is not None:
        rows = (await guard.require_bsn_lookup(consultation.conference_id, settings, part="bsn:referral"),)
    referral, client = await service.convert_consultation(guard.session, guard.principal, consultation, body,
                                                          settings)
    rows = tuple(Access(**{**a.__dict__, "client_number": client.client_number}) for a in rows)
    return guard.deliver(Read(referral_out(referral, client.client_number, with_reason=True), (
        *rows, access,
        Access(action="create", resource_type="referral", resource_id=str(referral.id),
               conference_id=referral.conference_id, client_number=client.client_number, part="consultation"),
    )))


@router.get("/conferences/{conference_id}/consultation-count", response_model=ConsultationCountOut)
async def consultation_count(conference_id: uuid.UUID, guard: GuardDep,
                             since: IsoDate | None = None) -> ConsultationCountOut:
    """The conference's consultations as figures (no content): for its case workers and the
    municipality's policy staff."""
    await guard.require(Op.consultation_count, Target(conference_id=conference_id),
                        Access(action="read", resource_type="consultation", conference_id=conference_id, part="count"))
    return guard.deliver(await reads.consultation_count(guard.session, conference_id, since))
