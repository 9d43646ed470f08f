"""Where the access policy gets its sharing bases: consent in an active agreement (its scope minus
withdrawals), or a legal basis that the chair recorded, each in force at this very moment.

No basis: no sharing of labelled information beyond what each organisation sees natively. The
bases are read again on every request, so a withdrawal or an expiry counts from the next one."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import SharingBasis
from app.services.agreements.lifecycle import bases_in_force


async def sharing_bases(session: AsyncSession, case_id: uuid.UUID) -> list[SharingBasis]:
    found = await bases_in_force(session, case_id)
    bases = [
        SharingBasis(kind="agreement", reference=str(agreement.id),
                     labels_to_kinds={label: frozenset(kinds) for label, kinds in scope.items()})
        for agreement, scope in found.agreements
    ]
    bases.extend(
        SharingBasis(kind="legal_basis", reference=str(basis.id),
                     labels_to_kinds={label: frozenset(kinds) for label, kinds in basis.scope.items()})
        for basis in found.legal_bases
    )
    return bases


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
