"""What does the access log cost? Throughput of the case-detail endpoint (GET /api/v1/cases/{id},
one log row per request) or of the case list (`--path list`: 50 cases, 50 log rows per request)
as shipped, against the same endpoint with the log writer swapped for a no-op, in one run.

The swap happens only inside this benchmark process (AuditTrail.allowed is monkeypatched between
rounds); no setting can switch logging off. Rounds alternate (shipped, no-op, shipped, no-op, ...)
so that drift on a shared machine hits both sides alike.

    python -m bench.access_log [--path detail|list] [--seconds 4] [--connections 8] [--rounds 5]

Reports the median throughput per side, and the server's own CPU time per request (this process:
uvicorn and the app; PostgreSQL's share not included), which a busy machine disturbs less.

Uses an embedded PostgreSQL under .data/ (a fresh database, dropped afterwards), uvicorn
in-process on loopback, and wrk when installed (else concurrent httpx clients).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import sqlalchemy as sa
import uvicorn

from app import migrations
from app.audit import AuditTrail
from app.config import PROJECT_ROOT, Settings
from app.db import APP_ROLE, Database, embedded_urls, start_embedded_postgres
from app.main import create_app
from bench.registry import Figure, register
from tests.factories import World, add_action, add_case, build_world
from tests.idp import TestIdentityProviders, free_port


async def _create_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
            await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _wrk(url: str, token: str, seconds: int, connections: int) -> tuple[float, int]:
    process = await asyncio.create_subprocess_exec(
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "-H",
        f"Authorization: Bearer {token}",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    text = out.decode()
    match = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not match:
        raise RuntimeError(f"wrk said: {text} {err.decode()}")
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return float(match.group(1)), int(failed.group(1)) if failed else 0


async def _httpx(url: str, token: str, seconds: int, connections: int) -> tuple[float, int]:
    done = failed = 0
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:

        async def worker() -> None:
            nonlocal done, failed
            while time.monotonic() < stop:
                response = await client.get(url)
                done += 1
                failed += response.status_code != 200

        started = time.monotonic()
        await asyncio.gather(*[worker() for _ in range(connections)])
        return done / (time.monotonic() - started), failed


async def run(
    seconds: int, connections: int, rounds: int, figures: list[Figure] | None = None, path: str = "detail"
) -> None:
    socket_dir = start_embedded_postgres(PROJECT_ROOT / ".data")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    urls = embedded_urls(socket_dir, name)
    admin = f"postgresql://postgres@/postgres?host={socket_dir}"
    await _create_database(admin, name)
    idp = TestIdentityProviders(Path(tempfile.mkdtemp()) / "keys.json")
    owner = Database(urls.owner, pool_size=2)
    server: uvicorn.Server | None = None
    try:
        await asyncio.to_thread(migrations.upgrade, urls.owner)
        idp.start()
        async with owner.sessions() as session:
            world: World = await build_world(session, idp)
            case = await add_case(session, world)
            for _ in range(5):
                await add_action(session, world, case)
            if path == "list":
                for i in range(49):
                    await add_case(session, world, name=f"Persoon {i}")
            await session.commit()
        settings = Settings(
            database_url=urls.app,
            migration_database_url=urls.owner,
            dev_idp_enabled=False,
            load_demo_data=False,
            scheduler_enabled=False,
            data_dir=Path(tempfile.mkdtemp()),
            db_pool_size=connections,
            log_level="WARNING",  # no line per request: the benchmark measures the log, not stdout
        )  # type: ignore[arg-type]
        app = create_app(settings)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110  (uvicorn offers a flag, not an event)
            await asyncio.sleep(0.05)
        url = (
            f"http://127.0.0.1:{port}/api/v1/cases?limit=50"
            if path == "list"
            else f"http://127.0.0.1:{port}/api/v1/cases/{case.id}"
        )
        token = idp.token(
            "politie", world.members["police_member"].subject, audience="casusoverleg", lifetime=3600
        )
        load = _wrk if shutil.which("wrk") else _httpx
        tool = "wrk" if load is _wrk else "httpx"

        shipped_allowed = AuditTrail.allowed

        def no_op(self: AuditTrail, *accesses: object) -> None:
            return None

        async def log_rows() -> int:
            async with owner.engine.connect() as conn:
                return int((await conn.execute(sa.text("SELECT count(*) FROM access_log"))).scalar_one())

        await load(url, token, 2, connections)  # warm up: pools, JWKS cache, plans
        results: dict[str, list[float]] = {"shipped": [], "no-op": []}
        cpu_ms: dict[str, list[float]] = {"shipped": [], "no-op": []}
        rows_written: dict[str, int] = {"shipped": 0, "no-op": 0}
        for _ in range(rounds):
            for mode in ("shipped", "no-op"):
                AuditTrail.allowed = shipped_allowed if mode == "shipped" else no_op  # type: ignore[method-assign]
                before = await log_rows()
                cpu = time.process_time()
                rate, failed = await load(url, token, seconds, connections)
                cpu = time.process_time() - cpu
                await asyncio.sleep(0.5)  # let the last requests of the round commit
                rows_written[mode] += await log_rows() - before
                cpu_ms[mode].append(cpu / max(rate * seconds, 1) * 1000)
                if failed:
                    raise RuntimeError(f"{failed} requests failed in the {mode} round")
                results[mode].append(rate)
                print(
                    f"  {mode:8s} {rate:8.1f} req/s  {cpu_ms[mode][-1]:6.2f} ms server CPU/request",
                    flush=True,
                )
        AuditTrail.allowed = shipped_allowed  # type: ignore[method-assign]

        shipped = statistics.median(results["shipped"])
        noop = statistics.median(results["no-op"])
        cost = 1 - shipped / noop
        cpu_shipped = statistics.median(cpu_ms["shipped"])
        cpu_noop = statistics.median(cpu_ms["no-op"])
        print()
        what = "case list (50 cases: 50 log rows per request)" if path == "list" else "case detail"
        print(
            f"{what}, {connections} connections, {rounds} x {seconds} s per side, "
            f"load by {tool} (medians)"
        )
        print(
            f"  with access log (as shipped): {shipped:8.1f} req/s  {cpu_shipped:5.2f} ms CPU/request  "
            f"({rows_written['shipped']} log rows written)"
        )
        print(
            f"  log writer swapped for no-op: {noop:8.1f} req/s  {cpu_noop:5.2f} ms CPU/request  "
            f"({rows_written['no-op']} log rows written)"
        )
        print(
            f"  throughput ratio shipped/no-op: {shipped / noop:.3f}  "
            f"-> the access log costs {cost * 100:.1f} % "
            f"(goal: under 15 %)"
        )
        print(f"  server CPU per request: +{(cpu_shipped / cpu_noop - 1) * 100:.1f} % with the access log")
        if figures is not None:
            figures.append(Figure(f"{what} with the access log", shipped, "req/s", noop,
                                  "log writer swapped for a no-op", goal="costs under 15 %",
                                  met=cost < 0.15))
        server.should_exit = True
        await serving
    finally:
        if server is not None:
            server.should_exit = True
        await owner.dispose()
        idp.stop()
        await _drop_database(admin, name)


@register("access_log", "cost of the access log on case detail (1 row) and the case list (50 rows)")
async def collect(quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    await run(2 if quick else 4, 8, 2 if quick else 5, figures)
    await run(2 if quick else 4, 8, 2 if quick else 5, figures, path="list")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.access_log",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--path", choices=("detail", "list"), default="detail")
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.connections, args.rounds, path=args.path))


if __name__ == "__main__":
    main()
