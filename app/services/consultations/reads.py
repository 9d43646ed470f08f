"""The read paths of consultations. A consultation holds no client data (it is anonymous by
construction); its reads are logged all the same, without a client, so that who read which
question and answer is on record."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Access, Read
from app.auth.policy import Target, visible_consultations
from app.auth.principal import Principal
from app.models import Consultation
from app.models.enums import ConsultationStatus, LifeDomain
from app.schemas.consultations import ConsultationCountOut, ConsultationOut
from app.services.consultations import lifecycle


def consultation_out(c: Consultation) -> ConsultationOut:
    return ConsultationOut(
        id=c.id, conference_id=c.conference_id, asking_organisation_id=c.asking_organisation_id,
        addressee=c.addressee, addressed_organisation_id=c.addressed_organisation_id, status=c.status,
        question=c.question, situation=c.situation, age_group=c.age_group, substances=list(c.substances),
        life_domains=[LifeDomain(d) for d in c.life_domains], answer=c.answer, answered_at=c.answered_at,
        referral_id=c.referral_id, created_at=c.created_at, version=c.version,
    )


def consultation_target(c: Consultation) -> Target:
    """What the policy needs to know of a consultation: who asked it, and of whom."""
    return Target(conference_id=c.conference_id, asked_by_id=c.asked_by_id,
                  addressed_organisation_id=c.addressed_organisation_id)


def consultation_access(c: Consultation, action: str) -> Access:
    return Access(action=action, resource_type="consultation", resource_id=str(c.id), conference_id=c.conference_id)


def consultation_read(c: Consultation, verb: str = "read") -> Read[ConsultationOut]:
    """One consultation (also the answer to a create or an answer), after the policy."""
    return Read(consultation_out(c), (consultation_access(c, verb),))


async def consultation_list(session: AsyncSession, principal: Principal, *, conference_id: uuid.UUID | None,
                            status: ConsultationStatus | None, limit: int,
                            offset: int) -> Read[tuple[list[ConsultationOut], int]]:
    rows, total = await lifecycle.list_consultations(session, visible_consultations(principal),
                                                     conference_id=conference_id, status=status,
                                                     limit=limit, offset=offset)
    return Read(([consultation_out(c) for c in rows], total), tuple(consultation_access(c, "list") for c in rows))


async def consultation_count(session: AsyncSession, conference_id: uuid.UUID,
                             since: date | None) -> Read[ConsultationCountOut]:
    figures = await lifecycle.count_consultations(session, conference_id, since)
    return Read(figures, (Access(action="read", resource_type="consultation", conference_id=conference_id,
                                 part="count"),))
