"""Where the access policy gets its sharing bases (consent in an agreement, or a legal basis).

The agreements issue fills this in; until then there is no basis, and so no sharing of labelled
information beyond what each organisation sees natively."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import SharingBasis


async def sharing_bases(session: AsyncSession, case_id: uuid.UUID) -> list[SharingBasis]:
    return []


async def has_aftercare_consent(session: AsyncSession, case_id: uuid.UUID) -> bool:
    """Does the case's agreement include aftercare (the neighbourhood team keeping an eye on
    things after treatment, with the client's consent)? Partner events start an aftercare watch
    only when it does.

    TODO(agreements issue): answer from the signed, unwithdrawn agreement of the case. Until
    then there is no agreement and so no consent: False."""
    return False
