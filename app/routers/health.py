from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness and database reachability")
async def health(request: Request) -> JSONResponse:
    try:
        async with request.app.state.db.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001  (report, don't crash)
        database = "unreachable"
    status = 200 if database == "ok" else 503
    return JSONResponse({"status": "ok" if status == 200 else "degraded", "database": database}, status_code=status)
