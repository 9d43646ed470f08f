"""Consent questions asked where information flows (an aftercare relapse arriving). The sharing
bases of the read paths are gathered by app/services/need_to_know.py; both read them again on
every request, so a withdrawal or an expiry counts from the next one."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.agreements.lifecycle import bases_in_force


async def has_aftercare_consent(session: AsyncSession, case_id: uuid.UUID) -> bool:
    """Does an aftercare (nazorg) agreement in force let the neighbourhood team hear of a relapse?
    True while such an agreement is signed, not expired, and its health-to-neighbourhood-team
    consent is not withdrawn. Partner events start an aftercare watch only then."""
    found = await bases_in_force(session, case_id)
    return any(
        agreement.template_id == AFTERCARE_TEMPLATE and "neighbourhood_team" in scope.get("health", ())
        for agreement, scope in found.agreements
    )


AFTERCARE_TEMPLATE = "nazorg"
