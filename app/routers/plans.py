from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response, status

from app.audit import Access
from app.auth.policy import Op
from app.deps import GuardDep
from app.errors import Forbidden
from app.schemas.cases import AssessmentCreate, AssessmentOut, PlanOut, PlanUpdate
from app.schemas.zrm import ZrmAnchorsOut
from app.services.cases import lifecycle as case_service
from app.services.cases import plans as service
from app.services.cases import reads, zrm
from app.services.cases.present import assessment_out
from app.services.common import check_if_match, etag_of

router = APIRouter(tags=["plans"])

IfMatch = Annotated[str | None, Header(description="The ETag of the plan version you read.")]


@router.get("/zrm/anchors", response_model=ZrmAnchorsOut)
async def zrm_anchors(guard: GuardDep) -> ZrmAnchorsOut:
    """What a ZRM score of 1 to 5 means per life domain, with the source named. Metadata for any
    signed-in person; partner systems are refused (and the refusal is logged like every denial)."""
    if guard.principal.kind != "person":
        await guard.audit.denied(Access(action="read", resource_type="zrm_anchors"))
        raise Forbidden("The ZRM anchors are for people signed in to the service.")
    return ZrmAnchorsOut.model_validate({"source": zrm.SOURCE, "domains": zrm.anchors()})


@router.get("/cases/{case_id}/plan", response_model=PlanOut)
async def get_plan(case_id: uuid.UUID, guard: GuardDep, response: Response) -> PlanOut:
    loaded = await case_service.load_case(guard.session, case_id)
    access = Access(action="read", resource_type="plan", case_id=case_id, conference_id=loaded.case.conference_id,
                    client_number=loaded.client.client_number, part="plan")
    await guard.require(Op.case_read, loaded.target, access)
    read = await reads.plan_read(guard.session, guard.principal, loaded)
    response.headers["ETag"] = etag_of(read.data.version)
    return guard.deliver(read)


@router.patch("/cases/{case_id}/plan", response_model=PlanOut)
async def update_plan(
    case_id: uuid.UUID, body: PlanUpdate, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> PlanOut:
    loaded = await case_service.load_case(guard.session, case_id, for_update=True)
    access = Access(action="update", resource_type="plan", case_id=case_id, conference_id=loaded.case.conference_id,
                    client_number=loaded.client.client_number, part="plan")
    await guard.require(Op.plan_update, loaded.target, access, record=True)
    plan, goals = await service.load_plan(guard.session, case_id)
    check_if_match(if_match, plan.version, "plan")
    plan, goals = await service.update_plan(
        guard.session, guard.principal, case=loaded.case, plan=plan, goals=goals, data=body
    )
    response.headers["ETag"] = etag_of(plan.version)
    return await reads.plan_shaped(guard.session, guard.principal, loaded.case, plan, goals)


@router.post("/cases/{case_id}/assessments", status_code=status.HTTP_201_CREATED, response_model=AssessmentOut)
async def add_assessment(case_id: uuid.UUID, body: AssessmentCreate, guard: GuardDep) -> AssessmentOut:
    loaded = await case_service.load_case(guard.session, case_id)
    access = Access(action="create", resource_type="assessment", case_id=case_id,
                    conference_id=loaded.case.conference_id, client_number=loaded.client.client_number,
                    part="assessments")
    await guard.require(Op.assessment_create, loaded.target, access, record=True)
    membership = guard.principal.membership_in(loaded.case.conference_id)
    if membership is None:
        raise Forbidden("Only a member of this conference can record an assessment.")
    assessment = await service.add_assessment(
        guard.session, guard.principal, case=loaded.case, data=body, assessor_id=membership.id
    )
    return assessment_out(assessment, None)
