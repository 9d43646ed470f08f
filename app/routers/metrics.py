"""GET /metrics: Prometheus text format. Outside the API (no OpenAPI entry, no access-log row:
it carries no client data). Development: open. With METRICS_TOKEN: that bearer token is
required. Production without a token: not served on the public port (see METRICS_PORT)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from app.errors import Unauthorized
from app.http.observability import refresh_database_gauges
from app.metrics import exposition

router = APIRouter(include_in_schema=False)


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
