"""The privacy officer's routes: the access log, its verification, the subject-access report and
the data export of one client. Every read of the log is itself written to the log."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.audit import Access
from app.auth.policy import Op, Target, strong_sign_in
from app.deps import GuardDep, SettingsDep
from app.errors import Forbidden
from app.http.paging import PagingDep
from app.models.enums import Role
from app.schemas.audit import AccessLogOut, AccessReportOut, ChainReportOut, ClientExportOut
from app.schemas.common import INT64_MAX, IsoDateTime, PageOut
from app.services.privacy import officer as service
from app.services.privacy.checkpoints import verify_against_checkpoint
from app.services.privacy.documents import render_html, render_pdf

router = APIRouter(tags=["privacy officer"])


def _log_access(
    action: str, *, conference_id: uuid.UUID | None, client_number: str | None = None, part: str | None = None
) -> Access:
    return Access(
        action=action,
        resource_type="access_log",
        conference_id=conference_id,
        client_number=client_number,
        part=part,
        role=Role.privacy_officer.value,
    )


async def _require_strong_sign_in(guard: GuardDep, access: Access) -> None:
    if not strong_sign_in(guard.principal):
        await guard.audit.denied(access)
        raise Forbidden("Reading the access log needs a multi-factor sign-in.")


async def _officer_of(guard: GuardDep, conference_id: uuid.UUID | None, access: Access) -> list[uuid.UUID]:
    """The conferences whose log the caller may read (as privacy officer)."""
    if conference_id is not None:
        await guard.require(Op.audit_read, Target(conference_id=conference_id), access)
        await _require_strong_sign_in(guard, access)
        return [conference_id]
    mine = sorted(guard.principal.conference_ids(Role.privacy_officer))
    if not mine:
        await guard.audit.denied(access)
        raise Forbidden("Only a privacy officer may read the access log.")
    await _require_strong_sign_in(guard, access)
    return mine


@router.get("/audit/log", response_model=PageOut[AccessLogOut])
async def query_access_log(
    guard: GuardDep,
    page: PagingDep,
    conference_id: uuid.UUID | None = None,
    client_number: Annotated[str | None, Query(max_length=16)] = None,
    subject: Annotated[str | None, Query(max_length=255, description="The person's subject (sub).")] = None,
    organisation_id: uuid.UUID | None = None,
    occurred_from: IsoDateTime | None = None,
    occurred_to: IsoDateTime | None = None,
    outcome: Literal["allowed", "denied"] | None = None,
) -> PageOut[AccessLogOut]:
    """Query the access log by client, person, organisation and period (privacy officer). Without
    `conference_id`: your conferences' rows, and the rows bound to no conference that involve
    your organisation (searches of its privacy officers, refused calls of its partner systems,
    refused administrative operations on it)."""
    access = _log_access("search", conference_id=conference_id, client_number=client_number, part="query")
    conferences = await _officer_of(guard, conference_id, access)
    rows, total = await service.query_log(
        guard.session,
        service.LogQuery(
            conference_ids=conferences,
            involved_organisation_id=guard.principal.organisation_id if conference_id is None else None,
            client_number=client_number,
            subject=subject,
            organisation_id=organisation_id,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            outcome=outcome,
        ),
        limit=page.limit,
        offset=page.offset,
    )
    shown = sorted({(r.conference_id, r.client_number) for r in rows if r.client_number}, key=str)
    guard.record(
        access, *[_log_access("list", conference_id=c, client_number=n, part="query") for c, n in shown]
    )
    return PageOut(
        items=[AccessLogOut.model_validate(r) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
        next=page.next_link(total),
    )


@router.get("/audit/verify", response_model=ChainReportOut)
async def verify_access_log(
    guard: GuardDep,
    settings: SettingsDep,
    from_seq: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    to_seq: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
) -> ChainReportOut:
    """Recompute the access log's keyed hash chains and check them against the latest signed
    checkpoint; names the first broken row (privacy officer)."""
    access = _log_access("execute", conference_id=None, part="verify")
    if not guard.principal.conference_ids(Role.privacy_officer):
        await guard.audit.denied(access)
        raise Forbidden("Only a privacy officer may verify the access log.")
    await _require_strong_sign_in(guard, access)
    report = await verify_against_checkpoint(
        guard.session, settings.checkpoint_dir, settings.audit_chain_key, from_seq=from_seq, to_seq=to_seq
    )
    guard.record(access)
    return ChainReportOut(**{k: v for k, v in report.__dict__.items() if k != "head_seqs"})


async def _client_for_officer(
    guard: GuardDep, client_number: str, action: str, part: str
) -> tuple[Any, Access]:
    client = await service.load_client_by_number(guard.session, client_number)
    access = Access(
        action=action,
        resource_type="access_log" if part == "subject_access_report" else "client",
        conference_id=client.conference_id,
        client_number=client.client_number,
        part=part,
        role=Role.privacy_officer.value,
    )
    await guard.require(Op.audit_read, Target(conference_id=client.conference_id), access, hidden_as="client")
    await _require_strong_sign_in(guard, access)
    return client, access


@router.get(
    "/audit/clients/{client_number}/report",
    response_model=AccessReportOut,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
async def subject_access_report(
    client_number: str, guard: GuardDep, format: Literal["json", "html", "pdf"] = "json"
) -> Any:
    """Which organisations and roles saw or changed the client's data, when, on what basis (AVG
    art. 15). `format=html` gives a printable Dutch document."""
    client, access = await _client_for_officer(
        guard, client_number, "read" if format == "json" else "print", "subject_access_report"
    )
    report = await service.access_report(guard.session, client)
    guard.record(access)
    if format == "html":
        return HTMLResponse(render_html(report))
    if format == "pdf":
        return Response(
            render_pdf(report),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="inzage-{report.client_number}.pdf"'},
        )
    return report


@router.get(
    "/audit/clients/{client_number}/export",
    response_model=ClientExportOut,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def client_data_export(
    client_number: str, guard: GuardDep, settings: SettingsDep, format: Literal["json", "pdf"] = "json"
) -> Response:
    """Everything the service holds on one client, as JSON: every kind of client data, each item
    with whom it was shared on which basis (privacy officer). `format=pdf` gives the Dutch document
    for the client."""
    client, access = await _client_for_officer(guard, client_number, "export", "export")
    if format == "pdf":
        report = await service.access_report(guard.session, client)
        guard.record(access)
        return Response(
            render_pdf(report),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="gegevens-{client.client_number}.pdf"'},
        )
    data = await service.client_export(guard.session, client, settings)
    guard.record(access)
    return JSONResponse(
        jsonable_encoder(data),
        headers={"Content-Disposition": f'attachment; filename="export-{client.client_number}.json"'},
    )
