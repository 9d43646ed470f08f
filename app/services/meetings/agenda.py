"""The agenda: built from what needs discussing, adjusted by the chair, published to members.

The draft is computed by ONE aggregation query over cases, actions, discussion requests,
referrals and case flags, grouped per case in PostgreSQL: the number of SQL statements is
constant, whatever the number of cases, actions or events (see bench/agenda.py).

Relapse and serious-event flags are raised by partner events (app/services/events/intake.py) in
the table `case_flag`; the builder reads the uncleared ones since the case was last discussed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any, cast

import orjson
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from app.auth.policy import NeedToKnow
from app.auth.principal import Principal
from app.clock import clock
from app.db import Autocommit, RetryingSession
from app.errors import Conflict, NotFound, PreconditionFailed, UnprocessableEntity
from app.events.cloudevents import FLAG_REASONS as STORED_FLAG_REASONS
from app.models import AgendaItem, Case, Client, Decision, DiscussionRequest, Meeting, Referral
from app.models.enums import AgendaStatus, Coverage, Label, Phase, ReferralStatus, Role
from app.models.predicates import (
    active_agreement_sql,
    case_is_open,
    meeting_not_cancelled_sql,
    open_action_sql,
    open_case_sql,
    published_agenda_sql,
    sql_literal,
)
from app.schemas.meetings import AgendaItemAdd, AgendaOut, MeetingOut
from app.services.agreements.lifecycle import BasesInForce, effective_scope
from app.services.meetings import announcements as meeting_events
from app.services.meetings.cadence import parse_cadence
from app.services.meetings.sittings import bump, meeting_minutes, require_open
from app.services.need_to_know import CaseRef, hidden_signal_text, need_to_know_from
from app.services.words import FLAG_REASONS

# Urgency of a reason: lower is more urgent. An item's urgency is its most urgent reason.
RANK = {
    "relapse_flag": 1,
    "serious_event": 2,
    "escalation_required": 3,
    "overdue_actions": 4,
    "review_due": 5,
    "discussion_request": 6,
    "referral_pending": 7,
    "added_by_chair": 8,
}
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
BASE_MINUTES = 5
PER_REASON_MINUTES = 5
MAX_SUGGESTED_MINUTES = 30
REFERRAL_MINUTES = 10

# Signal kinds of the events issue, in Dutch, with the need-to-know label of what they reveal.
FLAG_KINDS: dict[str, tuple[str, str]] = {
    "relapse": ("terugval", "health"),
    "lapse": ("uitglijder", "health"),
    "overdose": ("overdosis", "health"),
    "admission": ("opname", "health"),
    "discharge": ("ontslag uit zorg", "health"),
    "missed_appointment": ("gemiste afspraak", "health"),
    "police_contact": ("politiecontact", "justice"),
    "detention": ("detentie", "justice"),
    "nuisance": ("overlast", "justice"),
    "eviction_threat": ("dreigende huisuitzetting", "general"),
}


def nl_date(value: date | datetime) -> str:
    return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"  # strftime("%d-%m-%Y"), a third of its cost


_ESCALATION = sql_literal(Coverage.escalation_required)
_AGENDA_SQL = f"""
WITH active AS (  -- the client per case by its key: a join read the whole client table (all conferences)
    SELECT c.id, c.priority, c.phase, c.next_review_date,
           (SELECT cl.client_number FROM client cl WHERE cl.id = c.client_id) AS client_number
    FROM "case" c
    WHERE c.conference_id = :conf AND {open_case_sql("c")}
),
last_discussed AS (
    SELECT ai.case_id, max(m.starts_at) AS at
    FROM agenda_item ai JOIN meeting m ON m.id = ai.meeting_id
    WHERE m.conference_id = :conf AND m.id <> :meeting AND {meeting_not_cancelled_sql("m")}
      AND {published_agenda_sql("m")} AND m.starts_at < :starts_at
      AND ai.kind = 'case' AND NOT ai.removed
    GROUP BY ai.case_id
),
acts AS (
    SELECT a.case_id,
           count(*) FILTER (WHERE a.due_date < :today) AS overdue,
           min(a.due_date) FILTER (WHERE a.due_date < :today) AS oldest_due,
           count(*) FILTER (WHERE a.coverage = {_ESCALATION}) AS escalations
    FROM action a
    WHERE a.conference_id = :conf AND {open_action_sql("a")}
      AND (a.due_date < :today OR a.coverage = {_ESCALATION})
    GROUP BY a.case_id
),
reqs AS (
    SELECT r.case_id,
           jsonb_agg(jsonb_build_object('org', o.name, 'reason', r.reason) ORDER BY r.created_at) AS items
    FROM discussion_request r JOIN organisation o ON o.id = r.organisation_id
    WHERE r.conference_id = :conf AND r.handled_at IS NULL AND r.created_at < :starts_at
    GROUP BY r.case_id
),
flags AS (
    {{flags}}
)
SELECT 'case' AS kind, ac.id::text AS case_id, NULL AS referral_id, ac.client_number, ac.phase,
       ac.priority, ac.next_review_date, coalesce(acts.overdue, 0) AS overdue, acts.oldest_due,
       coalesce(acts.escalations, 0) AS escalations, reqs.items::text AS requests,
       coalesce(flags.relapses, 0) AS relapses, flags.last_relapse::text AS last_relapse,
       coalesce(flags.others, 0) AS others, flags.last_other::text AS last_other,
       NULL AS referrer, NULL AS referral_reason
