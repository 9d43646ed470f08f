# SQLModel fields are typed as their Python values, which SQLAlchemy 2.1's select()/where() stubs refuse.
# mypy: disable-error-code="call-overload,arg-type,union-attr,attr-defined,operator"
"""Retention: anonymise closed cases after their conference's retention period, and remove
access-log rows after theirs. One batch at a time; the caller (app/jobs/retention.py) commits
each batch, so an interrupted run resumes where it stopped (anonymised cases are recorded in
`anonymised_case` and skipped)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import LANES, chain_secret
from app.models import (
    AccessLogAnchor,
    AccessLogEntry,
    Action,
    AftercareReport,
    AnonymisedCase,
    BreakGlass,
    Case,
    CaseNote,
    Client,
    ClientReference,
    ClientRepresentative,
    Conference,
    Decision,
    DiscussionRequest,
    Goal,
    GuestInvitation,
    PartnerEvent,
    Plan,
    Referral,
)
from app.models.enums import Phase
from app.services.agreements.lifecycle import anonymise_case_agreements
from app.services.privacy.verify import anchor_mac

REMOVED = "[verwijderd]"
SYSTEM_ISSUER = "casusoverleg"
SYSTEM_SUBJECT = "retention-purge"
CHAIN_LOCK = 7513  # the advisory locks (7513, lane) that access_log_append takes until commit
CHAIN_LANES = LANES


class RetentionError(ValueError):
    """A retention setting that cannot be right (a negative period): nothing is purged."""


@dataclass(frozen=True)
class DueCase:
    case_id: uuid.UUID
    conference_id: uuid.UUID
    client_id: uuid.UUID
    client_number: str
    closed_at: datetime
    retention_days: int


async def check_periods(session: AsyncSession) -> None:
    bad = (
        await session.execute(
            sa.select(Conference.id, Conference.retention_days).where(Conference.retention_days < 0)
        )
    ).all()
    if bad:
        raise RetentionError(
            "negative retention period for conference(s) "
            + ", ".join(f"{cid} ({days} days)" for cid, days in bad)
            + "; nothing was purged"
        )


def _due_query(now: datetime) -> sa.Select:
    already = sa.select(AnonymisedCase.case_id).where(AnonymisedCase.case_id == Case.id)
    return (
        sa.select(
            Case.id,
            Case.conference_id,
            Case.client_id,
            Client.client_number,
            Case.closed_at,
            Conference.retention_days,
        )
        .join(Conference, Conference.id == Case.conference_id)
        .join(Client, Client.id == Case.client_id)
        .where(
            Case.phase == Phase.closed.value,
            Case.closed_at.is_not(None),
            Case.closed_at + sa.func.make_interval(0, 0, 0, Conference.retention_days) < now,
            ~sa.exists(already),
            # A restriction granted on the client's request (AVG art. 18) keeps the data.
            Client.restricted_at.is_(None),
        )
        .order_by(Case.closed_at, Case.id)
    )


async def due_cases(session: AsyncSession, now: datetime, *, limit: int | None = None) -> list[DueCase]:
    query = _due_query(now)
    if limit is not None:
        query = query.limit(limit).with_for_update(of=Case, skip_locked=True)
    return [DueCase(*row) for row in (await session.execute(query)).all()]


def _log_row(
    due: DueCase, now: datetime, *, resource_type: str, resource_id: str, basis: str = "retention_period"
) -> AccessLogEntry:
    return AccessLogEntry(
        occurred_at=now,
        actor_issuer=SYSTEM_ISSUER,
        actor_subject=SYSTEM_SUBJECT,
        actor_name="Bewaartermijn (automatisch)",
        actor_kind="system",
        conference_id=due.conference_id,
        client_number=due.client_number,
        case_id=due.case_id,
        resource_type=resource_type,
        resource_id=resource_id,
        action="delete",
        part="anonymise",
        basis=basis,
        outcome="allowed",
        role="system",
    )


async def anonymise_case(
    session: AsyncSession, due: DueCase, now: datetime, *, basis: str = "retention_period"
) -> bool:
    """Remove free text of the case, and the client's identity once none of their cases is open
    or waiting for its retention period. Returns whether the client was anonymised too. `basis`
    is the retention period, or the client's granted request for erasure."""
    case_id = due.case_id
    await session.execute(sa.update(CaseNote).where(CaseNote.case_id == case_id).values(text=REMOVED))
    await session.execute(sa.update(Plan).where(Plan.case_id == case_id).values(client_goals=""))
    plan_ids = sa.select(Plan.id).where(Plan.case_id == case_id).scalar_subquery()
    await session.execute(sa.update(Goal).where(Goal.plan_id.in_(plan_ids)).values(description=REMOVED))
    await session.execute(
        sa.update(Action).where(Action.case_id == case_id).values(title=REMOVED, description="", note="")
    )
    await session.execute(
        sa.update(Referral)
        .where(Referral.case_id == case_id)
        .values(
            reason=REMOVED, decline_reason=sa.case((Referral.decline_reason.is_(None), None), else_=REMOVED)
        )
    )
    # Free text kept by the other areas: meeting requests and decisions, the reasons' free-text
    # details on agenda items, partner events' data, and the agreements' content.
    await session.execute(
        sa.update(DiscussionRequest).where(DiscussionRequest.case_id == case_id).values(reason=REMOVED)
    )
    await session.execute(sa.update(Decision).where(Decision.case_id == case_id).values(text=REMOVED))
    await session.execute(sa.update(BreakGlass).where(BreakGlass.case_id == case_id).values(reason=REMOVED))
    await session.execute(
        sa.text(
            "UPDATE agenda_item SET reasons = (SELECT coalesce(jsonb_agg(r - 'detail'), '[]'::jsonb) "
            "FROM jsonb_array_elements(reasons) AS r) WHERE case_id = :case"
        ),
        {"case": case_id},
    )
    await session.execute(sa.update(PartnerEvent).where(PartnerEvent.case_id == case_id).values(data={}))
    # Issue 17: guests' reasons, the aftercare reports' notes and answers.
    await session.execute(sa.update(GuestInvitation).where(GuestInvitation.case_id == case_id).values(reason=REMOVED))
    await session.execute(sa.update(AftercareReport).where(AftercareReport.case_id == case_id)
                          .values(note=None, reply=sa.case((AftercareReport.reply.is_(None), None), else_=REMOVED)))
    await anonymise_case_agreements(session, case_id)
    session.add(AnonymisedCase(case_id=case_id, conference_id=due.conference_id, anonymised_at=now))
    session.add(_log_row(due, now, resource_type="case", resource_id=str(case_id), basis=basis))
    await session.flush()
    # The client keeps name, BSN and date of birth while any other case of theirs is kept.
    kept = (
        await session.execute(
            sa.select(sa.func.count())
            .select_from(Case)
            .where(
                Case.client_id == due.client_id,
                ~sa.exists(sa.select(AnonymisedCase.case_id).where(AnonymisedCase.case_id == Case.id)),
            )
        )
    ).scalar_one()
    if kept:
        return False
    await session.execute(
        sa.update(Client)
        .where(Client.id == due.client_id, Client.anonymised_at.is_(None))
        .values(name=None, date_of_birth=None, bsn_ciphertext=None, bsn_hash=None, anonymised_at=now)
    )
    await session.execute(
        sa.update(Referral)
        .where(Referral.client_id == due.client_id)
        .values(
            reason=REMOVED, decline_reason=sa.case((Referral.decline_reason.is_(None), None), else_=REMOVED)
        )
    )
    await session.execute(sa.delete(ClientReference).where(ClientReference.client_id == due.client_id))
    await session.execute(sa.update(ClientRepresentative).where(ClientRepresentative.client_id == due.client_id)
                          .values(name=REMOVED, basis=REMOVED))
    session.add(_log_row(due, now, resource_type="client", resource_id=due.client_number, basis=basis))
    await session.flush()
    return True


