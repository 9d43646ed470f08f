"""The anchors of the Zelfredzaamheid-Matrix served as metadata: no client data."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models.enums import LifeDomain


class ZrmScoreAnchorOut(BaseModel):
    score: int = Field(ge=1, le=5)
    level: str  # the general meaning of the score, e.g. "beperkt zelfredzaam"
    description: str  # what the score means in this life domain


class ZrmDomainAnchorsOut(BaseModel):
    domain: LifeDomain
    name: str  # the Dutch name of the life domain
    scores: list[ZrmScoreAnchorOut]


class ZrmAnchorsOut(BaseModel):
    source: str
    domains: list[ZrmDomainAnchorsOut]