FROM active ac
LEFT JOIN acts ON acts.case_id = ac.id
LEFT JOIN reqs ON reqs.case_id = ac.id
LEFT JOIN flags ON flags.case_id = ac.id
WHERE ac.next_review_date <= :meeting_day
   OR acts.case_id IS NOT NULL OR reqs.case_id IS NOT NULL OR flags.case_id IS NOT NULL
UNION ALL
SELECT 'referral', NULL, rf.id::text, cl.client_number, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL,
       o.name, rf.reason
FROM referral rf JOIN client cl ON cl.id = rf.client_id
JOIN organisation o ON o.id = rf.referring_organisation_id
WHERE rf.conference_id = :conf AND rf.status = {sql_literal(ReferralStatus.pending)} AND rf.created_at < :starts_at
"""  # noqa: S608 (only states from app/models/predicates.py are put in)

# Per open case: the number of uncleared relapse and other flags since the case was last
# discussed, and the latest of each. A LATERAL index range scan per case (case_flag needs an index
# on (case_id, created_at)) instead of scanning every event of the conference.
_FLAGS = """
    SELECT ac.id AS case_id, fl.relapses, fl.last_relapse, fl.others, fl.last_other
    FROM active ac
    LEFT JOIN last_discussed ld ON ld.case_id = ac.id
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE f.kind IN ('relapse', 'lapse')) AS relapses,
               (array_agg(jsonb_build_object('kind', f.kind, 'reason', f.reason, 'at', f.created_at, 'label', f.label)
                          ORDER BY f.created_at DESC) FILTER (WHERE f.kind IN ('relapse', 'lapse')))[1]
                   AS last_relapse,
               count(*) FILTER (WHERE f.kind NOT IN ('relapse', 'lapse')) AS others,
               (array_agg(jsonb_build_object('kind', f.kind, 'reason', f.reason, 'at', f.created_at, 'label', f.label)
                          ORDER BY f.created_at DESC) FILTER (WHERE f.kind NOT IN ('relapse', 'lapse')))[1]
                   AS last_other
        FROM case_flag f
        WHERE f.case_id = ac.id AND f.cleared_at IS NULL
          AND f.created_at > coalesce(ld.at, '-infinity'::timestamptz) AND f.created_at < :starts_at
    ) fl
    WHERE fl.relapses + fl.others > 0
"""


# What needs discussing, on the session's asyncpg connection: $1 meeting, $2 its start, $3 today,
# $4 the meeting's day (named parameters of _AGENDA_SQL, numbered once). The conference is the
# meeting's, looked up by the statement: given as a parameter, PostgreSQL planned the statement
# anew on every run (about 1 ms), as the conference's number of cases made each custom plan look
# cheaper than the generic one; looked up, its plan is made once per connection.
_PARAMETERS = {"conf": "(SELECT mc.conference_id FROM meeting mc WHERE mc.id = $1)", "meeting": "$1",
               "starts_at": "$2", "today": "$3", "meeting_day": "$4"}
_CANDIDATES_SQL = re.sub(r"(?<!:):(conf|meeting_day|meeting|starts_at|today)\b",
                         lambda m: _PARAMETERS[m.group(1)], _AGENDA_SQL.replace("{flags}", _FLAGS))

# The draft's items in one statement, whatever their number: the candidates ($2, a JSON array in
# agenda order) that the chair did not add themselves are numbered (a subject the chair removed
# stays removed, at position 0), the automatic items that no longer apply go, the others are
# updated in place where they changed (their ids stay stable across regenerations; an unchanged
# item is not written again) or inserted, the items the chair added keep their order after them, and the meeting gets its next version ($4: the version
# read). The data-modifying parts touch disjoint rows (chair's or automatic, among the
# candidates or not). Returns the new version (NULL: someone changed the meeting in between), the
# number of visible items and the ids of the items it inserted or changed. $1 meeting, $3 now.
_REPLACE_ITEMS = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset($2::jsonb)
        AS u(kind text, case_id uuid, referral_id uuid, reasons jsonb, urgency int, time_box int, ord int)
),
existing AS (
    SELECT kind, coalesce(case_id, referral_id) AS subject, added_by_chair, removed, position, created_at, id,
           reasons, urgency, time_box_minutes
    FROM agenda_item WHERE meeting_id = $1
),
auto AS (
    SELECT u.*, coalesce(e.removed, false) AS removed,
           e.id AS was_id, (e.reasons, e.urgency, e.position, e.time_box_minutes, e.removed) AS was
    FROM input u
    LEFT JOIN existing e ON e.kind = u.kind AND e.subject = coalesce(u.case_id, u.referral_id)
    WHERE e.added_by_chair IS NOT TRUE
),
numbered AS (
    SELECT a.*, CASE WHEN a.removed THEN 0
                     ELSE (count(*) FILTER (WHERE NOT a.removed) OVER (ORDER BY a.ord))::int END AS position
    FROM auto a
),
changes AS (  -- new, or not as the item is: only these go to the upsert (it would lock every row it meets)
    SELECT n.* FROM numbered n
    WHERE n.was_id IS NULL OR n.was IS DISTINCT FROM (n.reasons, n.urgency, n.position, n.time_box, n.removed)
),
stale AS (
    DELETE FROM agenda_item ai
    WHERE ai.meeting_id = $1 AND NOT ai.added_by_chair
      AND NOT EXISTS (SELECT 1 FROM numbered n
                      WHERE coalesce(n.case_id, n.referral_id) = coalesce(ai.case_id, ai.referral_id))
),
upsert AS (
    INSERT INTO agenda_item (id, meeting_id, kind, case_id, referral_id, reasons, urgency, position,
                             time_box_minutes, added_by_chair, removed, created_at)
    SELECT gen_random_uuid(), $1, n.kind, n.case_id, n.referral_id, n.reasons, n.urgency, n.position,
           n.time_box, false, n.removed, $3
    FROM changes n ORDER BY n.ord
    ON CONFLICT (meeting_id, (coalesce(case_id, referral_id))) DO UPDATE
    SET reasons = EXCLUDED.reasons, urgency = EXCLUDED.urgency, position = EXCLUDED.position,
        time_box_minutes = EXCLUDED.time_box_minutes, removed = EXCLUDED.removed
    WHERE NOT agenda_item.added_by_chair
      AND (agenda_item.reasons, agenda_item.urgency, agenda_item.position, agenda_item.time_box_minutes,
           agenda_item.removed)
          IS DISTINCT FROM (EXCLUDED.reasons, EXCLUDED.urgency, EXCLUDED.position, EXCLUDED.time_box_minutes,
                            EXCLUDED.removed)
    RETURNING agenda_item.id
),
shown AS (SELECT count(*) AS n FROM numbered WHERE NOT removed),
kept AS (
    SELECT e.subject, row_number() OVER (ORDER BY e.position, e.created_at, e.id) AS n
    FROM existing e WHERE e.added_by_chair AND NOT e.removed
),
chair AS (
    UPDATE agenda_item a SET position = k.n + (SELECT n FROM shown)
    FROM kept k
    WHERE a.meeting_id = $1 AND a.added_by_chair AND coalesce(a.case_id, a.referral_id) = k.subject
      AND a.position <> k.n + (SELECT n FROM shown)
    RETURNING a.id
),
bumped AS (
    UPDATE meeting SET version = version + 1, updated_at = $3, agenda_generated_at = $3
    WHERE id = $1 AND version = $4
    RETURNING version
)
SELECT (SELECT version FROM bumped) AS version, (SELECT n FROM shown) + (SELECT count(*) FROM kept) AS items,
       ARRAY(SELECT id FROM upsert UNION ALL SELECT id FROM chair) AS changed
"""


