from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response

from app.audit import Access
from app.auth.policy import Op, label_visibility, visible_actions, visible_cases
from app.deps import GuardDep
from app.models.enums import Phase
from app.routers._paging import PagingDep
from app.schemas.cases import (
    AssessmentHistory,
    CaseDetail,
    CaseSummary,
    CaseUpdate,
    ChangeOut,
    NoteCreate,
    NoteList,
    NoteOut,
    Transition,
)
from app.schemas.common import PageOut
from app.services.agreements.sharing import sharing_bases
from app.services.cases import actions as action_service
from app.services.cases import checklist as checklist_service
from app.services.cases import lifecycle as service
from app.services.cases import notes as note_service
from app.services.cases import plans as plan_service
from app.services.cases.present import action_out, assessment_out, case_summary, change_out, plan_out
from app.services.common import check_if_match, etag_of

router = APIRouter(tags=["cases"])

IfMatch = Annotated[str | None, Header(description="The ETag of the version you read.")]


@router.get("/cases", response_model=PageOut[CaseSummary])
async def list_cases(
    guard: GuardDep, page: PagingDep, conference_id: uuid.UUID | None = None, phase: Phase | None = None
) -> PageOut[CaseSummary]:
    rows, total = await service.list_cases(
        guard.session, visible_cases(guard.principal), conference_id=conference_id, phase=phase,
        limit=page.limit, offset=page.offset,
    )
    guard.audit.allowed(
        *[
            Access(action="list", resource_type="case", resource_id=str(c.id), case_id=c.id,
                   conference_id=c.conference_id, client_number=number)
            for c, number in rows
        ]
    )
    return PageOut(items=[case_summary(c, n) for c, n in rows], total=total, limit=page.limit,
                   offset=page.offset, next=page.next_link(total))


def _access(loaded: service.LoadedCase, action: str, part: str | None = None) -> Access:
    return Access(action=action, resource_type="case", resource_id=str(loaded.case.id), case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number, part=part)


@router.get("/cases/{case_id}", response_model=CaseDetail)
async def get_case(case_id: uuid.UUID, guard: GuardDep, response: Response) -> CaseDetail:
    session = guard.session
    loaded = await service.load_case(session, case_id)
    access = _access(loaded, "read")
    await guard.require(Op.case_read, loaded.target, access)
    case, client = loaded.case, loaded.client
    plan, goals = await plan_service.load_plan(session, case.id)
    assessments = await plan_service.assessments_of(session, case.id)
    bases = await sharing_bases(session, case.id)
    visible, basis = label_visibility(
        guard.principal, label="health", conference_id=case.conference_id, owning_organisation_id=None, bases=bases
    )
    shown = [a for a in assessments if visible]
    actions, _ = await action_service.list_actions(
        session, visible_actions(guard.principal), action_service.ActionFilter(case_id=case.id), limit=1000, offset=0
    )
    guard.audit.allowed(
        access,
        *([Access(action="read", resource_type="assessment", case_id=case.id, conference_id=case.conference_id,
                  client_number=client.client_number, part="assessments", basis=basis)] if shown else []),
    )
    response.headers["ETag"] = etag_of(case.version)
    summary = case_summary(case, client.client_number)
    progress = await checklist_service.checklist_of(session, case, client.client_number)
    return CaseDetail(
        **summary.model_dump(),
        client_name=client.name,
        client_date_of_birth=client.date_of_birth,
        closure_reason=case.closure_reason,
        substances=list(case.substances),
        allowed_transitions=service.allowed_next(case.phase),
        plan=plan_out(plan, goals),
        assessments=AssessmentHistory(
            items=[assessment_out(a, basis) for a in shown],
            trend=plan_service.trend(shown),
            hidden=bool(assessments) and not visible,
        ),
        actions=[action_out(a, n) for a, n in actions],
        intake_checklist=checklist_service.progress(progress),
    )


