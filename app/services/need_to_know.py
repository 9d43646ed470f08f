"""Need to know, per case: the sharing bases in force, the phase and an open break-glass, gathered
once per request and handed to the policy (app/auth/policy.py `NeedToKnow`). Every read path builds
its answer through this; nothing else decides whether labelled content is shown.

Also the break-glass (doorbraak) procedure: a member opens hidden information on one case in an
emergency, with a stated reason and a short expiry; every read under it is marked in the access log
(basis `break_glass:<id>`), and the privacy officers of the conference and the case director are told."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access
from app.auth.policy import NeedToKnow, SharingBasis
from app.auth.principal import Principal
from app.clock import clock
from app.errors import UnprocessableEntity
from app.models import BreakGlass, Case, Membership, Notification
from app.models.enums import Label, Role
from app.services.agreements.lifecycle import BasesInForce, bases_in_force_for

HIDDEN_SIGNAL = "Signaal ontvangen (afgeschermd)"


def hidden_signal_text(label: str, ntk: NeedToKnow) -> str:
    """What a viewer who may not see a signal's content reads in its place."""
    if ntk.is_chair and label in (Label.health, Label.justice):
        kind = "gezondheid" if label == Label.health else "justitie"
        return f"Signaal ({kind}) ontvangen, inhoud afgeschermd: bespreken"
    return HIDDEN_SIGNAL



# A break-glass opens everything but another organisation's internal notes.
_BREAK_GLASS_LABELS = (Label.health, Label.justice)
BREAK_GLASS_MAX_MINUTES = 240


def _bases(found: BasesInForce) -> tuple[SharingBasis, ...]:
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
    return tuple(bases)


async def _open_break_glass(
    session: AsyncSession, principal: Principal, case_ids: list[uuid.UUID]
) -> dict[uuid.UUID, SharingBasis]:
    memberships = sorted(principal.membership_ids())
    if not memberships or not case_ids:
        return {}
    rows = (
        await session.execute(
            sa.select(col(BreakGlass.case_id), col(BreakGlass.id)).where(
                col(BreakGlass.case_id).in_(case_ids),
                col(BreakGlass.membership_id).in_(memberships),
                col(BreakGlass.expires_at) > clock.now(),
            )
        )
    ).all()
    return {case_id: _break_glass_basis(principal, grant_id) for case_id, grant_id in rows}


def _break_glass_basis(principal: Principal, grant_id: uuid.UUID) -> SharingBasis:
    return SharingBasis(kind="break_glass", reference=str(grant_id),
                        labels_to_kinds={label: frozenset({principal.organisation_kind})
                                         for label in _BREAK_GLASS_LABELS})


def need_to_know_from(
    principal: Principal, case: Case, found: BasesInForce, break_glass_ids: list[uuid.UUID]
) -> NeedToKnow:
    """NeedToKnow of one case from parts its read path loaded itself (the case detail loads them
    in the same statement as the case, app/services/cases/detail.py)."""
    if principal.kind == "system":
        return NeedToKnow(principal, case.conference_id, case.phase)
    glass = _break_glass_basis(principal, break_glass_ids[0]) if break_glass_ids else None
    return NeedToKnow(principal, case.conference_id, case.phase, _bases(found), glass)


@dataclass(frozen=True)
class CaseRef:
    id: uuid.UUID
    conference_id: uuid.UUID
    phase: str


async def need_to_know_for(
    session: AsyncSession, principal: Principal, cases: list[CaseRef]
) -> dict[uuid.UUID, NeedToKnow]:
    """NeedToKnow for each case (a few queries, whatever the number of cases)."""
    ids = sorted({c.id for c in cases})
    if principal.kind == "system":
        # Partner systems never read on a sharing basis (their scope is minimal by definition).
        return {c.id: NeedToKnow(principal, c.conference_id, c.phase) for c in cases}
    found = await bases_in_force_for(session, ids)
    glass = await _open_break_glass(session, principal, ids)
    return {
        c.id: NeedToKnow(principal, c.conference_id, c.phase, _bases(found[c.id]), glass.get(c.id))
        for c in cases
    }


async def need_to_know(session: AsyncSession, principal: Principal, case: Case) -> NeedToKnow:
    ref = CaseRef(case.id, case.conference_id, case.phase)
    return (await need_to_know_for(session, principal, [ref]))[case.id]


async def open_break_glass(
    session: AsyncSession, principal: Principal, *, case: Case, client_number: str, reason: str, minutes: int
) -> tuple[BreakGlass, Access]:
    """Open hidden information on one case for `minutes` (at most four hours)."""
    membership = principal.membership_in(case.conference_id, Role.chair, Role.member)
    assert membership is not None  # the policy admitted a chair or member of this conference
    if not reason.strip():
        raise UnprocessableEntity("State why you need to open hidden information.", pointer="/reason")
    now = clock.now()
    grant = BreakGlass(case_id=case.id, conference_id=case.conference_id, membership_id=membership.id,
                       organisation_id=principal.organisation_id, reason=reason.strip(), opened_at=now,
                       expires_at=now + timedelta(minutes=min(minutes, BREAK_GLASS_MAX_MINUTES)))
    session.add(grant)
    await session.flush()
    officers = (
        await session.execute(
            sa.select(col(Membership.id)).where(
                col(Membership.conference_id) == case.conference_id,
                col(Membership.role) == Role.privacy_officer.value,
                col(Membership.active).is_(True),
            )
        )
    ).scalars()
    addressees = set(officers)
    if case.case_director_id is not None:
        addressees.add(case.case_director_id)
    session.add_all([
        Notification(kind="break_glass", conference_id=case.conference_id, membership_id=m,
                     ref_type="break_glass", ref_id=grant.id, on_date=clock.today())
        for m in sorted(addressees)
    ])
    access = Access(action="execute", resource_type="case", resource_id=str(case.id), case_id=case.id,
                    conference_id=case.conference_id, client_number=client_number, part="break_glass",
                    basis=f"break_glass:{grant.id}")
    return grant, access


async def need_to_know_by_ids(
    session: AsyncSession, principal: Principal, case_ids: list[uuid.UUID]
) -> dict[uuid.UUID, NeedToKnow]:
    """NeedToKnow for the cases behind a list of rows (actions, agenda items, notifications)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = (
        await session.execute(
            sa.select(col(Case.id), col(Case.conference_id), col(Case.phase)).where(col(Case.id).in_(ids))
        )
    ).all()
    return await need_to_know_for(session, principal, [CaseRef(r[0], r[1], r[2]) for r in rows])
