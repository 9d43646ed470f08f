from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter

from app.audit import Access
from app.auth.policy import Op, Target
from app.clock import clock
from app.deps import GuardDep, SettingsDep
from app.errors import NotFound, TooManyRequests
from app.models.enums import Phase
from app.schemas.cases import ClientCaseRef, ClientLookup, ClientLookupOut
from app.services.cases import clients as service

router = APIRouter(tags=["clients"])


@router.post("/conferences/{conference_id}/clients/lookup", response_model=ClientLookupOut)
async def lookup_by_bsn(
    conference_id: uuid.UUID, body: ClientLookup, guard: GuardDep, settings: SettingsDep
) -> ClientLookupOut:
    """Find a client by BSN. The BSN travels in the body, never in a URL, and is never echoed."""
    access = Access(action="search", resource_type="client", conference_id=conference_id, part="bsn")
    await guard.require(Op.client_lookup, Target(conference_id=conference_id), access)
    window = timedelta(seconds=settings.bsn_lookup_window_seconds)
    recent = await service.bsn_searches_since(
        guard.session, issuer=guard.principal.issuer, subject=guard.principal.subject, since=clock.now() - window
    )
    if recent >= settings.bsn_lookup_limit:
        # Bulk look-ups are refused and flagged for the privacy officer (part "bsn:throttled").
        await guard.audit.denied(Access(**{**access.__dict__, "part": "bsn:throttled"}))
        raise TooManyRequests(
            f"Too many look-ups by BSN: at most {settings.bsn_lookup_limit} per "
            f"{settings.bsn_lookup_window_seconds // 60} minutes. This has been recorded.",
            retry_after=settings.bsn_lookup_window_seconds,
        )
    bsn = service.normalise_bsn(body.bsn)
    client = await service.find_by_bsn(guard.session, conference_id=conference_id, bsn=bsn, settings=settings)
    if client is None:
        # The 404 rolls the request back; the search must stay in the log all the same.
        await guard.audit.allowed_regardless(access)
        raise NotFound(detail="There is no client with this BSN in this conference.")
    cases = await service.cases_of_client(guard.session, client.id)
    guard.audit.allowed(Access(**{**access.__dict__, "client_number": client.client_number}))
    return ClientLookupOut(
        client_number=client.client_number,
        bsn_masked=service.mask_bsn(bsn),
        cases=[ClientCaseRef(case_id=c.id, phase=Phase(c.phase)) for c in cases],
    )
