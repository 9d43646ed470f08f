"""One partner event in one statement: the common case of the single-event intake.

A partner system mostly sends one event at a time about a client whose case has no aftercare
watch and no snoozed signals. Such an event is stored, with everything it sets in motion, by one
statement on a pool connection outside any transaction (PostgreSQL runs it in an implicit
transaction of its own: all of it commits, or none of it):

- the subject is resolved again (the client's reference -> the case, as `_RESOLVE_AND_INSERT` in
  intake.py does) and compared with what the service expected (`Hints`, below);
- only when they agree: the event is inserted (ON CONFLICT DO NOTHING on its origin), and when it
  was inserted, its flag is opened or counted up, the case director notified and the outbox rows
  for "case.flagged" written (as intake.py's `_fold_flags` and `_tell`), and its access-log row
  appended (`access_log_append_strict`: a chain head that moved undoes the whole statement).

What the service expected comes from a per-process memory of recent resolutions, a hint only:
the statement checks it, and when it no longer holds (a case closed or opened, a reference moved,
a director changed, a watch or snooze begun, or another replica's change) nothing is written and
the statement answers the actual resolution, with which it is run once more. A first event about
a client costs that second statement; later ones one statement, against the three (BEGIN, the
insert, COMMIT) of a bare insert.

Anything else goes the general way (intake.py, in the request's session): an unknown subject, a
replay or a reused id, a case with a watch or snooze, types with further effects (treatment
completed, the aftercare reports), a stale event on a case that is not closed."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import asyncpg
import orjson

from app.audit import Access, chain_secret, claim_lane, entry_values, row_key, seal
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.db import Database, database_fault
from app.events.cloudevents import (
    AFTERCARE_REPORT_TYPES,
    FLAG_REASONS,
    FLAGGING_TYPES,
    EventType,
    ParsedEvent,
)
from app.metrics import ACCESS_LOG_ROWS
from app.models.enums import Phase

log = logging.getLogger(__name__)

# Types whose effects need more than a flag: the general way.
GENERAL_TYPES = frozenset({EventType.treatment_completed, *AFTERCARE_REPORT_TYPES})

HEAD_MOVED = "P7513"  # access_log_append_strict (migration events16_01)


@dataclass(frozen=True)
class Link:
    """What a partner's reference resolved to (RESOLVED): its client's case, as the single-event
    statement compares it and the batch's effects use it."""

    client_id: uuid.UUID
    client_number: str
    case_id: uuid.UUID
    conference_id: uuid.UUID
    phase: str
    case_director_id: uuid.UUID | None
    watched: bool  # the case has an aftercare watch (current or past)
    snoozed: bool  # the case has a snooze in force


V = TypeVar("V")


class Hints(Generic[V]):
    """(organisation, reference) -> what the service expects its resolution to be: a per-process
    hint, bounded in size (`most`; full, it starts again empty) and age (`seconds`). Wrong or stale
    entries cost a statement, never a wrong write (the statements check them). Single events keep
    the link; batches (batch.py) the link with its text as their statement compares it."""

    def __init__(self, most: int = 50_000, seconds: float = 300.0) -> None:
        self._items: dict[tuple[uuid.UUID, str], tuple[V, float]] = {}
        self._most = most
        self._seconds = seconds

    def remember(self, key: tuple[uuid.UUID, str], value: V | None) -> None:
        if value is None:
            self._items.pop(key, None)
            return
        if len(self._items) >= self._most:
            self._items.clear()
        self._items[key] = (value, time.monotonic())

    def get(self, key: tuple[uuid.UUID, str], now: float | None = None) -> V | None:
        found = self._items.get(key)
        if found is None or (time.monotonic() if now is None else now) - found[1] > self._seconds:
            return None
        return found[0]


_LINKS: Hints[Link] = Hints()


@dataclass(frozen=True)
class Stored:
    id: uuid.UUID
    received_at: datetime
    link: Link


# How a partner's reference resolves to its client's case (also intake.py's batch statement): the
# organisation is $1; the caller adds which references, and the order among a client's cases.
RESOLVED = """
    cl.id AS client_id, cl.client_number, c.id AS case_id, c.conference_id, c.phase, c.case_director_id,
           EXISTS (SELECT FROM aftercare_watch w WHERE w.case_id = c.id) AS watched,
           EXISTS (SELECT FROM signal_snooze s WHERE s.case_id = c.id AND s.ended_at IS NULL) AS snoozed
    FROM client_reference r
    JOIN client cl ON cl.id = r.client_id
    JOIN "case" c ON c.client_id = cl.id
    JOIN conference_organisation co ON co.conference_id = c.conference_id AND co.organisation_id = $1
    WHERE r.organisation_id = $1 AND cl.anonymised_at IS NULL"""


