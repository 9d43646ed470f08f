"""Partner events in: validation, idempotent storage, and what they set in motion.

Rules (see also docs in README):
- A batch is all or nothing: one failing event fails the batch, and the problem names each
  failing event by index. The request edge rolls everything back.
- Idempotency key: (sending organisation, source, id). A replay with the same content returns
  the original receipt; the same key with different content is a 409 conflict.
- Client: the subject is the sender's own client reference, linked when the organisation joined
  the case. Anything else (unknown, another organisation's, a conference the sender does not
  take part in) gets one and the same answer, so nothing tells whether such a person exists.
- Ordering: the event's own time (`time`) orders the timeline and drives 'days since the last
  relapse'; arrival order does not matter. Effects happen once, when an event is first stored:
  flagging types put the case on the next agenda unless a flag of that kind is still open (a
  partial unique index holds this under concurrent requests; only the request whose flag was
  really created notifies and enqueues), and
  an event older than `events_flag_max_age_days` on arrival only goes on the timeline.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, AuditTrail
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Conflict, UnprocessableEntity
from app.events.cloudevents import (
    FLAG_REASONS,
    FLAGGING_TYPES,
    EventError,
    EventType,
    ParsedEvent,
    binary_pointer,
    label_for,
    parse_event,
)
from app.events.outbox import enqueue, organisations_of_case
from app.metrics import EVENTS_RECEIVED
from app.models import (
    AftercareWatch,
    Case,
    CaseFlag,
    Client,
    ClientReference,
    ConferenceOrganisation,
    Membership,
    Notification,
    Organisation,
    PartnerEvent,
)
from app.models.enums import OrganisationKind, Phase, Role
from app.services.agreements import sharing

UNKNOWN_REFERENCE = "The subject is not a client reference of your organisation that is linked to a case."

# A relapse in these forms reaches the neighbourhood team during an aftercare watch.
AFTERCARE_ALERT_TYPES = frozenset({EventType.relapse, EventType.overdose})


@dataclass(frozen=True)
class Linked:
    client_id: uuid.UUID
    client_number: str
    case_id: uuid.UUID
    conference_id: uuid.UUID
    phase: str
    case_director_id: uuid.UUID | None


@dataclass(frozen=True)
class StoredEvent:
    """What the effects need of a newly stored event (lighter than a PartnerEvent instance)."""

    id: uuid.UUID
    source: str
    event_id: str
    type: str
    subject_reference: str
    client_id: uuid.UUID
    case_id: uuid.UUID | None
    occurred_at: datetime
    received_at: datetime
    label: str
    severity: str


@dataclass
class IngestResult:
    receipts: list[dict[str, Any]]
    stored: int  # newly stored events (0: every event was a replay)


def receipt(row_id: uuid.UUID, source: str, event_id: str, received_at: datetime) -> dict[str, Any]:
    return {"id": event_id, "source": source, "event": str(row_id), "received_at": received_at.isoformat()}


def _problem(errors: list[EventError], *, batch: bool) -> UnprocessableEntity:
    errors = sorted(errors, key=lambda e: e.index)
    where = f"{len({e.index for e in errors})} event(s) of the batch" if batch else "The event"
    return UnprocessableEntity(
        f"{where} failed validation; nothing was stored.", errors=[e.as_dict() for e in errors]
    )


async def _resolve(
    session: AsyncSession, organisation_id: uuid.UUID, references: set[str]
) -> dict[str, Linked]:
    """Reference -> the client's case in a conference the organisation takes part in
    (an open case first, else the most recent one)."""
    if not references:
        return {}
    rows = (
        await session.execute(
            sa.select(
                col(ClientReference.reference),
                col(Client.id),
                col(Client.client_number),
                col(Case.id),
                col(Case.conference_id),
                col(Case.phase),
                col(Case.case_director_id),
            )
            .join(Client, col(Client.id) == col(ClientReference.client_id))
            .join(Case, col(Case.client_id) == col(Client.id))
            .join(
                ConferenceOrganisation,
                sa.and_(
                    col(ConferenceOrganisation.conference_id) == col(Case.conference_id),
                    col(ConferenceOrganisation.organisation_id) == organisation_id,
                ),
            )
            .where(
                col(ClientReference.organisation_id) == organisation_id,
                col(ClientReference.reference).in_(sorted(references)),
                col(Client.anonymised_at).is_(None),
            )
            .order_by(
                col(ClientReference.reference),
                (col(Case.phase) == Phase.closed.value),
                col(Case.opened_at).desc(),
            )
        )
    ).all()
    linked: dict[str, Linked] = {}
    for ref, client_id, number, case_id, conference_id, phase, director in rows:
        linked.setdefault(ref, Linked(client_id, number, case_id, conference_id, phase, director))
    return linked


async def ingest(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    items: list[Any],
    *,
    batch: bool,
    settings: Settings,
    binary: bool = False,
) -> IngestResult:
    """Validate and store the events (all or nothing); `binary`: one binary-mode event, whose
    problems name headers and the body instead of attributes of a JSON object."""
    try:
        return await _ingest(session, principal, audit, items, batch=batch, settings=settings)
    except (UnprocessableEntity, Conflict) as exc:
        if binary and isinstance(exc.extra.get("errors"), list):
            exc.extra["errors"] = [
                {**e, "pointer": binary_pointer(e["pointer"])} if isinstance(e, dict) and "pointer" in e else e
                for e in exc.extra["errors"]
            ]
        raise


async def _ingest(
    session: AsyncSession,
    principal: Principal,
    audit: AuditTrail,
    items: list[Any],
    *,
    batch: bool,
    settings: Settings,
) -> IngestResult:
    now = clock.now()
    org_id = principal.organisation_id
    errors: list[EventError] = []
    parsed: list[ParsedEvent] = []
    for index, raw in enumerate(items):
        result = parse_event(
            raw,
            index=index,
            batch=batch,
            organisation_kind=principal.organisation_kind,
            now=now,
            max_future=timedelta(seconds=settings.events_max_future_seconds),
        )
        if isinstance(result, list):
            errors.extend(result)
        else:
            parsed.append(result)
    if errors:
        raise _problem(errors, batch=batch)

    # Replays and conflicts: within the batch, then against what is stored.
    first_of: dict[tuple[str, str], ParsedEvent] = {}
    conflicts: list[EventError] = []
    fresh: list[ParsedEvent] = []
    for event in parsed:
        key = (event.source, event.event_id)
        earlier = first_of.get(key)
        if earlier is None:
            first_of[key] = event
            fresh.append(event)
        elif earlier.payload_hash != event.payload_hash:
            conflicts.append(
                EventError(
                    event.index,
                    _pointer(event, batch),
                    "The same source and id appear earlier in this batch with different content.",
                )
            )
    if conflicts:
        raise _conflict_problem(conflicts)

    # The happy path costs two queries: resolve the references, insert (ON CONFLICT DO NOTHING).
    # Only what did not insert, or did not resolve, is looked up among the stored events.
    linked = await _resolve(session, org_id, {e.subject for e in fresh})
    unresolved = [e for e in fresh if e.subject not in linked]
    stored = await _stored(session, org_id, [(e.source, e.event_id) for e in unresolved])
    conflicts = [
        _conflict(e, batch)
        for e in unresolved
        if (e.source, e.event_id) in stored and stored[(e.source, e.event_id)].payload_hash != e.payload_hash
    ]
    if conflicts:
        raise _conflict_problem(conflicts)
    unknown = [
        EventError(e.index, _pointer(e, batch, "subject"), UNKNOWN_REFERENCE)
        for e in unresolved
        if (e.source, e.event_id) not in stored
    ]
    if unknown:
        raise _problem(unknown, batch=batch)
    new = [e for e in fresh if e.subject in linked]

    label = label_for(principal.organisation_kind).value
    inserted: dict[tuple[str, str], StoredEvent] = {}
    if new:
        rows = [
            StoredEvent(
                id=uuid.uuid4(),
                source=e.source,
                event_id=e.event_id,
                type=e.type.value,
                subject_reference=e.subject,
                client_id=linked[e.subject].client_id,
                case_id=linked[e.subject].case_id,
                occurred_at=e.occurred_at,
                received_at=now,
                label=label,
                severity=e.severity.value,
            )
            for e in new
        ]
        extra = {(e.source, e.event_id): (e.data, e.payload_hash) for e in new}
        values = [
            {
                **row.__dict__,
                "organisation_id": org_id,
                "partner_system_id": principal.partner_system_id,
                "data": extra[(row.source, row.event_id)][0],
                "payload_hash": extra[(row.source, row.event_id)][1],
            }
            for row in rows
        ]
        # executemany ("insertmanyvalues"): one cached statement, whatever the batch size.
        table = PartnerEvent.__table__  # type: ignore[attr-defined]
        statement = (
            pg_insert(table)
            .on_conflict_do_nothing(constraint="uq_partner_event_origin")
            .returning(table.c.id)
        )
        returned = {r[0] for r in (await session.execute(statement, values)).all()}
        inserted = {(row.source, row.event_id): row for row in rows if row.id in returned}
        lost = [e for e in new if (e.source, e.event_id) not in inserted]
        if lost:  # stored before (by an earlier or a concurrent request): a replay, or a conflict
            stored.update(await _stored(session, org_id, [(e.source, e.event_id) for e in lost]))
            late_conflicts = [
                _conflict(e, batch)
                for e in lost
                if stored[(e.source, e.event_id)].payload_hash != e.payload_hash
            ]
            if late_conflicts:
                raise _conflict_problem(late_conflicts)

    if inserted:
        await _effects(
            session, settings, sorted(inserted.values(), key=lambda r: (r.occurred_at, r.id)), linked
        )
        audit.allowed(
            *[
                Access(
                    action="create",
                    resource_type="partner_event",
                    resource_id=str(row.id),
                    case_id=row.case_id,
                    conference_id=linked[row.subject_reference].conference_id,
                    client_number=linked[row.subject_reference].client_number,
                    part=row.type,
                    role="system",
                )
                for row in inserted.values()
            ]
        )

    receipts = []
    for event in parsed:
        key = (event.source, event.event_id)
        row = inserted.get(key) or stored[key]
        receipts.append(receipt(row.id, row.source, row.event_id, row.received_at))
    EVENTS_RECEIVED.labels("stored").inc(len(inserted))
    EVENTS_RECEIVED.labels("replayed").inc(len(receipts) - len(inserted))
    return IngestResult(receipts=receipts, stored=len(inserted))


def _pointer(event: ParsedEvent, batch: bool, attribute: str = "id") -> str:
    return f"#/{event.index}/{attribute}" if batch else f"#/{attribute}"


def _conflict(event: ParsedEvent, batch: bool) -> EventError:
    return EventError(
        event.index,
        _pointer(event, batch),
        "An event with this source and id was received before with different content.",
    )


def _conflict_problem(conflicts: list[EventError]) -> Conflict:
    conflicts = sorted(conflicts, key=lambda e: e.index)
    return Conflict(
        "An event id was reused with different content; nothing was stored.",
        errors=[c.as_dict() for c in conflicts],
    )


async def _stored(
    session: AsyncSession, organisation_id: uuid.UUID, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], PartnerEvent]:
    if not keys:
        return {}
    rows = (
        await session.execute(
            sa.select(PartnerEvent).where(
                col(PartnerEvent.organisation_id) == organisation_id,
                sa.tuple_(col(PartnerEvent.source), col(PartnerEvent.event_id)).in_(keys),
            )
        )
    ).scalars()
    return {(r.source, r.event_id): r for r in rows}


# --- effects -----------------------------------------------------------------------------------


EFFECT_TYPES = frozenset(
    {
        *(t.value for t in FLAGGING_TYPES),
        *(t.value for t in AFTERCARE_ALERT_TYPES),
        EventType.treatment_completed.value,
    }
)


async def _effects(
    session: AsyncSession, settings: Settings, events: list[StoredEvent], linked: dict[str, Linked]
) -> None:
    """Flags, aftercare watches, notifications and outbox rows, in the event's own time order."""
    max_age = timedelta(days=settings.events_flag_max_age_days)
    relevant = [
        e
        for e in events
        if e.case_id is not None
        and e.type in EFFECT_TYPES
        and linked[e.subject_reference].phase != Phase.closed.value
    ]
    case_ids = sorted({e.case_id for e in relevant if e.case_id is not None})
    if not case_ids:
        return
    open_flags: dict[uuid.UUID, set[str]] = defaultdict(set)
    for case_id, kind in (
        await session.execute(
            sa.select(col(CaseFlag.case_id), col(CaseFlag.kind)).where(
                col(CaseFlag.case_id).in_(case_ids), col(CaseFlag.cleared_at).is_(None)
            )
        )
    ).all():
        open_flags[case_id].add(kind)
    watches: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    for case_id, started, ends in (
        await session.execute(
            sa.select(
                col(AftercareWatch.case_id), col(AftercareWatch.started_at), col(AftercareWatch.ends_at)
            ).where(col(AftercareWatch.case_id).in_(case_ids))
        )
    ).all():
        watches[case_id].append((started, ends))
    conference_orgs: dict[uuid.UUID, list[uuid.UUID]] = {}

    async def orgs_of(case_id: uuid.UUID) -> list[uuid.UUID]:
        if case_id not in conference_orgs:
            conference_orgs[case_id] = await organisations_of_case(session, case_id)
        return conference_orgs[case_id]

    for event in relevant:
        assert event.case_id is not None
        case_id = event.case_id
        link = linked[event.subject_reference]
        kind = EventType(event.type)
        stale = event.received_at - event.occurred_at > max_age
        if kind is EventType.treatment_completed and await sharing.has_aftercare_consent(session, case_id):
            ends = event.occurred_at + timedelta(days=settings.aftercare_watch_days)
            session.add(
                AftercareWatch(
                    case_id=case_id,
                    client_id=event.client_id,
                    started_at=event.occurred_at,
                    ends_at=ends,
                    source_event_id=event.id,
                )
            )
            watches[case_id].append((event.occurred_at, ends))
        if stale:
            continue
        if kind in FLAGGING_TYPES and kind.value not in open_flags[case_id]:
            open_flags[case_id].add(kind.value)
            flag_id = await _raise_flag(session, case_id, kind, event)
            if flag_id is not None:  # only the request that really raised it tells anyone
                if link.case_director_id is not None:
                    session.add(
                        Notification(
                            kind="case_flagged",
                            conference_id=link.conference_id,
                            membership_id=link.case_director_id,
                            ref_type="case_flag",
                            ref_id=flag_id,
                            on_date=clock.today(),
                        )
                    )
                await enqueue(
                    session,
                    "case.flagged",
                    {"case_id": str(case_id), "flag_id": str(flag_id)},
                    organisation_ids=await orgs_of(case_id),
                )
        # Consent is checked where information flows: when the relapse arrives, not only when the
        # watch began (the client may have withdrawn it since).
        if (
            kind in AFTERCARE_ALERT_TYPES
            and any(s <= event.occurred_at <= e for s, e in watches[case_id])
            and await sharing.has_aftercare_consent(session, case_id)
        ):
            await _alert_neighbourhood_team(session, link, event)
            await enqueue(
                session,
                "aftercare.relapse",
                {"case_id": str(case_id), "event": str(event.id)},
                organisation_ids=await orgs_of(case_id),
                organisation_kinds=[OrganisationKind.neighbourhood_team.value],
            )
    await session.flush()


