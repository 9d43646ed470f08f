"""The request paths of issue 16, each against a bare Starlette + asyncpg endpoint that runs the
same SELECTs, in the same run, in alternating rounds.

    python -m bench.paths [--seconds 10] [--rounds 3] [--connections 16] [--workers 2] [--only detail,list]

What it does:
1. A throw-away database on the embedded PostgreSQL, migrated; a loopback identity provider with
   real signed tokens; seed data: a case with 50 actions and an assessment, 10,000 more cases in
   the same conference (the list shows 50 of 10,001), 230 of them due for review (the agenda),
   a partner system and client references (events).
2. One request per path in this process (ASGI, warm token cache) records the statements our
   service runs (counted at the asyncpg driver, BEGIN/COMMIT included): the statements-per-request
   column, and the SELECTs (with their parameters) that the bare endpoint replays.
3. Our service and the bare one under uvicorn with the same number of workers; per path, rounds
   alternate ours / bare, with wrk (-t1) when installed, else an httpx load loop. The agenda rows
   are latencies at one connection with a sequential httpx client (the draft needs each
   answer's ETag for the next If-Match).

The bare side returns the rows as JSON (orjson) in one transaction, nothing else: no token
validation, no policy, no access log, no writes. For the write paths (events, agenda draft) it
replays only the SELECTs, so its figure is a ceiling, not a like-for-like comparison; the goals for
those rows are absolute (events/s, p95).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from app import migrations
from app.config import PROJECT_ROOT, Settings
from app.db import Database
from bench.events import create_database, drop_database, free_port, wait_healthy
from bench.registry import Figure, register
from tests.driver_statements import driver_calls

EXTRA_CASES = 10_000
AGENDA_CASES = 230
DETAIL_ACTIONS = 50
REFERENCES = 500

WRK_SCRIPT = r"""
local counter = 0
ok = 0
local tid = 0
local threads = {}
local path = os.getenv("BENCH_PATH")
local method = os.getenv("BENCH_METHOD")
local token = os.getenv("BENCH_TOKEN")
local batch = tonumber(os.getenv("BENCH_BATCH") or "0")
local run = os.getenv("BENCH_RUN")
local when = os.getenv("BENCH_TIME")
local refs = tonumber(os.getenv("BENCH_REFS") or "1")
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = method
  if token ~= nil and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
  if batch > 0 then
    wrk.headers["Content-Type"] = batch > 1 and "application/cloudevents-batch+json" or "application/cloudevents+json"
  end
end

local function one()
  counter = counter + 1
  return string.format(
    '{"specversion":"1.0","id":"%s-%d-%d","source":"urn:bench:%s","type":"nl.casusoverleg.event.lapse",' ..
    '"subject":"ZRG-%d","time":"%s","data":{"substances":["alcohol"]}}',
    run, tid, counter, run, (counter * 7 + tid) % refs, when)
end

function request()
  if batch == 0 then return wrk.format(nil, path) end
  local body
  if batch > 1 then
    local parts = {}
    for i = 1, batch do parts[i] = one() end
    body = "[" .. table.concat(parts, ",") .. "]"
  else
    body = one()
  end
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, body)
  if status == expect or (expect == 200 and status >= 200 and status < 300) then ok = ok + 1 end
end

function done(summary, latency, requests)
  local acked = 0
  for _, thread in ipairs(threads) do acked = acked + thread:get("ok") end
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"ok":%d,"p50":%d,"p95":%d,"p99":%d}\n',
    summary.requests, summary.duration, acked,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Load:
    """One measured round."""

    rate: float  # requests/s (events/s for event paths: see `unit`)
    ok: int
    requests: int
    p50: float  # ms
    p95: float
    p99: float


@dataclass
class Path_:
    key: str
    title: str
    method: str
    path: str
    person: str | None  # None: no token (the 401 path)
    connections: int | None = None  # None: --connections
    batch: int = 0  # events per request; 0: not an event path
    latency_only: bool = False  # sequential httpx, p95
    expect: int = 200
    goal: str = ""
    statements: int = 0
    bare_statements: int = 0
    selects: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    ours: list[Load] = field(default_factory=list)
    bare: list[Load] = field(default_factory=list)