def _flag_reason(flag: dict[str, Any], more: int) -> dict[str, Any]:
    kind = str(flag.get("kind") or "")
    name, kind_label = FLAG_KINDS.get(kind, (kind.replace("_", " ") or "signaal", "general"))
    # The flag's own label (that of the event that raised it), as /cases/{id}/flags reads it.
    label = str(flag.get("label") or kind_label)
    at = datetime.fromisoformat(str(flag["at"]))
    code = "relapse_flag" if kind in ("relapse", "lapse") else "serious_event"
    text = f"{name.capitalize()} gemeld op {nl_date(at)}"
    if more:
        text += f" (en {more} eerder{'e' if more > 1 else ''} signa{'len' if more > 1 else 'al'})"
    # The stored reason of a partner's flag is the API's English text: the agenda says it in Dutch.
    reason = flag.get("reason") or None
    if reason is not None and reason == STORED_FLAG_REASONS.get(kind):
        reason = FLAG_REASONS.get(kind, reason)
    return {"code": code, "text": text, "label": label, "detail": reason}


def reasons_for(row: Any, *, today: date, meeting_day: date) -> list[dict[str, Any]]:
    """Machine codes and Dutch text for one aggregated row (a record of `_CANDIDATES_SQL`)."""
    (kind, _case_id, _referral_id, _number, _phase, _priority, review, overdue, oldest_due, escalations, requests,
     relapses, last_relapse, others, last_other, referrer, referral_reason) = row
    if kind == "referral":
        return [
            {
                "code": "referral_pending",
                "text": f"Nieuwe aanmelding van {referrer} wacht op triage",
                "label": "general",
                "detail": referral_reason,
            }
        ]
    reasons: list[dict[str, Any]] = []
    if relapses:
        reasons.append(_flag_reason(orjson.loads(last_relapse), relapses - 1))
    if others:
        reasons.append(_flag_reason(orjson.loads(last_other), others - 1))
    if escalations:
        n = escalations
        reasons.append(
            {
                "code": "escalation_required",
                "label": "general",
                "text": f"{n} actie{'s wachten' if n > 1 else ' wacht'} op mandaat-escalatie",
            }
        )
    if overdue:
        n = overdue
        reasons.append(
            {
                "code": "overdue_actions",
                "label": "general",
                "text": f"{n} actie{'s' if n > 1 else ''} over de termijn (oudste: {nl_date(oldest_due)})",
            }
        )
    if review is not None and review <= meeting_day:
        when = "verstreken" if review < today else "valt vóór of op de vergadering"
        reasons.append(
            {
                "code": "review_due",
                "label": "general",
                "text": f"Evaluatiedatum {nl_date(review)} {when}",
            }
        )
    if requests is not None:
        for request in orjson.loads(requests):
            reasons.append(
                {
                    "code": "discussion_request",
                    "label": "general",
                    "text": f"Bespreekverzoek van {request['org']}",
                    "detail": request.get("reason"),
                }
            )
    return reasons


