"""A batch of partner events in one statement: the common case of the batch intake.

A partner system that sends batches mostly sends new events about clients whose cases have no
aftercare watch and no snoozed signals. Such a batch is stored, with everything it sets in
motion, by one statement on a pool connection outside any transaction (PostgreSQL's implicit
transaction: all of it commits, or none of it), as single.py does for one event:

- the batch's subjects are resolved again (single.RESOLVED) and compared with what the service
  expected of each (a per-process memory of recent resolutions, below);
- only when every one agrees: the events are inserted (a plain INSERT: an origin stored before,
  also by a concurrent request, fails the whole statement with a unique violation, and the batch
  takes the general way, which answers replays and conflicts), the flags opened or counted up as
  folded here per case and kind (single.count_up), the case directors notified and the outbox rows
  for "case.flagged" written for the flags to tell, and the batch's access-log rows appended
  (`access_log_append_strict`: a chain head that moved undoes the whole statement).

The memory is a hint only: when it is missing or no longer holds (a case closed or opened, a
reference moved, a director changed, a watch or snooze begun, another replica's change), nothing
is written and the statement answers the actual resolutions, with which it runs once more. A
batch naming a client this process has not seen lately costs that second statement.

Anything else goes the general way (intake.py, in the request's session): an unknown subject, a
replay or a reused id, a case with a watch or a snooze, types with further effects (treatment
completed, the aftercare reports)."""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from app.audit import AuditTrail, EachOf, Rows, chain_secret, claim_lane, row_key, seal_rows
from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.db import Database, database_fault
from app.events.cloudevents import (
    FLAG_REASONS,
    FLAGGING_TYPES,
    EventType,
    ParsedEvent,
)
from app.metrics import ACCESS_LOG_ROWS
from app.models.enums import Phase
from app.services.events import single
from app.services.events.single import Link, json_param

log = logging.getLogger(__name__)

_ORIGIN = "uq_partner_event_origin"

# The hints of resolutions (single.Hints), each with `_text` of its link as the statement compares it.
_LINKS: single.Hints[tuple[Link, str]] = single.Hints()

