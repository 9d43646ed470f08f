"""Consultations without a file (spreekuur): a professional's anonymous question to the conference
or the addiction care institution, and its answer. No client, no BSN, no name: the table has no
column that could hold one (app/services/consultations/anonymity.py refuses them in its texts).
Turned into a referral with consent later, it keeps only the link to that referral."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import id_field, state_field, text_array_field, ts_field
from app.models.enums import AgeGroup, ConsultationAddressee, ConsultationStatus


class Consultation(SQLModel, table=True):
    __tablename__ = "consultation"

    id: uuid.UUID = id_field()
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    asked_by_id: uuid.UUID = Field(foreign_key="membership.id", index=True)
    asking_organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    addressee: ConsultationAddressee = state_field(ConsultationAddressee, ConsultationAddressee.conference)
    # The addiction care institution asked (None: the conference as a whole).
    addressed_organisation_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id", index=True)
    question: str = Field(max_length=4000)
    situation: str = Field(default="", max_length=4000)
    age_group: AgeGroup | None = state_field(AgeGroup, None)
    substances: list[str] = text_array_field()
    life_domains: list[str] = text_array_field()
    status: ConsultationStatus = state_field(ConsultationStatus, ConsultationStatus.open, index=True)
    answer: str | None = Field(default=None, max_length=4000)
    answered_by_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    answered_at: datetime | None = ts_field(nullable=True, default_now=False)
    referral_id: uuid.UUID | None = Field(default=None, foreign_key="referral.id")
    created_at: datetime = ts_field(index=True)
    version: int = 1