async def candidates(session: AsyncSession, meeting: Meeting, conference_cadence: dict) -> list[dict[str, Any]]:
    """Everything that needs discussing at `meeting`, most urgent first (one statement): the
    items of a draft as the replacing statement takes them (`_REPLACE_ITEMS`' input but `ord`)."""
    try:
        zone = parse_cadence(conference_cadence).zone
        meeting_day = meeting.starts_at.astimezone(zone).date()
    except UnprocessableEntity:  # an ad-hoc meeting of a conference without a cadence: the UTC day
        meeting_day = meeting.starts_at.date()
    today = clock.today()
    await session.flush()  # the statement runs below the ORM: nothing of this transaction may wait in it
    driver = await cast(RetryingSession, session).driver()
    rows = await driver.fetch(_CANDIDATES_SQL, meeting.id, meeting.starts_at, today, meeting_day)
    return _candidates_of(rows, today, meeting_day)


def _candidates_of(rows: list[Any], today: date, meeting_day: date) -> list[dict[str, Any]]:
    """The rows that have reasons, most urgent first: by their most urgent reason, the case's
    priority, more reasons first, then the client number."""
    keyed = []
    for r in rows:
        reasons = reasons_for(r, today=today, meeting_day=meeting_day)
        if not reasons:
            continue
        kind, case_id, referral_id, client_number, _phase, priority = r[:6]
        urgency, count = min([RANK[reason["code"]] for reason in reasons]), len(reasons)
        time_box = (REFERRAL_MINUTES if kind == "referral"
                    else min(BASE_MINUTES + PER_REASON_MINUTES * count, MAX_SUGGESTED_MINUTES))
        keyed.append(((urgency, PRIORITY_RANK.get(priority or "normal", 2), -count, client_number),
                      {"kind": kind, "case_id": case_id, "referral_id": referral_id, "reasons": reasons,
                       "urgency": urgency, "time_box": time_box}))
    keyed.sort(key=_by_key)
    return [item for _key, item in keyed]


def _by_key(keyed: tuple[tuple, dict[str, Any]]) -> tuple:
    return keyed[0]


@dataclass(frozen=True)
class Drafted:
    items: int  # visible on the agenda
    changed: frozenset[uuid.UUID]  # the items written: inserted, or changed (reasons, order, time box, removal)


async def build_draft(session: AsyncSession, meeting: Meeting, conference_cadence: dict) -> Drafted:
    """(Re)generate the draft: automatic items are recomputed (kept, updated, added or dropped);
    items the chair added stay (at the end); subjects the chair removed stay removed. Two
    statements (what needs discussing, then `_REPLACE_ITEMS`), whatever the number of items.
    An item that comes out as it was is not written again, and is not among `changed`."""
    if meeting.agenda_status == AgendaStatus.published:
        raise Conflict("The agenda is published; reopen it before regenerating the draft.")
    require_open(meeting, "agenda")
    found = await candidates(session, meeting, conference_cadence)
    for n, item in enumerate(found):
        item["ord"] = n
    now = clock.now()
    items = orjson.dumps(found).decode()
    driver = await cast(RetryingSession, session).driver()
    version, shown, changed = await driver.fetchrow(_REPLACE_ITEMS, meeting.id, items, now, meeting.version)
    if version is None:
        raise PreconditionFailed("This meeting was changed by someone else at the same moment; read it again.")
    # What the statement wrote, as the ORM object's loaded state (no change left for a flush).
    for key, value in (("version", version), ("updated_at", now), ("agenda_generated_at", now)):
        set_committed_value(meeting, key, value)
    return Drafted(int(shown), frozenset(uuid.UUID(bytes=i.bytes) for i in changed))


