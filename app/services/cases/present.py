"""From tables to response shapes. Content carrying a need-to-know label is shaped through the
caller's `NeedToKnow` (app/auth/policy.py): hidden content reads the same everywhere: that it
exists, its owner organisation, its date and status, and "afgeschermd"."""

from __future__ import annotations

import uuid

import orjson

from app.auth.policy import NeedToKnow, label_of_domain
from app.models import Action, Assessment, Case, ChangeRecord, Goal, Plan, Referral
from app.schemas.cases import (
    ActionOut,
    AssessmentOut,
    CaseSummary,
    ChangeOut,
    GoalOut,
    PlanOut,
    ReferralOut,
    ReferralView,
)
from app.services.cases.actions import is_overdue
from app.services.cases.referrals import ReferralRow


def case_summary(case: Case, client_number: str) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        conference_id=case.conference_id,
        client_number=client_number,
        phase=case.phase,
        priority=case.priority,
        case_director_id=case.case_director_id,
        next_review_date=case.next_review_date,
        opened_on=case.opened_on,
        version=case.version,
    )


HIDDEN = "afgeschermd"


# What a hidden action's content reads as (its owner, dates and status stay).
_HIDDEN_ACTION = {"title": HIDDEN, "description": "", "life_domain": None, "resource_scope": None,
                  "resource_amount_cents": None, "mandate_id": None, "note": "", "hidden": True, "basis": None}


def action_seen(life_domain: str | None, recorded_label: str | None, owner: uuid.UUID,
                ntk: NeedToKnow) -> tuple[bool, str | None]:
    """Whether the caller sees an action's content, and under which basis."""
    return ntk.sees(label_of_domain(life_domain, recorded_label), owner, part="actions")


def shown_action(shaped: ActionOut, recorded_label: str | None, ntk: NeedToKnow) -> ActionOut:
    """An action with all its content, as the caller's need to know lets it be shown: hidden
    ('afgeschermd'), or visible with the basis it is seen under."""
    visible, basis = action_seen(shaped.life_domain, recorded_label, shaped.owner_organisation_id, ntk)
    if not visible:
        return shaped.model_copy(update=_HIDDEN_ACTION)
    if basis is not None:
        shaped.basis = basis
    return shaped


def shown_actions_json(texts: list[str], keys: list[str], ntk: NeedToKnow) -> tuple[list[str], set[str | None]]:
    """Actions written as JSON by PostgreSQL (app/services/cases/detail.py `_ACTIONS`: an
    ActionOut's text up to `updated_at`, and the key "recorded-label life-domain owner"), finished
    as `shown_action` shapes them, in the bytes ActionOut's serializer writes; and the bases under
    which the shown ones are seen. The decision is taken once per key."""
    decided: dict[str, tuple[bool, str | None, str]] = {}
    shown: list[str] = []
    bases: set[str | None] = set()
    for text, key in zip(texts, keys, strict=True):
        decision = decided.get(key)
        if decision is None:
            recorded, domain, owner = key.rsplit(" ", 2)
            visible, basis = action_seen(domain, recorded or None, uuid.UUID(owner), ntk)
            ending = f',"hidden":false,"basis":{orjson.dumps(basis).decode()}}}'
            decision = decided[key] = (visible, basis, ending)
        if decision[0]:
            shown.append(text + decision[2])
            bases.add(decision[1])
        else:
            hidden = orjson.loads(text + "}")
            hidden.update(_HIDDEN_ACTION)
            shown.append(orjson.dumps(hidden).decode())
    return shown, bases


def action_out(action: Action, client_number: str, ntk: NeedToKnow) -> ActionOut:
    return shown_action(ActionOut(
        id=action.id,
        case_id=action.case_id,
        conference_id=action.conference_id,
        client_number=client_number,
        title=action.title,
        description=action.description,
        life_domain=action.life_domain,
        owner_organisation_id=action.owner_organisation_id,
        assignee_id=action.assignee_id,
        due_date=action.due_date,
        status=action.status,
        resource_scope=action.resource_scope,
        resource_amount_cents=action.resource_amount_cents,
        committed_by_id=action.committed_by_id,
        mandate_id=action.mandate_id,
        coverage=action.coverage,
        note=action.note,
        overdue=is_overdue(action),
        version=action.version,
        updated_at=action.updated_at,
    ), action.label, ntk)


def goal_out(goal: Goal, ntk: NeedToKnow) -> GoalOut:
    visible, basis = ntk.sees(label_of_domain(goal.life_domain, goal.label), None, part="plan")
    if not visible:
        return GoalOut(id=goal.id, life_domain=None, description=HIDDEN, hidden=True)
    return GoalOut(id=goal.id, life_domain=goal.life_domain, description=goal.description, basis=basis)


def plan_out(plan: Plan, goals: list[Goal], ntk: NeedToKnow) -> PlanOut:
    own_words, _ = ntk.sees("general", None, part="plan")
    return PlanOut(
        id=plan.id,
        client_goals=plan.client_goals if own_words else HIDDEN,
        goals=[goal_out(g, ntk) for g in goals],
        version=plan.version,
        updated_at=plan.updated_at,
    )


def assessment_out(a: Assessment, basis: str | None) -> AssessmentOut:
    return AssessmentOut(id=a.id, assessed_on=a.assessed_on, scores=dict(a.scores), label=a.label, basis=basis)


def referral_out(r: Referral, client_number: str, *, with_reason: bool) -> ReferralOut:
    return ReferralOut(
        id=r.id,
        conference_id=r.conference_id,
        client_number=client_number,
        referring_organisation_id=r.referring_organisation_id,
        reason=r.reason if with_reason else None,
        status=r.status,
        kind=r.kind,
        reporter=r.reporter,
        reporter_relation=r.reporter_relation,
        decline_reason=r.decline_reason,
        case_id=r.case_id,
        created_at=r.created_at,
        decided_at=r.decided_at,
    )


def referral_view(row: ReferralRow, *, identity: bool) -> ReferralView:
    """A referral for the triage page; the client's name and date of birth only with `identity`."""
    r = row.referral
    return ReferralView(
        **referral_out(r, row.client.client_number, with_reason=True).model_dump(),
        version=r.version,
        referred_by_name=row.referrer.display_name if row.referrer else "",
        referred_by_role=row.referrer.role if row.referrer else "",
        referring_organisation_name=row.organisation.name if row.organisation else "",
        client_name=row.client.name if identity else None,
        client_date_of_birth=row.client.date_of_birth if identity else None,
    )


def change_out(c: ChangeRecord) -> ChangeOut:
    return ChangeOut(
        entity_type=c.entity_type,
        entity_id=c.entity_id,
        version=c.version,
        operation=c.operation,
        actor_name=c.actor_name,
        organisation_id=c.organisation_id,
        changes=c.changes,
        changed_at=c.changed_at,
    )
