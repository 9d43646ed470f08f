# SQLModel fields are typed as their Python values, which SQLAlchemy 2.1's select()/where() stubs refuse.
# mypy: disable-error-code="union-attr,attr-defined"
"""One case as a FHIR Bundle (type collection) for care systems: docs/fhir.md.

Built from the read paths, never from the tables directly: the care part (Patient, CarePlan,
Goals, Tasks) from `case_detail`, so every hidden goal or action stays out exactly as it is hidden
everywhere else; the Consents from the agreements' read; the AuditEvents from the access log,
only for a reader who may read that log. Every resource is constructed as a `fhir.resources`
model, so a Bundle that does not validate is an error here, not in the receiving system.

FHIR version: `fhir.resources` 8 ships R4B (4.3), the technical correction of R4 (4.0.1); the
resources used here (Patient, CarePlan, Goal, Task, Consent, AuditEvent, Bundle) have the same
elements in both."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.task import Task
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Access, Read
from app.auth.policy import Op, authorize, strong_sign_in
from app.auth.principal import Principal
from app.clock import clock
from app.errors import Forbidden
from app.models import AccessLogEntry, Organisation
from app.models.enums import ActionStatus, AgreementStatus, Phase, Role
from app.schemas.agreements import AgreementOut
from app.schemas.cases import ActionOut, CaseDetail, GoalOut
from app.services.agreements import lifecycle as agreements
from app.services.agreements.present import agreement_out
from app.services.agreements.templates import CLIENT
from app.services.cases.lifecycle import LoadedCase
from app.services.cases.present import HIDDEN
from app.services.cases.reads import case_access, case_detail
from app.services.privacy.officer import LogQuery, query_log

FHIR_JSON = "application/fhir+json"
# The newest rows of the client's access log in one Bundle; the whole log is at /audit/log.
MAX_AUDIT_EVENTS = 1000

SYSTEM = "urn:casusoverleg"  # our own identifiers and codes: urn:casusoverleg:<what>
LIFE_DOMAIN = f"{SYSTEM}:life-domain"
LABEL = f"{SYSTEM}:label"
ORGANISATION_KIND = f"{SYSTEM}:organisation-kind"

CAREPLAN_STATUS = {Phase.selected: "draft", Phase.prioritised: "draft", Phase.active: "active",
                   Phase.monitoring: "active", Phase.closed: "completed"}
GOAL_STATUS = {Phase.selected: "proposed", Phase.prioritised: "planned", Phase.active: "active",
               Phase.monitoring: "active", Phase.closed: "completed"}
TASK_STATUS = {ActionStatus.open: "accepted", ActionStatus.in_progress: "in-progress",
               ActionStatus.done: "completed", ActionStatus.blocked: "on-hold",
               ActionStatus.cancelled: "cancelled"}
# AuditEvent.action: C(reate) R(ead) U(pdate) D(elete) E(xecute: a search or query, an operation)
AUDIT_ACTION = {"create": "C", "read": "R", "list": "R", "print": "R", "export": "R", "update": "U",
                "delete": "D", "search": "E", "execute": "E"}


def _ref(kind: str, value: object, display: str | None = None) -> dict[str, Any]:
    """A reference by our identifier (organisations, people, objects outside the Bundle)."""
    reference: dict[str, Any] = {"identifier": {"system": f"{SYSTEM}:{kind}", "value": str(value)}}
    if display:
        reference["display"] = display
    return reference


def _urn(id_: uuid.UUID | str) -> str:
    return f"urn:uuid:{id_}"


def _identifier(kind: str, value: object) -> list[dict[str, str]]:
    return [{"system": f"{SYSTEM}:{kind}", "value": str(value)}]


def _code(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def consent_status(a: AgreementOut) -> str:
    """A whole withdrawal ends consent: inactive once it had been given (signed), rejected when
    the client withdrew before every party signed. Expired and superseded agreements are inactive."""
    if a.status == AgreementStatus.withdrawn:
        return "inactive" if a.signed_at is not None else "rejected"
    return {AgreementStatus.draft: "draft", AgreementStatus.signed: "active", AgreementStatus.active: "active",
            AgreementStatus.expired: "inactive", AgreementStatus.superseded: "inactive"}[a.status]


def _patient(detail: CaseDetail | None, number: str) -> Patient:
    data: dict[str, Any] = {"identifier": _identifier("client-number", number), "active": True}
    if detail is not None and detail.client_name:  # identity: persons working on the case only
        data["name"] = [{"text": detail.client_name}]
    if detail is not None and detail.client_date_of_birth:
        data["birthDate"] = detail.client_date_of_birth
    return Patient.model_validate(data)


def _goal(goal: GoalOut, phase: Phase, patient: str) -> Goal:
    return Goal.model_validate({
        "id": str(goal.id),
        "identifier": _identifier("goal", goal.id),
        "lifecycleStatus": GOAL_STATUS[phase],
        "category": [_code(LIFE_DOMAIN, str(goal.life_domain))],
        "description": {"text": goal.description},
        "subject": {"reference": patient},
    })


def _task(action: ActionOut, careplan: str, patient: str, names: dict[uuid.UUID, str]) -> Task:
    data: dict[str, Any] = {
        "id": str(action.id),
        "identifier": _identifier("action", action.id),
        "status": TASK_STATUS[action.status],
        "intent": "plan",
        "code": _code(LIFE_DOMAIN, str(action.life_domain)),
        "description": f"{action.title}: {action.description}" if action.description else action.title,
        "basedOn": [{"reference": careplan}],
        "for": {"reference": patient},
        "owner": _ref("organisation", action.owner_organisation_id, names.get(action.owner_organisation_id)),
        "restriction": {"period": {"end": action.due_date}},
        "lastModified": action.updated_at,
    }
    if action.note:
        data["note"] = [{"text": action.note}]
    return Task.model_validate(data)


def _careplan(detail: CaseDetail, goals: list[str], tasks: list[str], patient: str) -> CarePlan:
    data: dict[str, Any] = {
        "id": str(detail.id),
        "identifier": _identifier("case", detail.id),
        "status": CAREPLAN_STATUS[detail.phase],
        "intent": "plan",
        "title": "Plan van aanpak",
        "subject": {"reference": patient},
        "period": {"start": detail.opened_on},
        "goal": [{"reference": g} for g in goals],
        "activity": [{"reference": {"reference": t}} for t in tasks],
    }
    if detail.plan is not None and detail.plan.client_goals and detail.plan.client_goals != HIDDEN:
        data["description"] = detail.plan.client_goals  # the client's own words
    return CarePlan.model_validate(data)


def _party_actors(a: AgreementOut) -> list[dict[str, Any]]:
    """The parties: the client (grantor) and each party organisation."""
    actors: list[dict[str, Any]] = []
    for party, details in a.parties.items():
        if party == CLIENT:
            continue
        actors.append({
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                 "code": "IRCP"}], "text": party},
            "reference": _ref("organisation", details.get("organisation_id"), details.get("name")),
        })
    return actors


def _kind_actors(kinds: list[str]) -> list[dict[str, Any]]:
    return [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                  "code": "IRCP"}]},
             "reference": {"identifier": {"system": ORGANISATION_KIND, "value": kind}, "display": kind}}
            for kind in sorted(kinds)]


def _consent(a: AgreementOut, patient: str) -> Consent:
    period = {"start": a.starts_on, "end": a.ends_on}
    # What the client consented to share: per label, with which organisation kinds; each
    # withdrawal is a deny from the moment it took effect.
    nested: list[dict[str, Any]] = [
        {"type": "permit", "period": period, "securityLabel": [{"system": LABEL, "code": label}],
         "actor": _kind_actors(kinds)}
        for label, kinds in sorted(a.scope.items()) if kinds
    ]
    for w in a.withdrawals:
        deny: dict[str, Any] = {"type": "deny", "period": {"start": w.effective_at}}
        if not w.whole:
            deny["securityLabel"] = [{"system": LABEL, "code": w.label}]
            deny["actor"] = _kind_actors(w.organisation_kinds)
        nested.append(deny)
    data: dict[str, Any] = {
        "id": str(a.id),
        "identifier": _identifier("agreement", a.id),
        "status": consent_status(a),
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}], "text": a.title}],
        "patient": {"reference": patient},
        "performer": [{"reference": patient}],
        "organization": [actor["reference"] for actor in _party_actors(a)],
        "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}],
                       "text": f"{a.template_id} v{a.template_version}"},
        "provision": {"type": "permit", "period": period, "actor": _party_actors(a), "provision": nested},
    }
    if a.signed_at is not None:
        data["dateTime"] = a.signed_at
    return Consent.model_validate(data)


def _audit_event(row: AccessLogEntry, patient: str, names: dict[uuid.UUID, str]) -> AuditEvent:
    agents: list[dict[str, Any]] = [{
        "who": {"identifier": {"system": row.actor_issuer, "value": row.actor_subject},
                "display": row.actor_name or row.actor_subject},
        "requestor": True,
        "type": {"text": row.actor_kind},
    }]
    if row.role:
        agents[0]["role"] = [{"coding": [{"system": f"{SYSTEM}:role", "code": row.role}]}]
    if row.organisation_id is not None:  # on whose behalf
        agents.append({"who": _ref("organisation", row.organisation_id, names.get(row.organisation_id)),
                       "requestor": False})
    entity: dict[str, Any] = {"what": {"reference": patient}, "type": {"system": f"{SYSTEM}:resource-type",
                                                                       "code": row.resource_type}}
    if row.part:
        entity["description"] = row.part  # which part of the record, never its content
    data: dict[str, Any] = {
        "id": str(row.seq),
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110",
                 "display": "Patient Record"},
        "subtype": [{"system": f"{SYSTEM}:access-action", "code": row.action}],
        "action": AUDIT_ACTION.get(row.action, "E"),
        "recorded": row.occurred_at,
        "outcome": "0" if row.outcome == "allowed" else "4",
        "agent": agents,
        "source": {"observer": {"display": "casusoverleg"}},
        "entity": [entity],
    }
    if row.basis:
        data["purposeOfEvent"] = [{"text": row.basis}]
    return AuditEvent.model_validate(data)


async def _organisation_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    return {i: n for i, n in rows.all()}


async def _agreements(session: AsyncSession, case_id: uuid.UUID) -> list[AgreementOut]:
    """The agreements' read as GET /cases/{id}/agreements/{id} gives it to every case worker,
    without the text (the Consent needs scope, parties, period, status and withdrawals only)."""
    found = await agreements.agreements_of_case(session, case_id)
    ids = [a.id for a in found]
    signatures = await agreements.signatures_of(session, ids)
    withdrawals = await agreements.withdrawals_of(session, ids)
    return [agreement_out(a, signatures, withdrawals, {}, with_text=False) for a in found]


def _entry(resource: Resource, id_: uuid.UUID | str) -> dict[str, Any]:
    return {"fullUrl": _urn(id_), "resource": resource}


async def case_bundle(session: AsyncSession, principal: Principal, loaded: LoadedCase) -> Read[Bundle]:
    """The Bundle of one case for this reader, with the access-log rows of the export: the care
    part for case workers (by need to know), the AuditEvents for the privacy officer."""
    case, number = loaded.case, loaded.client.client_number
    works_on_case = authorize(principal, Op.case_read, loaded.target).allowed
    may_read_log = authorize(principal, Op.audit_read, loaded.target).allowed
    reads_log = may_read_log and strong_sign_in(principal)
    if not works_on_case and not reads_log:
        # A privacy officer signed in without a second factor: the log part is all there was.
        raise Forbidden("Reading the access log needs a multi-factor sign-in." if may_read_log
                        else "You may not export this case.")
    patient_id = uuid.uuid5(case.id, "patient")
    patient = _urn(patient_id)
    entries: list[dict[str, Any]] = []
    rows: list[Access] = []
    detail: CaseDetail | None = None
    if works_on_case:
        read = await case_detail(session, principal, loaded)
        detail = read.data
        # The rows of the case as the detail read shows it (one per basis), as an export; the
        # assessments are not part of the Bundle.
        rows += [replace(r, action="export", part="fhir") for r in read.access if r.resource_type == "case"]
    entries.append(_entry(_patient(detail, number), patient_id))
    if detail is not None:
        goals = [g for g in (detail.plan.goals if detail.plan else []) if not g.hidden]
        actions = [a for a in detail.actions if not a.hidden]
        names = await _organisation_names(session, {a.owner_organisation_id for a in actions})
        careplan = _urn(detail.id)
        goal_urns = [_urn(g.id) for g in goals]
        task_urns = [_urn(a.id) for a in actions]
        entries.append(_entry(_careplan(detail, goal_urns, task_urns, patient), detail.id))
        entries += [_entry(_goal(g, detail.phase, patient), g.id) for g in goals]
        entries += [_entry(_task(a, careplan, patient, names), a.id) for a in actions]
        shown = await _agreements(session, case.id)
        entries += [_entry(_consent(a, patient), a.id) for a in shown]
        if shown:
            rows.append(replace(case_access(loaded, "export", "fhir"), resource_type="agreement"))
    if reads_log:
        log, _total = await query_log(session, LogQuery(conference_ids=[case.conference_id], client_number=number),
                                      limit=MAX_AUDIT_EVENTS, offset=0)
        names = await _organisation_names(session, {r.organisation_id for r in log if r.organisation_id})
        entries += [_entry(_audit_event(r, patient, names), uuid.uuid5(case.id, f"audit:{r.seq}")) for r in log]
        rows.append(Access(action="export", resource_type="access_log", conference_id=case.conference_id,
                           client_number=number, case_id=case.id, part="fhir", role=Role.privacy_officer.value))
    bundle = Bundle.model_validate({
        "type": "collection",
        "identifier": {"system": f"{SYSTEM}:export", "value": str(uuid.uuid4())},
        "timestamp": clock.now(),
        "entry": entries,
    })
    return Read(bundle, tuple(rows))


def bundle_json(bundle: Bundle) -> bytes:
    return bundle.model_dump_json(exclude_none=True).encode("utf-8")