def count_up(severity_order: str, fold_window: str) -> str:
    """An open flag of the kind counted up instead of a second one (the partial unique index
    `uq_case_flag_open`), as the single-event and the batch statements write it: the count, the
    latest sighting, the worse severity (`severity_order`: the parameter with SEVERITY_ORDER), and
    a new notification time when the repeat lies beyond the fold window (`fold_window`: the
    parameter with the interval)."""
    return f"""ON CONFLICT (case_id, kind) WHERE cleared_at IS NULL DO UPDATE SET
        count = f.count + excluded.count,
        last_seen_at = greatest(f.last_seen_at, excluded.last_seen_at),
        severity = CASE WHEN array_position({severity_order}::text[], excluded.severity)
                             > array_position({severity_order}::text[], f.severity)
                        THEN excluded.severity ELSE f.severity END,
        notified_at = CASE WHEN excluded.last_seen_at > coalesce(f.notified_at, f.created_at) + {fold_window}::interval
                           THEN excluded.last_seen_at ELSE f.notified_at END"""


_STORE = """
WITH linked AS (
    SELECT""" + RESOLVED + """ AND r.reference = $2::text
    ORDER BY (c.phase = $3::text), c.opened_at DESC
    LIMIT 1
), agreed AS (
    SELECT FROM linked l
    WHERE (l.client_id, l.client_number, l.case_id, l.conference_id, l.phase, l.case_director_id, l.watched,
           l.snoozed)
          IS NOT DISTINCT FROM ($4::uuid, $5::text, $6::uuid, $7::uuid, $8::text, $9::uuid, $10::bool, $11::bool)
), inserted AS (
    INSERT INTO partner_event (id, organisation_id, partner_system_id, source, event_id, type, subject_reference,
                               client_id, case_id, occurred_at, received_at, label, severity, data, payload_hash)
    SELECT $12::uuid, $1, $13::uuid, $14::text, $15::text, $16::text, $2, $4, $6, $17::timestamptz, $18::timestamptz,
           $19::text, $20::text, $21::jsonb, $22::text
    WHERE EXISTS (SELECT FROM agreed)
    ON CONFLICT ON CONSTRAINT uq_partner_event_origin DO NOTHING
    RETURNING id
), flag AS (
    INSERT INTO case_flag AS f (id, case_id, kind, reason, label, severity, source_event_id, created_at, count,
                                last_seen_at, notified_at)
    SELECT gen_random_uuid(), $6, $16, $23::text, $19, $20, i.id, $18, 1, $17, $17
    FROM inserted i
    WHERE $23::text IS NOT NULL
    """ + count_up("$24", "$25") + """
    RETURNING id, notified_at, old.notified_at AS notified_before
), told AS (  -- opened, or told again: this statement moved its notification time (as batch.py)
    SELECT id AS flag_id FROM flag WHERE notified_at IS DISTINCT FROM notified_before
), notified AS (
    INSERT INTO notification (id, kind, conference_id, membership_id, ref_type, ref_id, on_date, created_at)
    SELECT gen_random_uuid(), $26::text, $7, $9, $27::text, flag_id, $28::date, $18
    FROM told WHERE $9::uuid IS NOT NULL
    ON CONFLICT DO NOTHING
), queued AS (
    INSERT INTO outbox_message (id, subscription_id, type, payload, created_at, next_attempt_at, attempts)
    SELECT gen_random_uuid(), s.id, $29::text,
           jsonb_build_object('type', $29::text, 'timestamp', $30::text,
                              'data', jsonb_build_object('case_id', $6::text, 'flag_id', t.flag_id::text)),
           $18, $18, 0
    FROM told t
    JOIN conference_organisation co ON co.conference_id = $7
    JOIN webhook_subscription s ON s.organisation_id = co.organisation_id
    WHERE s.active AND $29::text = ANY(s.event_types)
    ORDER BY s.id
), logged AS (
    SELECT access_log_append_strict($31::smallint, $32::text, $33::jsonb, $34::text) FROM inserted
)
SELECT l.client_id, l.client_number, l.case_id, l.conference_id, l.phase, l.case_director_id, l.watched,
       l.snoozed, EXISTS (SELECT FROM agreed) AS agreed, (SELECT count(*) FROM inserted) AS inserted,
       (SELECT count(*) FROM logged) AS logged
FROM (SELECT) AS one LEFT JOIN linked l ON true
"""  # noqa: S608 (only the constants RESOLVED and count_up's text are put in)


def _flag_reason(event: ParsedEvent, link: Link, now: datetime, settings: Settings) -> str | None:
    """The flag's reason when the event raises one (as intake.py's `_effects` decides for a case
    without watch or snooze), else None."""
    if event.type not in FLAGGING_TYPES or link.phase == Phase.closed.value:
        return None
    if now - event.occurred_at > timedelta(days=settings.events_flag_max_age_days):
        return None
    return FLAG_REASONS[event.type]


