"""Who am I: what the service made of the caller's token (organisation, memberships, scopes).

Holds no client data; useful for a web client after sign-in and for partner systems checking
their registration."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import CurrentPrincipal
from app.models.enums import Role

router = APIRouter(tags=["identity"])


class MembershipRefOut(BaseModel):
    id: uuid.UUID
    conference_id: uuid.UUID
    role: Role


class MeOut(BaseModel):
    kind: Literal["person", "system"]
    display_name: str
    organisation_id: uuid.UUID
    organisation_kind: str
    memberships: list[MembershipRefOut]
    scopes: list[str]
    organisation_admin: bool = False  # an administrator of their own organisation


@router.get("/me", response_model=MeOut)
async def who_am_i(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        kind=principal.kind,
        display_name=principal.display_name,
        organisation_id=principal.organisation_id,
        organisation_kind=principal.organisation_kind,
        memberships=[
            MembershipRefOut(id=m.id, conference_id=m.conference_id, role=Role(m.role))
            for m in principal.memberships
        ],
        scopes=sorted(principal.scopes),
        organisation_admin=principal.organisation_admin,
    )
