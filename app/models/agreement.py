"""Three-party agreements (driepartijenovereenkomst), their signatures, consent withdrawals,
legal bases that replace consent, expiry warnings, and the manual ticks of the intake checklist."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import id_field, json_field, state_field, text_array_field, ts_field
from app.models.enums import AgreementStatus


class Agreement(SQLModel, table=True):
    """One agreement for one case, made from one template version.

    The stored status is draft, signed (every required party signed), withdrawn or superseded;
    active and expired follow from the dates and are computed on every read, so that expiry
    needs no job to take effect. The rendered text and its hash are fixed when the agreement is
    made: a later change of the template file never alters it."""

    __tablename__ = "agreement"
    __table_args__ = (
        # At most one draft of a template per case. The 'one active' rule is checked under a lock
        # of the case row, and held in the database by the exclusion constraint
        # ex_agreement_one_active (migration 0008_faults_agreements; Alembic does not compare
        # exclusion constraints): no two signed agreements of one template and case overlap in
        # their dates.
        sa.Index(
            "uq_agreement_one_draft", "case_id", "template_id", unique=True,
            postgresql_where=sa.text(f"status = '{AgreementStatus.draft.value}'"),
        ),
    )

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id", index=True)
    template_id: str = Field(max_length=64)
    template_version: int
    template_sha256: str = Field(max_length=64)
    title: str = Field(max_length=200)
    status: AgreementStatus = state_field(AgreementStatus, AgreementStatus.draft)
    # {"client": {"client_id": ...}, "<kind>": {"organisation_id": ..., "name": ...}}
    parties: dict = json_field()
    # {"<party>": "what this party commits to"}
    commitments: dict = json_field()
    options: list[str] = text_array_field()
    # The sharing scope at signing: {"<label>": ["<organisation kind>", ...]}
    scope: dict = json_field()
    starts_on: date
    ends_on: date
    rendered_text: str = Field(sa_type=sa.Text)
    text_hash: str = Field(max_length=64)
    replaces_id: uuid.UUID | None = Field(default=None, foreign_key="agreement.id")
    # The relapse plan in the client's words (what should happen, who is told) and the date the
    # parties evaluate the agreement: the sections of the templates' version 3 (issue 21).
    relapse_wishes: str = Field(default="", sa_type=sa.Text, sa_column_kwargs={"server_default": ""})
    relapse_told: str = Field(default="", max_length=1000, sa_column_kwargs={"server_default": ""})
    evaluation_on: date | None = None
    created_by_id: uuid.UUID = Field(foreign_key="membership.id")
    created_at: datetime = ts_field()
    signed_at: datetime | None = ts_field(nullable=True, default_now=False)
    withdrawn_at: datetime | None = ts_field(nullable=True, default_now=False)
    superseded_at: datetime | None = ts_field(nullable=True, default_now=False)
    updated_at: datetime = ts_field()
    version: int = 1


class AgreementSignature(SQLModel, table=True):
    """One party's signature. An organisation signs through a member with a signing mandate;
    the client's signature is attested by a named member, optionally with a scan."""

    __tablename__ = "agreement_signature"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "party"),)

    id: uuid.UUID = id_field()
    agreement_id: uuid.UUID = Field(foreign_key="agreement.id", index=True)
    party: str = Field(max_length=32)  # "client" or an organisation kind
    organisation_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    signer_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    mandate_id: uuid.UUID | None = Field(default=None, foreign_key="mandate.id")
    attested_by_id: uuid.UUID | None = Field(default=None, foreign_key="membership.id")
    signed_in_person: bool = False
    signed_on: date
    # The hash of the text that was signed: the proof that everyone signed the same words.
    text_hash: str = Field(max_length=64)
    scan: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    scan_content_type: str | None = Field(default=None, max_length=64)
    scan_size: int | None = None
    scan_sha256: str | None = Field(default=None, max_length=64)
    recorded_by_id: uuid.UUID = Field(foreign_key="membership.id")
    created_at: datetime = ts_field()
    # A legal representative who signed: for the client (party "client") or beside them (party
    # "representative"); issue 17.
    representative_id: uuid.UUID | None = Field(default=None, foreign_key="client_representative.id")


class ConsentWithdrawal(SQLModel, table=True):
    """The client withdraws consent, wholly or for one label towards some organisation kinds."""

    __tablename__ = "consent_withdrawal"

    id: uuid.UUID = id_field()
    agreement_id: uuid.UUID = Field(foreign_key="agreement.id", index=True)
    whole: bool
    label: str | None = Field(default=None, max_length=16)
    organisation_kinds: list[str] = text_array_field()
    recorded_by_id: uuid.UUID = Field(foreign_key="membership.id")
    effective_at: datetime = ts_field()


class LegalBasis(SQLModel, table=True):
    """Sharing on a legal basis instead of consent, recorded by the chair with an end date."""

    __tablename__ = "legal_basis"

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    conference_id: uuid.UUID = Field(foreign_key="conference.id")
    article: str = Field(max_length=500)
    justification: str = Field(max_length=4000)
    scope: dict = json_field()
    starts_on: date
    ends_on: date
    recorded_by_id: uuid.UUID = Field(foreign_key="membership.id")
    created_at: datetime = ts_field()
    ended_at: datetime | None = ts_field(nullable=True, default_now=False)


class ChecklistTick(SQLModel, table=True):
    """A checklist item ticked by hand (the automatic items are computed from the data)."""

    __tablename__ = "checklist_tick"
    __table_args__ = (sa.UniqueConstraint("case_id", "item"),)

    id: uuid.UUID = id_field()
    case_id: uuid.UUID = Field(foreign_key="case.id", index=True)
    item: str = Field(max_length=48)
    ticked_by_id: uuid.UUID = Field(foreign_key="membership.id")
    ticked_at: datetime = ts_field()
