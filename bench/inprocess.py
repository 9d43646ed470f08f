"""CPU per request of issue 16's paths, in this process: no load generator, no second server.

    python -m bench.inprocess [--requests 200] [--only list,agenda,draft] [--profile 25]

On the seed data of bench/paths.py (a throw-away database on the embedded PostgreSQL), each path
is asked `--requests` times through httpx's ASGI transport after a warm-up (token cache filled,
statements prepared), one request at a time. It prints, per path, the service's CPU time per
request (`time.process_time`: this process only; PostgreSQL's backend is another process) and
the wall time per request, and with `--profile N` the N most expensive functions (cumulative) of
a cProfile over the same requests. On a shared machine the CPU time is the figure to compare:
other processes' load stretches the wall time, hardly the CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from app import migrations
from app.config import Settings
from bench.events import create_database, drop_database
from bench.paths import Path_, _body_for, _paths, seed


async def _measure(client: httpx.AsyncClient, p: Path_, token: str, n: int, bodies: Any,
                   profile: cProfile.Profile | None) -> tuple[list[float], list[float]]:
    cpu: list[float] = []
    wall: list[float] = []
    etag = ""
    for _ in range(n):
        body, headers = bodies(p)
        headers["Authorization"] = f"Bearer {token}"
        if p.key == "draft":
            if not etag:
                etag = (await client.get(p.path.replace("/draft", ""), headers=headers)).headers["ETag"]
            headers["If-Match"] = etag
        c0, w0 = time.process_time(), time.perf_counter()
        if profile is not None:
            profile.enable()
        response = await client.request(p.method, p.path, content=body, headers=headers)
        if profile is not None:
            profile.disable()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        etag = response.headers.get("ETag", etag)
        if not response.is_success:
            raise RuntimeError(f"{p.key}: {response.status_code} {response.text[:300]}")
    return cpu, wall


async def main_async(args: argparse.Namespace) -> int:
    from app.main import create_app
    from tests.idp import TestIdentityProviders

    name = f"bench_inproc_{uuid.uuid4().hex[:8]}"
    app_url, owner_url, admin = await create_database(name)
    workdir = Path(tempfile.mkdtemp(prefix="bench-inproc-"))
    idp = TestIdentityProviders(workdir / "keys.json")
    idp.start()
    try:
        await asyncio.to_thread(migrations.upgrade, owner_url)
        ids = await seed(owner_url, idp)
        world = ids["world"]
        tokens = {person: world.token(person, lifetime=3600) for person in ("care_member", "chair_b")}
        paths = [p for p in _paths(ids) if p.key in args.only]
        settings = Settings(database_url=app_url, migration_database_url=owner_url, dev_idp_enabled=False,
                            load_demo_data=False, scheduler_enabled=False, data_dir=workdir)  # type: ignore[arg-type]
        application = create_app(settings)
        bodies = _body_for(f"i{uuid.uuid4().hex[:6]}")
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                draft = next(p for p in _paths(ids) if p.key == "draft")
                await _measure(client, draft, tokens["chair_b"], 1, bodies, None)  # the agenda's items
                for p in paths:
                    token = tokens[p.person or ""]
                    await _measure(client, p, token, 20, bodies, None)  # warm-up
                    cpu, wall = await _measure(client, p, token, args.requests, bodies, None)
                    print(f"{p.key:8} {args.requests} requests: CPU per request median "
                          f"{statistics.median(cpu):.2f} ms, mean {statistics.fmean(cpu):.2f} ms; "
                          f"wall median {statistics.median(wall):.2f} ms", flush=True)
                    if args.profile:
                        profile = cProfile.Profile(time.process_time)  # CPU time, not waits
                        await _measure(client, p, token, args.requests, bodies, profile)
                        stats = pstats.Stats(profile, stream=sys.stdout)
                        stats.sort_stats("cumulative").print_stats(args.profile)
                        if args.profile_out:
                            stats.dump_stats(f"{args.profile_out}.{p.key}")
        return 0
    finally:
        idp.stop()
        await drop_database(admin, name)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default={"list", "agenda", "draft"},
                        help="comma-separated keys of bench/paths.py: detail,list,agenda,draft")
    parser.add_argument("--profile", type=int, default=0, help="print the N most expensive functions")
    parser.add_argument("--profile-out", default="", help="also dump the profile to this path (.KEY added)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
