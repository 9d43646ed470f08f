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
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, AuditTrail
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.errors import Conflict, UnprocessableEntity
from app.events.cloudevents import (
    AFTERCARE_REPORT_TYPES,
    FLAG_REASONS,
    FLAGGING_TYPES,
    SEVERITY_ORDER,
    EventError,
    EventType,
    ParsedEvent,
    Severity,
    binary_pointer,
    label_for,
    parse_event,
)
from app.events.outbox import enqueue, enqueue_for_cases, organisations_of_case
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
    SignalSnooze,
)
from app.models.enums import OrganisationKind, Phase, Role
from app.services.agreements import sharing
from app.services.events import aftercare

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
                label=label_for(principal.organisation_kind, e.type).value,
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
            session, settings, sorted(inserted.values(), key=lambda r: (r.occurred_at, r.id)), linked, org_id
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


FLAGGING_VALUES = frozenset(t.value for t in FLAGGING_TYPES)
WATCH_TYPES = frozenset({EventType.treatment_completed.value, *(t.value for t in AFTERCARE_ALERT_TYPES)})

EFFECT_TYPES = frozenset(
    {
        *(t.value for t in FLAGGING_TYPES),
        *(t.value for t in AFTERCARE_ALERT_TYPES),
        EventType.treatment_completed.value,
        *(t.value for t in AFTERCARE_REPORT_TYPES),
    }
)


@dataclass
class _Fold:
    """The flag-raising events of one kind for one case in this request, folded into one."""

    case_id: uuid.UUID
    kind: EventType
    link: Linked
    first: StoredEvent
    count: int = 1
    last_seen: datetime | None = None
    severity: str = "low"

    def add(self, event: StoredEvent) -> None:
        self.count += 1
        self.last_seen = max(self.last_seen or event.occurred_at, event.occurred_at)
        if SEVERITY_ORDER.index(event.severity) > SEVERITY_ORDER.index(self.severity):
            self.severity = event.severity


@dataclass(frozen=True)
class _Snooze:
    id: uuid.UUID
    until: date


async def _effects(
    session: AsyncSession, settings: Settings, events: list[StoredEvent], linked: dict[str, Linked],
    sender: uuid.UUID,
) -> None:
    """Flags, aftercare watches, notifications and outbox rows, in the event's own time order.
    Flags are set-based: the request's flag-raising events are folded per case and kind in
    Python, then one INSERT .. ON CONFLICT DO UPDATE opens or counts up the open flags."""
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
    types = {e.type for e in relevant}
    watches: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    if types & WATCH_TYPES:
        for case_id, started, ends in (
            await session.execute(
                sa.select(
                    col(AftercareWatch.case_id), col(AftercareWatch.started_at), col(AftercareWatch.ends_at)
                ).where(col(AftercareWatch.case_id).in_(case_ids))
            )
        ).all():
            watches[case_id].append((started, ends))
    snoozes: dict[tuple[uuid.UUID, str], _Snooze] = {}
    if types & FLAGGING_VALUES:
        for snooze_id, case_id, kind, until in (
            await session.execute(
                sa.select(
                    col(SignalSnooze.id), col(SignalSnooze.case_id), col(SignalSnooze.kind), col(SignalSnooze.until)
                ).where(col(SignalSnooze.case_id).in_(case_ids), col(SignalSnooze.ended_at).is_(None))
            )
        ).all():
            snoozes[(case_id, kind)] = _Snooze(snooze_id, until)
    snoozed_cases = {case_id for case_id, _ in snoozes}
    conference_orgs: dict[uuid.UUID, list[uuid.UUID]] = {}

    async def orgs_of(case_id: uuid.UUID) -> list[uuid.UUID]:
        if case_id not in conference_orgs:
            conference_orgs[case_id] = await organisations_of_case(session, case_id)
        return conference_orgs[case_id]

    folds: dict[tuple[uuid.UUID, str], _Fold] = {}
    broken: dict[uuid.UUID, StoredEvent] = {}  # case -> the critical event that ended its snoozes
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
        if kind in FLAGGING_TYPES:
            critical = event.severity == Severity.critical.value
            if critical and case_id in snoozed_cases and case_id not in broken:
                broken[case_id] = event  # something worse happened: every snooze of the case ends
            snooze = snoozes.get((case_id, kind.value))
            held = (
                snooze is not None
                and not critical
                and case_id not in broken
                and event.occurred_at.date() <= snooze.until
            )
            if not held:
                fold = folds.get((case_id, kind.value))
                if fold is None:
                    folds[(case_id, kind.value)] = _Fold(
                        case_id, kind, link, event, last_seen=event.occurred_at, severity=event.severity
                    )
                else:
                    fold.add(event)
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
        if kind in AFTERCARE_REPORT_TYPES:
            await aftercare.report_from_event(
                session, case_id=case_id, conference_id=link.conference_id, organisation_id=sender,
                kind=AFTERCARE_REPORT_TYPES[kind], event_id=event.id, occurred_at=event.occurred_at)
    for case_id, event in broken.items():
        await session.execute(
            sa.update(SignalSnooze)
            .where(col(SignalSnooze.case_id) == case_id, col(SignalSnooze.ended_at).is_(None))
            .values(ended_at=clock.now(), ended_reason="broken", broken_by_event_id=event.id)
        )
    await _tell(session, await _fold_flags(session, settings, list(folds.values())))
    await session.flush()


