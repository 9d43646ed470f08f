"""Two-way aftercare (issue 17): the neighbourhood team's reports during an aftercare watch and
the addiction care institution's answers. The work is in app/services/events/aftercare.py."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.auth.policy import Op
from app.deps import GuardDep
from app.errors import Conflict, UnprocessableEntity
from app.schemas.aftercare import AftercareReplyCreate, AftercareReportCreate, AftercareReportOut
from app.services.cases import lifecycle
from app.services.events import aftercare as service

router = APIRouter(tags=["aftercare"])


@router.get("/cases/{case_id}/aftercare-reports", response_model=list[AftercareReportOut])
async def list_reports(case_id: uuid.UUID, guard: GuardDep) -> list[AftercareReportOut]:
    """The neighbourhood team's reports and the answers, shaped by the reader's need to know."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    await guard.require(Op.aftercare_read, loaded.target, service.report_access(loaded, "list"), hidden_as="case")
    return guard.deliver(await service.reports_read(guard.session, guard.principal, loaded))


@router.post("/cases/{case_id}/aftercare-reports", status_code=201, response_model=AftercareReportOut)
async def create_report(case_id: uuid.UUID, body: AftercareReportCreate, guard: GuardDep) -> AftercareReportOut:
    """Report worry, a missed contact or a suspected relapse to the addiction care institution:
    people of the neighbourhood team, while an aftercare watch under a signed nazorg agreement runs."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    access = service.report_access(loaded, "create")
    await guard.require(Op.aftercare_report, loaded.target, access, hidden_as="case")
    try:
        row = await service.report(guard.session, guard.principal, loaded, body)
    except (UnprocessableEntity, Conflict):
        await guard.audit.denied(access)
        raise
    return guard.deliver(await service.report_read(guard.session, guard.principal, loaded, row, "create"))


@router.post("/cases/{case_id}/aftercare-reports/{report_id}/reply", response_model=AftercareReportOut)
async def reply_to_report(case_id: uuid.UUID, report_id: uuid.UUID, body: AftercareReplyCreate,
                          guard: GuardDep) -> AftercareReportOut:
    """The addiction care institution answers a report; the reporter is told."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    access = service.report_access(loaded, "update", report_id)
    await guard.require(Op.aftercare_reply, loaded.target, access, hidden_as="case")
    try:
        row = await service.reply(guard.session, guard.principal, loaded, report_id, body.text)
    except (UnprocessableEntity, Conflict):
        await guard.audit.denied(access)
        raise
    return guard.deliver(await service.report_read(guard.session, guard.principal, loaded, row, "update"))
