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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, AuditTrail
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.db import Database
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
from app.events.outbox import OUTBOUND_TYPES, enqueue, organisations_of_case
from app.metrics import EVENTS_RECEIVED
from app.models import (
    AftercareWatch,
    Membership,
    Notification,
    Organisation,
    PartnerEvent,
    SignalSnooze,
)
from app.models.enums import OrganisationKind, Phase, Role
from app.services.agreements import sharing
from app.services.events import aftercare, single
from app.services.events import batch as batch_path
from app.services.events.single import Link
from app.services.events.single import json_param as _json

CASE_FLAGGED = "case.flagged"
assert CASE_FLAGGED in OUTBOUND_TYPES

BATCH_EFFECTS = batch_path.Effects(notification_kind="case_flagged", notification_ref="case_flag",
                                   outbound_type=CASE_FLAGGED, severity_order=SEVERITY_ORDER)

UNKNOWN_REFERENCE = "The subject is not a client reference of your organisation that is linked to a case."

# A relapse in these forms reaches the neighbourhood team during an aftercare watch.
AFTERCARE_ALERT_TYPES = frozenset({EventType.relapse, EventType.overdose})


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


# The statements of the hot path are SQL text run on the session's asyncpg connection
# (RetryingSession.driver(): prepared once per connection, no SQLAlchemy statement building or row
# processing per request) and work on sets: one statement whatever the number of events.

_RESOLVE_AND_INSERT = """
WITH linked AS (
    SELECT DISTINCT ON (r.reference) r.reference,""" + single.RESOLVED + """
      AND r.reference = ANY(ARRAY(SELECT json_array_elements_text($2::json)))
    ORDER BY r.reference, (c.phase = $3), c.opened_at DESC
), inserted AS (
    INSERT INTO partner_event (id, organisation_id, partner_system_id, source, event_id, type, subject_reference,
                               client_id, case_id, occurred_at, received_at, label, severity, data, payload_hash)
    SELECT e.id, $1, $4, e.source, e.event_id, e.type, e.subject, l.client_id, l.case_id, e.occurred_at, $5,
           e.label, e.severity, e.data, e.payload_hash
    FROM json_to_recordset($6::json)
         AS e(id uuid, source text, event_id text, type text, subject text, occurred_at timestamptz,
              label text, severity text, data jsonb, payload_hash text)
    JOIN linked l ON l.reference = e.subject
    ON CONFLICT ON CONSTRAINT uq_partner_event_origin DO NOTHING
    RETURNING id
)
SELECT l.reference, l.client_id, l.client_number, l.case_id, l.conference_id, l.phase, l.case_director_id,
       l.watched, l.snoozed, NULL::uuid[]
FROM linked l
UNION ALL  -- the ids stored, once
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, coalesce(array_agg(id), '{}') FROM inserted
"""  # noqa: S608 (only the constant RESOLVED is put in)


async def _resolve_and_insert(
    session: AsyncSession, principal: Principal, now: datetime, events: list[dict[str, Any]]
) -> tuple[dict[str, Link], set[uuid.UUID]]:
    """Resolve the events' subjects (reference -> the client's case in a conference the
    organisation takes part in: an open case first, else the most recent one) and store the
    events whose subject resolved, unless stored before: the links, and the ids stored."""
    if not events:
        return {}, set()
    driver = await session.driver()  # type: ignore[attr-defined]
    rows = await driver.fetch(
        _RESOLVE_AND_INSERT,
        principal.organisation_id,
        _json(sorted({e["subject"] for e in events})),
        Phase.closed.value,
        principal.partner_system_id,
        now,
        _json(events),
    )
    linked: dict[str, Link] = {}
    stored: set[uuid.UUID] = set()
    for ref, client_id, number, case_id, conference_id, phase, director, watched, snoozed, ids in rows:
        if ref is None:
            stored.update(ids)
        else:
            linked[ref] = Link(client_id, number, case_id, conference_id, phase, director, watched, snoozed)
    return linked, stored


async def ingest(
    session: AsyncSession | Callable[[], AsyncSession],
    principal: Principal,
    audit: AuditTrail,
    items: list[Any],
    *,
    batch: bool,
    settings: Settings,
    binary: bool = False,
    may_hold_nul: bool = True,
    db: Database | None = None,
) -> IngestResult:
    """Validate and store the events (all or nothing); `binary`: one binary-mode event, whose
    problems name headers and the body instead of attributes of a JSON object; `may_hold_nul=False`:
    the caller knows no string in them holds a NUL character. With `db`, a single event is stored
    in one statement outside the session when it can be (app/services/events/single.py)."""
    session_of = session if callable(session) else (lambda: session)
    try:
        return await _ingest(session_of, principal, audit, items, batch=batch, settings=settings,
                             may_hold_nul=may_hold_nul, db=db)
    except (UnprocessableEntity, Conflict) as exc:
        if binary and isinstance(exc.extra.get("errors"), list):
            exc.extra["errors"] = [
                {**e, "pointer": binary_pointer(e["pointer"])} if isinstance(e, dict) and "pointer" in e else e
                for e in exc.extra["errors"]
            ]
        raise


