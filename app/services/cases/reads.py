"""The read paths of cases and what hangs off them: each loads, shapes through the caller's
need to know (app/services/need_to_know.py) and returns the data with its access-log rows.

Routers (API and web) call these after the policy admitted the operation and render what comes
back; they never decide about labels or write log rows themselves."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace

import orjson
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Access, EachOf, Read
from app.auth.policy import (
    NeedToKnow,
    Op,
    authorize,
    name_search_conferences,
    visible_actions,
    visible_referrals,
)
from app.auth.principal import Principal
from app.db import Autocommit
from app.models import Action, Case, Referral
from app.models.enums import Label, Phase, Role
from app.schemas.agreements import ChecklistOut
from app.schemas.cases import (
    ActionOut,
    AssessmentHistory,
    CaseDetail,
    CaseSummary,
    NoteList,
    PlanOut,
    ReferralView,
)
from app.services.agreements.present import checklist_out
from app.services.cases import actions as action_service
from app.services.cases import checklist as checklist_service
from app.services.cases import detail as detail_service
from app.services.cases import lifecycle, listing
from app.services.cases import notes as note_service
from app.services.cases import plans as plan_service
from app.services.cases import referrals as referral_service
from app.services.cases.detail import CaseDetailParts
from app.services.cases.present import (
    action_out,
    assessment_out,
    case_summary,
    plan_out,
    referral_view,
    shown_actions_json,
)
from app.services.need_to_know import need_to_know, need_to_know_by_ids, need_to_know_from


def case_access(loaded: lifecycle.LoadedCase, action: str, part: str | None = None,
                basis: str | None = None) -> Access:
    return Access(action=action, resource_type="case", resource_id=str(loaded.case.id), case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number, part=part,
                  basis=basis)


def basis_rows(template: Access, bases: set[str | None]) -> tuple[Access, ...]:
    """One row per basis under which something was shown (None: own or native access)."""
    named = sorted(b for b in bases if b)
    rows = [template] if None in bases or not named else []
    rows += [Access(**{**template.__dict__, "basis": b}) for b in named]
    return tuple(rows)


def _assessments(assessments: list, ntk: NeedToKnow) -> tuple[AssessmentHistory, str | None, bool]:
    visible, basis = ntk.sees(Label.health, None)
    shown = assessments if visible else []
    history = AssessmentHistory(items=[assessment_out(a, basis) for a in shown], trend=plan_service.trend(shown),
                                hidden=bool(assessments) and not visible)
    return history, basis, bool(shown)


async def case_detail(session: AsyncSession, principal: Principal, loaded: lifecycle.LoadedCase) -> Read[CaseDetail]:
    """The case detail of a case already loaded (and admitted by the policy)."""
    return case_detail_of(principal, await detail_service.load_case_detail(session, principal, loaded.case.id))


async def load_case_detail(
    session: AsyncSession | Autocommit, principal: Principal, case_id: uuid.UUID
) -> CaseDetailParts:
    """Everything the case detail shows, in one statement: `parts.loaded.target` goes to the
    policy, then `case_detail_of` shapes it (no further SQL)."""
    return await detail_service.load_case_detail(session, principal, case_id)


_ACTION_OUTS: TypeAdapter[list[ActionOut]] = TypeAdapter(list[ActionOut])
_DETAIL_JSON: TypeAdapter[CaseDetail] = TypeAdapter(CaseDetail)


def case_detail_of(principal: Principal, parts: CaseDetailParts) -> Read[CaseDetail]:
    detail, actions, rows = _case_detail_shaped(principal, parts)
    detail.actions = _ACTION_OUTS.validate_json("[" + ",".join(actions) + "]")
    return Read(detail, rows)


def case_detail_json_of(principal: Principal, parts: CaseDetailParts) -> Read[bytes]:
    """The case detail as JSON: the bytes CaseDetail's serializer writes for `case_detail_of`'s
    answer, with the actions as PostgreSQL wrote them (no ActionOut objects built)."""
    detail, actions, rows = _case_detail_shaped(principal, parts)
    head, empty, tail = _DETAIL_JSON.dump_json(detail).partition(b'"actions":[]')
    assert empty, "CaseDetail is written with its actions"
    return Read(b"".join((head, b'"actions":[', ",".join(actions).encode(), b"]", tail)), rows)


def _case_detail_shaped(principal: Principal,
                        parts: CaseDetailParts) -> tuple[CaseDetail, list[str], tuple[Access, ...]]:
    """The case detail without its actions, the actions' JSON texts, and the access-log rows."""
    loaded = parts.loaded
    case, client = loaded.case, loaded.client
    ntk = need_to_know_from(principal, case, parts.bases, parts.break_glass_ids)
    history, assessment_basis, assessments_shown = _assessments(parts.assessments, ntk)
    substances_visible, substances_basis = ntk.sees(Label.health, None)
    identity_visible, _ = ntk.sees(Label.identity, None)
    plan_shaped = plan_out(parts.plan, parts.goals, ntk)
    actions, action_bases = shown_actions_json(parts.action_texts, parts.action_keys, ntk)
    progress = checklist_service.checklist_from(case, client.client_number, parts.checklist,
                                                {t.item: t for t in parts.ticks})
    detail = CaseDetail(
        **case_summary(case, client.client_number).model_dump(),
        client_name=client.name if identity_visible else None,
        client_date_of_birth=client.date_of_birth if identity_visible else None,
        client_plain_language=client.plain_language,
        closure_reason=case.closure_reason,
        area=case.area,
        substances=list(case.substances) if substances_visible else [],
        substances_hidden=bool(case.substances) and not substances_visible,
        allowed_transitions=lifecycle.allowed_next(case.phase),
        plan=plan_shaped,
        assessments=history,
        actions=[],
        intake_checklist=checklist_service.progress(progress),
    )
    bases: set[str | None] = {g.basis for g in plan_shaped.goals if not g.hidden}
    bases |= action_bases
    if substances_visible and case.substances:
        bases.add(substances_basis)
    rows = basis_rows(case_access(loaded, "read"), bases)
    if assessments_shown:
        rows += (Access(action="read", resource_type="assessment", case_id=case.id, conference_id=case.conference_id,
                        client_number=client.client_number, part="assessments", basis=assessment_basis),)
    return detail, actions, rows


