"""Benchmark: partner systems pushing CloudEvents at POST /api/v1/events.

    python -m bench.events [--duration 15] [--connections 16] [--batch 1 20] [--tool auto|wrk|httpx]

Sets up its own database on the embedded PostgreSQL, a loopback identity provider with real
signed tokens, 500 linked cases, and the API under uvicorn with 2 workers on loopback. Then, per
batch size, several concurrent clients push events for a fixed time (wrk with a Lua script when
installed, else an asyncio httpx load generator) and it reports events/s and request latency
p50/p95/p99. Afterwards it counts rows: every acknowledged event stored (zero loss) and no event
stored twice (zero duplicates). A final exact pass with the httpx client checks every single
acknowledged event id against the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app import migrations
from app.config import PROJECT_ROOT
from app.db import APP_ROLE, Database, embedded_urls, start_embedded_postgres
from bench.registry import Figure, register

CASES = 500
NS = "nl.casusoverleg.event."

WRK_SCRIPT = r"""
local counter = 0
ok = 0  -- global: read by done() through thread:get
local thread_id = 0
local threads = {}
local batch = tonumber(os.getenv("BENCH_BATCH"))
local run = os.getenv("BENCH_RUN")
local cases = tonumber(os.getenv("BENCH_CASES"))
local token = os.getenv("BENCH_TOKEN")
local when = os.getenv("BENCH_TIME")
local types = {"lapse", "missed_appointment", "lapse", "admission", "discharge", "relapse"}
local data = {
  lapse = '{"substances":["alcohol"]}',
  missed_appointment = '{"appointment_kind":"treatment"}',
  admission = '{"facility_kind":"detox","planned":true}',
  discharge = '{"facility_kind":"detox"}',
  relapse = '{"substances":["ghb"],"reported_by":"professional"}',
}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  local single, many = "application/cloudevents+json", "application/cloudevents-batch+json"
  wrk.headers["Content-Type"] = batch > 1 and many or single
end