async def _ingest(
    session_of: Callable[[], AsyncSession],
    principal: Principal,
    audit: AuditTrail,
    items: list[Any],
    *,
    batch: bool,
    settings: Settings,
    may_hold_nul: bool,
    db: Database | None = None,
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
            may_hold_nul=may_hold_nul,
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

    if db is not None and not batch and len(fresh) == 1:
        event = fresh[0]
        done = await single.store_single(
            db, principal, event, now=now, label=label_for(principal.organisation_kind, event.type).value,
            settings=settings, notification_kind="case_flagged", notification_ref="case_flag",
            outbound_type=CASE_FLAGGED, severity_order=list(SEVERITY_ORDER),
        )
        if done is not None:
            EVENTS_RECEIVED.labels("stored").inc(1)
            return IngestResult(receipts=[receipt(done.id, event.source, event.event_id, done.received_at)], stored=1)

    if db is not None and batch:
        label_of = {t: label_for(principal.organisation_kind, t).value for t in {e.type for e in fresh}}
        labels = [label_of[e.type] for e in fresh]
        stored_as = await batch_path.store_batch(db, principal, audit, fresh, labels, now=now, settings=settings,
                                                 effects=BATCH_EFFECTS)
        if stored_as is not None:
            received_at = now.isoformat()
            receipts = [{"id": e.event_id, "source": e.source, "event": event_id, "received_at": received_at}
                        for event_id, e in zip(stored_as, fresh, strict=True)]
            if len(fresh) < len(parsed):  # an event repeated in the batch: the receipt of its first
                by_origin = {(r["source"], r["id"]): r for r in receipts}
                receipts = [by_origin[(e.source, e.event_id)] for e in parsed]
            EVENTS_RECEIVED.labels("stored").inc(len(fresh))
            EVENTS_RECEIVED.labels("replayed").inc(len(parsed) - len(fresh))
            return IngestResult(receipts=receipts, stored=len(fresh))

    session = session_of()  # the general way, in the request's session
    # The happy path costs one statement: resolve the references and insert the events of those
    # that resolved (ON CONFLICT DO NOTHING). Only what did not insert, or did not resolve, is looked
    # up among the stored events; an error rolls the insert back with the request.
    ids = [uuid.uuid4() for _ in fresh]
    linked, returned = await _resolve_and_insert(
        session, principal, now,
        [
            {"id": event_id, "source": e.source, "event_id": e.event_id, "type": e.type.value,
             "subject": e.subject, "occurred_at": e.occurred_at,
             "label": label_for(principal.organisation_kind, e.type).value, "severity": e.severity.value,
             "data": e.data, "payload_hash": e.payload_hash}
            for event_id, e in zip(ids, fresh, strict=True)
        ],
    )
    unresolved = [e for e in fresh if e.subject not in linked]
    stored = await _stored(session, org_id, [(e.source, e.event_id) for e in unresolved])
    conflicts = [
        _conflict(e, batch)
        for e in unresolved
        if (e.source, e.event_id) in stored and not e.same_payload(stored[(e.source, e.event_id)].payload_hash)
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
    new = [(event_id, e) for event_id, e in zip(ids, fresh, strict=True) if e.subject in linked]

    inserted: dict[tuple[str, str], StoredEvent] = {}
    if new:
        rows = [
            StoredEvent(
                id=event_id,
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
            for event_id, e in new
        ]
        inserted = {(row.source, row.event_id): row for row in rows if row.id in returned}
        lost = [e for _, e in new if (e.source, e.event_id) not in inserted]
        if lost:  # stored before (by an earlier or a concurrent request): a replay, or a conflict
            stored.update(await _stored(session, org_id, [(e.source, e.event_id) for e in lost]))
            late_conflicts = [
                _conflict(e, batch)
                for e in lost
                if not e.same_payload(stored[(e.source, e.event_id)].payload_hash)
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
    link: Link
    first: StoredEvent
    count: int = 1
    last_seen: datetime | None = None
    severity: str = "low"

    def add(self, event: StoredEvent) -> None:
        self.count += 1
        self.last_seen = max(self.last_seen or event.occurred_at, event.occurred_at)
        if SEVERITY_ORDER.index(event.severity) > SEVERITY_ORDER.index(self.severity):
            self.severity = event.severity


_WATCHES_AND_SNOOZES = """
SELECT case_id, NULL::uuid, NULL::text, NULL::date, started_at, ends_at
FROM aftercare_watch WHERE $2 AND case_id = ANY(ARRAY(SELECT json_array_elements_text($1::json)::uuid))
UNION ALL
SELECT case_id, id, kind, until, NULL::timestamptz, NULL::timestamptz
FROM signal_snooze WHERE $3 AND case_id = ANY(ARRAY(SELECT json_array_elements_text($1::json)::uuid))
  AND ended_at IS NULL
"""


@dataclass(frozen=True)
class _Snooze:
    id: uuid.UUID
    until: date


async def _effects(
    session: AsyncSession, settings: Settings, events: list[StoredEvent], linked: dict[str, Link],
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
    snoozes: dict[tuple[uuid.UUID, str], _Snooze] = {}
    # Only cases that have a watch or a snooze at all (the references' look-up said so) are asked
    # for them: most events cost no statement here.
    want_watches = bool(types & WATCH_TYPES) and any(linked[e.subject_reference].watched for e in relevant)
    want_snoozes = bool(types & FLAGGING_VALUES) and any(linked[e.subject_reference].snoozed for e in relevant)
    if want_watches or want_snoozes:
        driver = await session.driver()  # type: ignore[attr-defined]
        for case_id, snooze_id, kind, until, started, ends in await driver.fetch(
            _WATCHES_AND_SNOOZES, _json(case_ids), want_watches, want_snoozes
        ):
            if snooze_id is None:
                watches[case_id].append((started, ends))
            else:
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
    if session.new or session.dirty or session.deleted:  # aftercare watches and notifications added above
        await session.flush()




_FLAG_UPSERT = """
INSERT INTO case_flag AS f (id, case_id, kind, reason, label, severity, source_event_id, created_at, count,
                            last_seen_at, notified_at)
SELECT n.id, n.case_id, n.kind, n.reason, n.label, n.severity, n.source_event_id, $1, n.count, n.last_seen_at,
       n.last_seen_at
FROM json_to_recordset($2::json)
     AS n(id uuid, case_id uuid, kind text, reason text, label text, severity text, source_event_id uuid,
          count int, last_seen_at timestamptz)
""" + single.count_up("$3", "$4") + """
RETURNING id, case_id, kind, notified_at, old.notified_at
"""  # noqa: S608 (only single.count_up's constant text is put in)


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
    driver = await session.driver()  # type: ignore[attr-defined]
    returned = await driver.fetch(
        _FLAG_UPSERT,
        clock.now(),
        _json([
            {"id": uuid.uuid4(), "case_id": f.case_id, "kind": f.kind.value, "reason": FLAG_REASONS[f.kind],
             "label": f.first.label, "severity": f.severity, "source_event_id": f.first.id, "count": f.count,
             "last_seen_at": f.last_seen}
            for f in folds
        ]),
        list(SEVERITY_ORDER),
        timedelta(hours=settings.events_fold_window_hours),
    )
    by_key = {(f.case_id, f.kind.value): f for f in folds}
    told = []
    for flag_id, case_id, kind, notified_at, notified_before in returned:
        if notified_at != notified_before:  # opened (nothing before), or this statement told again
            told.append((by_key[(case_id, kind)], flag_id))
    return told


_TELL = """
WITH told AS (
    SELECT t.case_id, t.flag_id, t.conference_id, t.director_id, t.n
    FROM ROWS FROM (json_to_recordset($1::json)
                    AS (case_id uuid, flag_id uuid, conference_id uuid, director_id uuid)) WITH ORDINALITY
         AS t(case_id, flag_id, conference_id, director_id, n)
), notified AS (
    INSERT INTO notification (id, kind, conference_id, membership_id, ref_type, ref_id, on_date, created_at)
    SELECT gen_random_uuid(), $2, conference_id, director_id, $3, flag_id, $4, $5
    FROM told WHERE director_id IS NOT NULL
    ON CONFLICT DO NOTHING
)
INSERT INTO outbox_message (id, subscription_id, type, payload, created_at, next_attempt_at, attempts)
SELECT gen_random_uuid(), s.id, $6::text,
       jsonb_build_object('type', $6::text, 'timestamp', $7::text,
                          'data', jsonb_build_object('case_id', t.case_id::text, 'flag_id', t.flag_id::text)),
       $5, $5, 0
FROM told t
JOIN "case" c ON c.id = t.case_id
JOIN conference_organisation co ON co.conference_id = c.conference_id
JOIN webhook_subscription s ON s.organisation_id = co.organisation_id
WHERE s.active AND $6::text = ANY(s.event_types)
ORDER BY t.n, s.id
"""


async def _tell(session: AsyncSession, told: list[tuple[_Fold, uuid.UUID]]) -> None:
    """The case director's notification and the outbox rows (what `enqueue_for_cases` writes for
    "case.flagged"), in one statement."""
    if not told:
        return
    now = clock.now()
    driver = await session.driver()  # type: ignore[attr-defined]
    await driver.execute(
        _TELL,
        _json([
            {"case_id": fold.case_id, "flag_id": flag_id, "conference_id": fold.link.conference_id,
             "director_id": fold.link.case_director_id}
            for fold, flag_id in told
        ]),
        "case_flagged",
        "case_flag",
        clock.today(),
        now,
        CASE_FLAGGED,
        now.isoformat(),
    )


async def _alert_neighbourhood_team(session: AsyncSession, link: Link, event: StoredEvent) -> None:
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
