from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.audit import Access, Read
from app.deps import GuardDep, SettingsDep
from app.errors import NotFound
from app.models.enums import Phase
from app.schemas.cases import ClientCaseRef, ClientLookup, ClientLookupOut
from app.services.cases import clients as service

router = APIRouter(tags=["clients"])


@router.post("/conferences/{conference_id}/clients/lookup", response_model=ClientLookupOut)
async def lookup_by_bsn(
    conference_id: uuid.UUID, body: ClientLookup, guard: GuardDep, settings: SettingsDep
) -> ClientLookupOut:
    """Find a client by BSN. The BSN travels in the body, never in a URL, and is never echoed."""
    access = await guard.require_bsn_lookup(conference_id, settings)
    bsn = service.normalise_bsn(body.bsn)
    client = await service.find_by_bsn(guard.session, conference_id=conference_id, bsn=bsn, settings=settings)
    if client is None:
        # The 404 rolls the request back; the search must stay in the log all the same.
        await guard.audit.allowed_regardless(access)
        raise NotFound(detail="There is no client with this BSN in this conference.")
    cases = await service.cases_of_client(guard.session, client.id)
    return guard.deliver(Read(
        ClientLookupOut(client_number=client.client_number, bsn_masked=service.mask_bsn(bsn),
                        cases=[ClientCaseRef(case_id=c.id, phase=Phase(c.phase)) for c in cases]),
        (Access(**{**access.__dict__, "client_number": client.client_number}),),
    ))
