"""Case notes, each with a need-to-know label and the author's organisation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import label_visibility
from app.auth.principal import Principal
from app.errors import Conflict
from app.models import Case, CaseNote
from app.models.enums import Phase
from app.schemas.cases import NoteCreate, NoteOut
from app.services.agreements.sharing import sharing_bases


async def add_note(session: AsyncSession, principal: Principal, *, case: Case, data: NoteCreate,
                   author_id: uuid.UUID) -> CaseNote:
    if case.phase == Phase.closed:
        raise Conflict("No new notes on a closed case.")
    note = CaseNote(case_id=case.id, author_id=author_id, organisation_id=principal.organisation_id,
                    label=data.label.value, text=data.text)
    session.add(note)
    await session.flush()
    return note


async def visible_notes(session: AsyncSession, principal: Principal, *, case: Case) -> tuple[list[NoteOut], int]:
    """The notes the principal may see, each with the basis that made it visible; and how many
    are hidden. The decision is the policy's (label_visibility), per note."""
    notes = (
        await session.execute(
            sa.select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at, CaseNote.id)
        )
    ).scalars().all()
    bases = await sharing_bases(session, case.id)
    shown: list[NoteOut] = []
    for note in notes:
        visible, basis = label_visibility(principal, label=note.label, conference_id=case.conference_id,
                                          owning_organisation_id=note.organisation_id, bases=bases)
        if visible:
            shown.append(NoteOut(id=note.id, label=note.label, organisation_id=note.organisation_id,
                                 author_id=note.author_id, text=note.text, created_at=note.created_at, basis=basis))
    return shown, len(notes) - len(shown)
