"""A client's requests under the AVG (issue 21): the privacy officer records them, extends a
deadline once, applies corrections, and records the decision and the answer; the register lists
them with their deadlines. Rules in app/services/privacy/requests.py."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from app.audit import Access
from app.auth.policy import Op, Target
from app.deps import GuardDep
from app.errors import Forbidden
from app.http.paging import PagingDep
from app.models.enums import ClientRequestStatus, Role
from app.schemas.common import PageOut
from app.schemas.privacy import (
    AnswerCreate,
    ClientRequestCreate,
    ClientRequestOut,
    CorrectionCreate,
    CorrectionOut,
    ExtensionCreate,
)
from app.services.common import etag_of
from app.services.privacy import officer
from app.services.privacy import requests as service

router = APIRouter(tags=["client requests"])

IfMatch = Annotated[str | None, Header(description="The ETag of the request version you read.")]


def _membership(guard: GuardDep, conference_id: uuid.UUID) -> uuid.UUID:
    membership = guard.principal.membership_in(conference_id, Role.privacy_officer)
    if membership is None:  # the policy allowed the privacy officer's operation: never here
        raise Forbidden("Only a privacy officer of the client's conference may do this.")
    return membership.id


async def _loaded(guard: GuardDep, request_id: uuid.UUID, action: str, part: str | None = None,
                  ) -> tuple[service.LoadedRequest, Access]:
    loaded = await service.load_request(guard.session, request_id, for_update=action != "read")
    access = service.request_access(loaded.request, loaded.client.client_number, action, part)
    await guard.require(Op.client_request, Target(conference_id=loaded.request.conference_id), access,
                        hidden_as="client request")
    return loaded, access


@router.post("/audit/clients/{client_number}/requests", response_model=ClientRequestOut,
             status_code=status.HTTP_201_CREATED)
async def record_request(
    client_number: str, body: ClientRequestCreate, guard: GuardDep, response: Response
) -> ClientRequestOut:
    """Record a client's request (inzage, correctie, verwijdering, beperking, bezwaar, klacht):
    when it came in, how, and who made it on the client's behalf. The deadline is one month later."""
    client = await officer.load_client_by_number(guard.session, client_number)
    access = Access(action="create", resource_type=service.RESOURCE, conference_id=client.conference_id,
                    client_number=client.client_number, part=body.kind.value, role=Role.privacy_officer.value)
    await guard.require(Op.client_request, Target(conference_id=client.conference_id), access, hidden_as="client")
    request = await service.record_request(guard.session, client=client, data=body,
                                           recorded_by_id=_membership(guard, client.conference_id))
    guard.record(replace(access, resource_id=str(request.id)))
    response.headers["ETag"] = etag_of(request.version)
    return service.request_out(request, client.client_number, [])


@router.get("/client-requests", response_model=PageOut[ClientRequestOut])
async def request_register(
    guard: GuardDep,
    page: PagingDep,
    request_status: Annotated[ClientRequestStatus | None, Query(alias="status")] = None,
    overdue: bool | None = None,
    client_number: Annotated[str | None, Query(max_length=16)] = None,
) -> PageOut[ClientRequestOut]:
    """The register of client requests of your conferences (privacy officer): open ones first,
    the earliest deadline first."""
    access = Access(action="search", resource_type=service.RESOURCE, client_number=client_number,
                    part="register", role=Role.privacy_officer.value)
    mine = sorted(guard.principal.conference_ids(Role.privacy_officer), key=str)
    if not mine:
        await guard.audit.denied(access)
        raise Forbidden("Only a privacy officer keeps the register of client requests.")
    read = await service.register_read(
        guard.session,
        service.RegisterQuery(conference_ids=mine, status=request_status, overdue=overdue,
                              client_number=client_number),
        limit=page.limit, offset=page.offset,
    )
    guard.record(access)
    items, total = guard.deliver(read)
    return PageOut(items=items, total=total, limit=page.limit, offset=page.offset, next=page.next_link(total))


@router.get("/client-requests/{request_id}", response_model=ClientRequestOut)
async def read_request(request_id: uuid.UUID, guard: GuardDep, response: Response) -> ClientRequestOut:
    loaded, _access = await _loaded(guard, request_id, "read")
    out = guard.deliver(await service.request_read(guard.session, loaded))
    response.headers["ETag"] = etag_of(out.version)
    return out


@router.post("/client-requests/{request_id}/extension", response_model=ClientRequestOut)
async def extend_request(
    request_id: uuid.UUID, body: ExtensionCreate, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> ClientRequestOut:
    """Extend the deadline once, by two months, with the reason the client is told."""
    loaded, access = await _loaded(guard, request_id, "update", "extension")
    request = await service.extend(guard.session, loaded, reason=body.reason, if_match=if_match)
    guard.record(access)
    response.headers["ETag"] = etag_of(request.version)
    return guard.deliver(await service.request_read(guard.session, loaded))


@router.post("/client-requests/{request_id}/corrections", response_model=CorrectionOut,
             status_code=status.HTTP_201_CREATED)
async def correct_data(request_id: uuid.UUID, body: CorrectionCreate, guard: GuardDep) -> CorrectionOut:
    """Correct a value on a request for correction: the old and new value are kept, and the people
    and partner systems of the organisations that read the old value are told (ids only). An
    agreement's text is refused: it is signed; record a new version instead."""
    loaded, access = await _loaded(guard, request_id, "update", "correction")
    correction = await service.correct(
        guard.session, guard.principal, loaded, body,
        corrected_by_id=_membership(guard, loaded.request.conference_id),
    )
    guard.record(access, Access(action="update", resource_type=service.CORRECTED_RESOURCE[body.field],
                                resource_id=str(correction.entity_id), conference_id=loaded.request.conference_id,
                                client_number=loaded.client.client_number, case_id=correction.case_id,
                                part="correction", role=Role.privacy_officer.value))
    return service.correction_out(correction)


@router.post("/client-requests/{request_id}/answer", response_model=ClientRequestOut)
async def answer_request(
    request_id: uuid.UUID, body: AnswerCreate, guard: GuardDep, response: Response, if_match: IfMatch = None
) -> ClientRequestOut:
    """Record the decision and the answer. Refused after the deadline unless it was extended.
    Granted erasure anonymises the client's closed cases now; granted restriction keeps the
    client's data from the retention purge."""
    loaded, access = await _loaded(guard, request_id, "update", "answer")
    await service.answer(guard.session, loaded, body, if_match=if_match,
                         answered_by_id=_membership(guard, loaded.request.conference_id))
    guard.record(access)
    response.headers["ETag"] = etag_of(loaded.request.version)
    return guard.deliver(await service.request_read(guard.session, loaded))
