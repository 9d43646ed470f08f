"""Benchmark (acceptance 4): build the agenda of a conference with 200 active cases, 5,000 actions
and 20,000 events, repeatedly; report p50/p95 server time and the SQL statement count.

    python -m bench.agenda [--runs 200]

Uses the embedded PostgreSQL under .data/ (or DATABASE_URL's server) and a throw-away database.
Events: the agenda reads the flags that partner events raise (`case_flag`, one row per relapse or
other serious event); the benchmark seeds the 20,000 events as such flags, all but the first
of each case and kind already cleared (one open flag per kind and case, a unique index), so the
flag path is measured at that volume.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import sqlalchemy as sa

from app import migrations
from app.clock import clock
from app.config import PROJECT_ROOT
from app.db import APP_ROLE, Database, embedded_urls, start_embedded_postgres
from app.models import Meeting
from app.services.meetings import agenda
from bench.registry import Figure, register

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CADENCE = {
    "weekday": "tuesday",
    "interval_weeks": 2,
    "time": "10:00",
    "timezone": "Europe/Amsterdam",
    "duration_minutes": 120,
    "anchor": "2026-01-06",
}


SEED = """
INSERT INTO organisation (id, name, slug, kind, claim_mapping, created_at)
SELECT gen_random_uuid(), k, k, k, '{}', now()
FROM unnest(ARRAY['municipality', 'police', 'addiction_care', 'housing']) AS k;

INSERT INTO conference (id, name, municipality, cadence, retention_days, created_at)
VALUES (:conf, 'Bench', 'Benchstad', CAST(:cadence AS jsonb), 730, now());

INSERT INTO conference_organisation (conference_id, organisation_id) SELECT :conf, id FROM organisation;

INSERT INTO membership (id, conference_id, organisation_id, issuer, subject, display_name, role, active,
                        created_at)
SELECT gen_random_uuid(), :conf, o.id, 'https://idp/' || o.slug, 'member-' || o.slug, 'Lid ' || o.slug,
       CASE WHEN o.slug = 'municipality' THEN 'chair' ELSE 'member' END, true, now()
FROM organisation o;

INSERT INTO client (id, conference_id, client_number, name, created_at)
SELECT gen_random_uuid(), :conf, 'B' || lpad(i::text, 6, '0'), 'Client ' || i, now()
FROM generate_series(1, 260) AS i;

-- 200 open cases (selected .. monitoring) and 60 closed ones
INSERT INTO "case" (id, conference_id, client_id, phase, case_director_id, priority, substances,
                    next_review_date,
                    opened_on, opened_at, updated_at, version, closure_reason, closed_at)
SELECT gen_random_uuid(), :conf, c.id,
       CASE WHEN n > 200 THEN 'closed'
            ELSE (ARRAY['selected', 'prioritised', 'active', 'monitoring'])[1 + n % 4] END,
       (SELECT id FROM membership LIMIT 1),
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + n % 4], '{}',
       CAST(:today AS date) + CAST((n * 7) % 90 - 30 AS int),
       CAST(:today AS date) - 200, now(), now(), 1,
       CASE WHEN n > 200 THEN 'other' END, CASE WHEN n > 200 THEN now() END
FROM (SELECT id, row_number() OVER (ORDER BY client_number) AS n FROM client) c;

INSERT INTO action (id, case_id, conference_id, title, description, life_domain, owner_organisation_id,
                    due_date, status, committed_by_id, coverage, note, created_at, updated_at, version)
SELECT gen_random_uuid(), cs.id, :conf, 'Actie ' || i, '', 'housing',
       (SELECT id FROM organisation ORDER BY slug OFFSET (i % 4) LIMIT 1),
       CAST(:today AS date) + CAST(i % 121 - 60 AS int),
       (ARRAY['open', 'open', 'open', 'in_progress', 'done', 'done', 'blocked', 'cancelled'])[1 + i % 8],
       (SELECT id FROM membership LIMIT 1),
       CASE WHEN i % 20 = 0 THEN 'escalation_required' ELSE 'not_applicable' END, '', now(), now(), 1
FROM generate_series(1, 5000) AS i
JOIN LATERAL (SELECT id FROM "case" WHERE phase <> 'closed' ORDER BY id OFFSET (i % 200) LIMIT 1) cs ON true;

INSERT INTO case_flag (id, case_id, reason, kind, label, severity, created_at, cleared_at)
SELECT gen_random_uuid(), cs.id, 'signaal ' || i,
       (ARRAY['relapse', 'police_contact', 'nuisance', 'missed_appointment', 'admission'])[1 + i % 5],
       'general', 'high', CAST(:now AS timestamptz) - make_interval(hours => (i * 37) % (24 * 180)),
       CASE WHEN i % 3 = 0 OR i > 260 THEN CAST(:now AS timestamptz) END  -- one open flag per kind and case
FROM generate_series(1, 20000) AS i
JOIN LATERAL (SELECT id FROM "case" ORDER BY id OFFSET (i % 260) LIMIT 1) cs ON true;

