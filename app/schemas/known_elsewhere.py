"""Request and response shapes of known-elsewhere questions (hit/no-hit, docs/known-elsewhere.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from app.schemas.common import Strict


class KnownElsewhereAsk(Strict):
    # Both default to empty so that a missing one is refused by the route, which logs the refusal.
    bsn: str = Field(default="", max_length=64, description="The client's BSN; never echoed, never stored.")
    reason: str = Field(default="", max_length=1000, description="Why you ask (required).")


class KnownConference(BaseModel):
    name: str
    chair_contact: str = Field(description="The chair's name and e-mail address: contact them.")


class KnownElsewhereOut(BaseModel):
    """Only whether the person is known, and where to ask: no client data crosses."""

    known: bool
    conferences: list[KnownConference] | None = Field(default=None, description="Only when known.")


class KnownElsewhereQuestionOut(BaseModel):
    """A question as its chairs see it: the asking conference's chair, and the chair of a
    conference that answered yes (with the number of their own client)."""

    id: uuid.UUID
    asked_at: datetime
    asking_conference: str
    asked_by: str = Field(description="Who asked: name and e-mail address, to make contact.")
    known: bool
    client_number: str | None = Field(default=None, description="Your own conference's client (a hit).")