# --- seed ---------------------------------------------------------------------------------------

# The list's 10,000 more cases in conference A; the agenda's cases in conference B (its size is that
# of a real conference: 260 active cases, 230 of them due for review).
BULK = """
INSERT INTO client (id, conference_id, client_number, name, created_at)
SELECT gen_random_uuid(), :conf, 'P' || lpad(i::text, 7, '0'), NULL, now() - make_interval(days => i % 700)
FROM generate_series(1, :n) AS i;

INSERT INTO client (id, conference_id, client_number, name, created_at)
SELECT gen_random_uuid(), :agenda_conf, 'Q' || lpad(i::text, 7, '0'), NULL, now() - make_interval(days => i)
FROM generate_series(1, :agenda_total) AS i;

INSERT INTO "case" (id, conference_id, client_id, phase, priority, substances, next_review_date, opened_on,
                    opened_at, updated_at, version)
SELECT gen_random_uuid(), c.conference_id, c.id, 'active', 'normal', '{}',
       CASE WHEN c.client_number LIKE 'Q%' AND right(c.client_number, 7)::int <= :agenda
            THEN CAST(:today AS date) END,
       c.created_at::date, c.created_at, now(), 1
FROM client c WHERE c.client_number LIKE 'P%' OR c.client_number LIKE 'Q%';
"""


async def seed(owner_url: str, idp: Any) -> dict[str, Any]:
    from app.clock import clock
    from app.models import Assessment, ClientReference, Meeting, PartnerSystem
    from tests.factories import add_action, add_case, build_world

    db = Database(owner_url, pool_size=2)
    try:
        async with db.sessions() as session:
            world = await build_world(session, idp)
            session.add(PartnerSystem(organisation_id=world.orgs["zorg"].id, name="bench", subject="bench-care",
                                      scopes=["events:write"]))
            detail = await add_case(session, world)
            for i in range(DETAIL_ACTIONS):
                await add_action(session, world, detail, due_in_days=i)
            session.add(Assessment(case_id=detail.id, assessed_on=clock.today(),
                                   assessed_by_id=world.members["care_member"].id,
                                   scores={"housing": 2, "finances": 1}))
            for i in range(REFERENCES):
                case = await add_case(session, world, name=f"Bench {i}", phase="monitoring")
                session.add(ClientReference(client_id=case.client_id, organisation_id=world.orgs["zorg"].id,
                                            reference=f"ZRG-{i}"))
            meeting = Meeting(conference_id=world.b.id, starts_at=clock.now() + timedelta(days=1),
                              ends_at=clock.now() + timedelta(days=1, hours=2))
            session.add(meeting)
            await session.flush()
            for statement in BULK.split(";"):
                if statement.strip():
                    await session.execute(sa.text(statement), {
                        "conf": world.a.id, "n": EXTRA_CASES - REFERENCES, "agenda_conf": world.b.id,
                        "agenda": AGENDA_CASES, "agenda_total": AGENDA_CASES + 30, "today": clock.today()})
            await session.commit()
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("VACUUM ANALYZE"))  # as autovacuum would have by now
        return {"world": world, "detail": detail.id, "meeting": meeting.id}
    finally:
        await db.dispose()


# --- statements of one request, in this process -----------------------------------------------------

WRITING_FUNCTIONS = ("access_log_append(",)  # SELECTs that write: not replayed by the bare side


def _is_select(statement: str) -> bool:
    if any(f in statement for f in WRITING_FUNCTIONS):
        return False
    head = statement.lstrip().split(None, 1)[0].upper()
    if head == "SELECT":
        return " FOR UPDATE" not in statement.upper()
    if head == "WITH":
        upper = statement.upper()
        return not any(w in upper for w in ("INSERT ", "UPDATE ", "DELETE "))
    return False


