"""Known elsewhere (hit/no-hit): a member asks whether a client, by BSN, is known in another
participating conference. Neither the BSN nor its hash is stored: the question compares the keyed
hash the clients already carry (app/services/cases/clients.py) and keeps only who asked, why and
whether it was a hit; each answering conference keeps a row naming its own client."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import id_field, ts_field


class KnownElsewhereQuestion(SQLModel, table=True):
    """The asking conference's record of one question (its reason stays on this side)."""

    __tablename__ = "known_elsewhere_question"

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    asked_by_id: uuid.UUID = Field(foreign_key="membership.id")
    reason: str = Field(max_length=1000)
    known: bool
    asked_at: datetime = ts_field()


class KnownElsewhereAnswer(SQLModel, table=True):
    """An answering conference's record of a hit: which of its own clients was asked about."""

    __tablename__ = "known_elsewhere_answer"

    id: uuid.UUID = id_field()
    question_id: uuid.UUID = Field(foreign_key="known_elsewhere_question.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    client_id: uuid.UUID = Field(foreign_key="client.id")
    answered_at: datetime = ts_field()
