"""Snoozes: the case director holds back one kind of signal for a case until a date, with a
reason (for example missed appointments while the client is in a clinic). Held-back events go on
the timeline but raise no flag and tell no one; a critical event (an overdose) is never held
back and ends every snooze of the case (app/services/events/intake.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Conflict, NotFound, UnprocessableEntity
from app.events.cloudevents import FLAGGING_TYPES, EventType
from app.models import SignalSnooze
from app.models.enums import Role
from app.schemas.events import SnoozeCreate, SnoozeOut
from app.services.cases.lifecycle import LoadedCase

# An overdose is critical whatever its data: snoozing it would hold back nothing.
SNOOZABLE = frozenset(t.value for t in FLAGGING_TYPES) - {EventType.overdose.value}
_TABLE = SignalSnooze.__table__  # type: ignore[attr-defined]


def snooze_out(s: SignalSnooze) -> SnoozeOut:
    active = s.ended_at is None and s.until >= clock.today()
    return SnoozeOut(id=s.id, case_id=s.case_id, kind=s.kind, until=s.until, reason=s.reason,
                     created_by_id=s.created_by_id, created_at=s.created_at, active=active,
                     ended_at=s.ended_at, ended_reason=s.ended_reason or (None if active else "expired"))


async def create_snooze(
    session: AsyncSession, principal: Principal, loaded: LoadedCase, data: SnoozeCreate, settings: Settings
) -> SignalSnooze:
    if data.kind not in SNOOZABLE:
        raise UnprocessableEntity(
            "Only these kinds of signal can be snoozed: " + ", ".join(sorted(SNOOZABLE)) + ".", pointer="#/kind"
        )
    today = clock.today()
    if data.until < today or data.until > today + timedelta(days=settings.snooze_max_days):
        raise UnprocessableEntity(
            f"until lies between today and {settings.snooze_max_days} days from now.", pointer="#/until"
        )
    membership = principal.membership_in(loaded.case.conference_id, Role.chair, Role.member)
    assert membership is not None  # the guard has checked: the chair or the case director
    case_id = loaded.case.id
    # A snooze whose day has passed no longer counts: it ends, so that a new one can begin.
    await session.execute(
        sa.update(SignalSnooze)
        .where(col(SignalSnooze.case_id) == case_id, col(SignalSnooze.kind) == data.kind,
               col(SignalSnooze.ended_at).is_(None), col(SignalSnooze.until) < today)
        .values(ended_at=clock.now(), ended_reason="expired")
    )
    new_id = (
        await session.execute(
            pg_insert(_TABLE)
            .values(id=uuid.uuid4(), case_id=case_id, kind=data.kind, until=data.until, reason=data.reason,
                    created_by_id=membership.id, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=["case_id", "kind"], index_where=sa.text("ended_at IS NULL"))
            .returning(_TABLE.c.id)
        )
    ).scalar_one_or_none()
    if new_id is None:
        raise Conflict("This kind of signal is already snoozed for the case; lift that snooze first.",
                       errors=[{"pointer": "#/kind", "detail": "Already snoozed."}])
    snooze = await session.get(SignalSnooze, new_id)
    assert snooze is not None
    return snooze


async def list_snoozes(session: AsyncSession, case_id: uuid.UUID) -> list[SignalSnooze]:
    rows = await session.execute(
        sa.select(SignalSnooze)
        .where(col(SignalSnooze.case_id) == case_id)
        .order_by(col(SignalSnooze.created_at).desc(), col(SignalSnooze.id))
        .limit(100)
    )
    return list(rows.scalars())


async def lift_snooze(session: AsyncSession, case_id: uuid.UUID, snooze_id: uuid.UUID) -> SignalSnooze:
    snooze = (
        await session.execute(
            sa.select(SignalSnooze)
            .where(col(SignalSnooze.id) == snooze_id, col(SignalSnooze.case_id) == case_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if snooze is None:
        raise NotFound("snooze")
    if snooze.ended_at is None:
        snooze.ended_at = clock.now()
        snooze.ended_reason = "lifted" if snooze.until >= clock.today() else "expired"
        await session.flush()
    return snooze
