"""Consultations: ask (anonymously), answer, count, and turn into a referral with consent."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Conflict, NotFound, UnprocessableEntity
from app.models import Client, ConferenceOrganisation, Consultation, Organisation, Referral
from app.models.enums import ConsultationAddressee, ConsultationStatus, OrganisationKind, ReferralKind
from app.schemas.cases import ReferralCreate
from app.schemas.consultations import (
    ConsultationAnswer,
    ConsultationConvert,
    ConsultationCountOut,
    ConsultationCreate,
)
from app.services.cases import referrals as referral_service
from app.services.common import paged
from app.services.consultations.anonymity import refuse_identifying


async def _addiction_care_of(session: AsyncSession, conference_id: uuid.UUID,
                             organisation_id: uuid.UUID | None) -> uuid.UUID:
    """The addiction care institution taking part in the conference that a consultation asks."""
    taking_part = list((await session.execute(
        sa.select(col(Organisation.id))
        .join(ConferenceOrganisation, col(ConferenceOrganisation.organisation_id) == col(Organisation.id))
        .where(col(ConferenceOrganisation.conference_id) == conference_id,
               col(Organisation.kind) == OrganisationKind.addiction_care.value)
        .order_by(col(Organisation.name))
    )).scalars())
    if organisation_id is not None:
        if organisation_id not in taking_part:
            raise UnprocessableEntity("This is not an addiction care institution of the conference.",
                                      pointer="#/organisation_id")
        return organisation_id
    if not taking_part:
        raise UnprocessableEntity("No addiction care institution takes part in this conference: ask the conference.",
                                  pointer="#/addressee")
    if len(taking_part) > 1:
        raise UnprocessableEntity("Several addiction care institutions take part: name one.",
                                  pointer="#/organisation_id")
    return taking_part[0]


async def create_consultation(session: AsyncSession, principal: Principal, *, conference_id: uuid.UUID,
                              data: ConsultationCreate) -> Consultation:
    refuse_identifying([("question", data.question), ("situation", data.situation),
                        ("substances", list(data.substances))])
    membership = principal.membership_in(conference_id)
    assert membership is not None  # the guard has checked membership
    addressed = None
    if data.addressee is ConsultationAddressee.addiction_care:
        addressed = await _addiction_care_of(session, conference_id, data.organisation_id)
    elif data.organisation_id is not None:
        raise UnprocessableEntity("Only a consultation of the addiction care institution names an organisation.",
                                  pointer="#/organisation_id")
    consultation = Consultation(
        conference_id=conference_id, asked_by_id=membership.id, asking_organisation_id=principal.organisation_id,
        addressee=data.addressee, addressed_organisation_id=addressed, question=data.question,
        situation=data.situation, age_group=data.age_group, substances=list(data.substances),
        life_domains=[d.value for d in data.life_domains],
    )
    session.add(consultation)
    await session.flush()
    return consultation


async def load_consultation(session: AsyncSession, consultation_id: uuid.UUID, *,
                            for_update: bool = False) -> Consultation:
    query = sa.select(Consultation).where(col(Consultation.id) == consultation_id)
    if for_update:
        query = query.with_for_update()
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound("consultation")
    return found


async def answer_consultation(session: AsyncSession, principal: Principal, consultation: Consultation,
                              data: ConsultationAnswer) -> Consultation:
    if consultation.status is not ConsultationStatus.open:
        raise Conflict(f"This consultation is {consultation.status} already.")
    refuse_identifying([("answer", data.answer)])
    membership = principal.membership_in(consultation.conference_id)
    consultation.answer = data.answer
    consultation.answered_by_id = membership.id if membership else None
    consultation.answered_at = clock.now()
    consultation.status = ConsultationStatus.answered
    consultation.version += 1
    await session.flush()
    return consultation


async def convert_consultation(session: AsyncSession, principal: Principal, consultation: Consultation,
                               data: ConsultationConvert, settings: Settings) -> tuple[Referral, Client]:
    """A referral of the person the consultation was about, now named with their consent. The
    consultation keeps only the link; its own texts stay as anonymous as they were."""
    if not data.consent:
        raise UnprocessableEntity("A consultation becomes a referral only with the person's consent.",
                                  pointer="#/consent")
    if consultation.status is ConsultationStatus.converted:
        raise Conflict("This consultation was turned into a referral already.")
    referral, client = await referral_service.create_referral(
        session, principal, conference_id=consultation.conference_id,
        data=ReferralCreate(client=data.client, reason=data.reason), settings=settings,
        kind=ReferralKind.consultation,
    )
    consultation.referral_id = referral.id
    consultation.status = ConsultationStatus.converted
    consultation.version += 1
    await session.flush()
    return referral, client


async def list_consultations(session: AsyncSession, visibility: sa.ColumnElement[bool], *,
                             conference_id: uuid.UUID | None, status: ConsultationStatus | None,
                             limit: int, offset: int) -> tuple[list[Consultation], int]:
    where = [visibility]
    if conference_id is not None:
        where.append(col(Consultation.conference_id) == conference_id)
    if status is not None:
        where.append(col(Consultation.status) == status)
    rows, total = await paged(
        session, sa.select(Consultation).order_by(col(Consultation.created_at).desc(), col(Consultation.id)),
        count_from=Consultation, where=where, limit=limit, offset=offset,
    )
    return [r[0] for r in rows], total


async def count_consultations(session: AsyncSession, conference_id: uuid.UUID,
                              since: date | None) -> ConsultationCountOut:
    where = [col(Consultation.conference_id) == conference_id]
    if since is not None:
        where.append(col(Consultation.created_at) >= datetime.combine(since, time.min, tzinfo=UTC))

    def of(status: ConsultationStatus) -> sa.ColumnElement[int]:
        return sa.func.count().filter(col(Consultation.status) == status)

    row = (await session.execute(sa.select(
        sa.func.count(), of(ConsultationStatus.open), of(ConsultationStatus.answered),
        of(ConsultationStatus.converted),
        sa.func.count().filter(col(Consultation.addressee) == ConsultationAddressee.addiction_care),
    ).where(*where))).one()
    return ConsultationCountOut(conference_id=conference_id, since=since, total=row[0], open_count=row[1],
                                answered_count=row[2], converted_count=row[3], to_addiction_care_count=row[4])