INSERT INTO referral (id, conference_id, client_id, referred_by_id, referring_organisation_id, reason, status,
                      kind, created_at, version)
SELECT gen_random_uuid(), :conf, c.id, m.id, m.organisation_id, 'Aanmelding', 'pending', 'professional',
       CAST(:now AS timestamptz) - interval '2 days', 1
FROM (SELECT id FROM client ORDER BY client_number DESC LIMIT 30) c, (SELECT * FROM membership LIMIT 1) m;

INSERT INTO discussion_request (id, conference_id, case_id, requested_by_id, organisation_id, reason,
                                created_at)
SELECT gen_random_uuid(), :conf, cs.id, m.id, m.organisation_id, 'Graag bespreken',
       CAST(:now AS timestamptz) - interval '1 day'
FROM (SELECT id FROM "case" WHERE phase <> 'closed' ORDER BY id LIMIT 50) cs,
     (SELECT * FROM membership LIMIT 1) m;

-- the previous meeting, two weeks ago, discussed every open case
INSERT INTO meeting (id, conference_id, starts_at, ends_at, status, ad_hoc, agenda_status, published_at,
                     created_at, updated_at, version)
VALUES (:previous, :conf, CAST(:now AS timestamptz) - interval '13 days',
        CAST(:now AS timestamptz) - interval '13 days' + interval '2 hours', 'held', false, 'published',
        CAST(:now AS timestamptz) - interval '14 days', now(), now(), 1);
INSERT INTO agenda_item (id, meeting_id, kind, case_id, reasons, urgency, position, time_box_minutes,
                         added_by_chair, removed, created_at)
SELECT gen_random_uuid(), :previous, 'case', id, '[]', 5, row_number() OVER (), 10, false, false, now()
FROM "case" WHERE phase <> 'closed';

INSERT INTO meeting (id, conference_id, starts_at, ends_at, status, ad_hoc, agenda_status, created_at,
                     updated_at,
                     version)
VALUES (:meeting, :conf, CAST(:now AS timestamptz) + interval '1 day',
        CAST(:now AS timestamptz) + interval '1 day 2 hours', 'scheduled', false, 'draft', now(), now(), 1);
