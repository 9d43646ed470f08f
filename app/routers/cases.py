from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Response

from app.audit import Access, Read
from app.auth.policy import Op
from app.deps import GuardDep
from app.errors import UnprocessableEntity
from app.http.paging import PagingDep
from app.models.enums import Phase
from app.schemas.cases import (
    AssessmentHistory,
    BreakGlassCreate,
    BreakGlassOut,
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
from app.services.cases import lifecycle as service
from app.services.cases import notes as note_service
from app.services.cases import reads
from app.services.cases.present import case_summary, change_out
from app.services.common import check_if_match, etag_of
from app.services.need_to_know import open_break_glass

router = APIRouter(tags=["cases"])

IfMatch = Annotated[str | None, Header(description="The ETag of the version you read.")]


@router.get("/cases", response_model=PageOut[CaseSummary])
async def list_cases(
    guard: GuardDep, page: PagingDep, conference_id: uuid.UUID | None = None, phase: Phase | None = None
) -> Response:
    # A PageOut written as JSON: the items as the read path has them written (CaseSummary's bytes).
    # Outside any transaction, as case detail: the page's one statement, then its access-log rows.
    async with guard.autocommit() as connection:
        items, total = await guard.deliver_now(await reads.case_list_json(
            connection, guard.principal, conference_id=conference_id, phase=phase, limit=page.limit,
            offset=page.offset,
        ), connection)
    body = orjson.dumps({"items": orjson.Fragment(items), "total": total, "limit": page.limit, "offset": page.offset,
                         "next": page.next_link(total)})
    return Response(body, media_type="application/json")


_access = reads.case_access


@router.get("/cases/{case_id:uuid}", response_model=CaseDetail)
async def get_case(case_id: uuid.UUID, guard: GuardDep) -> Response:
    # One statement loads the case and everything its detail shows; the policy decides on it
    # before anything is shaped (issue 16: case detail in four statements). The answer is a
    # CaseDetail written as JSON by the read path.
    # Both outside any transaction: the read is one statement (one snapshot), its access-log rows
    # are appended right after it, and the answer waits for them (two statements in all).
    async with guard.autocommit() as connection:
        parts = await reads.load_case_detail(connection, guard.principal, case_id)
        await guard.require(Op.case_read, parts.loaded.target, _access(parts.loaded, "read"))
        body = await guard.deliver_now(reads.case_detail_json_of(guard.principal, parts), connection)
    return Response(body, media_type="application/json", headers={"ETag": etag_of(parts.loaded.case.version)})


@router.post("/cases/{case_id}/break-glass", status_code=201, response_model=BreakGlassOut)
async def break_glass(case_id: uuid.UUID, body: BreakGlassCreate, guard: GuardDep) -> BreakGlassOut:
    """Open hidden information on this case in an emergency: a stated reason, a short expiry; every
    read under it is marked in the access log, and the privacy officers and the case director are told."""
    loaded = await service.load_case(guard.session, case_id)
    access = _access(loaded, "execute", part="break_glass")
    await guard.require(Op.break_glass, loaded.target, access)
    if not body.reason.strip():
        await guard.audit.denied(access)  # a refused emergency opening is itself worth reviewing
        raise UnprocessableEntity("State why you need to open hidden information on this case.",
                                  pointer="/reason")
    grant, access = await open_break_glass(guard.session, guard.principal, case=loaded.case,
                                           client_number=loaded.client.client_number, reason=body.reason,
                                           minutes=body.minutes)
    return guard.deliver(Read(BreakGlassOut(id=grant.id, case_id=case_id, opened_at=grant.opened_at,
                                            expires_at=grant.expires_at), (access,)))


@router.post("/cases/{case_id}/transitions", response_model=CaseSummary)
async def transition_case(
    case_id: uuid.UUID, body: Transition, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> CaseSummary:
    loaded = await service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "update", part="phase")
    await guard.require(Op.case_transition, loaded.target, access, record=True)
    check_if_match(if_match, loaded.case.version, "case")
    case = await service.transition(guard.session, guard.principal, case=loaded.case, data=body)
    response.headers["ETag"] = etag_of(case.version)
    return case_summary(case, loaded.client.client_number)


@router.patch("/cases/{case_id:uuid}", response_model=CaseSummary)
async def update_case(
    case_id: uuid.UUID, body: CaseUpdate, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> CaseSummary:
    loaded = await service.load_case(guard.session, case_id, for_update=True)
    access = _access(loaded, "update")
    await guard.require(Op.case_update, loaded.target, access, record=True)
    check_if_match(if_match, loaded.case.version, "case")
    case = await service.update_case(guard.session, guard.principal, case=loaded.case, data=body)
    response.headers["ETag"] = etag_of(case.version)
    return case_summary(case, loaded.client.client_number)


@router.get("/cases/{case_id}/history", response_model=list[ChangeOut])
async def case_history(case_id: uuid.UUID, guard: GuardDep) -> list[ChangeOut]:
    loaded = await service.load_case(guard.session, case_id)
    access = _access(loaded, "read", part="history")
    await guard.require(Op.case_history, loaded.target, access, record=True)
    return [change_out(c) for c in await service.history(guard.session, case_id)]


@router.get("/cases/{case_id}/assessments", response_model=AssessmentHistory)
async def list_assessments(case_id: uuid.UUID, guard: GuardDep) -> AssessmentHistory:
    loaded = await service.load_case(guard.session, case_id)
    await guard.require(Op.case_read, loaded.target, _access(loaded, "read", part="assessments"))
    return guard.deliver(await reads.assessments_read(guard.session, guard.principal, loaded))


@router.post("/cases/{case_id}/notes", status_code=201, response_model=NoteOut)
async def add_note(case_id: uuid.UUID, body: NoteCreate, guard: GuardDep) -> NoteOut:
    loaded = await service.load_case(guard.session, case_id)
    access = _access(loaded, "create", part="notes")
    await guard.require(Op.note_create, loaded.target, access)
    membership = guard.principal.membership_in(loaded.case.conference_id)
    assert membership is not None  # the policy admitted a member
    note = await note_service.add_note(guard.session, guard.principal, case=loaded.case, data=body,
                                       author_id=membership.id)
    return guard.deliver(Read(
        NoteOut(id=note.id, label=body.label, organisation_id=note.organisation_id, author_id=note.author_id,
                text=note.text, created_at=note.created_at),
        (Access(**{**access.__dict__, "resource_id": str(note.id)}),),
    ))


@router.get("/cases/{case_id}/notes", response_model=NoteList)
async def list_notes(case_id: uuid.UUID, guard: GuardDep) -> NoteList:
    loaded = await service.load_case(guard.session, case_id)
    await guard.require(Op.case_read, loaded.target, _access(loaded, "read", part="notes"))
    return guard.deliver(await reads.notes_read(guard.session, guard.principal, loaded))