@router.post("/cases/{case_id}/transitions", response_model=CaseSummary)
async def transition_case(
    case_id: uuid.UUID, body: Transition, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> CaseSummary:
    loaded = await service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "update", part="phase")
    await guard.require(Op.case_transition, loaded.target, access)
    check_if_match(if_match, loaded.case.version, "case")
    case = await service.transition(guard.session, guard.principal, case=loaded.case, data=body)
    guard.audit.allowed(access)
    response.headers["ETag"] = etag_of(case.version)
    return case_summary(case, loaded.client.client_number)


@router.patch("/cases/{case_id}", response_model=CaseSummary)
async def update_case(
    case_id: uuid.UUID, body: CaseUpdate, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> CaseSummary:
    loaded = await service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "update")
    await guard.require(Op.case_update, loaded.target, access)
    check_if_match(if_match, loaded.case.version, "case")
    case = await service.update_case(guard.session, guard.principal, case=loaded.case, data=body)
    guard.audit.allowed(access)
    response.headers["ETag"] = etag_of(case.version)
    return case_summary(case, loaded.client.client_number)


@router.get("/cases/{case_id}/history", response_model=list[ChangeOut])
async def case_history(case_id: uuid.UUID, guard: GuardDep) -> list[ChangeOut]:
    loaded = await service.load_case(guard.session, case_id)
    access = _access(loaded, "read", part="history")
    await guard.require(Op.case_history, loaded.target, access)
    guard.audit.allowed(access)
    return [change_out(c) for c in await service.history(guard.session, case_id)]


@router.get("/cases/{case_id}/assessments", response_model=AssessmentHistory)
async def list_assessments(case_id: uuid.UUID, guard: GuardDep) -> AssessmentHistory:
    loaded = await service.load_case(guard.session, case_id)
    access = _access(loaded, "read", part="assessments")
    await guard.require(Op.case_read, loaded.target, access)
    bases = await sharing_bases(guard.session, case_id)
    visible, basis = label_visibility(guard.principal, label="health", conference_id=loaded.case.conference_id,
                                      owning_organisation_id=None, bases=bases)
    assessments = await plan_service.assessments_of(guard.session, case_id) if visible else []
    guard.audit.allowed(Access(**{**access.__dict__, "basis": basis}))
    return AssessmentHistory(items=[assessment_out(a, basis) for a in assessments],
                             trend=plan_service.trend(assessments), hidden=not visible)


@router.post("/cases/{case_id}/notes", status_code=201, response_model=NoteOut)
async def add_note(case_id: uuid.UUID, body: NoteCreate, guard: GuardDep) -> NoteOut:
    loaded = await service.load_case(guard.session, case_id)
    access = _access(loaded, "create", part="notes")
    await guard.require(Op.note_create, loaded.target, access)
    membership = guard.principal.membership_in(loaded.case.conference_id)
    assert membership is not None  # the policy admitted a member
    note = await note_service.add_note(guard.session, guard.principal, case=loaded.case, data=body,
                                       author_id=membership.id)
    guard.audit.allowed(Access(**{**access.__dict__, "resource_id": str(note.id)}))
    return NoteOut(id=note.id, label=body.label, organisation_id=note.organisation_id, author_id=note.author_id,
                   text=note.text, created_at=note.created_at)


@router.get("/cases/{case_id}/notes", response_model=NoteList)
async def list_notes(case_id: uuid.UUID, guard: GuardDep) -> NoteList:
    loaded = await service.load_case(guard.session, case_id)
    access = _access(loaded, "read", part="notes")
    await guard.require(Op.case_read, loaded.target, access)
    shown, hidden = await note_service.visible_notes(guard.session, guard.principal, case=loaded.case)
    bases = sorted({n.basis for n in shown if n.basis})
    guard.audit.allowed(Access(**{**access.__dict__, "basis": ", ".join(bases) or None}))
    return NoteList(items=shown, hidden=hidden)