_STORE = """
WITH linked AS (  -- per reference (an index look-up each, whatever the number of cases), its case
    SELECT ref.reference, l.*
    FROM unnest($2::text[]) AS ref(reference)
    CROSS JOIN LATERAL (
        SELECT""" + single.RESOLVED + """ AND r.reference = ref.reference
        ORDER BY (c.phase = $3::text), c.opened_at DESC
        LIMIT 1
    ) AS l
), agreed AS (  -- every subject resolves as the service expected ($4: `_text` of each, joined)
    SELECT true AS ok FROM linked l
    HAVING string_agg(concat_ws(chr(31), l.reference, l.client_id, l.client_number, l.case_id, l.conference_id,
                                l.phase, coalesce(l.case_director_id::text, ''), l.watched, l.snoozed),
                      chr(30) ORDER BY l.reference COLLATE "C") = $4::text
), inserted AS (
    INSERT INTO partner_event (id, organisation_id, partner_system_id, source, event_id, type, subject_reference,
                               client_id, case_id, occurred_at, received_at, label, severity, data, payload_hash)
    SELECT e.id, $1, $5::uuid, e.source, e.event_id, e.type, e.subject, l.client_id, l.case_id, e.occurred_at,
           $6::timestamptz, e.label, e.severity, e.data, e.payload_hash
    FROM json_to_recordset($7::json)
         AS e(id uuid, source text, event_id text, type text, subject text, occurred_at timestamptz,
              label text, severity text, data jsonb, payload_hash text)
    JOIN linked l ON l.reference = e.subject
    WHERE EXISTS (SELECT FROM agreed)
    RETURNING id
), flag AS (
    INSERT INTO case_flag AS f (id, case_id, kind, reason, label, severity, source_event_id, created_at, count,
                                last_seen_at, notified_at)
    SELECT gen_random_uuid(), n.case_id, n.kind, n.reason, n.label, n.severity, n.source_event_id, $6, n.count,
           n.last_seen_at, n.last_seen_at
    FROM json_to_recordset($8::json)
         AS n(case_id uuid, kind text, reason text, label text, severity text, source_event_id uuid, count int,
              last_seen_at timestamptz)
    WHERE EXISTS (SELECT FROM agreed)
    """ + single.count_up("$9", "$10") + """
    RETURNING id, case_id, kind, notified_at, old.notified_at AS notified_before
), told AS (  -- opened, or told again: this statement moved its notification time
    SELECT f.id AS flag_id, f.case_id, f.kind, l.conference_id, l.case_director_id
    FROM flag f
    JOIN (SELECT DISTINCT case_id, conference_id, case_director_id FROM linked) l ON l.case_id = f.case_id
    WHERE f.notified_at IS DISTINCT FROM f.notified_before
), notified AS (
    INSERT INTO notification (id, kind, conference_id, membership_id, ref_type, ref_id, on_date, created_at)
    SELECT gen_random_uuid(), $11::text, conference_id, case_director_id, $12::text, flag_id, $13::date, $6
    FROM told WHERE case_director_id IS NOT NULL
    ON CONFLICT DO NOTHING
), queued AS (
    INSERT INTO outbox_message (id, subscription_id, type, payload, created_at, next_attempt_at, attempts)
    SELECT gen_random_uuid(), s.id, $14::text,
           jsonb_build_object('type', $14::text, 'timestamp', $15::text,
                              'data', jsonb_build_object('case_id', t.case_id::text, 'flag_id', t.flag_id::text)),
           $6, $6, 0
    FROM told t
    JOIN conference_organisation co ON co.conference_id = t.conference_id
    JOIN webhook_subscription s ON s.organisation_id = co.organisation_id
    WHERE s.active AND $14::text = ANY(s.event_types)
    ORDER BY t.case_id::text, t.kind, s.id
), logged AS (
    SELECT access_log_append_strict($16::smallint, $17::text, $18::jsonb, $19::text) FROM agreed
)
SELECT l.reference, l.client_id, l.client_number, l.case_id, l.conference_id, l.phase, l.case_director_id,
       l.watched, l.snoozed, EXISTS (SELECT FROM agreed) AS agreed, (SELECT count(*) FROM inserted) AS inserted,
       (SELECT count(*) FROM logged) AS logged
FROM (SELECT) AS one LEFT JOIN linked l ON NOT EXISTS (SELECT FROM agreed)  -- the resolutions when they differ
"""  # noqa: S608 (only the constants single.RESOLVED and single.count_up's text are put in)


@dataclass(frozen=True)
class Effects:
    """What the statement writes beside the events, named by intake.py (its constants)."""

    notification_kind: str
    notification_ref: str
    outbound_type: str
    severity_order: tuple[str, ...]


def _remember(key: tuple[uuid.UUID, str], link: Link | None) -> None:
    _LINKS.remember(key, None if link is None else (link, _text(key[1], link)))


async def store_batch(
    db: Database, principal: Principal, audit: AuditTrail, events: list[ParsedEvent], labels: list[str], *,
    now: datetime, settings: Settings, effects: Effects,
) -> list[str] | None:
    """Store the events (distinct origins; `labels` per event) and their effects in one statement
    (a second one when a hint was missing or wrong): the ids given to the events (as text), in order. None:
    the general way must take the batch (see the module's docstring); nothing was written then."""
    if any(e.type in single.GENERAL_TYPES for e in events):
        return None
    for attempt in (0, 1):
        try:
            async with db.autocommit() as connection:
                return await _store(connection.driver, connection.info, principal, audit, events, labels,
                                    now=now, settings=settings, effects=effects)
        except Exception as exc:
            # A dropped connection: once more on a fresh one. Safe also when the statement did
            # commit: the repeat then fails on the stored origins and the general way answers
            # the batch as a replay.
            if attempt or database_fault(exc) != "connection":
                raise
            log.warning("database connection was dropped; storing the batch once more")
            await db.engine.dispose()
    return None  # pragma: no cover - the loop returns or raises