local function one()
  counter = counter + 1
  local t = types[(counter % #types) + 1]
  return string.format(
    '{"specversion":"1.0","id":"%s-%d-%d","source":"urn:bench:%s","type":"%s%s","subject":"ZRG-%d","time":"%s","data":%s}',
    run, tid, counter, run, "nl.casusoverleg.event.", t, (counter * 7 + tid) % cases, when, data[t])
end

function request()
  local body
  if batch > 1 then
    local parts = {}
    for i = 1, batch do parts[i] = one() end
    body = "[" .. table.concat(parts, ",") .. "]"
  else
    body = one()
  end
  return wrk.format(nil, "/api/v1/events", nil, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 end
end

function done(summary, latency, requests)
  local acked = 0
  for _, thread in ipairs(threads) do acked = acked + thread:get("ok") end
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"acked":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, acked, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class Result:
    tool: str
    batch: int
    requests: int
    seconds: float
    acked_requests: int
    failed_requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    acked_ids: set[str] | None = None

    @property
    def events_per_second(self) -> float:
        return self.acked_requests * self.batch / self.seconds


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def create_database(name: str) -> tuple[str, str, str]:
    socket_dir = start_embedded_postgres(PROJECT_ROOT / ".data")
    urls = embedded_urls(socket_dir, name)
    admin = f"postgresql://postgres@/postgres?host={socket_dir}"
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
            await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urls.app, urls.owner, admin


async def drop_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def seed(owner_url: str, idp: Any) -> None:
    from app.models import ClientReference, PartnerSystem
    from tests.factories import add_case, build_world

    db = Database(owner_url, pool_size=2)
    try:
        async with db.sessions() as session:
            world = await build_world(session, idp)
            session.add(
                PartnerSystem(
                    organisation_id=world.orgs["zorg"].id,
                    name="bench",
                    subject="bench-care",
                    scopes=["events:write"],
                )
            )
            for i in range(CASES):
                case = await add_case(session, world, name=f"Bench {i}")
                session.add(
                    ClientReference(
                        client_id=case.client_id, organisation_id=world.orgs["zorg"].id, reference=f"ZRG-{i}"
                    )
                )
            await session.commit()
    finally:
        await db.dispose()


def start_server(
    app_url: str, owner_url: str, port: int, workers: int, data_dir: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": app_url,
        "MIGRATION_DATABASE_URL": owner_url,
        "DEV_IDP_ENABLED": "false",
        "LOAD_DEMO_DATA": "false",
        "SCHEDULER_ENABLED": "false",
        "DATA_DIR": str(data_dir),
        "DB_POOL_SIZE": "10",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    # The request lines (INFO, as in production) go to a file in the work directory: not through
    # the terminal or a pipe read by another process on the same cores.
    with (data_dir / "server.log").open("ab") as output:
        return subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, start_new_session=True, stdout=output, stderr=output)


def wait_healthy(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become healthy")


def event_time() -> str:
    return (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_wrk(base: str, token: str, batch: int, run: str, duration: int, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    env = {
        **os.environ,
        "BENCH_BATCH": str(batch),
        "BENCH_RUN": run,
        "BENCH_CASES": str(CASES),
        "BENCH_TOKEN": token,
        "BENCH_TIME": event_time(),
    }
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", script.name, base]
    out = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    data = json.loads(line[len("BENCH ") :])
    return Result(
        "wrk",
        batch,
        data["requests"],
        data["duration_us"] / 1e6,
        data["acked"],
        data["requests"] - data["acked"] + data["socket_errors"],
        data["p50"] / 1000,
        data["p95"] / 1000,
        data["p99"] / 1000,
    )


async def run_httpx(base: str, token: str, batch: int, run: str, duration: float, connections: int) -> Result:
    types = ["lapse", "missed_appointment", "lapse", "admission", "discharge", "relapse"]
    data = {
        "lapse": {"substances": ["alcohol"]},
        "missed_appointment": {"appointment_kind": "treatment"},
        "admission": {"facility_kind": "detox", "planned": True},
        "discharge": {"facility_kind": "detox"},
        "relapse": {"substances": ["ghb"], "reported_by": "professional"},
    }
    when = event_time()
    latencies: list[float] = []
    acked: set[str] = set()
    counts = {"requests": 0, "failed": 0}
    content_type = "application/cloudevents-batch+json" if batch > 1 else "application/cloudevents+json"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}

    async def client(n: int, http: httpx.AsyncClient, deadline: float) -> None:
        i = 0
        while time.monotonic() < deadline:
            events = []
            for _ in range(batch):
                i += 1
                t = types[i % len(types)]
                events.append(
                    {
                        "specversion": "1.0",
                        "id": f"{run}-{n}-{i}",
                        "source": f"urn:bench:{run}",
                        "type": NS + t,
                        "subject": f"ZRG-{(i * 7 + n) % CASES}",
                        "time": when,
                        "data": data[t],
                    }
                )
            body = json.dumps(events if batch > 1 else events[0])
            start = time.perf_counter()
            try:
                response = await http.post("/api/v1/events", content=body, headers=headers)
                ok = response.status_code in (200, 201)
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            counts["requests"] += 1
            if ok:
                acked.update(e["id"] for e in events)
            else:
                counts["failed"] += 1

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(*(client(n, http, deadline) for n in range(connections)))
        seconds = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        "httpx",
        batch,
        counts["requests"],
        seconds,
        counts["requests"] - counts["failed"],
        counts["failed"],
        q[49] * 1000,
        q[94] * 1000,
        q[98] * 1000,
        acked_ids=acked,
    )


async def verify(owner_url: str, run: str, result: Result, connections: int) -> dict[str, Any]:
    db = Database(owner_url, pool_size=1)
    try:
        async with db.engine.connect() as conn:
            from sqlalchemy import text

            rows = (
                (
                    await conn.execute(
                        text("SELECT event_id FROM partner_event WHERE source = :s"),
                        {"s": f"urn:bench:{run}"},
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await db.dispose()
    stored = len(rows)
    distinct = len(set(rows))
    acked_events = result.acked_requests * result.batch
    report: dict[str, Any] = {"stored": stored, "duplicates": stored - distinct}
    if result.acked_ids is not None:
        report["lost"] = len(result.acked_ids - set(rows))
    else:
        # wrk does not tell which ids were acknowledged; requests still in flight when it stops
        # may be stored without an acknowledgement, so stored may exceed acked by <= connections.
        report["lost"] = max(0, acked_events - stored)
        report["unacknowledged_stored"] = stored - acked_events
    return report


async def bare_inserts(app_url: str, run: str, batch: int, duration: float, connections: int) -> float:
    """The same rows inserted with bare asyncpg, as many connections as the load generator, one
    transaction per request's worth of events: what PostgreSQL alone allows (events/s)."""
    dsn = app_url.replace("postgresql+asyncpg://", "postgresql://")
    probe = await asyncpg.connect(dsn)
    try:
        template = dict(await probe.fetchrow("SELECT * FROM partner_event WHERE source = $1 LIMIT 1",
                                             f"urn:bench:{run}"))
    finally:
        await probe.close()
    columns = list(template)
    sql = (f"INSERT INTO partner_event ({', '.join(columns)}) "
           f"VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})")
    stored = 0
    deadline = time.monotonic() + duration

    async def worker(n: int) -> None:
        nonlocal stored
        conn = await asyncpg.connect(dsn)
        try:
            i = 0
            while time.monotonic() < deadline:
                rows = []
                for _ in range(batch):
                    i += 1
                    row = {**template, "id": uuid.uuid4(), "event_id": f"bare-{run}-{n}-{i}"}
                    rows.append([row[c] for c in columns])
                async with conn.transaction():
                    await conn.executemany(sql, rows)
                stored += batch
        finally:
            await conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(connections)))
    return stored / (time.monotonic() - started)


async def main_async(args: argparse.Namespace, figures: list[Any] | None = None) -> int:
    from tests.idp import TestIdentityProviders

    name = f"bench_events_{uuid.uuid4().hex[:8]}"
    app_url, owner_url, admin = await create_database(name)
    workdir = Path(tempfile.mkdtemp(prefix="bench-events-"))
    idp = TestIdentityProviders(workdir / "keys.json")
    idp.start()
    server: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.to_thread(migrations.upgrade, owner_url)
        await seed(owner_url, idp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(app_url, owner_url, port, args.workers, workdir)
        await asyncio.to_thread(wait_healthy, base)
        token = idp.token("zorg", "bench-care", audience="casusoverleg", scope="events:write", lifetime=3600)
        tool = args.tool
        if tool == "auto":
            tool = "wrk" if shutil.which("wrk") else "httpx"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"# {args.workers} uvicorn workers, {os.cpu_count()} cores (load average before: {load}), "
            f"{args.connections} connections, "
            f"{args.duration}s per run, load generator: {tool}"
        )
        # Warm-up (connection pools, JWKS cache, plans).
        await run_httpx(base, token, 5, "warmup", 2, 4)
        header = (
            f"{'tool':6} {'batch':>5} {'requests':>9} {'events/s':>9} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'failed':>6} {'stored':>8} {'lost':>5} {'dupl':>5}"
        )
        print(header)
        results = []
        for batch in args.batch:
            run = f"r{uuid.uuid4().hex[:6]}b{batch}"
            if tool == "wrk":
                result = await asyncio.to_thread(
                    run_wrk, base, token, batch, run, args.duration, args.connections
                )
            else:
                result = await run_httpx(base, token, batch, run, args.duration, args.connections)
            check = await verify(owner_url, run, result, args.connections)
            results.append((result, check))
            if figures is not None:
                bare = await bare_inserts(app_url, run, batch, args.duration, args.connections)
                print(f"  bare asyncpg, same rows, batch {batch}: {bare:,.0f} events/s", flush=True)
                figures.append(Figure(
                    f"events/s, batches of {batch}", result.events_per_second, "events/s", bare,
                    "bare asyncpg inserts", goal="1,000 events/s (2 cores)" if batch > 1 else "",
                    met=result.events_per_second >= 1000 if batch > 1 else None))
                figures.append(Figure(f"p95 latency, batches of {batch}", result.p95_ms, "ms",
                                      higher_is_better=False))
            print(
                f"{result.tool:6} {batch:>5} {result.requests:>9} {result.events_per_second:>9.0f} "
                f"{result.p50_ms:>8.1f} {result.p95_ms:>8.1f} {result.p99_ms:>8.1f} "
                f"{result.failed_requests:>6} "
                f"{check['stored']:>8} {check['lost']:>5} {check['duplicates']:>5}",
                flush=True,
            )
        # Exact pass: every acknowledged id looked up.
        run = f"x{uuid.uuid4().hex[:6]}"
        exact = await run_httpx(base, token, 10, run, min(args.duration, 5), args.connections)
        check = await verify(owner_url, run, exact, args.connections)
        print(
            f"exact check (httpx, batch 10, every acknowledged id looked up): {len(exact.acked_ids or ())} "
            f"acknowledged, {check['stored']} stored, lost {check['lost']}, duplicates {check['duplicates']}"
        )
        bad = any(c["lost"] or c["duplicates"] for _, c in results) or check["lost"] or check["duplicates"]
        if figures is not None:
            lost = sum(c["lost"] for _, c in results) + check["lost"]
            dupl = sum(c["duplicates"] for _, c in results) + check["duplicates"]
            figures.append(Figure("events lost + duplicated", lost + dupl, "", goal="must be 0",
                                  met=not bad, higher_is_better=False))
        return 1 if bad else 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        idp.stop()
        await drop_database(admin, name)
        shutil.rmtree(workdir, ignore_errors=True)


@register("events", "partner systems pushing CloudEvents at POST /api/v1/events (2 workers)")
async def collect(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    args = argparse.Namespace(duration=5 if quick else 15, connections=16, workers=2, batch=[1, 10],
                              tool="auto")
    await main_async(args, figures)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