_FLAG = CaseFlag.__table__  # type: ignore[attr-defined]
_NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]


def _rank(column: Any) -> Any:
    return sa.func.array_position(sa.literal(list(SEVERITY_ORDER), ARRAY(sa.String())), column)


def _flag_upsert(window: timedelta) -> Any:
    statement = pg_insert(_FLAG)
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["case_id", "kind"],
        index_where=sa.text("cleared_at IS NULL"),
        set_={
            "count": _FLAG.c.count + new.count,
            "last_seen_at": sa.func.greatest(_FLAG.c.last_seen_at, new.last_seen_at),
            "severity": sa.case((_rank(new.severity) > _rank(_FLAG.c.severity), new.severity),
                                else_=_FLAG.c.severity),
            "notified_at": sa.case(
                (new.last_seen_at > sa.func.coalesce(_FLAG.c.notified_at, _FLAG.c.created_at) + window,
                 new.last_seen_at),
                else_=_FLAG.c.notified_at,
            ),
        },
    ).returning(_FLAG.c.id, _FLAG.c.case_id, _FLAG.c.kind, _FLAG.c.notified_at,
                sa.literal_column("(xmax = 0)").label("inserted"))


async def _fold_flags(
    session: AsyncSession, settings: Settings, folds: list[_Fold]
) -> list[tuple[_Fold, uuid.UUID]]:
    """Open a flag per (case, kind), or count up the open one (the partial unique index
    `uq_case_flag_open` holds one open flag per kind and case, also under concurrent requests).
    Returns the flags whose case director is to be told: new ones, and open ones whose last
    telling lies more than the fold window (event time) before this request's latest repeat."""
    if not folds:
        return []
    folds = sorted(folds, key=lambda f: (str(f.case_id), f.kind.value))  # one lock order for all
    now = clock.now()
    values = [
        {
            "id": uuid.uuid4(),
            "case_id": f.case_id,
            "kind": f.kind.value,
            "reason": FLAG_REASONS[f.kind],
            "label": f.first.label,
            "severity": f.severity,
            "source_event_id": f.first.id,
            "created_at": now,
            "count": f.count,
            "last_seen_at": f.last_seen,
            "notified_at": f.last_seen,
        }
        for f in folds
    ]
    # executemany ("insertmanyvalues", one round trip): the statement has no values of its own,
    # so SQLAlchemy compiles it once per process (a multi-row .values() is compiled every time).
    upsert = _flag_upsert(timedelta(hours=settings.events_fold_window_hours))
    by_key = {(f.case_id, f.kind.value): f for f in folds}
    told = []
    for flag_id, case_id, kind, notified_at, inserted in (await session.execute(upsert, values)).all():
        fold = by_key[(case_id, kind)]
        if inserted or notified_at == fold.last_seen:
            told.append((fold, flag_id))
    return told


async def _tell(session: AsyncSession, told: list[tuple[_Fold, uuid.UUID]]) -> None:
    """The case director's notification and the outbox rows, one INSERT each."""
    if not told:
        return
    notifications = [
        {
            "id": uuid.uuid4(),
            "kind": "case_flagged",
            "conference_id": fold.link.conference_id,
            "membership_id": fold.link.case_director_id,
            "ref_type": "case_flag",
            "ref_id": flag_id,
            "on_date": clock.today(),
            "created_at": clock.now(),
        }
        for fold, flag_id in told
        if fold.link.case_director_id is not None
    ]
    if notifications:
        await session.execute(pg_insert(_NOTIFICATION).on_conflict_do_nothing(), notifications)
    await enqueue_for_cases(
        session,
        "case.flagged",
        [(fold.case_id, {"case_id": str(fold.case_id), "flag_id": str(flag_id)}) for fold, flag_id in told],
    )


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