"""


async def bare_aggregation(app_url: str, params: dict[str, object], runs: int) -> float:
    """The agenda's aggregation query alone, run with bare asyncpg: p50 ms of the round trip."""
    import re

    sql = agenda._AGENDA_SQL.replace("{flags}", agenda._FLAGS)
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"(?<![:\w]):(\w+)", placeholder, sql)
    conn = await asyncpg.connect(app_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        statement = await conn.prepare(sql)
        timings = []
        for i in range(runs + 5):
            started = time.perf_counter()
            await statement.fetch(*[params[n] for n in names])
            if i >= 5:
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        await conn.close()
    return statistics.median(timings)


async def main(runs: int, explain: bool = False, figures: list[Figure] | None = None) -> None:
    socket_dir = start_embedded_postgres(PROJECT_ROOT / ".data")
    name = f"bench_agenda_{uuid.uuid4().hex[:8]}"
    urls = embedded_urls(socket_dir, name)
    admin = f"postgresql://postgres@/postgres?host={socket_dir}"
    conn = await asyncpg.connect(admin)
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
        await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    try:
        await asyncio.to_thread(migrations.upgrade, urls.owner)
        owner = Database(urls.owner, pool_size=2)
        conf, meeting_id, previous = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with owner.engine.begin() as c:
            params = {
                "conf": conf,
                "cadence": json.dumps(CADENCE),
                "today": NOW.date(),
                "now": NOW,
                "meeting": meeting_id,
                "previous": previous,
            }
            for statement in SEED.split(";\n"):
                body = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
                if body.strip():
                    await c.execute(sa.text(body), {k: v for k, v in params.items() if f":{k}" in body})
            await c.execute(sa.text("ANALYZE"))
            counts = (
                await c.execute(
                    sa.text(
                        "SELECT (SELECT count(*) FROM \"case\" WHERE phase <> 'closed'), "
                        "(SELECT count(*) FROM action), "
                        "(SELECT count(*) FROM case_flag)"
                    )
                )
            ).one()
        await owner.dispose()
        print(
            f"seeded: {counts[0]} open cases, {counts[1]} actions, {counts[2]} events (case_flag rows)"
        )

        clock.freeze(NOW)
        db = Database(urls.app, pool_size=2)
        statements = 0

        seen: list[str] = []

        def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            nonlocal statements
            statements += 1
            seen.append(statement.strip().split()[0])

        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        per_statement: dict[str, list[float]] = {}
        mark: list[float] = [0.0]

        def before(*_args: object) -> None:
            mark[0] = time.perf_counter()

        def after(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            per_statement.setdefault(statement.strip().split()[0], []).append(
                (time.perf_counter() - mark[0]) * 1000
            )

        sa.event.listen(db.engine.sync_engine, "before_cursor_execute", before)
        sa.event.listen(db.engine.sync_engine, "after_cursor_execute", after)
        commits: list[float] = []
        timings: list[float] = []
        per_run: set[int] = set()
        items = 0
        for i in range(runs + 5):
            async with db.sessions() as session:
                meeting = await session.get(Meeting, meeting_id)
                assert meeting is not None
                statements = 0
                started = time.perf_counter()
                items = (await agenda.build_draft(session, meeting, CADENCE)).items
                committing = time.perf_counter()
                await session.commit()
                elapsed = time.perf_counter() - started
                commits.append((time.perf_counter() - committing) * 1000)
            if i == 5:
                print("statements of one build:", seen[-statements:])
            if i >= 5:  # warm-up runs are not counted
                timings.append(elapsed * 1000)
                per_run.add(statements)
        if explain:
            async with db.sessions() as session:
                meeting = await session.get(Meeting, meeting_id)
                assert meeting is not None
                started = time.perf_counter()
                found = await agenda.candidates(session, meeting, CADENCE)
                print(
                    f"candidates() alone: {(time.perf_counter() - started) * 1000:.1f} ms, {len(found)} rows"
                )
                for _ in range(3):
                    started = time.perf_counter()
                    found = await agenda.candidates(session, meeting, CADENCE)
                    print(f"candidates() again: {(time.perf_counter() - started) * 1000:.1f} ms")
                started = time.perf_counter()
                raw = (
                    await session.execute(
                        sa.text(agenda._AGENDA_SQL.replace("{flags}", agenda._FLAGS)),
                        {
                            "conf": conf,
                            "meeting": meeting_id,
                            "starts_at": meeting.starts_at,
                            "today": NOW.date(),
                            "meeting_day": NOW.date() + timedelta(days=1),
                        },
                    )
                ).all()
                print(
                    f"aggregation query round trip: {(time.perf_counter() - started) * 1000:.1f} ms, "
                    f"{len(raw)} rows"
                )
                sql = "EXPLAIN (ANALYZE, BUFFERS) " + agenda._AGENDA_SQL.replace(
                    "{flags}", agenda._FLAGS
                )
                plan = await session.execute(
                    sa.text(sql),
                    {
                        "conf": conf,
                        "meeting": meeting_id,
                        "starts_at": meeting.starts_at,
                        "today": NOW.date(),
                        "meeting_day": NOW.date() + timedelta(days=1),
                    },
                )
                print("\n".join(r[0] for r in plan))
        compute: list[float] = []
        compute_statements: set[int] = set()
        async with db.sessions() as session:
            meeting = await session.get(Meeting, meeting_id)
            assert meeting is not None
            for i in range(runs + 5):
                statements = 0
                started = time.perf_counter()
                found = await agenda.candidates(session, meeting, CADENCE)
                if i >= 5:
                    compute.append((time.perf_counter() - started) * 1000)
                    compute_statements.add(statements)
        await db.dispose()
        compute.sort()
        if figures is not None:
            bare = await bare_aggregation(urls.app, {
                "conf": conf, "meeting": meeting_id, "starts_at": meeting.starts_at,
                "today": NOW.date(), "meeting_day": NOW.date() + timedelta(days=1)}, runs)
            print(f"bare asyncpg, the aggregation query alone: p50 {bare:.1f} ms")
            figures.append(Figure("compute the agenda (200 cases, 5,000 actions, 20,000 events), p50",
                                  statistics.median(compute), "ms", bare, "its SQL via bare asyncpg",
                                  higher_is_better=False, goal="one statement",
                                  met=compute_statements == {1}))
        print(f"compute the agenda (aggregation query + reasons, read-only): {runs} runs, {len(found)} items")
        print(
            f"  p50 {statistics.median(compute):.1f} ms   p95 {compute[int(len(compute) * 0.95) - 1]:.1f} ms"
            f"   statements per build: {sorted(compute_statements)}"
        )
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"regenerate the draft (compute + replace items + commit): {runs} runs, {items} agenda items")
        print(f"  p50 {p50:.1f} ms   p95 {p95:.1f} ms   max {timings[-1]:.1f} ms")
        print(f"  SQL statements per build: {sorted(per_run)} (constant: {len(per_run) == 1})")
        if figures is not None:
            figures.append(Figure("regenerate the draft with writes, p50", p50, "ms", higher_is_better=False,
                                  goal="constant statements", met=len(per_run) == 1))
        print(
            "  median per statement (ms): "
            + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in per_statement.items())
            + f", COMMIT {statistics.median(commits):.1f}"
        )
    finally:
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@register("agenda", "build the agenda of a large conference (200 cases, 5,000 actions, 20,000 events)")
async def collect(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    await main(30 if quick else 200, figures=figures)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print the query plan of the aggregation")
    parser.add_argument("--profile", action="store_true", help="cProfile the regenerate loop")
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profiler:
            asyncio.run(main(args.runs, args.explain))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    else:
        asyncio.run(main(args.runs, args.explain))