# The agenda as its reader sees it, in one statement on the session's asyncpg connection (issue 16):
# the meeting, and the items in agenda order (removed ones last) with their case or referral and
# client, and per case what need to know needs (the agreements in force and their withdrawals, the
# legal bases in force, an open break-glass of the reader) as JSON. The meeting's columns are on the
# first row only (NULL on the others). A meeting without items is one row whose item columns are
# NULL; no row: no such meeting. $1 meeting, $2 today, $3 now, $4 the reader's memberships.
_ACTIVE_AGREEMENT = active_agreement_sql("a", "$2")
_VIEW_SQL = f"""
WITH m AS (
    SELECT id::text AS id, conference_id::text AS conference_id, starts_at, ends_at, status, ad_hoc, moved_from,
           agenda_status, published_at, decisions_published_at, version  -- ids as text: Python's UUIDs
    FROM meeting WHERE id = $1
),
items AS (
    SELECT ai.id, ai.kind, ai.case_id, ai.referral_id, ai.reasons, ai.time_box_minutes, ai.added_by_chair,
           ai.removed, row_number() OVER (ORDER BY ai.removed, ai.position, ai.created_at, ai.id) AS n
    FROM agenda_item ai
    WHERE ai.meeting_id = $1
),
in_force AS (
    SELECT a.id, a.case_id, a.status, a.starts_on, a.ends_on, a.scope
    FROM agreement a
    WHERE a.case_id IN (SELECT case_id FROM items) AND {_ACTIVE_AGREEMENT}
),
agreements AS (
    SELECT a.case_id, json_agg(json_build_object('id', a.id, 'status', a.status, 'starts_on', a.starts_on,
                                                 'ends_on', a.ends_on, 'scope', a.scope) ORDER BY a.id) AS rows
    FROM in_force a GROUP BY a.case_id
),
withdrawals AS (
    SELECT a.case_id, json_agg(json_build_object('agreement_id', w.agreement_id, 'whole', w.whole,
                                                 'label', w.label, 'organisation_kinds', w.organisation_kinds,
                                                 'effective_at', w.effective_at)
                               ORDER BY w.effective_at, w.id) AS rows
    FROM consent_withdrawal w JOIN in_force a ON a.id = w.agreement_id GROUP BY a.case_id
),
legal AS (
    SELECT lb.case_id, json_agg(json_build_object('id', lb.id, 'scope', lb.scope) ORDER BY lb.id) AS rows
    FROM legal_basis lb
    WHERE lb.case_id IN (SELECT case_id FROM items)
      AND lb.ended_at IS NULL AND lb.starts_on <= $2 AND lb.ends_on >= $2
    GROUP BY lb.case_id
),
glass AS (
    SELECT DISTINCT ON (bg.case_id) bg.case_id, bg.id
    FROM break_glass bg
    WHERE bg.case_id IN (SELECT case_id FROM items) AND bg.membership_id = ANY($4::uuid[]) AND bg.expires_at > $3
    ORDER BY bg.case_id, bg.id
)
SELECT fm.id AS m_id, fm.conference_id AS m_conference_id, fm.starts_at AS m_starts_at, fm.ends_at AS m_ends_at,
       fm.status AS m_status, fm.ad_hoc AS m_ad_hoc, fm.moved_from AS m_moved_from,
       fm.agenda_status AS m_agenda_status, fm.published_at AS m_published_at,
       fm.decisions_published_at AS m_decisions_published_at, fm.version AS m_version,
       i.id::text AS id, i.kind, i.case_id::text AS case_text, i.referral_id::text AS referral_id,
       i.reasons::text AS reasons, i.time_box_minutes, i.added_by_chair, i.removed, c.conference_id, c.phase,
       c.priority, n.number, n.name, n.phase AS shown_phase,
       ag.rows::text AS agreements, wd.rows::text AS withdrawals, lg.rows::text AS legal, gl.id AS break_glass
FROM m
LEFT JOIN items i ON true
-- The meeting on the first row only (i.n = 1, or the one row of a meeting without items): its
-- columns on every row were a fifth of the statement's time at the client.
LEFT JOIN LATERAL (SELECT m.* WHERE i.n IS NULL OR i.n = 1) fm ON true
-- The case and client, or the referral and client, of each item by their keys (LIMIT 1: not
-- flattened into a join that hashes every case and client of every conference).
LEFT JOIN LATERAL (
    SELECT c.conference_id, c.phase, c.priority, cl.client_number, cl.name
    FROM "case" c JOIN client cl ON cl.id = c.client_id
    WHERE c.id = i.case_id
    LIMIT 1
) c ON true
LEFT JOIN LATERAL (
    SELECT cl.client_number, cl.name
    FROM referral rf JOIN client cl ON cl.id = rf.client_id
    WHERE rf.id = i.referral_id
    LIMIT 1
) rc ON true
CROSS JOIN LATERAL (
    SELECT CASE WHEN i.kind = 'case' THEN c.client_number ELSE rc.client_number END AS number,
           CASE WHEN i.kind = 'case' THEN c.name ELSE rc.name END AS name,
           CASE WHEN i.kind = 'case' THEN c.phase ELSE 'aanmelding' END AS phase
) n
LEFT JOIN agreements ag ON ag.case_id = i.case_id
LEFT JOIN withdrawals wd ON wd.case_id = i.case_id
LEFT JOIN legal lg ON lg.case_id = i.case_id
LEFT JOIN glass gl ON gl.case_id = i.case_id
ORDER BY i.n
"""  # noqa: S608 (only states from app/models/predicates.py are put in)

_MEETING_SERIALIZER = MeetingOut.__pydantic_serializer__


@dataclass(frozen=True)
class LoadedAgenda:
    """What the agenda's one statement read: the meeting as it is now (in this transaction) and
    the rows of its items, removed ones too (for the chair)."""

    meeting: MeetingOut
    rows: list[Any]

    @property
    def conference_id(self) -> uuid.UUID:
        return self.meeting.conference_id

    @property
    def version(self) -> int:
        return self.meeting.version


async def load_agenda(
    session: AsyncSession | Autocommit, meeting_id: uuid.UUID, principal: Principal
) -> LoadedAgenda:
    """The meeting and its agenda in one statement (NotFound: no such meeting), in the session's
    transaction (after a change: as the change left them) or as the first statement on a
    connection outside any (Database.autocommit: one snapshot either way). Whether the caller
    may see it is the policy's to say (`Op.agenda_read`), what of it the `agenda_*` shapers'."""
    now = clock.now()
    args = (meeting_id, now.date(), now, sorted(principal.membership_ids()))
    if isinstance(session, Autocommit):
        rows = await session.first_rows(_VIEW_SQL, *args)
    else:
        await session.flush()  # the statement runs below the ORM: nothing of this transaction may wait in it
        rows = await (await cast(RetryingSession, session).driver()).fetch(_VIEW_SQL, *args)
    if not rows:
        raise NotFound("meeting")
    first = rows[0]
    meeting = MeetingOut(
        id=first["m_id"], conference_id=first["m_conference_id"], starts_at=first["m_starts_at"],
        ends_at=first["m_ends_at"], status=first["m_status"], ad_hoc=first["m_ad_hoc"],
        moved_from=first["m_moved_from"], agenda_status=first["m_agenda_status"],
        published_at=first["m_published_at"], decisions_published_at=first["m_decisions_published_at"],
        version=first["m_version"],
    )
    assert tuple(first.keys())[-len(_ITEM_COLUMNS):] == _ITEM_COLUMNS  # as `agenda_json` unpacks a row
    return LoadedAgenda(meeting, rows if first["id"] is not None else [])


