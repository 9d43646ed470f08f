"""Thin HTTP layer: one module per resource; no SQL and no policy logic here."""

from __future__ import annotations

from fastapi import FastAPI

from app.config import Settings

API_PREFIX = "/api/v1"


def register_routers(app: FastAPI, settings: Settings) -> None:
    from app.routers import actions, admin, cases, clients, health, plans, referrals

    for module in (health, admin, clients, referrals, cases, plans, actions):
        app.include_router(module.router, prefix=API_PREFIX)
    from app.routers import audit

    app.include_router(audit.router, prefix=API_PREFIX)
    if settings.dev_idp_enabled:
        from app.routers import dev_idp

        app.include_router(dev_idp.router)
