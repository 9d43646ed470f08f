"""Thin HTTP layer: one module per resource; no SQL and no policy logic here."""

from __future__ import annotations

from fastapi import FastAPI

from app.config import Settings

API_PREFIX = "/api/v1"


def register_routers(app: FastAPI, settings: Settings) -> None:
    from app.routers import actions, admin, cases, clients, health, plans, referrals

    for module in (health, admin, clients, referrals, cases, plans, actions):
        app.include_router(module.router, prefix=API_PREFIX)
    from app.routers import agreements, checklist

    for module in (agreements, checklist):
        app.include_router(module.router, prefix=API_PREFIX)
    from app.routers import identity_admin, me

    app.include_router(identity_admin.router, prefix=API_PREFIX)
    app.include_router(me.router, prefix=API_PREFIX)
    from app.routers import meetings

    app.include_router(meetings.router, prefix=API_PREFIX)
    from app.routers import events, webhooks

    for module in (events, webhooks):
        app.include_router(module.router, prefix=API_PREFIX)
    from app.routers import audit

    app.include_router(audit.router, prefix=API_PREFIX)
    if settings.dev_idp_enabled:
        from app.routers import dev_idp

        app.include_router(dev_idp.router)
    from fastapi.staticfiles import StaticFiles

    from app.routers import web, web_meetings
    from app.web import STATIC_DIR

    app.include_router(web.router)
    app.include_router(web_meetings.router)
    app.mount("/web/static", StaticFiles(directory=str(STATIC_DIR)), name="web-static")
