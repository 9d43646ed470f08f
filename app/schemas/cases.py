from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.models.enums import (
    ActionStatus,
    ClosureReason,
    Coverage,
    Label,
    LifeDomain,
    MandateScope,
    Phase,
    Priority,
    ReferralKind,
    ReferralStatus,
    ReporterRelation,
)
from app.schemas.admin import MAX_AMOUNT_CENTS
from app.schemas.common import Strict

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]


class ClientIn(Strict):
    name: Name
    date_of_birth: date
    bsn: str | None = Field(default=None, max_length=12, description="Optional; must pass the 11-test.")


class ReferralCreate(Strict):
    client: ClientIn
    reason: Text
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/#-]*$",
        description="Your organisation's own reference for the person (EPD or BVH number); "
        "linked to the client when the referral is accepted.",
    )


class ConcernCreate(Strict):
    """A worry from the client's social surroundings (zorgmelding uit de omgeving), recorded by a
    member: who reported it, their relation, what they saw. It lands in the chair's triage."""

    client: ClientIn
    reporter: Name = Field(description="Who reported the worry, as they want to be known (\"buurvrouw\", a first name).")
    relation: ReporterRelation
    observation: Text = Field(description="What they saw or heard.")


class ReferralAccept(Strict):
    case_director_id: uuid.UUID | None = None
    priority: Priority = Priority.normal
    substances: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list,
                                                                                  max_length=20)
    next_review_date: date | None = None


class ReferralDecline(Strict):
    reason: Text


class ReferralOut(BaseModel):
    id: uuid.UUID
    conference_id: uuid.UUID
    client_number: str
    referring_organisation_id: uuid.UUID
    reason: str | None = None
    status: ReferralStatus
    kind: ReferralKind = ReferralKind.professional
    reporter: str | None = None
    reporter_relation: ReporterRelation | None = None
    decline_reason: str | None = None
    case_id: uuid.UUID | None = None
    created_at: datetime
    decided_at: datetime | None = None


class ReferralView(ReferralOut):
    """A referral as the triage page shows it: who referred (person, role, organisation) and, for
    the chair who decides on it, whom (identity-labelled)."""

    version: int
    referred_by_name: str
    referred_by_role: str
    referring_organisation_name: str
    client_name: str | None = None
    client_date_of_birth: date | None = None


class ClientLookup(Strict):
    bsn: str = Field(max_length=12)


class ClientCaseRef(BaseModel):
    case_id: uuid.UUID
    phase: Phase


class ClientLookupOut(BaseModel):
    client_number: str
    bsn_masked: str
    cases: list[ClientCaseRef]


class CaseSummary(BaseModel):
    """What lists show: the pseudonymous number, never the name."""

    id: uuid.UUID
    conference_id: uuid.UUID
    client_number: str
    phase: Phase
    priority: Priority
    case_director_id: uuid.UUID | None
    next_review_date: date | None
    opened_on: date
    version: int


class Transition(Strict):
    to: Phase
    closure_reason: ClosureReason | None = None


class CaseUpdate(Strict):
    priority: Priority | None = None
    case_director_id: uuid.UUID | None = None
    substances: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(default=None,
                                                                                        max_length=20)
    next_review_date: date | None = None
    client_plain_language: bool | None = Field(
        default=None, description="Mark that the client needs plain language or support in reading (or clear it)."
    )
    area: str | None = Field(default=None, min_length=1, max_length=64,
                             description="The neighbourhood (wijk) the client lives in; null clears it. The "
                                         "outcome figures filter by it.")


class GoalIn(Strict):
    life_domain: LifeDomain
    description: Text


class PlanUpdate(Strict):
    client_goals: str | None = Field(default=None, max_length=8000)
    goals: list[GoalIn] | None = Field(default=None, max_length=50)


class AssessmentCreate(Strict):
    assessed_on: date
    scores: dict[LifeDomain, Annotated[int, Field(ge=1, le=5)]] = Field(min_length=1)


