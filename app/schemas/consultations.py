"""Consultations without a file (spreekuur): anonymous by construction. There is no field for a
client, a name or a BSN, and the texts are checked for them (app/services/consultations/anonymity.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import AgeGroup, ConsultationAddressee, ConsultationStatus, LifeDomain
from app.schemas.cases import ClientIn
from app.schemas.common import Strict

Text = Annotated[str, Field(min_length=1, max_length=4000)]


class ConsultationCreate(Strict):
    addressee: ConsultationAddressee = Field(
        description="Ask the conference, or the addiction care institution taking part in it.")
    organisation_id: uuid.UUID | None = Field(
        default=None, description="Which addiction care institution, where the conference has more than one.")
    question: Text
    situation: str = Field(default="", max_length=4000,
                           description="The situation, anonymously: no name, BSN, date of birth or address.")
    age_group: AgeGroup | None = None
    substances: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=20)
    life_domains: list[LifeDomain] = Field(default_factory=list, max_length=13)


class ConsultationAnswer(Strict):
    answer: Text


class ConsultationConvert(Strict):
    """Turn a consultation into a referral: now the person is named, with their consent."""

    consent: bool = Field(description="The person consented to being referred (must be true).")
    client: ClientIn
    reason: Text


class ConsultationOut(BaseModel):
    id: uuid.UUID
    conference_id: uuid.UUID
    asking_organisation_id: uuid.UUID
    addressee: ConsultationAddressee
    addressed_organisation_id: uuid.UUID | None
    status: ConsultationStatus
    question: str
    situation: str
    age_group: AgeGroup | None
    substances: list[str]
    life_domains: list[LifeDomain]
    answer: str | None
    answered_at: datetime | None
    referral_id: uuid.UUID | None
    created_at: datetime
    version: int


class ConsultationCountOut(BaseModel):
    """How many consultations the conference had (figures: no content)."""

    conference_id: uuid.UUID
    since: date | None
    total: int
    open_count: int
    answered_count: int
    converted_count: int
    to_addiction_care_count: int