# The item columns of `_VIEW_SQL`, last in each row, in its order.
_ITEM_COLUMNS = ("id", "kind", "case_text", "referral_id", "reasons", "time_box_minutes", "added_by_chair",
                 "removed", "conference_id", "phase", "priority", "number", "name", "shown_phase", "agreements",
                 "withdrawals", "legal", "break_glass")


def _bases_of(agreements: str | None, withdrawals_text: str | None, legal_text: str | None,
              now: datetime) -> BasesInForce:
    """The bases in force of a case, from the statement's JSON, through the same rule as every
    other read (`effective_scope`)."""
    withdrawals: list[Any] = [
        SimpleNamespace(agreement_id=uuid.UUID(w["agreement_id"]), whole=w["whole"], label=w["label"],
                        organisation_kinds=w["organisation_kinds"],
                        effective_at=datetime.fromisoformat(w["effective_at"]))
        for w in orjson.loads(withdrawals_text or "[]")
    ]
    in_force: list[Any] = []
    for a in orjson.loads(agreements or "[]"):
        agreement: Any = SimpleNamespace(id=uuid.UUID(a["id"]), status=a["status"], scope=a["scope"],
                                         starts_on=date.fromisoformat(a["starts_on"]),
                                         ends_on=date.fromisoformat(a["ends_on"]))
        scope = effective_scope(agreement, withdrawals, now)
        if scope:
            in_force.append((agreement, scope))
    legal: list[Any] = [SimpleNamespace(id=uuid.UUID(b["id"]), scope=b["scope"])
                        for b in orjson.loads(legal_text or "[]")]
    return BasesInForce(in_force, legal)


def _reason_for_viewer(reason: dict[str, Any], ntk: NeedToKnow, chair: bool) -> dict[str, Any]:
    """One rule with /cases/{id}/flags and the timeline (app/services/events/reads.py): a reason
    raised by labelled information shows its content only where need to know allows it; the chair
    (`chair`: `ntk.is_chair`) otherwise sees that a health or justice signal needs discussion,
    others "afgeschermd". The fields of a `Reason`, in its order."""
    label = reason.get("label", Label.general)
    visible, _basis = ntk.sees(label, None)
    if not visible:
        return {"code": "signal", "text": hidden_signal_text(label, ntk), "detail": None}
    return {"code": reason["code"], "text": reason["text"], "detail": reason.get("detail") if chair else None}


_AGENDA = TypeAdapter(AgendaOut)


@dataclass(frozen=True)
class AgendaJson:
    body: bytes  # an AgendaOut as JSON
    clients: list[tuple[str | None, str]]  # (case id as text, client number) per item shown: for the access log
    item_ids: list[str]  # per item shown, in the same order
    version: int  # the meeting's, for its ETag


def agenda_json(loaded: LoadedAgenda, principal: Principal, role: str | None) -> AgendaJson:
    """The agenda as `principal` (granted `role` by the policy) may see it, as the JSON of an
    AgendaOut: the chair sees the draft and everything on it (names, request texts, removed
    items); others only a published agenda with the client number, phase and reasons they may
    see. The items are plain dicts in AgendaItemOut's fields and order, serialized once by orjson
    with the meeting as MeetingOut's serializer writes it: no item is validated into an object
    and serialized again."""
    meeting = loaded.meeting
    is_chair = role == Role.chair
    if not is_chair and meeting.agenda_status != AgendaStatus.published:
        raise NotFound(detail="The agenda of this meeting has not been published yet.")
    now = clock.now()
    # Referral items have no case yet: their reasons are read as in a newly selected case.
    without_case = NeedToKnow(principal, meeting.conference_id, Phase.selected)
    # A case without bases or break-glass is read as any case of its conference and phase (None:
    # the referrals').
    plain: dict[tuple[uuid.UUID, str] | None, NeedToKnow] = {None: without_case}
    chair_in: dict[uuid.UUID, bool] = {}  # `NeedToKnow.is_chair` per conference
    items: list[dict[str, Any]] = []
    clients: list[tuple[str | None, str]] = []
    item_ids: list[str] = []
    number = total = 0
    for (*_meeting, item_id, kind, case_text, referral_id, reasons, time_box, by_chair, removed, conference_id,
         phase, priority, client_number, name, shown_phase, agreements, withdrawals, legal, break_glass) in loaded.rows:
        if removed and not is_chair:
            continue
        if not removed:
            number += 1  # shown 1..n in agenda order, whatever gaps removals left
            total += time_box
        if kind != "case":
            conference_id = None
        if conference_id is not None and not (agreements is None and legal is None and break_glass is None):
            ntk = need_to_know_from(principal, CaseRef(uuid.UUID(case_text), conference_id, phase),
                                    _bases_of(agreements, withdrawals, legal, now),
                                    [break_glass] if break_glass is not None else [])
        else:
            key = None if conference_id is None else (conference_id, phase)
            found = plain.get(key)
            if found is None:
                assert key is not None  # the referrals' is there from the start
                found = plain[key] = need_to_know_from(principal, CaseRef(uuid.UUID(case_text), *key),
                                                       BasesInForce([], []), [])
            ntk = found
        chair = chair_in.get(ntk.conference_id)
        if chair is None:
            chair = chair_in[ntk.conference_id] = ntk.is_chair
        shaped = []
        for reason in orjson.loads(reasons):  # `_reason_for_viewer`, its visible case written out
            if ntk.sees(reason.get("label", Label.general))[0]:
                shaped.append({"code": reason["code"], "text": reason["text"],
                               "detail": reason.get("detail") if chair else None})
            else:
                shaped.append(_reason_for_viewer(reason, ntk, chair))
        items.append({
            "id": item_id,
            "position": 0 if removed else number,
            "kind": kind,
            "case_id": case_text,
            "referral_id": referral_id,
            "client_number": client_number,
            "phase": shown_phase,
            "reasons": shaped,
            "time_box_minutes": time_box,
            "added_by_chair": by_chair,
            "client_name": name if is_chair else None,
            "priority": priority if is_chair else None,
            "removed": removed if is_chair else None,
        })
        clients.append((case_text, client_number))
        item_ids.append(item_id)
    minutes = meeting_minutes(meeting)
    body = orjson.dumps({
        "meeting": orjson.Fragment(_MEETING_SERIALIZER.to_json(meeting)),
        "items": items,
        "total_minutes": total,
        "meeting_minutes": minutes,
        "over_time": total > minutes,
    })
    return AgendaJson(body, clients, item_ids, loaded.version)


