"""Where the access policy gets its sharing bases (consent in an agreement, or a legal basis).

The agreements issue fills this in; until then there is no basis, and so no sharing of labelled
information beyond what each organisation sees natively."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import SharingBasis


async def sharing_bases(session: AsyncSession, case_id: uuid.UUID) -> list[SharingBasis]:
    return []