async def _store(
    driver: asyncpg.Connection, info: dict[Any, Any], principal: Principal, audit: AuditTrail,
    events: list[ParsedEvent], labels: list[str], *, now: datetime, settings: Settings, effects: Effects,
) -> list[str] | None:
    org = principal.organisation_id
    references = sorted({e.subject for e in events})
    seen = time.monotonic()
    links: dict[str, Link] = {}
    link_texts: dict[str, str] = {}  # per reference, `_text` of its link
    for reference in references:
        found = _LINKS.get((org, reference), seen)
        if found is not None:
            links[reference], link_texts[reference] = found
    lane = await claim_lane(driver, info)
    ids = uuid4_texts(len(events))
    secret_key = row_key(chain_secret())
    max_age = timedelta(days=settings.events_flag_max_age_days)
    rows: Rows | None = None
    events_json = folds_json = "[]"
    for _attempt in range(6):
        if any(link.watched or link.snoozed for link in links.values()):
            return None
        complete = len(links) == len(references)
        if complete and rows is None:  # what is written, once the links are known
            rows = audit.rows_of(*_accesses(events, ids, links))
            events_json = json_param([
                {"id": event_id, "source": e.source, "event_id": e.event_id, "type": e.type,  # StrEnums: their value
                 "subject": e.subject, "occurred_at": e.occurred_at, "label": label, "severity": e.severity,
                 "data": e.data, "payload_hash": e.payload_hash}
                for event_id, e, label in zip(ids, events, labels, strict=True)
            ])
            folds_json = json_param(_folds(events, ids, labels, links, now, max_age, effects.severity_order))
        head = lane[1]
        if complete and rows is not None:
            new_head, texts, hashes = seal_rows([rows], lane[0], head, secret_key)
            rows_text, hashes_text = (b"[" + b",".join(texts) + b"]").decode("utf-8"), ",".join(hashes)
            expected = "\x1e".join(link_texts[reference] for reference in references)  # in order, as `agreed`
        else:  # the first statement only asks: nothing can be written
            new_head, rows_text, hashes_text, expected = head, "[]", "", ""
        try:
            answer = await driver.fetch(
                _STORE,
                org, references, Phase.closed.value, expected, principal.partner_system_id,
                now, events_json if complete else "[]", folds_json if complete else "[]",
                list(effects.severity_order), timedelta(hours=settings.events_fold_window_hours),
                effects.notification_kind, effects.notification_ref, clock.today(), effects.outbound_type,
                now.isoformat(), lane[0], head, rows_text, hashes_text,
            )
        except asyncpg.UniqueViolationError as exc:
            if getattr(exc, "constraint_name", None) != _ORIGIN:
                raise
            return None  # stored before (a replay, a reused id, a concurrent request): the general way
        except asyncpg.PostgresError as exc:
            if getattr(exc, "sqlstate", None) != single.HEAD_MOVED:
                raise
            lane[1] = str(getattr(exc, "detail", "") or "")  # sealed on a stale head: seal again
            continue
        if not answer[0]["agreed"]:
            resolved = {r["reference"]: _link_of(r) for r in answer if r["reference"] is not None}
            for reference in references:
                _remember((org, reference), resolved.get(reference))
            if len(resolved) < len(references):
                return None  # not every subject is a reference of this organisation on a case
            if resolved != links:
                links = resolved
                link_texts = {reference: _text(reference, link) for reference, link in resolved.items()}
                rows = None  # sealed on other links: built again
            continue
        assert answer[0]["inserted"] == len(events) and answer[0]["logged"] == 1, dict(answer[0])
        lane[1] = new_head
        ACCESS_LOG_ROWS.labels("allowed").inc(len(events))
        return ids
    return None  # the hints kept changing under us: the general way