async def case_list(
    session: AsyncSession, principal: Principal, *, conference_id: uuid.UUID | None, phase: Phase | None,
    limit: int, offset: int, filters: lifecycle.CaseFilter | None = None,
) -> Read[tuple[list[CaseSummary], int]]:
    """One page of the cases the caller may see, and their number (one statement: listing.py)."""
    page, searched = await _case_page(session, principal, conference_id=conference_id, phase=phase, limit=limit,
                                      offset=offset, filters=filters)
    items = page.items()
    return Read((items, page.total), (*searched, _listed(
        (str(c.id), str(c.id), c.conference_id, c.client_number) for c in items)))


async def case_list_json(
    session: AsyncSession | Autocommit, principal: Principal, *, conference_id: uuid.UUID | None, phase: Phase | None,
    limit: int, offset: int,
) -> Read[tuple[str, int]]:
    """`case_list` for the API: the page as the JSON array PostgreSQL wrote (the bytes of the
    CaseSummary objects' serializer), and the same access-log rows."""
    page, searched = await _case_page(session, principal, conference_id=conference_id, phase=phase, limit=limit,
                                      offset=offset, filters=None)
    conferences: dict[str, uuid.UUID] = {}
    listed: list[tuple[str, str, uuid.UUID, str]] = []
    for c in orjson.loads(page.items_json):
        conference = conferences.get(c["conference_id"])
        if conference is None:
            conference = conferences[c["conference_id"]] = uuid.UUID(c["conference_id"])
        listed.append((c["id"], c["id"], conference, c["client_number"]))
    return Read((page.items_json, page.total), (*searched, _listed(listed)))


def _listed(cases: Iterable[tuple[str, str, uuid.UUID, str]]) -> EachOf:
    """A row per listed case: (resource id, case id, conference, client number), the ids as text."""
    return EachOf(action="list", resource_type="case", objects=tuple(cases))


async def _case_page(
    session: AsyncSession | Autocommit, principal: Principal, *, conference_id: uuid.UUID | None, phase: Phase | None,
    limit: int, offset: int, filters: lifecycle.CaseFilter | None,
) -> tuple[listing.CasePage, tuple[Access, ...]]:
    searched: tuple[Access, ...] = ()
    if filters is not None and filters.client_name:
        # A search by name only where the policy allows a look-up by identity; elsewhere the name
        # is ignored, so the answer tells nothing about it. Each search is itself a log row.
        where = name_search_conferences(principal)
        filters = replace(filters, client_name=filters.client_name if where else None, name_conferences=where)
        searched = tuple(Access(action="search", resource_type="client", conference_id=c, part="name")
                         for c in where)
    page = await listing.case_page(session, principal, conference_id=conference_id, phase=phase, limit=limit,
                                   offset=offset, filters=filters)
    return page, searched


def checklist_access(loaded: lifecycle.LoadedCase, action: str) -> Access:
    return Access(action=action, resource_type="checklist", resource_id=str(loaded.case.id), case_id=loaded.case.id,
                  conference_id=loaded.case.conference_id, client_number=loaded.client.client_number)


async def checklist_read(session: AsyncSession, principal: Principal,
                         loaded: lifecycle.LoadedCase) -> Read[ChecklistOut | None]:
    """The case page's intake checklist, as GET /cases/{id}/checklist shows it, with its access-log
    row; None for who may read the case but not its checklist (a guest): nothing read, nothing logged."""
    if not authorize(principal, Op.checklist_read, loaded.target).allowed:
        return Read(None, ())
    shown = checklist_out(await checklist_service.checklist_of(session, loaded.case, loaded.client.client_number))
    return Read(shown, (checklist_access(loaded, "read"),))


