"""Partner organisations' own view of a client: their client references, linked by their people
or their partner system (scope clients:link)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.audit import Access
from app.auth.policy import Op
from app.deps import GuardDep
from app.errors import NotFound
from app.schemas.partners import MinimalCase, ReferenceCreate, ReferenceLookup, ReferenceOut
from app.services.cases import lifecycle as case_service
from app.services.partners import minimal
from app.services.partners import references as service
from app.services.partners.references import reference_out

router = APIRouter(tags=["partner systems"])


def _access(loaded: case_service.LoadedCase, action: str, resource_id: uuid.UUID | None = None) -> Access:
    return Access(
        action=action,
        resource_type="client_reference",
        resource_id=str(resource_id) if resource_id else None,
        case_id=loaded.case.id,
        conference_id=loaded.case.conference_id,
        client_number=loaded.client.client_number,
        part="reference",
    )


async def _case_for(guard: GuardDep, case_id: uuid.UUID, op: Op, action: str) -> case_service.LoadedCase:
    """People ask the policy; a partner system needs the scope clients:link and its organisation
    taking part in the case's conference (anything else reads exactly like a missing case)."""
    loaded = await case_service.load_case(guard.session, case_id)
    if guard.principal.kind == "system":
        # Like the policy for systems on conference objects: a refusal reads like a missing case.
        if service.LINK_SCOPE not in guard.principal.scopes or not await service.organisation_takes_part(
            guard.session, guard.principal.organisation_id, loaded.case.conference_id
        ):
            await guard.audit.denied(_access(loaded, action))
            raise NotFound("case")
        return loaded
    await guard.require(op, loaded.target, _access(loaded, action), hidden_as="case")
    return loaded


@router.get("/cases/{case_id}/references", response_model=list[ReferenceOut])
async def list_references(case_id: uuid.UUID, guard: GuardDep) -> list[ReferenceOut]:
    """Your organisation's own references for the case's client (never another's)."""
    loaded = await _case_for(guard, case_id, Op.reference_read, "read")
    rows = await service.own_references(guard.session, guard.principal.organisation_id, loaded.client.id)
    guard.record(_access(loaded, "read"))
    return [reference_out(r, case_id) for r in rows]


@router.post(
    "/cases/{case_id}/references",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferenceOut,
    responses={200: {"model": ReferenceOut, "description": "Already linked to this client."},
               422: {"description": "The reference belongs to another client of your organisation."}},
)
async def link_reference(
    case_id: uuid.UUID, body: ReferenceCreate, guard: GuardDep, response: Response
) -> ReferenceOut:
    """Link your organisation's own reference (EPD or BVH number) to the case's client, so that
    your partner system can name the client in events."""
    loaded = await _case_for(guard, case_id, Op.reference_link, "create")
    row, created = await service.link(
        guard.session, guard.principal.organisation_id, loaded.client.id, body.reference
    )
    guard.record(_access(loaded, "create" if created else "read", row.id))
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/cases/{case_id}/references/{row.id}"
    return reference_out(row, case_id)


@router.delete("/cases/{case_id}/references/{reference_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_reference(case_id: uuid.UUID, reference_id: uuid.UUID, guard: GuardDep) -> Response:
    loaded = await _case_for(guard, case_id, Op.reference_link, "delete")
    try:
        await service.unlink(guard.session, guard.principal.organisation_id, loaded.client.id, reference_id)
    except NotFound:
        await guard.audit.denied(_access(loaded, "delete", reference_id))
        raise
    guard.record(_access(loaded, "delete", reference_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/cases/minimal-lookup", response_model=MinimalCase)
async def minimal_case_by_reference(body: ReferenceLookup, guard: GuardDep) -> MinimalCase:
    """The minimal view of the case of the client your own reference names (the reference goes in
    the body, never in a URL). An unknown reference answers like a missing case."""
    await guard.require_system_scope(minimal.READ_SCOPE, Access(action="search", resource_type="case", part="minimal"))
    case_id = await minimal.case_of_reference(guard.session, guard.principal, body.reference)
    if case_id is None:
        await guard.audit.denied(Access(action="search", resource_type="case", part="minimal", role="system"))
        raise NotFound("case")
    read, access = await minimal.minimal_case_read(guard.session, guard.principal, case_id)
    if read is None:
        await guard.audit.denied(access)
        raise NotFound("case")
    return guard.deliver(read)


@router.get("/cases/{case_id}/minimal", response_model=MinimalCase)
async def minimal_case(case_id: uuid.UUID, guard: GuardDep) -> MinimalCase:
    """For partner systems with `cases:read-minimal` (what an id-only webhook points at): for a
    client your organisation holds a reference for, the case's phase, the next meeting date, the
    case director's organisation and role, and your organisation's actions with status and due
    date. Nothing else. Any other case reads exactly like a missing one."""
    await guard.require_system_scope(
        minimal.READ_SCOPE, minimal.minimal_access(None, None, case_id)
    )
    read, access = await minimal.minimal_case_read(guard.session, guard.principal, case_id)
    if read is None:
        await guard.audit.denied(access)
        raise NotFound("case")
    return guard.deliver(read)
