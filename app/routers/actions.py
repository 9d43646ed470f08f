from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from app.audit import Access
from app.auth.policy import Op, Target
from app.deps import GuardDep
from app.http.paging import PagingDep
from app.models.enums import ActionStatus, Coverage
from app.schemas.cases import ActionCreate, ActionOut, ActionUpdate
from app.schemas.common import IsoDate, PageOut
from app.schemas.interventions import ActionFromIntervention
from app.services.cases import actions as service
from app.services.cases import interventions, reads
from app.services.cases import lifecycle as case_service
from app.services.common import check_if_match, etag_of

router = APIRouter(tags=["actions"])

IfMatch = Annotated[str | None, Header(description="The ETag of the action version you read.")]


def _access(action_id: uuid.UUID | None, case_id: uuid.UUID, conference_id: uuid.UUID, number: str,
            verb: str) -> Access:
    return Access(action=verb, resource_type="action", resource_id=str(action_id) if action_id else None,
                  case_id=case_id, conference_id=conference_id, client_number=number)


@router.post("/cases/{case_id}/actions", status_code=status.HTTP_201_CREATED, response_model=ActionOut)
async def create_action(case_id: uuid.UUID, body: ActionCreate, guard: GuardDep, response: Response) -> ActionOut:
    loaded = await case_service.load_case(guard.session, case_id)
    access = _access(None, case_id, loaded.case.conference_id, loaded.client.client_number, "create")
    await guard.require(Op.action_create, loaded.target, access, hidden_as="case")
    async with guard.refusals_logged(access):
        action, _check = await service.create_action(guard.session, guard.principal, case=loaded.case, data=body)
    response.headers["ETag"] = etag_of(action.version)
    response.headers["Location"] = f"/api/v1/actions/{action.id}"
    return guard.deliver(await reads.action_read(guard.session, guard.principal, action, loaded.case,
                                                 loaded.client.client_number, "create"))


@router.post("/cases/{case_id}/actions/from-intervention", status_code=status.HTTP_201_CREATED,
             response_model=ActionOut)
async def create_action_from_intervention(case_id: uuid.UUID, body: ActionFromIntervention, guard: GuardDep,
                                          response: Response) -> ActionOut:
    """An action prefilled from an organisation's catalogue of interventions: its name as the
    title, its organisation as the owner, its life domain and label."""
    loaded = await case_service.load_case(guard.session, case_id)
    access = _access(None, case_id, loaded.case.conference_id, loaded.client.client_number, "create")
    await guard.require(Op.action_create, loaded.target, access, hidden_as="case")
    async with guard.refusals_logged(access):
        action, _check = await interventions.create_action_from(guard.session, guard.principal, case=loaded.case,
                                                                data=body)
    response.headers["ETag"] = etag_of(action.version)
    response.headers["Location"] = f"/api/v1/actions/{action.id}"
    return guard.deliver(await reads.action_read(guard.session, guard.principal, action, loaded.case,
                                                 loaded.client.client_number, "create"))


@router.get("/actions", response_model=PageOut[ActionOut])
async def list_actions(
    guard: GuardDep,
    page: PagingDep,
    conference_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    status: Annotated[list[ActionStatus] | None, Query()] = None,
    due_before: IsoDate | None = None,
    due_after: IsoDate | None = None,
    coverage: Coverage | None = None,
) -> PageOut[ActionOut]:
    items, total = guard.deliver(await reads.action_list(
        guard.session,
        guard.principal,
        service.ActionFilter(
            case_id=case_id, conference_id=conference_id, assignee_id=assignee_id, organisation_id=organisation_id,
            status=[s.value for s in status] if status else None, due_before=due_before, due_after=due_after,
            coverage=coverage.value if coverage else None,
        ),
        limit=page.limit,
        offset=page.offset,
    ))
    return PageOut(items=items, total=total, limit=page.limit, offset=page.offset, next=page.next_link(total))


@router.get("/actions/{action_id}", response_model=ActionOut)
async def get_action(action_id: uuid.UUID, guard: GuardDep, response: Response) -> ActionOut:
    action, case, number = await service.load_action(guard.session, action_id)
    access = _access(action.id, case.id, case.conference_id, number, "read")
    await guard.require(Op.action_list, Target(conference_id=case.conference_id, phase=case.phase), access)
    response.headers["ETag"] = etag_of(action.version)
    return guard.deliver(await reads.action_read(guard.session, guard.principal, action, case, number))


@router.patch("/actions/{action_id}", response_model=ActionOut)
async def update_action(
    action_id: uuid.UUID, body: ActionUpdate, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> ActionOut:
    action, case, number = await service.load_action(guard.session, action_id)
    access = _access(action.id, case.id, case.conference_id, number, "update")
    await guard.require(
        Op.action_update,
        Target(conference_id=case.conference_id, owner_organisation_id=action.owner_organisation_id),
        access,
    )
    check_if_match(if_match, action.version, "action")
    action = await service.update_action(guard.session, guard.principal, action=action, case=case, data=body)
    response.headers["ETag"] = etag_of(action.version)
    return guard.deliver(await reads.action_read(guard.session, guard.principal, action, case, number, "update"))


@router.get("/conferences/{conference_id}/escalations", response_model=PageOut[ActionOut])
async def list_escalations(conference_id: uuid.UUID, guard: GuardDep, page: PagingDep) -> PageOut[ActionOut]:
    """Actions whose resource claim is not covered by a mandate: for the chair to settle."""
    await guard.require(Op.escalation_list, Target(conference_id=conference_id))
    items, total = guard.deliver(await reads.action_list(
        guard.session,
        guard.principal,
        service.ActionFilter(conference_id=conference_id, coverage=Coverage.escalation_required.value,
                             open_only=True),
        limit=page.limit,
        offset=page.offset,
    ))
    return PageOut(items=items, total=total, limit=page.limit, offset=page.offset, next=page.next_link(total))
