"""Thin HTTP layer: one module per resource; no SQL and no policy logic here."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.config import Settings
from app.routers import (
    actions,
    admin,
    aftercare,
    agreements,
    audit,
    cases,
    checklist,
    client_requests,
    clients,
    consultations,
    dev_idp,
    events,
    fhir,
    guests,
    health,
    households,
    identity_admin,
    interventions,
    known_elsewhere,
    me,
    meetings,
    outcomes,
    partners,
    plans,
    referrals,
    web,
    web_access_log,
    web_agreements,
    web_meetings,
    web_notifications,
    web_outcomes,
    web_privacy,
    web_referrals,
    web_ring,
    webhooks,
)
from app.web import STATIC_DIR

API_PREFIX = "/api/v1"

# The order is the order of the OpenAPI document.
API_ROUTERS = (
    health, admin, clients, referrals, cases, guests, aftercare, households, plans, actions, agreements, checklist, identity_admin, me,
    meetings, events, webhooks, partners, audit,
    fhir, known_elsewhere, client_requests, outcomes,
    consultations,  # issue 17: spreekuur
    interventions,
)
# Endpoints run without FastAPI's request handling (app/deps.py `lane_for`, app/http/dispatch.py):
# the hot ones whose parameters a lane can give (the caller, the settings, the request, uuid path
# parameters) and that answer a Response themselves.
LANES = (events.push_events, cases.get_case, cases.list_cases, meetings.get_agenda)

WEB_ROUTERS = (web, web_meetings, web_referrals, web_agreements, web_ring, web_privacy, web_notifications,
               web_access_log, web_outcomes)


def register_routers(app: FastAPI, settings: Settings) -> None:
    for module in API_ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    if settings.dev_idp_enabled:
        app.include_router(dev_idp.router)
    for module in WEB_ROUTERS:
        app.include_router(module.router)
    app.mount("/web/static", StaticFiles(directory=str(STATIC_DIR)), name="web-static")