async def capture(paths: list[Path_], settings: Settings, tokens: dict[str | None, str],
                  bodies: Callable[[Path_], tuple[bytes | None, dict[str, str]]]) -> None:
    from app.main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            agenda = next((p for p in paths if p.key == "agenda"), None)
            if agenda is not None and not any(p.key == "draft" for p in paths):
                # The agenda's items are written by its draft: without the draft path, draft it
                # once here, or the GET would measure an empty agenda.
                headers = {"Authorization": f"Bearer {tokens[agenda.person]}"}
                got = await client.get(agenda.path, headers=headers)
                drafted = await client.post(agenda.path + "/draft",
                                            headers={**headers, "If-Match": got.headers.get("ETag", "")})
                if not drafted.is_success:
                    raise RuntimeError(f"agenda draft: {drafted.status_code} {drafted.text[:300]}")
            for p in paths:
                for _attempt in range(2):  # the first one fills the token cache and plans
                    body, headers = bodies(p)
                    if p.person is not None:
                        headers["Authorization"] = f"Bearer {tokens[p.person]}"
                    if p.key == "draft":
                        got = await client.get(p.path.replace("/draft", ""), headers=headers)
                        headers["If-Match"] = got.headers.get("ETag", "")
                    # Counted at the driver: SQLAlchemy's statements, SQL text run on the
                    # session's asyncpg connection, and BEGIN/COMMIT.
                    with driver_calls() as seen:
                        response = await client.request(p.method, p.path, content=body, headers=headers)
                    if not (response.status_code == p.expect or (p.expect == 200 and response.is_success)):
                        raise RuntimeError(f"{p.key}: {response.status_code} {response.text[:300]}")
                p.statements = len(seen)
                p.selects = [(s, params) for s, params in seen if _is_select(s)]
                p.bare_statements = len(p.selects) + 2 if p.selects else 0
                if p.batch:  # the bare side stores the events: BEGIN, resolve-and-insert, COMMIT
                    p.selects, p.bare_statements = [], 3


# --- servers -------------------------------------------------------------------------------------------

