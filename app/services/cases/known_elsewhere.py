"""Known elsewhere (hit/no-hit), docs/known-elsewhere.md: is a client, by BSN, known in another
participating conference of this installation? The BSN is compared only as the keyed hash the
clients already carry (BSN_HASH_KEY, one key for the installation, so shared by every
participating conference); the answer names a conference and its chair, nothing of the client.
Every question is logged on both sides, and the chair of a conference that knows the client is
notified so that they can make contact."""

from __future__ import annotations

import uuid
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, Read
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Forbidden, NotFound, UnprocessableEntity
from app.models import (
    Case,
    Client,
    Conference,
    KnownElsewhereAnswer,
    KnownElsewhereQuestion,
    Membership,
    Notification,
)
from app.models.enums import Role
from app.models.predicates import case_is_open
from app.schemas.known_elsewhere import KnownConference, KnownElsewhereOut, KnownElsewhereQuestionOut
from app.services.cases.clients import bsn_hash, normalise_bsn

NOTIFICATION_KIND = "known_elsewhere"
RESOURCE = "known_elsewhere"


def checked_input(bsn: str, reason: str) -> tuple[str, str]:
    """The normalised BSN and reason, or a 422 that names the field (never the number)."""
    if not reason.strip():
        raise UnprocessableEntity("State why you ask whether this person is known elsewhere.", pointer="#/reason")
    return normalise_bsn(bsn), reason.strip()


def contact_of(membership: Membership | None) -> str:
    if membership is None:
        return ""
    return f"{membership.display_name} <{membership.email}>" if membership.email else membership.display_name


async def _chairs(session: AsyncSession, conference_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Membership]]:
    found: dict[uuid.UUID, list[Membership]] = {c: [] for c in conference_ids}
    if not conference_ids:
        return found
    rows = (await session.execute(
        sa.select(Membership).where(col(Membership.conference_id).in_(conference_ids),
                                    col(Membership.role) == Role.chair, col(Membership.active).is_(True))
        .order_by(col(Membership.created_at), col(Membership.id))
    )).scalars()
    for m in rows:
        found[m.conference_id].append(m)
    return found


async def ask(
    session: AsyncSession, principal: Principal, *, conference_id: uuid.UUID, bsn: str, reason: str,
    asking: Access, settings: Settings,
) -> Read[KnownElsewhereOut]:
    """Ask the other participating conferences. `asking` is the asking side's log row (the
    look-up by BSN); the answering side gets a row per conference asked, naming its own client
    where it was a hit."""
    conference = await session.get(Conference, conference_id)
    if conference is None or not conference.known_elsewhere:
        raise Forbidden("This conference does not take part in known-elsewhere questions; its administrator "
                        "decides whether it joins.")
    asker = principal.membership_in(conference_id, Role.chair, Role.member)
    if asker is None:
        raise Forbidden("Only the chair or a member of this conference may ask.")
    asked = list((await session.execute(
        sa.select(Conference).where(col(Conference.known_elsewhere).is_(True), col(Conference.id) != conference_id)
        .order_by(col(Conference.name), col(Conference.id))
    )).scalars())
    open_case = sa.exists().where(col(Case.client_id) == col(Client.id), case_is_open())
    hits = {c.conference_id: c for c in (await session.execute(
        sa.select(Client).where(col(Client.bsn_hash) == bsn_hash(bsn, settings),
                                col(Client.conference_id).in_([c.id for c in asked]), open_case)
    )).scalars()}
    question = KnownElsewhereQuestion(conference_id=conference_id, asked_by_id=asker.id, reason=reason,
                                      known=bool(hits), asked_at=clock.now())
    session.add(question)
    await session.flush()
    chairs = await _chairs(session, sorted(hits))
    known: list[KnownConference] = []
    rows = [replace(asking, resource_id=str(question.id), part="bsn:known_elsewhere")]
    for other in asked:
        client = hits.get(other.id)
        rows.append(Access(action="search", resource_type=RESOURCE, resource_id=str(question.id),
                           conference_id=other.id, client_number=client.client_number if client else None,
                           part="answer:hit" if client else "answer:no_hit", role=asker.role))
        if client is None:
            continue
        session.add(KnownElsewhereAnswer(question_id=question.id, conference_id=other.id, client_id=client.id))
        session.add_all([
            Notification(kind=NOTIFICATION_KIND, conference_id=other.id, membership_id=chair.id,
                         ref_type=RESOURCE, ref_id=question.id, on_date=clock.today())
            for chair in chairs[other.id]
        ])
        first = chairs[other.id][0] if chairs[other.id] else None
        known.append(KnownConference(name=other.name, chair_contact=contact_of(first)))
    await session.flush()
    return Read(KnownElsewhereOut(known=bool(known), conferences=known or None), tuple(rows))


async def load_question(session: AsyncSession, question_id: uuid.UUID) -> tuple[KnownElsewhereQuestion,
                                                                                 list[KnownElsewhereAnswer]]:
    question = await session.get(KnownElsewhereQuestion, question_id)
    if question is None:
        raise NotFound("question")
    answers = list((await session.execute(
        sa.select(KnownElsewhereAnswer).where(col(KnownElsewhereAnswer.question_id) == question_id)
    )).scalars())
    return question, answers


def reading_conference(principal: Principal, question: KnownElsewhereQuestion,
                       answers: list[KnownElsewhereAnswer]) -> uuid.UUID:
    """The side the caller reads from: an answering conference they chair, else the asking one
    (where the policy decides; a stranger is answered like a missing question)."""
    for answer in answers:
        if Role.chair in principal.roles_in(answer.conference_id):
            return answer.conference_id
    return question.conference_id


async def question_read(session: AsyncSession, question: KnownElsewhereQuestion,
                        answers: list[KnownElsewhereAnswer], side: uuid.UUID) -> Read[KnownElsewhereQuestionOut]:
    """A question as the chair of `side` sees it: who asked from where; an answering chair also
    reads which of their own clients it was about. The reason stays with the asking side."""
    asking = await session.get(Conference, question.conference_id)
    asker = await session.get(Membership, question.asked_by_id)
    answer = next((a for a in answers if a.conference_id == side), None)
    client = await session.get(Client, answer.client_id) if answer else None
    number = client.client_number if client else None
    out = KnownElsewhereQuestionOut(id=question.id, asked_at=question.asked_at,
                                    asking_conference=asking.name if asking else "", asked_by=contact_of(asker),
                                    known=question.known, client_number=number)
    return Read(out, (Access(action="read", resource_type=RESOURCE, resource_id=str(question.id),
                             conference_id=side, client_number=number),))
