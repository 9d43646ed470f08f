"""Known elsewhere (hit/no-hit) between participating conferences: docs/known-elsewhere.md."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.audit import Access
from app.auth.policy import Op, Target
from app.deps import GuardDep, SettingsDep
from app.errors import AppError
from app.schemas.known_elsewhere import KnownElsewhereAsk, KnownElsewhereOut, KnownElsewhereQuestionOut
from app.services.cases import known_elsewhere as service

router = APIRouter(tags=["known elsewhere"])


@router.post("/conferences/{conference_id}/known-elsewhere", response_model=KnownElsewhereOut,
             response_model_exclude_none=True)
async def ask_known_elsewhere(
    conference_id: uuid.UUID, body: KnownElsewhereAsk, guard: GuardDep, settings: SettingsDep
) -> KnownElsewhereOut:
    """Is this person (by BSN, with your reason) known in another participating conference? The
    answer is only yes, with the conference and its chair to contact, or no. The BSN travels in
    the body, is compared only as a keyed hash and is never echoed or stored; the question is
    logged in your conference and in every conference asked, and a chair that knows the person
    is notified."""
    access = await guard.require_bsn_lookup(conference_id, settings, part="bsn:known_elsewhere")
    try:
        bsn, reason = service.checked_input(body.bsn, body.reason)
        read = await service.ask(guard.session, guard.principal, conference_id=conference_id, bsn=bsn,
                                 reason=reason, asking=access, settings=settings)
    except AppError:
        await guard.audit.denied(access)  # a refused question is logged; nothing else is written
        raise
    return guard.deliver(read)


@router.get("/known-elsewhere/{question_id}", response_model=KnownElsewhereQuestionOut)
async def get_known_elsewhere_question(question_id: uuid.UUID, guard: GuardDep) -> KnownElsewhereQuestionOut:
    """A question, for the chair of the asking conference and the chair of a conference that knew
    the person (their notification names it): who asked, from where, and (answering side) which
    of your own clients it was about."""
    question, answers = await service.load_question(guard.session, question_id)
    side = service.reading_conference(guard.principal, question, answers)
    access = Access(action="read", resource_type=service.RESOURCE, resource_id=str(question_id), conference_id=side)
    await guard.require(Op.known_elsewhere_read, Target(conference_id=side), access, hidden_as="question")
    return guard.deliver(await service.question_read(guard.session, question, answers, side))
