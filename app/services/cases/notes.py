"""Case notes, each with a need-to-know label and the author's organisation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import NeedToKnow
from app.auth.principal import Principal
from app.errors import Conflict
from app.models import Case, CaseNote
from app.models.enums import Phase
from app.schemas.cases import NoteCreate, NoteOut
from app.services.cases.present import HIDDEN


async def add_note(session: AsyncSession, principal: Principal, *, case: Case, data: NoteCreate,
                   author_id: uuid.UUID) -> CaseNote:
    if case.phase == Phase.closed:
        raise Conflict("No new notes on a closed case.")
    note = CaseNote(case_id=case.id, author_id=author_id, organisation_id=principal.organisation_id,
                    label=data.label.value, text=data.text)
    session.add(note)
    await session.flush()
    return note


async def visible_notes(session: AsyncSession, ntk: NeedToKnow, *, case: Case) -> list[NoteOut]:
    """Every note of the case, each shaped by the policy: visible with the basis that made it so,
    or "afgeschermd" with only its organisation and date."""
    notes = (
        await session.execute(
            sa.select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at, CaseNote.id)
        )
    ).scalars().all()
    shown: list[NoteOut] = []
    for note in notes:
        visible, basis = ntk.sees(note.label, note.organisation_id, part="notes")
        if visible:
            shown.append(NoteOut(id=note.id, label=note.label, organisation_id=note.organisation_id,
                                 author_id=note.author_id, text=note.text, created_at=note.created_at, basis=basis))
        else:
            shown.append(NoteOut(id=note.id, label=None, organisation_id=note.organisation_id, author_id=None,
                                 text=HIDDEN, created_at=note.created_at, hidden=True))
    return shown
