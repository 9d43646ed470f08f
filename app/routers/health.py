"""Health: liveness and readiness as Kubernetes expects them, and a summary for people.

None of them waits on the application's pool: the database is asked over the health probe's own
connection (app.db.HealthProbe), bounded by HEALTH_TIMEOUT_SECONDS."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.http.problems import RETRY_AFTER_SECONDS

router = APIRouter(tags=["health"])


@router.get("/health", summary="Database reachability and pool use, answered within a second")
async def health(request: Request) -> JSONResponse:
    """200 with status `ok`, or `degraded` while every connection of the pool is in use (requests
    queue, and answer 503 once they waited DB_POOL_TIMEOUT_SECONDS); 503 with Retry-After when
    the database cannot be reached."""
    reachable = await request.app.state.health.reachable()
    in_use, capacity = request.app.state.db.pool_usage()
    saturated = capacity > 0 and in_use >= capacity
    body = {
        "status": "ok" if reachable and not saturated else "degraded",
        "database": "ok" if reachable else "unreachable",
        "pool": {"in_use": in_use, "capacity": capacity},
    }
    if not reachable:
        return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return JSONResponse(body)


@router.get("/health/live", summary="Liveness: the process answers (never asks the database)")
async def live() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/health/ready", summary="Readiness: the database can be reached")
async def ready(request: Request) -> JSONResponse:
    if await request.app.state.health.reachable():
        return JSONResponse({"status": "ready"})
    return JSONResponse(
        {"status": "not ready", "database": "unreachable"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
