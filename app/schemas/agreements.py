"""Request and response shapes of agreements, legal bases and the intake checklist."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.models.enums import AgreementStatus, OrganisationKind
from app.schemas.common import INT32_MAX, Strict

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
CommitmentText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
SharedLabel = Literal["health", "justice"]


class TemplateOut(BaseModel):
    id: str
    version: int
    title: str
    summary: str
    parties: list[str]
    default_duration_days: int
    commitments: dict[str, str] = Field(description="Party -> the Dutch label of what that party fills in.")
    sharing: dict[str, list[str]]
    options: list[dict]
    source_sha256: str


class AgreementCreate(Strict):
    template_id: Key
    template_version: int | None = Field(default=None, ge=1, le=INT32_MAX, description="Default: the newest version.")
    parties: dict[OrganisationKind, uuid.UUID] = Field(
        description="Organisation kind -> the organisation that is this party (the client is implied)."
    )
    commitments: dict[Key, CommitmentText] = Field(description="Party (client or kind) -> its commitment.")
    options: list[Key] = Field(default_factory=list, max_length=20, description="Extra consent ticked.")
    starts_on: date | None = None
    ends_on: date | None = None
    replaces_id: uuid.UUID | None = Field(default=None, description="The active agreement this one renews.")
    relapse_wishes: CommitmentText = Field(
        default="", description="The relapse plan in the client's words: what should happen at a relapse."
    )
    relapse_told: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = Field(
        default="", description="Who is told of a relapse, in the client's words."
    )
    evaluation_on: date | None = Field(
        default=None, description="When the parties evaluate the agreement. Default: three months after the start."
    )


class OrganisationSign(Strict):
    party: OrganisationKind


class WithdrawalCreate(Strict):
    whole: bool
    label: SharedLabel | None = None
    organisation_kinds: list[OrganisationKind] = Field(default_factory=list, max_length=8)


class SignatureOut(BaseModel):
    party: str
    organisation_id: uuid.UUID | None
    signer_id: uuid.UUID | None
    signer_name: str | None
    attested_by_id: uuid.UUID | None
    attested_by_name: str | None
    signed_in_person: bool
    signed_on: date
    text_hash: str
    scan_content_type: str | None
    scan_size: int | None
    scan_sha256: str | None
    representative_id: uuid.UUID | None = None  # a legal representative who signed (issue 17)


class WithdrawalOut(BaseModel):
    id: uuid.UUID
    whole: bool
    label: str | None
    organisation_kinds: list[str]
    recorded_by_id: uuid.UUID
    effective_at: datetime


class AgreementSummary(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    template_id: str
    template_version: int
    title: str
    status: AgreementStatus
    parties: dict[str, dict]
    starts_on: date
    ends_on: date
    text_hash: str
    scope: dict[str, list[str]] = Field(description="What may be shared on this agreement, as signed.")
    effective_scope: dict[str, list[str]] = Field(
        description="What may be shared now: the scope minus withdrawals; empty unless active."
    )
    signed_parties: list[str]
    missing_parties: list[str]
    replaces_id: uuid.UUID | None
    version: int


class AgreementOut(AgreementSummary):
    text_hidden: bool = Field(description="True when you may see that the agreement exists, but not its text.")
    rendered_text: str | None
    commitments: dict[str, str] | None
    options: list[str]
    template_sha256: str
    relapse_wishes: str | None
    relapse_told: str | None
    evaluation_on: date | None
    signatures: list[SignatureOut]
    withdrawals: list[WithdrawalOut]
    created_at: datetime
    signed_at: datetime | None


class LegalBasisCreate(Strict):
    article: Annotated[str, StringConstraints(min_length=3, max_length=500)]
    justification: Annotated[str, StringConstraints(min_length=10, max_length=4000)]
    scope: dict[SharedLabel, list[OrganisationKind]]
    starts_on: date | None = None
    ends_on: date


class LegalBasisOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    article: str
    justification: str
    scope: dict[str, list[str]]
    starts_on: date
    ends_on: date
    recorded_by_id: uuid.UUID
    in_force: bool
    ended_at: datetime | None


class SharingBasisOut(BaseModel):
    """One basis on which labelled information of the case is shared now: consent or a law."""

    basis: str = Field(description="The reference given in the `basis` field of shared data.")
    kind: Literal["agreement", "legal_basis"]
    reference: uuid.UUID
    scope: dict[str, list[str]]
    ends_on: date
    title: str = Field(description="The agreement's title, or the article of the legal basis.")
    justification: str | None = None


class CaseSharingOut(BaseModel):
    case_id: uuid.UUID
    consent: list[SharingBasisOut]
    legal_bases: list[SharingBasisOut]


class ChecklistItemOut(BaseModel):
    key: str
    title: str
    automatic: bool
    done: bool
    ticked_by_id: uuid.UUID | None = None
    ticked_at: datetime | None = None
    due_on: date | None = None
    overdue: bool = False


class ChecklistOut(BaseModel):
    case_id: uuid.UUID
    client_number: str
    complete: bool
    done: int
    total: int
    items: list[ChecklistItemOut]


class ChecklistTickIn(Strict):
    done: bool