async def store_single(
    db: Database, principal: Principal, event: ParsedEvent, *, now: datetime, label: str, settings: Settings,
    notification_kind: str, notification_ref: str, outbound_type: str, severity_order: list[str],
) -> Stored | None:
    """Store the event and its effects in one statement (a second one when the hint was missing
    or wrong). None: the general way must take it (see the module's docstring); nothing was
    written then."""
    if event.type in GENERAL_TYPES:
        return None
    for attempt in (0, 1):
        try:
            async with db.autocommit() as connection:
                return await _store(connection.driver, connection.info, principal, event, now=now, label=label, settings=settings,
                                     notification_kind=notification_kind, notification_ref=notification_ref,
                                     outbound_type=outbound_type, severity_order=severity_order)
        except Exception as exc:
            # A dropped connection (a restarted server, a cut idle connection): once more on a
            # fresh one. Safe also when the statement did commit: the event is then stored and the
            # repeat finds it, which the general way answers as a replay.
            if attempt or database_fault(exc) != "connection":
                raise
            log.warning("database connection was dropped; storing the event once more")
            await db.engine.dispose()
    return None  # pragma: no cover - the loop returns or raises


async def _store(
    driver: asyncpg.Connection, info: dict[Any, Any], principal: Principal, event: ParsedEvent, *,
    now: datetime, label: str, settings: Settings, notification_kind: str, notification_ref: str,
    outbound_type: str, severity_order: list[str],
) -> Stored | None:
    key = (principal.organisation_id, event.subject)
    link = _LINKS.get(key)
    lane = await claim_lane(driver, info)
    event_id = uuid.uuid4()
    data = json_param(event.data)
    secret_key = row_key(chain_secret())
    for _attempt in range(6):
        if link is not None and (link.watched or link.snoozed):
            return None
        reason = _flag_reason(event, link, now, settings) if link is not None else None
        head = lane[1]
        if link is not None:
            row = entry_values(
                principal,
                Access(action="create", resource_type="partner_event", resource_id=str(event_id),
                       case_id=link.case_id, conference_id=link.conference_id, client_number=link.client_number,
                       part=event.type.value, role="system"),
                outcome="allowed", now=now,
            )
            new_head, texts, hashes = seal([row], lane[0], head, secret_key)
            rows_text, hashes_text = (b"[" + texts[0] + b"]").decode("utf-8"), hashes[0]
        else:
            new_head, rows_text, hashes_text = head, "[]", ""
        try:
            answer = await driver.fetchrow(
                _STORE,
                principal.organisation_id, event.subject, Phase.closed.value,
                *(_compared(link)),
                event_id, principal.partner_system_id, event.source, event.event_id, event.type.value,
                event.occurred_at, now, label, event.severity.value, data, event.payload_hash,
                reason, severity_order, timedelta(hours=settings.events_fold_window_hours),
                notification_kind, notification_ref, clock.today(), outbound_type, now.isoformat(),
                lane[0], head, rows_text, hashes_text,
            )
        except asyncpg.PostgresError as exc:
            if getattr(exc, "sqlstate", None) != HEAD_MOVED:
                raise
            lane[1] = str(getattr(exc, "detail", "") or "")  # sealed on a stale head: seal again
            continue
        assert answer is not None  # one row, always
        if not answer["agreed"]:
            link = _link_of(answer)
            _LINKS.remember(key, link)
            if link is None:
                return None  # not a reference of this organisation on a case: the general way answers
            continue
        if not answer["inserted"]:
            return None  # stored before: a replay or a reused id, which the general way answers
        lane[1] = new_head
        ACCESS_LOG_ROWS.labels("allowed").inc(1)
        assert link is not None
        return Stored(event_id, now, link)
    return None  # the hint kept changing under us: the general way


def _compared(link: Link | None) -> tuple[Any, ...]:
    if link is None:
        return (None,) * 8
    return (link.client_id, link.client_number, link.case_id, link.conference_id, link.phase,
            link.case_director_id, link.watched, link.snoozed)


def _link_of(answer: asyncpg.Record) -> Link | None:
    if answer["case_id"] is None:
        return None
    return Link(answer["client_id"], answer["client_number"], answer["case_id"], answer["conference_id"],
                answer["phase"], answer["case_director_id"], answer["watched"], answer["snoozed"])


def json_param(value: Any) -> str:
    """A statement's set argument as JSON text, unpacked in SQL (json_to_recordset,
    json_array_elements_text): asyncpg encodes one text where an array costs a type check per
    element. UUIDs (asyncpg's own type too) as strings, times in RFC 3339."""
    try:
        return orjson.dumps(value, default=str).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits in an event's data: JSON allows it
        return json.dumps(value, default=str)