async def _raise_flag(
    session: AsyncSession, case_id: uuid.UUID, kind: EventType, event: StoredEvent
) -> uuid.UUID | None:
    """Open a flag of this kind on the case, unless one is open already (also one that a
    concurrent request has just raised: the partial unique index `uq_case_flag_open` decides).
    Returns the new flag's id, or None when nothing was created."""
    table = CaseFlag.__table__  # type: ignore[attr-defined]
    statement = (
        pg_insert(table)
        .values(
            id=uuid.uuid4(),
            case_id=case_id,
            kind=kind.value,
            reason=FLAG_REASONS[kind],
            label=event.label,
            severity=event.severity,
            source_event_id=event.id,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["case_id", "kind"], index_where=sa.text("cleared_at IS NULL"))
        .returning(table.c.id)
    )
    flag_id: uuid.UUID | None = (await session.execute(statement)).scalar_one_or_none()
    return flag_id


async def _alert_neighbourhood_team(session: AsyncSession, link: Linked, event: StoredEvent) -> None:
    members = (
        await session.execute(
            sa.select(col(Membership.id))
            .join(Organisation, col(Organisation.id) == col(Membership.organisation_id))
            .where(
                col(Membership.conference_id) == link.conference_id,
                col(Membership.active).is_(True),
                col(Membership.role).in_([Role.member.value, Role.liaison.value]),
                col(Organisation.kind) == OrganisationKind.neighbourhood_team.value,
            )
        )
    ).scalars()
    session.add_all(
        [
            Notification(
                kind="aftercare_relapse",
                conference_id=link.conference_id,
                membership_id=m,
                ref_type="partner_event",
                ref_id=event.id,
                on_date=clock.today(),
            )
            for m in members
        ]
    )
