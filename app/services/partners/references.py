"""Client references: an organisation's own number for a client (its EPD or BVH number), by
which its partner system names the client in events (`subject`) and in what it reads.

- People of the organisation (chair, member, liaison) link and unlink their organisation's own
  references on a case they may see; a partner system with the scope `clients:link` does the
  same for the clients of the conferences its organisation takes part in.
- Each organisation sees only its own references.
- A reference belongs to one client per organisation (unique in the database); reusing it for
  another client is refused, naming the field. Nothing here tells about other organisations'.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import Access, Read
from app.auth.policy import Op, authorize
from app.auth.principal import Principal
from app.errors import NotFound, UnprocessableEntity
from app.models import ClientReference, ConferenceOrganisation
from app.schemas.partners import ReferenceOut
from app.services.cases.clients import bsn_is_valid
from app.services.cases.lifecycle import LoadedCase

LINK_SCOPE = "clients:link"
TAKEN = "This reference already belongs to another client of your organisation."
NOT_A_BSN = "A client reference is your organisation's own number, never a BSN."


def check_reference(reference: str, *, pointer: str = "#/reference") -> None:
    """A reference shows up in the access log and event receipts: it must not be a BSN."""
    digits = reference.replace(" ", "").replace(".", "")
    if len(digits) in (8, 9) and digits.isdigit() and bsn_is_valid(digits.zfill(9)):
        raise UnprocessableEntity(NOT_A_BSN, pointer=pointer)


async def organisation_takes_part(
    session: AsyncSession, organisation_id: uuid.UUID, conference_id: uuid.UUID
) -> bool:
    """Does the organisation take part in the conference (and so share its cases)?"""
    found = await session.execute(
        sa.select(sa.literal(1)).where(
            col(ConferenceOrganisation.conference_id) == conference_id,
            col(ConferenceOrganisation.organisation_id) == organisation_id,
        )
    )
    return found.first() is not None


async def own_references(
    session: AsyncSession, organisation_id: uuid.UUID, client_id: uuid.UUID
) -> list[ClientReference]:
    rows = await session.execute(
        sa.select(ClientReference)
        .where(
            col(ClientReference.organisation_id) == organisation_id,
            col(ClientReference.client_id) == client_id,
        )
        .order_by(col(ClientReference.created_at), col(ClientReference.reference))
    )
    return list(rows.scalars())


async def link(
    session: AsyncSession, organisation_id: uuid.UUID, client_id: uuid.UUID, reference: str
) -> tuple[ClientReference, bool]:
    """Link the organisation's reference to the client. Returns (row, created); linking the same
    reference to the same client again changes nothing."""
    check_reference(reference)
    inserted = await link_quietly(session, organisation_id, client_id, reference)
    row = (
        await session.execute(
            sa.select(ClientReference).where(
                col(ClientReference.organisation_id) == organisation_id,
                col(ClientReference.reference) == reference,
            )
        )
    ).scalar_one()
    if row.client_id != client_id:
        raise UnprocessableEntity(TAKEN, pointer="#/reference")
    return row, inserted


async def link_quietly(
    session: AsyncSession, organisation_id: uuid.UUID, client_id: uuid.UUID, reference: str
) -> bool:
    """Link unless the reference is already in use (by this client or another); True when it made the
    link. `link` then checks whose the reference is; a referral's reference on acceptance needs no
    check (it was checked when the referral was made)."""
    table = ClientReference.__table__  # type: ignore[attr-defined]
    inserted = (
        await session.execute(
            pg_insert(table)
            .values(id=uuid.uuid4(), client_id=client_id, organisation_id=organisation_id, reference=reference)
            .on_conflict_do_nothing(index_elements=["organisation_id", "reference"])
            .returning(table.c.id)
        )
    ).scalar_one_or_none()
    return inserted is not None


async def reference_is_free_for(
    session: AsyncSession, organisation_id: uuid.UUID, client_id: uuid.UUID | None, reference: str
) -> None:
    """Refuse (naming the field) a reference that belongs to another client of the organisation."""
    check_reference(reference)
    owner = (
        await session.execute(
            sa.select(col(ClientReference.client_id)).where(
                col(ClientReference.organisation_id) == organisation_id,
                col(ClientReference.reference) == reference,
            )
        )
    ).scalar_one_or_none()
    if owner is not None and owner != client_id:
        raise UnprocessableEntity(TAKEN, pointer="#/reference")


async def unlink(
    session: AsyncSession, organisation_id: uuid.UUID, client_id: uuid.UUID, reference_id: uuid.UUID
) -> ClientReference:
    """Remove one of the organisation's own references of the client; another organisation's
    reads exactly like a missing one."""
    row = (
        await session.execute(
            sa.select(ClientReference).where(
                col(ClientReference.id) == reference_id,
                col(ClientReference.organisation_id) == organisation_id,
                col(ClientReference.client_id) == client_id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("client reference")
    await session.execute(sa.delete(ClientReference).where(col(ClientReference.id) == row.id))
    return row


def reference_out(row: ClientReference, case_id: uuid.UUID) -> ReferenceOut:
    return ReferenceOut(
        id=row.id,
        case_id=case_id,
        organisation_id=row.organisation_id,
        reference=row.reference,
        created_at=row.created_at,
    )


def reference_access(loaded: LoadedCase, action: str, resource_id: uuid.UUID | None = None) -> Access:
    return Access(action=action, resource_type="client_reference", resource_id=str(resource_id) if resource_id else None,
                  case_id=loaded.case.id, conference_id=loaded.case.conference_id,
                  client_number=loaded.client.client_number, part="reference")


async def references_read(session: AsyncSession, principal: Principal,
                          loaded: LoadedCase) -> Read[list[ReferenceOut] | None]:
    """The case page's client references: the reader's own organisation's only, as GET
    /cases/{id}/references shows them, with its access-log row; None for who may read the case but
    not the references (a guest): nothing read, nothing logged."""
    if not authorize(principal, Op.reference_read, loaded.target).allowed:
        return Read(None, ())
    rows = await own_references(session, principal.organisation_id, loaded.client.id)
    return Read([reference_out(r, loaded.case.id) for r in rows], (reference_access(loaded, "read"),))