def uuid4_texts(n: int) -> list[str]:
    """`n` random (version 4) UUIDs as their text, as str(uuid.uuid4()) writes it, without a UUID
    object each: the ids of a batch's events."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])  # version 4
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])  # variant RFC 4122
    h = raw.hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-{h[i + 20:i + 32]}"
            for i in range(0, 32 * n, 32)]


def _accesses(events: list[ParsedEvent], ids: list[str], links: dict[str, Link]) -> list[EachOf]:
    """The access-log rows: one per event (its creation), as one EachOf per type (the rows of a
    type together, in the batch's order)."""
    of_link = {reference: (str(link.case_id), link.conference_id, link.client_number)
               for reference, link in links.items()}
    by_type: dict[EventType, list[tuple[str | None, str | None, uuid.UUID | None, str | None]]] = {}
    for event_id, e in zip(ids, events, strict=True):
        case_id, conference_id, client_number = of_link[e.subject]
        by_type.setdefault(e.type, []).append((event_id, case_id, conference_id, client_number))
    return [EachOf(action="create", resource_type="partner_event", part=part.value, role="system",
                   objects=tuple(objects))
            for part, objects in by_type.items()]


def _text(reference: str, link: Link) -> str:
    """What the statement's `agreed` writes of a reference's link (PostgreSQL's text of each value:
    a boolean is t or f); a batch's expected text joins those of its references, in order."""
    return "\x1f".join((reference, str(link.client_id), link.client_number, str(link.case_id),
                        str(link.conference_id), link.phase,
                        str(link.case_director_id) if link.case_director_id is not None else "",
                        "t" if link.watched else "f", "t" if link.snoozed else "f"))


def _link_of(row: asyncpg.Record) -> Link:
    return Link(row["client_id"], row["client_number"], row["case_id"], row["conference_id"], row["phase"],
                row["case_director_id"], row["watched"], row["snoozed"])


def _folds(
    events: list[ParsedEvent], ids: list[str], labels: list[str], links: dict[str, Link], now: datetime,
    max_age: timedelta, severity_order: tuple[str, ...],
) -> list[dict[str, Any]]:
    """The flag-raising events folded per case and kind, as intake.py's `_effects` folds them for
    cases without watch or snooze: the first event (by its time, then id) names the flag, the
    count, the latest time and the worst severity count up. In one lock order (case, kind)."""
    folds: dict[tuple[str, str], dict[str, Any]] = {}
    firsts: dict[tuple[str, str], tuple[datetime, str]] = {}  # per fold, its first event's (time, id)
    rank = {s: i for i, s in enumerate(severity_order)}
    closed = Phase.closed.value
    for event_id, e, label in zip(ids, events, labels, strict=True):
        link = links[e.subject]
        if e.type not in FLAGGING_TYPES or link.phase == closed or now - e.occurred_at > max_age:
            continue
        key = (str(link.case_id), e.type.value)
        severity = e.severity.value
        fold = folds.get(key)
        if fold is None:
            folds[key] = {"case_id": link.case_id, "kind": e.type.value, "reason": FLAG_REASONS[e.type],
                          "label": label, "severity": severity, "source_event_id": event_id, "count": 1,
                          "last_seen_at": e.occurred_at}
            firsts[key] = (e.occurred_at, event_id)
            continue
        fold["count"] += 1
        fold["last_seen_at"] = max(fold["last_seen_at"], e.occurred_at)
        if rank[severity] > rank[fold["severity"]]:
            fold["severity"] = severity
        if (e.occurred_at, event_id) < firsts[key]:
            firsts[key] = (e.occurred_at, event_id)
            fold["source_event_id"], fold["label"] = event_id, label
    return [folds[key] for key in sorted(folds)]
