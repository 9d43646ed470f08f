"""The web client's notifications (meldingen): the person's reminders, warnings and signals from the
one `notification` table (ids and dates only, as at /api/v1/me/notifications), marked read per
person; opening one marks it read and leads to the page it is about. The header of every page shows
the unread count (app/web/session.py)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.audit import Access
from app.models.enums import Role
from app.services.events import notifications as service
from app.web.csrf import checked_form
from app.web.render import page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)


async def _allowed(ctx: WebContext) -> None:
    if not ctx.principal.organisation_admin:  # an organisation's administrators: its notices
        await ctx.guard.require_member_somewhere(Access(action="list", resource_type="notification"))


@router.get("/meldingen", response_class=HTMLResponse)
async def notifications_page(request: Request, ctx: Ctx, gelezen: str = "") -> HTMLResponse:
    await _allowed(ctx)
    items = await service.my_notifications_read(ctx.guard.session, ctx.principal)
    return page(request, "notifications.html", ctx, items=items, done=bool(gelezen),
                unread_here=sum(1 for _n, read in items if not read))


@router.get("/meldingen/{notification_id}", response_class=HTMLResponse)
async def open_notification(notification_id: uuid.UUID, ctx: Ctx) -> Response:
    """Marks it read and goes to what it is about: the action, the case, or the client's access log
    (break-glass, for the privacy officer); a notice about no case stays on the list."""
    await _allowed(ctx)
    opened = await service.open_notification(ctx.guard.session, ctx.principal, notification_id)
    n = opened.notification
    target = "/web/meldingen?gelezen=1"
    if n.ref_type == "action" and opened.case_id is not None:
        target = f"/web/casussen/{opened.case_id}#acties"
    elif n.ref_type == "break_glass" and n.conference_id in ctx.principal.conference_ids(Role.privacy_officer):
        target = f"/web/privacy/clienten/{opened.client_number}" if opened.client_number else target
    elif n.ref_type == "client_request" and n.conference_id in ctx.principal.conference_ids(Role.privacy_officer):
        target = "/web/privacy/verzoeken"
    elif opened.case_id is not None:
        target = f"/web/casussen/{opened.case_id}"
    return RedirectResponse(target, status_code=303)


@router.post("/meldingen/gelezen", response_class=HTMLResponse)
async def mark_all_read(request: Request, ctx: Ctx) -> Response:
    await checked_form(request, ctx)
    await _allowed(ctx)
    await service.mark_read(ctx.guard.session, ctx.principal, None)
    return RedirectResponse("/web/meldingen?gelezen=1", status_code=303)


@router.post("/meldingen/{notification_id}/gelezen", response_class=HTMLResponse)
async def mark_one_read(notification_id: uuid.UUID, request: Request, ctx: Ctx) -> Response:
    await checked_form(request, ctx)
    await _allowed(ctx)
    await service.mark_read(ctx.guard.session, ctx.principal, [notification_id])
    return RedirectResponse(f"/web/meldingen?gelezen=1#melding-{notification_id}", status_code=303)
