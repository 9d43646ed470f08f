"""The bare endpoint of bench/paths.py: Starlette + an asyncpg pool, replaying for each path the
SELECTs (with their parameters) that our service ran for it, in one transaction, and answering
the rows as JSON. Nothing else: the floor of what the hardware allows for the same reads. For
partner events (`/bare/event`, `/bare/batch`) it stores the events of the body with the service's
own resolve-and-insert statement, in one transaction.

    BENCH_BARE_DSN=postgresql://... BENCH_BARE_SPEC=spec.pickle uvicorn bench.bare:create_app --factory
"""

from __future__ import annotations

import hashlib
import os
import pickle
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.models.enums import Phase
from app.services.events.intake import _RESOLVE_AND_INSERT


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

    partner: tuple[Any, Any] | None = None  # the bench's partner system: (organisation, system)

    async def events(request: Request) -> Response:
        """The floor of a partner-event request: the body parsed, and its events stored by the
        service's own statement (resolve the references and insert the events of those that
        resolved, ON CONFLICT DO NOTHING) in one transaction; no validation, no token, no
        effects, no access log."""
        nonlocal partner
        assert pool is not None
        body = orjson.loads(await request.body())
        items = body if isinstance(body, list) else [body]
        now = datetime.now(UTC)
        rows = [
            {"id": str(uuid.uuid4()), "source": e["source"], "event_id": e["id"],
             "type": e["type"].rsplit(".", 1)[-1], "subject": e["subject"], "occurred_at": e["time"],
             "label": "general", "severity": "low", "data": e.get("data") or {},
             "payload_hash": hashlib.sha256(orjson.dumps(e, option=orjson.OPT_SORT_KEYS)).hexdigest()}
            for e in items
        ]
        async with pool.acquire() as conn:
            if partner is None:
                partner = tuple(await conn.fetchrow(
                    "SELECT organisation_id, id FROM partner_system WHERE subject = 'bench-care'"))
            async with conn.transaction():
                await conn.fetch(_RESOLVE_AND_INSERT, partner[0],
                                 orjson.dumps(sorted({r["subject"] for r in rows})).decode(), Phase.closed.value,
                                 partner[1], now, orjson.dumps(rows).decode())
        receipts = [{"id": r["event_id"], "source": r["source"], "event": r["id"], "received_at": now.isoformat()}
                    for r in rows]
        return Response(orjson.dumps({"receipts": receipts} if isinstance(body, list) else receipts[0]),
                        status_code=201, media_type="application/json")

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

    return Starlette(routes=[Route("/bare/hello", hello),
                             Route("/bare/event", events, methods=["POST"]),
                             Route("/bare/batch", events, methods=["POST"]),
                             Route("/bare/{key}", replay, methods=["GET", "POST"])],
                     lifespan=lifespan)