async def plan_read(session: AsyncSession, principal: Principal, loaded: lifecycle.LoadedCase) -> Read[PlanOut]:
    ntk = await need_to_know(session, principal, loaded.case)
    plan, goals = await plan_service.load_plan(session, loaded.case.id)
    shaped = plan_out(plan, goals, ntk)
    access = Access(action="read", resource_type="plan", case_id=loaded.case.id,
                    conference_id=loaded.case.conference_id, client_number=loaded.client.client_number, part="plan")
    return Read(shaped, basis_rows(access, {g.basis for g in shaped.goals if not g.hidden}))


async def plan_shaped(session: AsyncSession, principal: Principal, case: Case, plan: object, goals: list) -> PlanOut:
    """The answer to a plan update, shaped like a read (the writer is the chair or case director)."""
    return plan_out(plan, goals, await need_to_know(session, principal, case))


async def assessments_read(session: AsyncSession, principal: Principal,
                           loaded: lifecycle.LoadedCase) -> Read[AssessmentHistory]:
    ntk = await need_to_know(session, principal, loaded.case)
    history, basis, _shown = _assessments(await plan_service.assessments_of(session, loaded.case.id), ntk)
    return Read(history, (case_access(loaded, "read", "assessments", basis),))


async def notes_read(session: AsyncSession, principal: Principal, loaded: lifecycle.LoadedCase) -> Read[NoteList]:
    ntk = await need_to_know(session, principal, loaded.case)
    notes = await note_service.visible_notes(session, ntk, case=loaded.case)
    access = case_access(loaded, "read", "notes")
    return Read(NoteList(items=notes, hidden=any(n.hidden for n in notes)),
                basis_rows(access, {n.basis for n in notes if not n.hidden}))


async def referral_list(
    session: AsyncSession, principal: Principal, *, conference_id: uuid.UUID | None, status: str | None,
    limit: int, offset: int,
) -> Read[tuple[list[tuple[Referral, str]], int]]:
    """Referrals the caller may see (the chair all of the conference's, others their organisation's)."""
    rows, total = await referral_service.list_referrals(session, visible_referrals(principal),
                                                        conference_id=conference_id, status=status,
                                                        limit=limit, offset=offset)
    access = tuple(Access(action="list", resource_type="referral", resource_id=str(r.id),
                          conference_id=r.conference_id, client_number=number) for r, number in rows)
    return Read((rows, total), access)


def referral_access(row: referral_service.ReferralRow, action: str) -> Access:
    return Access(action=action, resource_type="referral", resource_id=str(row.referral.id),
                  conference_id=row.referral.conference_id, client_number=row.client.client_number)


def _identity_on_referral(principal: Principal, conference_id: uuid.UUID) -> bool:
    """Whom a referral is about (name, date of birth: identity) is for the chair who decides on it;
    the referring organisation follows its referral by client number and status."""
    return Role.chair in principal.roles_in(conference_id)


async def referral_triage(
    session: AsyncSession, principal: Principal, *, limit: int, offset: int
) -> Read[tuple[list[ReferralView], int]]:
    """The referrals the caller may see (the chair all of the conference's, others their
    organisation's), with who referred them; waiting ones first."""
    rows, total = await referral_service.list_referral_rows(session, visible_referrals(principal),
                                                            limit=limit, offset=offset)
    shaped = [referral_view(r, identity=_identity_on_referral(principal, r.referral.conference_id)) for r in rows]
    return Read((shaped, total), tuple(referral_access(r, "list") for r in rows))


def referral_read(principal: Principal, row: referral_service.ReferralRow, verb: str = "read") -> Read[ReferralView]:
    """One referral, after the policy admitted the caller (Op.referral_read or referral_decide)."""
    shaped = referral_view(row, identity=_identity_on_referral(principal, row.referral.conference_id))
    return Read(shaped, (referral_access(row, verb),))


def _action_access(a: ActionOut, verb: str) -> Access:
    return Access(action=verb, resource_type="action", resource_id=str(a.id), case_id=a.case_id,
                  conference_id=a.conference_id, client_number=a.client_number, basis=a.basis)


async def action_list(
    session: AsyncSession, principal: Principal, flt: action_service.ActionFilter, *, limit: int, offset: int
) -> Read[tuple[list[ActionOut], int]]:
    rows, total = await action_service.list_actions(session, visible_actions(principal), flt, limit=limit,
                                                    offset=offset)
    ntks = await need_to_know_by_ids(session, principal, [a.case_id for a, _n in rows])
    shaped = [action_out(a, n, ntks[a.case_id]) for a, n in rows]
    return Read((shaped, total), tuple(_action_access(a, "list") for a in shaped))


async def action_read(session: AsyncSession, principal: Principal, action: Action, case: Case, number: str,
                      verb: str = "read") -> Read[ActionOut]:
    """One action (also the answer to a create or update), shaped by need to know."""
    shaped = action_out(action, number, await need_to_know(session, principal, case))
    return Read(shaped, (_action_access(shaped, verb),))