@dataclass(frozen=True)
class AgendaView:
    out: AgendaOut
    clients: list[tuple[str | None, str]]  # (case id as text, client number) of every item shown: for the access log


async def agenda_view(
    session: AsyncSession, meeting: Meeting, principal: Principal, role: str | None
) -> AgendaView:
    """The agenda as `principal` (granted `role`) may see it, as objects (the web client, the
    exports): `agenda_json`'s answer, validated."""
    view = agenda_json(await load_agenda(session, meeting.id, principal), principal, role)
    return AgendaView(out=_AGENDA.validate_json(view.body), clients=view.clients)


def _require_draft(meeting: Meeting) -> None:
    require_open(meeting, "agenda changes")
    if meeting.agenda_status == AgendaStatus.published:
        raise Conflict("The agenda is published; reopen it before changing it.")


async def _item(session: AsyncSession, meeting: Meeting, item_id: uuid.UUID) -> AgendaItem:
    item = await session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise NotFound("agenda item")
    return item


async def add_item(session: AsyncSession, meeting: Meeting, data: AgendaItemAdd) -> AgendaItem:
    _require_draft(meeting)
    if data.case_id is not None:
        case = await session.get(Case, data.case_id)
        if case is None or case.conference_id != meeting.conference_id:
            raise UnprocessableEntity(
                "This case is not part of the meeting's conference.", pointer="#/case_id"
            )
        if case.phase == Phase.closed:
            raise UnprocessableEntity("A closed case cannot be put on the agenda.", pointer="#/case_id")
        kind, subject = "case", col(AgendaItem.case_id) == data.case_id
    else:
        referral = await session.get(Referral, data.referral_id)
        if (
            referral is None
            or referral.conference_id != meeting.conference_id
            or referral.status != ReferralStatus.pending
        ):
            raise UnprocessableEntity(
                "This is not a pending referral of the meeting's conference.", pointer="#/referral_id"
            )
        kind, subject = "referral", col(AgendaItem.referral_id) == data.referral_id
    length = meeting_minutes(meeting)
    minutes = (
        data.time_box_minutes if data.time_box_minutes is not None else BASE_MINUTES + PER_REASON_MINUTES
    )
    _check_time_box(minutes, length, "#/time_box_minutes")
    existing = (
        await session.execute(sa.select(AgendaItem).where(col(AgendaItem.meeting_id) == meeting.id, subject))
    ).scalar_one_or_none()
    last = (
        await session.execute(
            sa.select(sa.func.coalesce(sa.func.max(col(AgendaItem.position)), 0)).where(
                col(AgendaItem.meeting_id) == meeting.id,
                col(AgendaItem.removed).is_(False),
            )
        )
    ).scalar_one()
    if existing is not None and not existing.removed:
        raise Conflict("This subject is already on the agenda.")
    if existing is not None:
        existing.removed = False
        existing.added_by_chair = True  # the chair's choice now: a regeneration keeps it
        existing.position = int(last) + 1
        existing.time_box_minutes = minutes
        item = existing
    else:
        reason = {
            "code": "added_by_chair",
            "text": "Toegevoegd door de voorzitter",
            "label": "general",
            "detail": data.reason,
        }
        item = AgendaItem(
            meeting_id=meeting.id,
            kind=kind,
            case_id=data.case_id,
            referral_id=data.referral_id,
            reasons=[reason],
            urgency=RANK["added_by_chair"],
            position=int(last) + 1,
            time_box_minutes=minutes,
            added_by_chair=True,
        )
        session.add(item)
    await session.flush()
    await bump(session, meeting)
    return item


async def remove_item(session: AsyncSession, meeting: Meeting, item_id: uuid.UUID) -> None:
    _require_draft(meeting)
    item = await _item(session, meeting, item_id)
    if item.removed:
        return
    item.removed = True
    await session.flush()
    await bump(session, meeting)


async def reorder(session: AsyncSession, meeting: Meeting, item_ids: list[uuid.UUID]) -> None:
    """The new order must name every visible item exactly once; otherwise 422 and nothing changes."""
    _require_draft(meeting)
    current = set(
        (
            await session.execute(
                sa.select(col(AgendaItem.id)).where(
                    col(AgendaItem.meeting_id) == meeting.id, col(AgendaItem.removed).is_(False)
                )
            )
        ).scalars()
    )
    if len(set(item_ids)) != len(item_ids):
        raise UnprocessableEntity("The new order names an item more than once.", pointer="#/item_ids")
    unknown = [str(i) for i in item_ids if i not in current]
    if unknown:
        raise UnprocessableEntity(
            "The new order names items that are not on this agenda.", pointer="#/item_ids", unknown=unknown
        )
    missing = [str(i) for i in current - set(item_ids)]
    if missing:
        raise UnprocessableEntity(
            "The new order must name every item on the agenda.", pointer="#/item_ids", missing=missing
        )
    await session.execute(
        sa.text(
            "UPDATE agenda_item a SET position = u.ord FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY "
            "AS u(id, ord) WHERE a.id = u.id AND a.meeting_id = :meeting"
        ),
        {"ids": item_ids, "meeting": meeting.id},
    )
    await bump(session, meeting)


