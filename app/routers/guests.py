"""Guests of one case, peer supporters and buddies (issue 17): invited by the chair, listed with
their reads for everyone working on the case. The guest's own reads go through the case's read
paths; the policy grants them (app/auth/policy.py `_as_guest`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.audit import Access, Read
from app.auth.policy import Op
from app.clock import clock
from app.deps import GuardDep
from app.errors import Conflict, UnprocessableEntity
from app.schemas.guests import GuestInvitationCreate, GuestInvitationOut
from app.services.cases import guests as service
from app.services.cases import lifecycle

router = APIRouter(tags=["guests"])


@router.post("/cases/{case_id}/guests", status_code=201, response_model=GuestInvitationOut)
async def invite_guest(case_id: uuid.UUID, body: GuestInvitationCreate, guard: GuardDep) -> GuestInvitationOut:
    """Invite a professional of another organisation (or a peer supporter or buddy, with the client's
    consent) to read this case until the end date, for the stated reason. The chair only."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    access = service.guest_access(loaded, "create")
    await guard.require(Op.guest_manage, loaded.target, access, hidden_as="case")
    try:
        invitation = await service.invite(guard.session, guard.principal, loaded, body)
    except (UnprocessableEntity, Conflict):
        await guard.audit.denied(access)
        raise
    out = service.present(invitation, await service.organisation_name(guard.session, invitation), clock.now())
    return guard.deliver(Read(out, (Access(**{**access.__dict__, "resource_id": str(invitation.id)}),)))


@router.get("/cases/{case_id}/guests", response_model=list[GuestInvitationOut])
async def list_guests(case_id: uuid.UUID, guard: GuardDep) -> list[GuestInvitationOut]:
    """Who was invited to this case, why, until when, and what they read (from the access log)."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    access = service.guest_access(loaded, "list")
    await guard.require(Op.guest_read, loaded.target, access, hidden_as="case")
    return guard.deliver(Read(await service.invitations_of(guard.session, loaded), (access,)))


@router.post("/cases/{case_id}/guests/{invitation_id}/revoke", response_model=GuestInvitationOut)
async def revoke_guest(case_id: uuid.UUID, invitation_id: uuid.UUID, guard: GuardDep) -> GuestInvitationOut:
    """End an invitation before its end date. The chair only."""
    loaded = await lifecycle.load_case(guard.session, case_id)
    access = service.guest_access(loaded, "update", invitation_id)
    await guard.require(Op.guest_manage, loaded.target, access, hidden_as="case")
    try:
        invitation = await service.revoke(guard.session, guard.principal, loaded, invitation_id)
    except Conflict:
        await guard.audit.denied(access)
        raise
    out = service.present(invitation, await service.organisation_name(guard.session, invitation), clock.now())
    return guard.deliver(Read(out, (access,)))