def _serve(target: str, port: int, workers: int, env: dict[str, str], log: Path | None = None
           ) -> subprocess.Popen[bytes]:
    """`log`: where the server's output goes (the service's request lines at INFO, as in
    production, written to a file: not through the terminal or a pipe read by another process on
    the same cores)."""
    cmd = [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    output = log.open("ab") if log is not None else None
    try:
        return subprocess.Popen(cmd, env={**os.environ, **env}, cwd=PROJECT_ROOT, start_new_session=True,
                                stdout=output, stderr=output)
    finally:
        if output is not None:
            output.close()


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


# --- load ----------------------------------------------------------------------------------------------

def _wrk(base: str, p: Path_, path: str, token: str | None, seconds: int, connections: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = {**os.environ, "BENCH_PATH": path, "BENCH_METHOD": p.method, "BENCH_TOKEN": token or "",
           "BENCH_BATCH": str(p.batch), "BENCH_RUN": f"r{uuid.uuid4().hex[:8]}", "BENCH_REFS": str(REFERENCES),
           "BENCH_EXPECT": str(p.expect if path.startswith("/api") else 200),
           "BENCH_TIME": (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name, base]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    os.unlink(script.name)
    data = json.loads(next(x for x in out.splitlines() if x.startswith("BENCH "))[6:])
    seconds_run = data["duration_us"] / 1e6
    per = max(p.batch, 1)
    return Load(data["ok"] * per / seconds_run, data["ok"], data["requests"], data["p50"] / 1000,
                data["p95"] / 1000, data["p99"] / 1000)


async def _httpx(base: str, p: Path_, path: str, token: str | None, seconds: int, connections: int,
                 bodies: Callable[[Path_], tuple[bytes | None, dict[str, str]]]) -> Load:
    latencies: list[float] = []
    ok = 0
    stop = time.monotonic() + seconds
    etag = ""

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def worker() -> None:
            nonlocal ok, etag
            while time.monotonic() < stop:
                body, headers = bodies(p)
                if token:
                    headers["Authorization"] = f"Bearer {token}"
                if p.key == "draft" and path.startswith("/api"):
                    if not etag:
                        etag = (await client.get(path.replace("/draft", ""), headers=headers)).headers["ETag"]
                    headers["If-Match"] = etag
                started = time.perf_counter()
                response = await client.request(p.method, path, content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                etag = response.headers.get("ETag", etag)
                expected = p.expect if path.startswith("/api") else 200
                ok += response.status_code == expected or (expected == 200 and response.is_success)

        started = time.monotonic()
        await asyncio.gather(*[worker() for _ in range(connections)])
        elapsed = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [latencies[0]] * 99
    return Load(ok * max(p.batch, 1) / elapsed, ok, len(latencies), q[49], q[94], q[98])


# --- the run -----------------------------------------------------------------------------------------

def _paths(ids: dict[str, Any]) -> list[Path_]:
    conf = ids["world"].a.id
    return [
        Path_("detail", f"case detail, {DETAIL_ACTIONS} actions", "GET", f"/api/v1/cases/{ids['detail']}",
              "care_member", goal=">= 0.6"),
        Path_("detail1", "case detail, c=1", "GET", f"/api/v1/cases/{ids['detail']}", "care_member",
              connections=1, goal="p99 <= 10 ms"),
        Path_("list", f"case list, 50 of {EXTRA_CASES + 1}", "GET",
              f"/api/v1/cases?conference_id={conf}&limit=50", "care_member", goal=">= 0.6"),
        Path_("event", "single partner events (events/s)", "POST", "/api/v1/events", "bench-care", batch=1,
              goal=">= 1,500/s"),
        Path_("batch", "batches of 100 events (events/s)", "POST", "/api/v1/events", "bench-care", batch=100,
              goal=">= 10,000/s"),
        Path_("agenda", f"agenda GET, ~{AGENDA_CASES} items, c=1", "GET", f"/api/v1/meetings/{ids['meeting']}/agenda",
              "chair_b", connections=1, latency_only=True, goal="p95 <= 15 ms"),
        Path_("draft", "agenda draft POST, c=1", "POST", f"/api/v1/meetings/{ids['meeting']}/agenda/draft", "chair_b",
              connections=1, latency_only=True, goal="p95 <= 30 ms"),
        Path_("401", "no token: the 401 path vs a bare hello", "GET", "/api/v1/cases", None, expect=401,
              goal=">= 0.5"),
    ]


def _body_for(run: str) -> Callable[[Path_], tuple[bytes | None, dict[str, str]]]:
    counter = 0
    singles = 0
    batches = 0

    def body(p: Path_) -> tuple[bytes | None, dict[str, str]]:
        nonlocal counter, singles, batches
        if not p.batch:
            return None, {}
        when = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        events = []
        batches += p.batch > 1
        for i in range(p.batch):
            counter += 1
            # Single events, and batches, come in pairs about the same clients, so that the counted
            # request (the second of the capture) is about clients the service has seen: a warm
            # path, as under load.
            singles += p.batch == 1
            subject = (singles + 1) // 2 if p.batch == 1 else (batches + 1) // 2 * p.batch + i
            events.append({"specversion": "1.0", "id": f"{run}-{counter}", "source": f"urn:bench:{run}",
                           "type": "nl.casusoverleg.event.lapse", "subject": f"ZRG-{subject % REFERENCES}",
                           "time": when, "data": {"substances": ["alcohol"]}})
        if p.batch == 1:
            return json.dumps(events[0]).encode(), {"Content-Type": "application/cloudevents+json"}
        return json.dumps(events).encode(), {"Content-Type": "application/cloudevents-batch+json"}

    return body


def _median(loads: list[Load], attr: str) -> float:
    return statistics.median(getattr(x, attr) for x in loads) if loads else float("nan")


async def explain(paths: list[Path_], app_url: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT a path runs: the evidence for its indexes."""
    import asyncpg

    conn = await asyncpg.connect(app_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for p in paths:
            print(f"\n## {p.title}: {len(p.selects)} SELECTs")
            for sql, params in p.selects:
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", *params)
                print("\n" + sql.strip())
                print("\n".join("    " + r[0] for r in rows))
    finally:
        await conn.close()


def report(paths: list[Path_], tool: str, args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {args.workers} uvicorn workers each, "
          f"load by {tool}, {args.rounds} x {args.seconds} s per side, medians (load average now: {load})")
    print(f"{'path':42} {'ours':>16} {'bare':>16} {'ratio':>6} {'stmts ours/bare':>16}  goal")
    for p in paths:
        if not p.ours:
            continue
        if p.latency_only:
            ours = f"p95 {_median(p.ours, 'p95'):.1f} ms"
            bare = f"p95 {_median(p.bare, 'p95'):.1f} ms" if p.bare else "-"
            ratio = ""
        elif p.connections == 1:
            ours = f"p50 {_median(p.ours, 'p50'):.1f} p99 {_median(p.ours, 'p99'):.1f}"
            bare = f"p50 {_median(p.bare, 'p50'):.1f} p99 {_median(p.bare, 'p99'):.1f}" if p.bare else "-"
            ratio = ""
        else:
            o, b = _median(p.ours, "rate"), _median(p.bare, "rate")
            unit = " ev/s" if p.batch else " r/s"
            ours, bare, ratio = f"{o:,.0f}{unit}", f"{b:,.0f}{unit}", f"{o / b:.2f}" if b else ""
        stmts = f"{p.statements}/{p.bare_statements}"
        print(f"{p.title:42} {ours:>16} {bare:>16} {ratio:>6} {stmts:>16}  {p.goal}", flush=True)


def figures_of(paths: list[Path_]) -> list[Figure]:
    """The table's rows for `python -m bench` (bench/registry.py)."""
    out: list[Figure] = []
    for p in paths:
        if not p.ours:
            continue
        note = [f"statements per request: ours {p.statements}, bare {p.bare_statements}"]
        if p.latency_only:
            value, base, unit, better = _median(p.ours, "p95"), _median(p.bare, "p95"), "ms p95", False
            limit = 15.0 if p.key == "agenda" else 30.0
            met: bool | None = value <= limit
        elif p.connections == 1:
            value, base, unit, better = _median(p.ours, "p99"), _median(p.bare, "p99"), "ms p99", False
            met = value <= 10.0
        else:
            value, base = _median(p.ours, "rate"), _median(p.bare, "rate")
            unit, better = ("events/s" if p.batch else "req/s"), True
            if p.batch:
                met = value >= (1500 if p.batch == 1 else 10_000)
            else:
                met = bool(base) and value / base >= (0.5 if p.key == "401" else 0.6)
        out.append(Figure(p.title, value, unit, baseline=base,
                          baseline_what=("bare hello" if p.key == "401" else "bare asyncpg insert, our statement" if p.batch
                                         else "bare asyncpg, same SELECTs"),
                          higher_is_better=better, goal=p.goal, met=met, notes=note))
    return out


@register("paths", "issue 16's paths (detail, list, events, agenda, 401) against bare Starlette + asyncpg")
async def collect(quick: bool) -> list[Figure]:
    args = argparse.Namespace(seconds=3 if quick else 10, rounds=1 if quick else 3, connections=16, workers=2,
                              httpx=False, only=None, explain=False)
    paths: list[Path_] = []
    await main_async(args, paths)
    return figures_of(paths)


async def main_async(args: argparse.Namespace, measured: list[Path_] | None = None) -> int:
    from tests.idp import TestIdentityProviders

    name = f"bench_paths_{uuid.uuid4().hex[:8]}"
    app_url, owner_url, admin = await create_database(name)
    workdir = Path(tempfile.mkdtemp(prefix="bench-paths-"))
    idp = TestIdentityProviders(workdir / "keys.json")
    idp.start()
    ours_server = bare_server = None
    try:
        await asyncio.to_thread(migrations.upgrade, owner_url)
        ids = await seed(owner_url, idp)
        world = ids["world"]
        tokens: dict[str | None, str] = {
            person: world.token(person, lifetime=3600) for person in ("care_member", "chair_b")
        }
        tokens["bench-care"] = idp.token("zorg", "bench-care", audience="casusoverleg", scope="events:write",
                                         lifetime=3600)
        paths = [p for p in _paths(ids) if not args.only or p.key in args.only]
        settings = Settings(database_url=app_url, migration_database_url=owner_url, dev_idp_enabled=False,
                            load_demo_data=False, scheduler_enabled=False, data_dir=workdir)  # type: ignore[arg-type]
        bodies = _body_for(f"c{uuid.uuid4().hex[:6]}")
        await capture(paths, settings, tokens, bodies)

        if args.explain:
            await explain(paths, app_url)
            return 0
        spec = workdir / "bare.pickle"
        spec.write_bytes(pickle.dumps({p.key: p.selects for p in paths}))
        ours_port, bare_port = free_port(), free_port()
        env = {"DATABASE_URL": app_url, "MIGRATION_DATABASE_URL": owner_url, "DEV_IDP_ENABLED": "false",
               "LOAD_DEMO_DATA": "false", "SCHEDULER_ENABLED": "false", "DATA_DIR": str(workdir),
               "DB_POOL_SIZE": "10"}
        ours_server = _serve("app.main:create_app", ours_port, args.workers, env, workdir / "ours.log")
        bare_server = _serve("bench.bare:create_app", bare_port, args.workers,
                             {"BENCH_BARE_DSN": app_url.replace("postgresql+asyncpg://", "postgresql://"),
                              "BENCH_BARE_SPEC": str(spec)}, workdir / "bare.log")
        ours_base, bare_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{bare_port}"
        await asyncio.to_thread(wait_healthy, ours_base)
        await asyncio.to_thread(_wait, f"{bare_base}/bare/hello")
        tool = "wrk" if shutil.which("wrk") and not args.httpx else "httpx"
        print(f"# statements per request counted in-process; load by {tool}", flush=True)
        for p in paths:
            connections = p.connections or args.connections
            token = tokens.get(p.person) if p.person else None
            bare_path = "/bare/hello" if p.key == "401" else f"/bare/{p.key}"
            sides = [("ours", ours_base, p.path, token), ("bare", bare_base, bare_path, None)]
            for round_ in range(args.rounds + 1):  # round 0 warms up both sides
                seconds = 2 if round_ == 0 else args.seconds
                for side, base, path, tok in sides:
                    if tool == "wrk" and not p.latency_only:
                        result = await asyncio.to_thread(_wrk, base, p, path, tok, seconds, connections)
                    else:
                        result = await _httpx(base, p, path, tok, seconds, connections, bodies)
                    if round_ == 0:
                        continue
                    if result.ok < result.requests:
                        print(f"  {p.key} {side}: {result.requests - result.ok} of {result.requests} answers unexpected")
                    (p.ours if side == "ours" else p.bare).append(result)
                    print(f"  {p.key:8} {side:4} round {round_}: {result.rate:9.1f}/s p50 {result.p50:6.1f} "
                          f"p95 {result.p95:6.1f} p99 {result.p99:6.1f} ms", flush=True)
        report(paths, tool, args)
        if measured is not None:
            measured.extend(paths)
        return 0
    finally:
        _stop(ours_server)
        _stop(bare_server)
        idp.stop()
        await drop_database(admin, name)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no request line per request from the servers
    parser = argparse.ArgumentParser(prog="python -m bench.paths", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--httpx", action="store_true", help="use the httpx load loop even when wrk is installed")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of each path's SELECTs on the seeded data, then stop")
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None,
                        help="comma-separated keys: detail,detail1,list,event,batch,agenda,draft,401")
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