async def move_item(
    session: AsyncSession, meeting: Meeting, item_id: uuid.UUID, by: int
) -> list[uuid.UUID] | None:
    """Move a visible item `by` places in the agenda order (-1: one up, 1: one down); at the top
    or the bottom it stays where it is (None). The new order goes through `reorder` and is returned."""
    _require_draft(meeting)
    item = await _item(session, meeting, item_id)
    if item.removed:
        raise NotFound("agenda item")
    order = list(
        (
            await session.execute(
                sa.select(col(AgendaItem.id))
                .where(col(AgendaItem.meeting_id) == meeting.id, col(AgendaItem.removed).is_(False))
                .order_by(col(AgendaItem.position), col(AgendaItem.created_at))
            )
        ).scalars()
    )
    old = order.index(item.id)
    new = max(0, min(len(order) - 1, old + by))
    if new == old:
        return None
    order.insert(new, order.pop(old))
    await reorder(session, meeting, order)
    return order


async def addable_cases(session: AsyncSession, meeting: Meeting, *, limit: int = 500) -> list[Any]:
    """What the chair can put on the agenda: the open cases of the meeting's conference that are
    not on it (a removed item counts as not on it: adding it again restores it). Rows of
    (case_id, client_number, name), by client number."""
    on_agenda = sa.select(col(AgendaItem.case_id)).where(
        col(AgendaItem.meeting_id) == meeting.id,
        col(AgendaItem.removed).is_(False),
        col(AgendaItem.case_id).is_not(None),
    )
    rows: Any = await session.execute(
        sa.select(col(Case.id).label("case_id"), col(Client.client_number), col(Client.name))
        .join(Client, col(Client.id) == col(Case.client_id))
        .where(
            col(Case.conference_id) == meeting.conference_id,
            case_is_open(),
            col(Case.id).not_in(on_agenda),
        )
        .order_by(col(Client.client_number))
        .limit(limit)
    )
    return list(rows.all())


def _check_time_box(minutes: int, length: int, pointer: str) -> None:
    if minutes <= 0:
        raise UnprocessableEntity("A time box must be at least one minute.", pointer=pointer)
    if minutes > length:
        raise UnprocessableEntity(
            f"A time box cannot exceed the meeting's length ({length} minutes).", pointer=pointer
        )


async def set_time_box(
    session: AsyncSession, meeting: Meeting, item_id: uuid.UUID, minutes: int
) -> AgendaItem:
    _require_draft(meeting)
    item = await _item(session, meeting, item_id)
    if item.removed:
        raise NotFound("agenda item")
    _check_time_box(minutes, meeting_minutes(meeting), "#/time_box_minutes")
    item.time_box_minutes = minutes
    await session.flush()
    await bump(session, meeting)
    return item


async def publish(session: AsyncSession, meeting: Meeting) -> Meeting:
    """Publish: members now see the agenda; the discussion requests it carries are handled."""
    _require_draft(meeting)
    now = clock.now()
    await session.execute(
        sa.update(DiscussionRequest)
        .where(
            col(DiscussionRequest.conference_id) == meeting.conference_id,
            col(DiscussionRequest.handled_at).is_(None),
            col(DiscussionRequest.case_id).in_(
                sa.select(col(AgendaItem.case_id)).where(
                    col(AgendaItem.meeting_id) == meeting.id,
                    col(AgendaItem.kind) == "case",
                    col(AgendaItem.removed).is_(False),
                )
            ),
        )
        .values(handled_in_meeting_id=meeting.id, handled_at=now)
    )
    await bump(session, meeting, agenda_status=AgendaStatus.published, published_at=now)
    await meeting_events.emit(
        session,
        meeting_events.AGENDA_PUBLISHED,
        {"meeting_id": meeting.id, "conference_id": meeting.conference_id},
    )
    return meeting


async def reopen(session: AsyncSession, meeting: Meeting) -> Meeting:
    require_open(meeting, "agenda changes")
    if meeting.agenda_status != AgendaStatus.published:
        raise Conflict("The agenda is not published.")
    decided = (
        await session.execute(
            sa.select(sa.func.count()).select_from(Decision).where(col(Decision.meeting_id) == meeting.id)
        )
    ).scalar_one()
    if decided:
        raise Conflict("Decisions have been recorded on this agenda; it can no longer be reopened.")
    return await bump(session, meeting, agenda_status=AgendaStatus.draft)


async def create_request(
    session: AsyncSession, principal: Principal, *, case: Case, membership_id: uuid.UUID, reason: str
) -> DiscussionRequest:
    if case.phase == Phase.closed:
        raise UnprocessableEntity("A closed case cannot be put on the agenda.", pointer="#/case_id")
    request = DiscussionRequest(
        conference_id=case.conference_id,
        case_id=case.id,
        requested_by_id=membership_id,
        organisation_id=principal.organisation_id,
        reason=reason,
    )
    session.add(request)
    await session.flush()
    return request