class ActionCreate(Strict):
    title: Name
    description: str = Field(default="", max_length=4000)
    life_domain: LifeDomain
    owner_organisation_id: uuid.UUID
    assignee_id: uuid.UUID | None = None
    due_date: date
    resource_scope: MandateScope | None = None
    resource_amount_cents: int | None = Field(default=None, ge=0, le=MAX_AMOUNT_CENTS)
    committed_by_id: uuid.UUID | None = Field(
        default=None, description="The member committing the owner organisation; defaults to you."
    )


class ActionUpdate(Strict):
    title: Name | None = None
    description: str | None = Field(default=None, max_length=4000)
    status: ActionStatus | None = None
    note: str | None = Field(default=None, max_length=2000)
    due_date: date | None = None
    assignee_id: uuid.UUID | None = None


class ActionOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    conference_id: uuid.UUID
    client_number: str
    title: str
    description: str
    life_domain: LifeDomain | None = Field(description="None when the action's content is hidden from you.")
    owner_organisation_id: uuid.UUID
    assignee_id: uuid.UUID | None
    due_date: date
    status: ActionStatus
    resource_scope: MandateScope | None
    resource_amount_cents: int | None
    committed_by_id: uuid.UUID
    mandate_id: uuid.UUID | None
    coverage: Coverage
    note: str
    overdue: bool
    version: int
    updated_at: datetime
    hidden: bool = Field(default=False, description="True when the content is hidden from you ('afgeschermd').")
    basis: str | None = Field(default=None, description="The agreement, legal basis or break-glass under which you see it.")


class GoalOut(BaseModel):
    id: uuid.UUID
    life_domain: LifeDomain | None
    description: str
    hidden: bool = False
    basis: str | None = None


class PlanOut(BaseModel):
    id: uuid.UUID
    client_goals: str
    goals: list[GoalOut]
    version: int
    updated_at: datetime


class AssessmentOut(BaseModel):
    id: uuid.UUID
    assessed_on: date
    scores: dict[str, int]
    label: str
    basis: str | None = None


class DomainTrend(BaseModel):
    life_domain: LifeDomain
    first: int
    latest: int
    change: int


class AssessmentHistory(BaseModel):
    items: list[AssessmentOut]
    trend: list[DomainTrend]
    hidden: bool = Field(default=False, description="True when the scores exist but you may not see them.")


class ChecklistProgress(BaseModel):
    """How far the intake checklist is; the items are at /cases/{id}/checklist."""

    complete: bool
    done: int
    total: int


class CaseDetail(CaseSummary):
    client_name: str | None
    client_date_of_birth: date | None
    client_plain_language: bool = Field(
        default=False, description="The client needs plain language or support in reading: write to them at B1 level."
    )
    closure_reason: ClosureReason | None
    area: str | None = Field(default=None, description="The neighbourhood (wijk) the client lives in.")
    substances: list[str]
    substances_hidden: bool = Field(default=False, description="True when substances are hidden from you.")
    allowed_transitions: list[Phase]
    plan: PlanOut | None
    assessments: AssessmentHistory
    actions: list[ActionOut]
    intake_checklist: ChecklistProgress | None = None


class ChangeOut(BaseModel):
    entity_type: str
    entity_id: uuid.UUID
    version: int
    operation: str
    actor_name: str
    organisation_id: uuid.UUID | None
    changes: dict
    changed_at: datetime


class NoteCreate(Strict):
    label: Label = Label.general
    text: Annotated[str, Field(min_length=1, max_length=8000)]


class NoteOut(BaseModel):
    id: uuid.UUID
    label: Label | None
    organisation_id: uuid.UUID
    author_id: uuid.UUID | None
    text: str
    created_at: datetime
    hidden: bool = False
    basis: str | None = Field(default=None, description="The agreement or legal basis under which you see it.")


class NoteList(BaseModel):
    items: list[NoteOut]
    hidden: bool = Field(description="True when some notes are hidden from you (shown as 'afgeschermd').")


class BreakGlassCreate(Strict):
    reason: Annotated[str, Field(max_length=1000, description="Why hidden information is needed now.")] = ""
    minutes: Annotated[int, Field(ge=5, le=240)] = 60


class BreakGlassOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    opened_at: datetime
    expires_at: datetime
