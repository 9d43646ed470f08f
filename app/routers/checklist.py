"""The intake checklist per case, and the chair's list of cases whose checklist is incomplete."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.audit import Access
from app.auth.policy import Op, Target
from app.deps import GuardDep
from app.errors import Forbidden, NotFound
from app.models.enums import Role
from app.schemas.agreements import ChecklistOut, ChecklistTickIn
from app.services.agreements.present import checklist_out
from app.services.cases import checklist as service
from app.services.cases import lifecycle as case_service

router = APIRouter(tags=["checklist"])


def _access(loaded: case_service.LoadedCase, action: str) -> Access:
    return Access(action=action, resource_type="checklist", resource_id=str(loaded.case.id), case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number)


@router.get("/cases/{case_id}/checklist", response_model=ChecklistOut)
async def get_checklist(case_id: uuid.UUID, guard: GuardDep) -> ChecklistOut:
    loaded = await case_service.load_case(guard.session, case_id)
    access = _access(loaded, "read")
    await guard.require(Op.checklist_read, loaded.target, access, hidden_as="case", record=True)
    return checklist_out(await service.checklist_of(guard.session, loaded.case, loaded.client.client_number))


@router.put("/cases/{case_id}/checklist/{item}", response_model=ChecklistOut)
async def tick(case_id: uuid.UUID, item: str, body: ChecklistTickIn, guard: GuardDep) -> ChecklistOut:
    loaded = await case_service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "update")
    await guard.require(Op.checklist_update, loaded.target, access, hidden_as="case", record=True)
    membership = guard.principal.membership_in(loaded.case.conference_id, Role.chair, Role.member)
    if membership is None:
        raise Forbidden("Only a member of this conference can tick the checklist.")
    await service.set_tick(guard.session, guard.principal, case=loaded.case, item=item, done=body.done,
                           membership_id=membership.id)
    return checklist_out(await service.checklist_of(guard.session, loaded.case, loaded.client.client_number))


@router.get("/checklists", response_model=list[ChecklistOut])
async def incomplete_checklists(
    guard: GuardDep, conference_id: uuid.UUID | None = None, include_complete: bool = False
) -> list[ChecklistOut]:
    """For the chair: the open cases of their conferences whose intake checklist is incomplete."""
    chaired = sorted(guard.principal.conference_ids(Role.chair))
    if conference_id is not None:
        if conference_id not in chaired:
            await guard.require(Op.checklist_overview, Target(conference_id=conference_id))
            raise NotFound("conference")  # pragma: no cover - require raised already
        chaired = [conference_id]
    if not chaired:
        await guard.audit.denied(Access(action="list", resource_type="checklist"))
        raise Forbidden("Only the chair sees the checklists of all cases.")
    lists = await service.checklists(guard.session, await service.open_cases_of(guard.session, chaired))
    shown = [c for c in lists if include_complete or not c.complete]
    guard.record(
        *[
            Access(action="list", resource_type="checklist", resource_id=str(c.case.id), case_id=c.case.id,
                   conference_id=c.case.conference_id, client_number=c.client_number)
            for c in shown
        ]
    )
    return [checklist_out(c) for c in shown]
