"""GET /metrics: Prometheus text format. Outside the API (no OpenAPI entry, no access-log row:
it carries no client data). Development: open. With METRICS_TOKEN: that bearer token is
required. Production without a token: not served on the public port (see METRICS_PORT)."""

from __future__ import annotations

import asyncio
import hmac
import logging

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response

from app.db import Database
from app.errors import Unauthorized
from app.metrics import OUTBOX_SQL, exposition, set_outbox

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


async def refresh_database_gauges(db: Database) -> None:
    async with db.engine.connect() as conn:
        backlog, dead, oldest = (await conn.execute(sa.text(OUTBOX_SQL))).one()
    set_outbox(int(backlog), int(dead), float(oldest))


async def refresh_forever(db: Database, interval: float = 30.0) -> None:
    """For METRICS_PORT, where no request of ours refreshes the database-wide gauges."""
    while True:
        try:
            await refresh_database_gauges(db)
        except Exception:  # noqa: BLE001  (a failed refresh keeps the last figures)
            log.warning("metrics: could not read the outbox figures", exc_info=True)
        await asyncio.sleep(interval)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    token = request.app.state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("The metrics need the bearer token of METRICS_TOKEN.")
    await refresh_database_gauges(request.app.state.db)
    body, content_type = exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