# --- the access log's own retention (runs as the database owner) -----------------------------


def log_cutoff(now: datetime, retention_days: int) -> datetime:
    if retention_days < 0:
        raise RetentionError("the access-log retention period cannot be negative")
    return now - timedelta(days=retention_days)


async def count_expired_log_rows(session: AsyncSession, cutoff: datetime) -> int:
    return int(
        (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(AccessLogEntry)
                .where(AccessLogEntry.occurred_at < cutoff)
            )
        ).scalar_one()
    )


async def remove_expired_log_batch(
    session: AsyncSession, cutoff: datetime, batch_size: int, now: datetime, secret: str | None = None
) -> int:
    """Remove the oldest rows older than the cutoff, as an unbroken run from the start of the log,
    and record per chain the hash of the last one removed (the anchor verify starts from)."""
    for lane in range(CHAIN_LANES):  # no log writer in between: every chain stands still
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK, lane)))
    rows = (
        await session.execute(
            sa.select(
                AccessLogEntry.seq, AccessLogEntry.chain, AccessLogEntry.row_hash, AccessLogEntry.occurred_at
            )
            .order_by(AccessLogEntry.seq)
            .limit(batch_size)
        )
    ).all()
    prefix = []
    for row in rows:
        if row.occurred_at >= cutoff:
            break
        prefix.append(row)
    if not prefix:
        return 0
    await session.execute(sa.delete(AccessLogEntry).where(AccessLogEntry.seq <= prefix[-1].seq))
    last_of_chain = {row.chain: row for row in prefix}
    for chain, row in sorted(last_of_chain.items()):
        anchor = AccessLogAnchor(
            chain=chain,
            anchored_seq=row.seq,
            row_hash=row.row_hash or "",
            rows_removed=sum(1 for r in prefix if r.chain == chain),
            removed_before=cutoff,
            created_at=now,
        )
        anchor.mac = anchor_mac(anchor.model_dump(), secret or chain_secret())
        session.add(anchor)
    await session.flush()
    return len(prefix)
