"""The outcome figures of one conference, counted in PostgreSQL by one statement.

Every figure is a scalar subquery of the one SELECT below, over the same filtered set of cases
(the conference, and the area when one is asked), so one round trip answers the dashboard and
nothing is counted row by row in Python. The result is raw counts; suppression of small numbers
happens after (app/services/outcomes/suppression.py), before anything leaves the service.

Definitions (the page and docs/outcomes.md say the same in Dutch):
- the period is [from 00:00, to + 1 day 00:00) in the conference's time zone, cut off at now;
- a case's phases come from its history (change_record rows that changed `phase`); a case
  without such history has been in its current phase since it opened;
- cases per phase: the phase of every case at the end of each month (or at the period's end);
- time in a phase: stays in a phase that ended within the period;
- referral to first action / first discussion: referrals made in the period; the first action
  created on its case; the first discussion is the first published agenda of a meeting that was
  not cancelled and carried the referral or its case, or the first decision on the case;
- actions on time: actions (not cancelled) whose due date lies in the period and has passed; done
  on time when marked done on or before the due date (the history's last change to done);
- escalations: actions created in the month that needed a mandate escalation, by whether they
  are still open;
- ZRM: per life domain, the first and the latest assessment of a case within the period (cases
  with at least two);
- signals: relapse and lapse events of the cases' clients, by the event's own time; clients
  without a signal: clients with a case open at the period's end, by whether a signal came in
  the 6 or 12 months before it;
- aftercare: watches that ended within the period, by whether a relapse or lapse came in during
  the watch;
- consultations (spreekuur): asked in the month, by where they stand now (open, answered, turned
  into a referral); anonymous, so they have no area and are left out when an area is asked."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.cloudevents import EventType
from app.models.enums import ActionStatus, AgendaStatus, Coverage, MeetingStatus
from app.models.predicates import open_action_sql, open_case_sql

OUTCOMES_SQL = sa.text(f"""
WITH p AS (
    SELECT CAST(:start AS date) AS d_from, CAST(:end AS date) AS d_to, CAST(:area AS text) AS area,
           CAST(:now AS timestamptz) AS t_now, CAST(:tz AS text) AS tz
),
w AS (
    SELECT p.*, (p.d_from::timestamp AT TIME ZONE p.tz) AS t_from,
           least(((p.d_to + 1)::timestamp AT TIME ZONE p.tz), p.t_now) AS t_to,
           (p.t_now AT TIME ZONE p.tz)::date AS today
    FROM p
),
cases AS (
    SELECT c.id, c.client_id, c.opened_at, c.closed_at, c.phase,
           ({open_case_sql("c")}) AS is_open
    FROM "case" c CROSS JOIN w
    WHERE c.conference_id = CAST(:conference_id AS uuid) AND (w.area IS NULL OR c.area = w.area)
),
months AS (
    SELECT m::date AS month,
           greatest(m AT TIME ZONE w.tz, w.t_from) AS m_from,
           least((m + interval '1 month') AT TIME ZONE w.tz, w.t_to) AS m_to
    FROM w, generate_series(date_trunc('month', w.d_from::timestamp), date_trunc('month', w.d_to::timestamp),
                            interval '1 month') AS m
    WHERE (m AT TIME ZONE w.tz) < w.t_to
),
phase_records AS (
    SELECT r.case_id, r.changed_at AS at, r.changes->'phase'->>'to' AS phase,
           r.changes->'phase'->>'from' AS before,
           row_number() OVER (PARTITION BY r.case_id ORDER BY r.changed_at, r.version) AS n
    FROM change_record r JOIN cases c ON c.id = r.case_id
    WHERE r.entity_type = 'case' AND r.changes->'phase' IS NOT NULL
),
phase_points AS (
    SELECT case_id, at, phase FROM phase_records
    UNION ALL
    SELECT c.id, c.opened_at, coalesce(f.before, c.phase)
    FROM cases c LEFT JOIN phase_records f ON f.case_id = c.id AND f.n = 1
    WHERE f.case_id IS NULL OR f.before IS NOT NULL
),
spans AS (
    SELECT case_id, phase, at AS started, lead(at) OVER (PARTITION BY case_id ORDER BY at) AS ended
    FROM phase_points
),
refs AS (
    SELECT r.id, r.created_at,
           (SELECT min(a.created_at) FROM action a WHERE a.case_id = r.case_id) AS first_action,
           least(
               (SELECT min(m.starts_at) FROM agenda_item i JOIN meeting m ON m.id = i.meeting_id
                 WHERE (i.referral_id = r.id OR i.case_id = r.case_id) AND NOT i.removed
                   AND m.status <> :cancelled_meeting AND m.agenda_status = :published
                   AND m.starts_at >= r.created_at AND m.starts_at <= w.t_now),
               (SELECT min(d.created_at) FROM decision d WHERE d.case_id = r.case_id)
           ) AS first_discussion
    FROM referral r CROSS JOIN w LEFT JOIN cases c ON c.id = r.case_id
    WHERE r.conference_id = CAST(:conference_id AS uuid) AND r.created_at >= w.t_from AND r.created_at < w.t_to
      AND (w.area IS NULL OR c.id IS NOT NULL)
),
done_at AS (
    SELECT r.entity_id AS action_id, max(r.changed_at) AS at
    FROM change_record r JOIN cases c ON c.id = r.case_id
    WHERE r.entity_type = 'action' AND r.changes->'status'->>'to' = :done
    GROUP BY r.entity_id
),
signals AS (
    SELECT e.client_id, e.type, e.occurred_at FROM partner_event e
    WHERE e.type IN (:relapse, :lapse) AND e.client_id IN (SELECT client_id FROM cases)
),
assess AS (
    SELECT a.case_id, a.scores,
           row_number() OVER (PARTITION BY a.case_id ORDER BY a.assessed_on) AS first_n,
           row_number() OVER (PARTITION BY a.case_id ORDER BY a.assessed_on DESC) AS last_n,
           count(*) OVER (PARTITION BY a.case_id) AS k
    FROM assessment a JOIN cases c ON c.id = a.case_id CROSS JOIN w
    WHERE a.assessed_on BETWEEN w.d_from AND w.d_to
),
zrm AS (
    SELECT s.key AS domain, (s.value)::int AS first, (l.scores->>s.key)::int AS latest
    FROM assess f JOIN assess l ON l.case_id = f.case_id AND l.last_n = 1
    CROSS JOIN LATERAL jsonb_each_text(f.scores) AS s
    WHERE f.first_n = 1 AND f.k >= 2 AND s.value IS NOT NULL AND l.scores->>s.key IS NOT NULL
)
SELECT
    (SELECT coalesce(json_agg(month ORDER BY month), '[]') FROM months) AS months,
    (SELECT coalesce(json_agg(json_build_object('month', x.month, 'phase', x.phase, 'n', x.n)), '[]') FROM (
        SELECT m.month, s.phase, count(*) AS n
        FROM months m JOIN spans s ON s.started < m.m_to AND (s.ended IS NULL OR s.ended >= m.m_to)
        GROUP BY m.month, s.phase) x) AS phases_by_month,
    (SELECT coalesce(json_agg(json_build_object('phase', x.phase, 'n', x.n, 'median', x.median, 'mean', x.mean)),
                     '[]') FROM (
        SELECT s.phase, count(*) AS n,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM s.ended - s.started) / 86400)
                   AS median,
               avg(extract(epoch FROM s.ended - s.started) / 86400) AS mean
        FROM spans s CROSS JOIN w WHERE s.ended >= w.t_from AND s.ended < w.t_to
        GROUP BY s.phase) x) AS time_in_phase,
    (SELECT json_build_object(
        'n', count(*),
        'with_action', count(first_action),
        'action_median', percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(epoch FROM first_action - created_at) / 86400),
        'with_discussion', count(first_discussion),
        'discussion_median', percentile_cont(0.5) WITHIN GROUP (
            ORDER BY extract(epoch FROM first_discussion - created_at) / 86400))
     FROM refs) AS referrals,
    (SELECT coalesce(json_agg(json_build_object('organisation', x.name, 'on_time', x.on_time, 'late', x.late,
                                                'not_done', x.not_done) ORDER BY x.name, x.id), '[]') FROM (
        SELECT o.id, o.name,
               count(*) FILTER (WHERE a.status = :done
                                AND (coalesce(d.at, a.updated_at) AT TIME ZONE w.tz)::date <= a.due_date) AS on_time,
               count(*) FILTER (WHERE a.status = :done
                                AND (coalesce(d.at, a.updated_at) AT TIME ZONE w.tz)::date > a.due_date) AS late,
               count(*) FILTER (WHERE a.status <> :done) AS not_done
        FROM action a JOIN cases c ON c.id = a.case_id JOIN organisation o ON o.id = a.owner_organisation_id
        CROSS JOIN w LEFT JOIN done_at d ON d.action_id = a.id
        WHERE a.status <> :cancelled AND a.due_date >= w.d_from AND a.due_date <= least(w.d_to, w.today - 1)
        GROUP BY o.id, o.name) x) AS actions_on_time,
    (SELECT coalesce(json_agg(json_build_object('month', x.month, 'open', x.open, 'handled', x.handled)), '[]')
     FROM (
        SELECT m.month, count(*) FILTER (WHERE {open_action_sql("a")}) AS open,
               count(*) FILTER (WHERE NOT ({open_action_sql("a")})) AS handled
        FROM months m JOIN action a ON a.created_at >= m.m_from AND a.created_at < m.m_to
        JOIN cases c ON c.id = a.case_id
        WHERE a.coverage = :escalation
        GROUP BY m.month) x) AS escalations,
    (SELECT coalesce(json_agg(json_build_object('domain', x.domain, 'improved', x.improved, 'same', x.same,
                                                'worse', x.worse, 'first', x.first, 'latest', x.latest)), '[]')
     FROM (
        SELECT domain, count(*) FILTER (WHERE latest > first) AS improved,
               count(*) FILTER (WHERE latest = first) AS same, count(*) FILTER (WHERE latest < first) AS worse,
               avg(first) AS first, avg(latest) AS latest
        FROM zrm GROUP BY domain) x) AS zrm,
    (SELECT coalesce(json_agg(json_build_object('month', x.month, 'relapse', x.relapse, 'lapse', x.lapse)), '[]')
     FROM (
        SELECT m.month, count(*) FILTER (WHERE s.type = :relapse) AS relapse,
               count(*) FILTER (WHERE s.type = :lapse) AS lapse
        FROM months m JOIN signals s ON s.occurred_at >= m.m_from AND s.occurred_at < m.m_to
        GROUP BY m.month) x) AS signals_by_month,
    (SELECT coalesce(json_agg(json_build_object('months', x.months, 'clients', x.clients,
                                                'with_signal', x.with_signal)), '[]')
     FROM (
        SELECT win.months, count(*) AS clients,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM signals s WHERE s.client_id = o.client_id
                      AND s.occurred_at >= w.t_to - make_interval(months => win.months)
                      AND s.occurred_at < w.t_to)) AS with_signal
        FROM (SELECT DISTINCT c.client_id FROM cases c CROSS JOIN w
              WHERE c.opened_at < w.t_to AND (c.is_open OR c.closed_at >= w.t_to)) o
        CROSS JOIN w CROSS JOIN (VALUES (6), (12)) AS win(months)
        GROUP BY win.months) x) AS without_signal,
    (SELECT json_build_object(
        'n', count(*),
        'with_relapse', count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM signals s WHERE s.client_id = aw.client_id
               AND s.occurred_at >= aw.started_at AND s.occurred_at < aw.ends_at)))
     FROM aftercare_watch aw JOIN cases c ON c.id = aw.case_id CROSS JOIN w
     WHERE aw.ends_at >= w.t_from AND aw.ends_at < w.t_to) AS aftercare,
    (SELECT coalesce(json_agg(json_build_object('month', x.month, 'status', x.status, 'n', x.n)), '[]') FROM (
        SELECT m.month, q.status, count(*) AS n
        FROM months m JOIN consultation q ON q.created_at >= m.m_from AND q.created_at < m.m_to CROSS JOIN w
        WHERE q.conference_id = CAST(:conference_id AS uuid) AND w.area IS NULL
        GROUP BY m.month, q.status) x) AS consultations,
    (SELECT coalesce(json_agg(x.area ORDER BY x.area), '[]') FROM (
        SELECT c.area FROM "case" c WHERE c.conference_id = CAST(:conference_id AS uuid) AND c.area IS NOT NULL
        GROUP BY c.area HAVING count(*) >= :threshold) x) AS areas
""")  # noqa: S608 (only states from app/models/predicates.py are put in)


@dataclass(frozen=True)
class Filters:
    conference_id: uuid.UUID
    start: date
    end: date
    area: str | None
    timezone: str


async def raw_figures(session: AsyncSession, filters: Filters, *, now: datetime, threshold: int) -> dict[str, Any]:
    """The raw counts of every figure: one statement, one row of JSON columns."""
    row = (await session.execute(OUTCOMES_SQL, {
        "conference_id": filters.conference_id, "start": filters.start, "end": filters.end,
        "area": filters.area, "now": now, "tz": filters.timezone, "threshold": threshold,
        "done": ActionStatus.done.value, "cancelled": ActionStatus.cancelled.value,
        "escalation": Coverage.escalation_required.value,
        "relapse": EventType.relapse.value, "lapse": EventType.lapse.value,
        "published": AgendaStatus.published.value, "cancelled_meeting": MeetingStatus.cancelled.value,
    })).mappings().one()
    return dict(row)
