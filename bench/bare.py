"""The bare endpoint of bench/paths.py: Starlette + an asyncpg pool, replaying for each path the
SELECTs (with their parameters) that our service ran for it, in one transaction, and answering
the rows as JSON. Nothing else: the floor of what the hardware allows for the same reads.

    BENCH_BARE_DSN=postgresql://... BENCH_BARE_SPEC=spec.pickle uvicorn bench.bare:create_app --factory
"""

from __future__ import annotations

import os
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app() -> Starlette:
    spec: dict[str, list[tuple[str, tuple[Any, ...]]]] = pickle.loads(  # noqa: S301  (our own file)
        Path(os.environ["BENCH_BARE_SPEC"]).read_bytes()
    )
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(os.environ["BENCH_BARE_DSN"], min_size=2, max_size=10)
        try:
            yield
        finally:
            await pool.close()

    async def hello(_request: Request) -> Response:
        return Response(b'{"hello":"world"}', media_type="application/json")

    async def replay(request: Request) -> Response:
        await request.body()
        statements = spec[request.path_params["key"]]
        assert pool is not None
        out = []
        async with pool.acquire() as conn, conn.transaction():
            for sql, params in statements:
                out.append([dict(r) for r in await conn.fetch(sql, *params)])
        return Response(orjson.dumps(out, default=str), media_type="application/json")

    return Starlette(routes=[Route("/bare/hello", hello), Route("/bare/{key}", replay, methods=["GET", "POST"])],
                     lifespan=lifespan)
