"""The privacy officer's access-log pages: a client's access log (who saw what, when, on which basis; refusals
and break-glass marked), the subject-access report (AVG art. 15) to print or as PDF, and the
export of everything held on the client. The same policy, strong sign-in rule and log rows as the
API's /audit routes (app/routers/audit.py): every read of the log is itself logged."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.audit import Access
from app.auth.policy import Op, Target, strong_sign_in
from app.config import Settings
from app.errors import Forbidden, NotFound
from app.models.enums import Role
from app.services.privacy import officer as service
from app.services.privacy.documents import (
    NL_ACTIONS,
    NL_PARTS,
    NL_RESOURCES,
    NL_ROLES,
    nl_basis,
    render_html,
    render_pdf,
)
from app.web.render import PRINT_HEADERS, page
from app.web.route import WebRoute
from app.web.session import Ctx, WebContext

router = APIRouter(prefix="/web", route_class=WebRoute, include_in_schema=False)

CLIENT_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,16}$")
PAGE_SIZE = 100


def _officer_access(action: str, *, part: str, resource_type: str = "access_log", client: Any = None) -> Access:
    return Access(
        action=action, resource_type=resource_type, part=part, role=Role.privacy_officer.value,
        conference_id=client.conference_id if client is not None else None,
        client_number=client.client_number if client is not None else None,
    )


async def _strong(ctx: WebContext, access: Access) -> None:
    if not strong_sign_in(ctx.principal):
        await ctx.guard.audit.denied(access)
        raise Forbidden("Reading the access log needs a multi-factor sign-in.")


async def _client(ctx: WebContext, client_number: str, action: str, part: str, resource_type: str) -> tuple[Any, Access]:
    """The client, when the caller is the privacy officer of its conference (else 404 or 403, logged)."""
    if not CLIENT_NUMBER.match(client_number):
        raise NotFound("client")
    client = await service.load_client_by_number(ctx.guard.session, client_number)
    access = _officer_access(action, part=part, resource_type=resource_type, client=client)
    await ctx.guard.require(Op.audit_read, Target(conference_id=client.conference_id), access, hidden_as="client")
    await _strong(ctx, access)
    return client, access


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_home(request: Request, ctx: Ctx, clientnummer: str = "") -> Response:
    """Find a client's access log by client number (never by name or BSN)."""
    access = _officer_access("search", part="query")
    if not ctx.principal.conference_ids(Role.privacy_officer):
        await ctx.guard.audit.denied(access)
        raise Forbidden("Only a privacy officer may read the access log.")
    await _strong(ctx, access)
    number = clientnummer.strip()
    if number:
        if CLIENT_NUMBER.match(number):
            return RedirectResponse(f"/web/privacy/clienten/{quote(number)}", status_code=303)
        return page(request, "privacy.html", ctx, status=422, kept=number,
                    errors={"clientnummer": "Een cliëntnummer bestaat uit letters, cijfers en streepjes "
                                            "(hoogstens 16 tekens), zoals Z-0001."})
    return page(request, "privacy.html", ctx, kept="", errors={})


@router.get("/privacy/clienten/{client_number}", response_class=HTMLResponse)
async def client_access_log(client_number: str, request: Request, ctx: Ctx, pagina: int = 1) -> Response:
    client, access = await _client(ctx, client_number, "search", "query", "access_log")
    number = max(1, min(pagina, 10_000))
    lines, total = await service.client_log(ctx.guard.session, client, limit=PAGE_SIZE,
                                            offset=(number - 1) * PAGE_SIZE)
    # As the API's query of the log: the search, and the client shown.
    ctx.guard.record(access, _officer_access("list", part="query", client=client))
    return page(request, "privacy_client.html", ctx, active="privacy", client=client, lines=lines, total=total,
                page_number=number, pages=max(1, -(-total // PAGE_SIZE)), actions=NL_ACTIONS,
                resources=NL_RESOURCES, roles=NL_ROLES, parts=NL_PARTS, basis=nl_basis)


@router.get("/privacy/clienten/{client_number}/inzage", response_class=HTMLResponse)
async def subject_access_report(client_number: str, ctx: Ctx) -> Response:
    """The report for the client, to print (logged as a print, like the API's format=html)."""
    client, access = await _client(ctx, client_number, "print", "subject_access_report", "access_log")
    report = await service.access_report(ctx.guard.session, client)
    ctx.guard.record(access)
    return HTMLResponse(render_html(report), headers=PRINT_HEADERS)


@router.get("/privacy/clienten/{client_number}/inzage.pdf")
async def subject_access_report_pdf(client_number: str, ctx: Ctx) -> Response:
    client, access = await _client(ctx, client_number, "print", "subject_access_report", "access_log")
    report = await service.access_report(ctx.guard.session, client)
    ctx.guard.record(access)
    return Response(render_pdf(report), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="inzage-{report.client_number}.pdf"'})


@router.get("/privacy/clienten/{client_number}/export")
async def client_export(client_number: str, request: Request, ctx: Ctx) -> Response:
    """Everything held on the client, as JSON (AVG art. 15 and 20), like the API's export."""
    client, access = await _client(ctx, client_number, "export", "export", "client")
    settings: Settings = request.app.state.settings
    data = await service.client_export(ctx.guard.session, client, settings)
    ctx.guard.record(access)
    return JSONResponse(jsonable_encoder(data), headers={
        "Content-Disposition": f'attachment; filename="export-{client.client_number}.json"'})
