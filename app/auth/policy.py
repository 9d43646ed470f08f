"""The access policy: the one place that decides who may do what, and on which basis.

Pure decisions over a Principal and a Target; no I/O. Routers reach it through the guards in
app/deps.py; list endpoints use the SQL clauses at the bottom so that filtering happens in the
database, never after fetching.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from app.auth.principal import GuestGrant, Principal
from app.clock import clock
from app.models import Action, AdminChange, Case, Consultation, Membership, Referral
from app.models.enums import Label, LifeDomain, OrganisationKind, Phase, Role


class Op(StrEnum):
    """Every operation the policy knows. A route that needs none of these needs no client data."""

    case_list = "case:list"
    case_read = "case:read"
    case_transition = "case:transition"
    case_update = "case:update"
    case_history = "case:history"
    plan_update = "plan:update"
    assessment_create = "assessment:create"
    action_list = "action:list"
    action_create = "action:create"
    action_update = "action:update"
    escalation_list = "escalation:list"
    referral_create = "referral:create"
    referral_read = "referral:read"
    referral_decide = "referral:decide"
    client_lookup = "client:lookup"
    conference_read = "conference:read"
    admin_manage = "admin:manage"
    audit_read = "audit:read"
    note_create = "note:create"
    agreement_read = "agreement:read"
    agreement_create = "agreement:create"
    agreement_sign = "agreement:sign"
    agreement_withdraw = "agreement:withdraw"
    legal_basis_read = "legal_basis:read"
    legal_basis_record = "legal_basis:record"
    checklist_read = "checklist:read"
    checklist_update = "checklist:update"
    checklist_overview = "checklist:overview"
    # meetings, agendas, decisions (issue 6)
    meeting_read = "meeting:read"
    meeting_manage = "meeting:manage"
    agenda_read = "agenda:read"  # a draft only for the chair (app/services/meetings/agenda.py agenda_view)
    agenda_edit = "agenda:edit"
    discussion_request_create = "discussion_request:create"
    decision_create = "decision:create"
    decision_read = "decision:read"  # before publication only for the chair
    action_digest = "action:digest"
    event_read = "event:read"
    relapse_read = "relapse:read"
    # an organisation's own client references (partner systems: the scope clients:link)
    reference_read = "client_reference:read"
    reference_link = "client_reference:link"
    # holding back a kind of signal for a case (the case director)
    snooze_read = "snooze:read"
    snooze_manage = "snooze:manage"
    break_glass = "case:break_glass"
    # guests of one case, peer supporters and buddies (issue 17)
    guest_read = "guest:read"
    guest_manage = "guest:manage"
    # one case as a FHIR Bundle for care systems (docs/fhir.md): its parts follow case_read and audit_read
    case_export = "case:export"
    # the wider ring (issue 17): a worry from the social surroundings, recorded by a member
    concern_create = "concern:create"
    # two-way aftercare (issue 17): the neighbourhood team reports, addiction care answers
    aftercare_read = "aftercare:read"
    aftercare_report = "aftercare:report"
    aftercare_reply = "aftercare:reply"
    # known elsewhere (hit/no-hit): asking is a look-up by BSN (Op.client_lookup, throttled);
    # a question is read by the chairs of the asking and the answering conferences
    known_elsewhere_read = "known_elsewhere:read"
    # a client's requests under the AVG: recorded, extended, corrected and answered (issue 21)
    client_request = "client_request:manage"
    # consultations without a file (spreekuur): anonymous questions and their answers
    consultation_create = "consultation:create"
    consultation_read = "consultation:read"
    consultation_answer = "consultation:answer"
    consultation_convert = "consultation:convert"
    consultation_count = "consultation:count"
    # households and legal representatives (issue 17)
    household_read = "household:read"
    household_manage = "household:manage"
    representative_read = "representative:read"
    representative_manage = "representative:manage"
    # outcome figures of a conference: aggregates with small numbers suppressed, never a case
    outcomes_read = "outcomes:read"


CASE_WORKERS = frozenset({Role.chair, Role.member, Role.liaison})
# A referrer (a professional of a non-member organisation) refers and follows the status of their
# own referrals, nothing else: every other operation answers as if the object did not exist.
REFERRER_OPS = frozenset({Op.referral_create, Op.referral_read, Op.consultation_create, Op.consultation_read,
                          Op.consultation_convert})
# Consultations: who asked reads and converts their own; the addressee reads and answers (below).
CONSULTATION_OPS = frozenset({Op.consultation_read, Op.consultation_answer, Op.consultation_convert})

# Which conference roles may perform each operation. Extra relations (case director, owner
# organisation) are decided in `authorize` below.
ROLE_MATRIX: dict[Op, frozenset[str]] = {
    Op.case_list: CASE_WORKERS,
    Op.case_read: CASE_WORKERS,
    Op.case_transition: frozenset({Role.chair}),
    Op.case_update: frozenset({Role.chair}),
    Op.case_history: frozenset({Role.chair, Role.member}),
    Op.plan_update: frozenset({Role.chair}),  # + the case director
    Op.assessment_create: frozenset({Role.chair}),  # + the case director
    Op.action_list: CASE_WORKERS,
    Op.action_create: frozenset({Role.chair, Role.member}),
    Op.action_update: frozenset({Role.chair}),  # + members and liaisons of the owner organisation
    Op.escalation_list: frozenset({Role.chair}),
    Op.referral_create: CASE_WORKERS | {Role.referrer},
    Op.concern_create: frozenset({Role.chair, Role.member}),
    Op.consultation_create: frozenset({Role.chair, Role.member}),  # + referrers
    Op.consultation_read: frozenset({Role.chair}),  # + who asked, and whom it asks (below)
    Op.consultation_answer: frozenset(),  # whom it asks (below)
    Op.consultation_convert: frozenset(),  # who asked (below)
    Op.consultation_count: CASE_WORKERS | {Role.policy_staff},  # a figure, no content
    Op.referral_read: frozenset({Role.chair}),  # + workers of the referring organisation (below)
    Op.referral_decide: frozenset({Role.chair}),
    Op.client_lookup: frozenset({Role.chair, Role.member}),
    Op.conference_read: frozenset({Role.chair, Role.member, Role.liaison, Role.privacy_officer, Role.admin}),
    Op.admin_manage: frozenset({Role.admin}),
    Op.audit_read: frozenset({Role.privacy_officer}),
    Op.client_request: frozenset({Role.privacy_officer}),
    Op.note_create: CASE_WORKERS,
    # Agreements: a case director is a member or the chair, so these roles include them. An
    # organisation's signature further needs a sign_agreements mandate (app/services/agreements/lifecycle.py).
    Op.agreement_read: CASE_WORKERS,  # the text only for the chair, case director and the parties
    Op.agreement_create: frozenset({Role.chair, Role.member}),
    Op.agreement_sign: frozenset({Role.chair, Role.member}),
    Op.agreement_withdraw: frozenset({Role.chair, Role.member}),
    Op.legal_basis_read: CASE_WORKERS,
    Op.legal_basis_record: frozenset({Role.chair}),
    Op.checklist_read: CASE_WORKERS,
    Op.checklist_update: frozenset({Role.chair, Role.member}),
    Op.checklist_overview: frozenset({Role.chair}),
    Op.meeting_read: CASE_WORKERS,
    Op.meeting_manage: frozenset({Role.chair}),
    Op.agenda_read: CASE_WORKERS,
    Op.agenda_edit: frozenset({Role.chair}),
    Op.discussion_request_create: frozenset({Role.chair, Role.member}),
    Op.decision_create: frozenset({Role.chair}),
    Op.decision_read: CASE_WORKERS,
    Op.action_digest: CASE_WORKERS,
    # Partner events: the timeline and the relapse history (details filtered by label).
    Op.event_read: CASE_WORKERS,
    Op.relapse_read: CASE_WORKERS,
    # Each organisation's people link their own organisation's references (and see only those).
    Op.reference_read: CASE_WORKERS,
    Op.reference_link: CASE_WORKERS,
    Op.snooze_read: frozenset({Role.chair, Role.member}),
    Op.snooze_manage: frozenset({Role.chair}),  # + the case director
    # Emergency opening of hidden information on one case: members and the chair, never liaisons.
    Op.break_glass: frozenset({Role.chair, Role.member}),
    # Who is invited to a case, why and until when, and their reads: everyone working on it; the
    # chair invites and ends an invitation.
    Op.guest_read: CASE_WORKERS,
    Op.guest_manage: frozenset({Role.chair}),
    # The FHIR export: case workers get the care part (by labels), the privacy officer the
    # access-log part; who holds both roles gets both (app/services/fhir/export.py).
    Op.case_export: CASE_WORKERS | {Role.privacy_officer},
    Op.aftercare_read: CASE_WORKERS,
    Op.aftercare_report: frozenset({Role.member, Role.liaison}),  # of a neighbourhood team (below)
    Op.aftercare_reply: frozenset({Role.member, Role.liaison}),  # of an addiction care institution (below)
    Op.known_elsewhere_read: frozenset({Role.chair}),
    Op.household_read: CASE_WORKERS,
    Op.household_manage: frozenset({Role.chair}),
    Op.representative_read: CASE_WORKERS,
    Op.representative_manage: frozenset({Role.chair}),  # + the case director
    # Aggregates only (app/services/outcomes/): the chair, the members, and the municipality's
    # policy staff, who may do nothing else with a case.
    Op.outcomes_read: frozenset({Role.chair, Role.member, Role.policy_staff}),
}

# Operations that only people of these organisation kinds perform (besides their role).
OP_ORGANISATION_KINDS: dict[Op, frozenset[str]] = {
    Op.aftercare_report: frozenset({OrganisationKind.neighbourhood_team}),
    Op.aftercare_reply: frozenset({OrganisationKind.addiction_care}),
}

# What an invited guest (and a peer supporter or buddy) may do on the one case they were invited
# to, while the invitation runs: read it, shaped by the labels like anyone else's read.
GUEST_OPS = frozenset({Op.case_read})


# RFC 8176 method values that show a second factor. Where the provider reports `amr`, the access
# log is only readable after a multi-factor sign-in (NEN 7513); where it reports nothing, the
# provider's own policy applies.
SECOND_FACTORS = frozenset({"mfa", "otp", "hwk", "sms", "tel", "fpt", "face", "iris", "retina", "sc"})


def strong_sign_in(principal: Principal) -> bool:
    """May this sign-in read the access log: a second factor, or a provider that reports none."""
    return not principal.amr or bool(SECOND_FACTORS & set(principal.amr))


@dataclass(frozen=True)
class Target:
    conference_id: uuid.UUID
    case_id: uuid.UUID | None = None  # the case the object belongs to (guests' grants are per case)
    case_director_id: uuid.UUID | None = None
    owner_organisation_id: uuid.UUID | None = None
    referring_organisation_id: uuid.UUID | None = None
    referred_by_id: uuid.UUID | None = None  # the membership that made a referral
    asked_by_id: uuid.UUID | None = None  # the membership that asked a consultation
    addressed_organisation_id: uuid.UUID | None = None  # a consultation's institution (None: the conference)
    phase: str | None = None  # of the case: minimisation may take a closed case out of view
    party_organisation_ids: frozenset[uuid.UUID] | None = None  # of an agreement


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hidden: bool = False  # deny as 404: the caller may not even know the object exists
    reason: str = ""
    role: str | None = None
    basis: str | None = None  # an access granted on a basis of its own (a guest's invitation)


def _guest_grants(principal: Principal, case_id: uuid.UUID | None) -> list[GuestGrant]:
    if principal.kind != "person" or case_id is None:
        return []
    return [g for g in principal.guest_grants if g.case_id == case_id]


def _as_guest(principal: Principal, op: Op, target: Target) -> Decision | None:
    """A guest's access to the one case they were invited to, decided here like every other
    access: while the invitation runs, the operations of GUEST_OPS; after it, or on a closed case,
    the case reads like a missing one."""
    grants = _guest_grants(principal, target.case_id)
    if not grants:
        return None
    now = clock.now()
    active = [g for g in grants if g.active(now) and g.conference_id == target.conference_id]
    if not active or target.phase == Phase.closed:
        return Decision(False, hidden=True, reason="the invitation to this case has ended")
    if op not in GUEST_OPS:
        return Decision(False, reason="a guest may only read the case they were invited to")
    grant = max(active, key=lambda g: g.ends_at)
    return Decision(True, role=grant.kind, basis=grant.basis)


def authorize(principal: Principal, op: Op, target: Target) -> Decision:
    roles = principal.roles_in(target.conference_id)
    if principal.kind == "system" or not roles:
        return _as_guest(principal, op, target) or Decision(False, hidden=True,
                                                            reason="not a member of this conference")
    if target.phase is not None and case_gone_for(principal, target.conference_id, target.phase):
        return Decision(False, hidden=True, reason="the case has left your view (minimisation by phase)")
    if op is Op.agreement_withdraw and Role.chair not in roles and (
        principal.organisation_id not in (target.party_organisation_ids or frozenset())
    ):
        return Decision(False, reason="only the chair or a member of a party to the agreement records a withdrawal")
    if roles <= {Role.referrer}:
        return _referrer_decision(principal, op, target)
    kinds = OP_ORGANISATION_KINDS.get(op)
    if kinds is not None and principal.organisation_kind not in kinds:
        return Decision(False, reason=f"only {' or '.join(sorted(kinds))} organisations may {op.value}")
    allowed_roles = ROLE_MATRIX[op]
    direct = sorted(roles & allowed_roles)
    if direct:
        return Decision(True, role=direct[0])
    if op in CONSULTATION_OPS:
        return _consultation_decision(principal, op, target, roles)
    ids = principal.membership_ids()
    if (op in (Op.plan_update, Op.assessment_create, Op.snooze_manage, Op.representative_manage)
            and target.case_director_id in ids):
        return Decision(True, role="case_director")
    if (
        op is Op.action_update
        and roles & {Role.member, Role.liaison}
        and target.owner_organisation_id == principal.organisation_id
    ):
        return Decision(True, role=sorted(roles & {Role.member, Role.liaison})[0])
    if op is Op.referral_read and roles & CASE_WORKERS:
        if target.referring_organisation_id == principal.organisation_id:
            return Decision(True, role=sorted(roles)[0])
    return Decision(False, reason=f"the role(s) {', '.join(sorted(roles))} may not {op.value}")


def _referrer_decision(principal: Principal, op: Op, target: Target) -> Decision:
    """A referrer refers, and reads their own referrals (the person's, not the organisation's);
    a look-up by BSN is refused as for a liaison; anything else is as if it did not exist, unless
    a guest invitation admits it."""
    ids = principal.membership_ids()
    own = op in (Op.referral_create, Op.consultation_create) or (target.referred_by_id or target.asked_by_id) in ids
    if op in REFERRER_OPS and own:
        return Decision(True, role=Role.referrer)
    if op is Op.client_lookup:
        return Decision(False, reason="a referrer may not look up a client by BSN (refer without it)")
    # A referrer may also be invited as a guest to one case (the invitation decides).
    return _as_guest(principal, op, target) or Decision(
        False, hidden=True, reason="a referrer has no access beyond their own referrals")


def _consultation_decision(principal: Principal, op: Op, target: Target, roles: frozenset[str]) -> Decision:
    """Who asked reads and converts their own consultation. One asked of the conference is read
    and answered by its chair and members; one asked of the addiction care institution by that
    institution's members and liaisons (and read by the chair)."""
    asker = target.asked_by_id in principal.membership_ids()
    if target.addressed_organisation_id is None:
        addressee = bool(roles & {Role.chair, Role.member})
    else:
        addressee = bool(roles & {Role.member, Role.liaison}) and (
            target.addressed_organisation_id == principal.organisation_id)
    if op is Op.consultation_convert and asker:
        return Decision(True, role=sorted(roles)[0])
    if op is Op.consultation_read and (asker or addressee):
        return Decision(True, role=sorted(roles)[0])
    if op is Op.consultation_answer and addressee:
        return Decision(True, role=sorted(roles)[0])
    return Decision(False, reason=f"the role(s) {', '.join(sorted(roles))} may not {op.value} this consultation")


# --- need-to-know labels ---------------------------------------------------------------------
# The rules are documented in docs/need-to-know.md; the classification of every response field
# is in app/models/classification.py. Every read path asks `NeedToKnow.sees` (built once per case
# by app/services/need_to_know.py); nothing else decides whether labelled content is shown.

# Which organisation kinds see a label without any sharing basis.
NATIVE_READERS: dict[str, frozenset[str]] = {
    Label.general: frozenset(k.value for k in OrganisationKind),
    # GGZ and general practice are care providers like the addiction care institution.
    Label.health: frozenset({OrganisationKind.addiction_care, OrganisationKind.mental_health_care,
                             OrganisationKind.general_practice}),
    Label.justice: frozenset({OrganisationKind.police}),
}

# Plan goals and actions take the label of their life domain unless recorded otherwise.
HEALTH_DOMAINS = frozenset({LifeDomain.mental_health, LifeDomain.physical_health, LifeDomain.substance_use})


def label_of_domain(life_domain: str | None, recorded: str | None = None) -> str:
    if recorded:
        return recorded
    if life_domain in HEALTH_DOMAINS:
        return Label.health
    if life_domain == LifeDomain.justice:
        return Label.justice
    return Label.general


@dataclass(frozen=True)
class SharingBasis:
    """What permits sharing a label with an organisation kind: consent or a legal basis."""

    kind: str  # "agreement", "legal_basis" or "break_glass"
    reference: str  # agreement id, legal-basis record id or break-glass id
    labels_to_kinds: dict[str, frozenset[str]]

    def permits(self, label: str, organisation_kind: str) -> bool:
        return organisation_kind in self.labels_to_kinds.get(label, frozenset())

    def describe(self) -> str:
        return f"{self.kind}:{self.reference}"


def label_visibility(
    principal: Principal,
    *,
    label: str,
    conference_id: uuid.UUID,
    owning_organisation_id: uuid.UUID | None,
    bases: Iterable[SharingBasis] = (),
) -> tuple[bool, str | None]:
    """May the principal see information with this label? Returns (visible, basis), where basis
    names the agreement, legal basis or break-glass that made a share possible (None: own or
    general data). The chair leads the process and sees justice (process direction needs it), but
    health only on a basis like every other non-care organisation (docs/need-to-know.md)."""
    if label == Label.general:
        return True, None
    if owning_organisation_id is not None and owning_organisation_id == principal.organisation_id:
        return True, None
    if label == Label.org_internal:
        return False, None
    if principal.organisation_kind in NATIVE_READERS.get(label, frozenset()):
        return True, None
    if label == Label.justice and Role.chair in principal.roles_in(conference_id):
        return True, None
    for basis in bases:
        if basis.permits(label, principal.organisation_kind):
            return True, basis.describe()
    return False, None


# Minimisation by phase (afschaling), docs/need-to-know.md: what each role sees narrows as a case
# moves to monitoring and is closed. Parts: "plan" (goals, the client's own words), "actions"
# (texts of actions of other organisations), "notes".
PHASE_MINIMISATION: dict[str, dict[str, frozenset[str]]] = {
    # phase -> role -> parts hidden (beyond the labels)
    Phase.monitoring: {Role.liaison: frozenset({"plan", "notes"})},
    Phase.closed: {Role.member: frozenset({"plan", "actions", "notes"}),
                   Role.liaison: frozenset({"plan", "actions", "notes"})},
}
# Roles for which a case in this phase leaves lists and reads (answered like a missing case).
PHASE_GONE: dict[str, frozenset[str]] = {Phase.closed: frozenset({Role.liaison})}


@dataclass(frozen=True)
class NeedToKnow:
    """What one principal may see of one case, at this moment: its labels, bases in force, the
    phase's minimisation and an open break-glass. Built once per case per request."""

    principal: Principal
    conference_id: uuid.UUID
    phase: str
    bases: tuple[SharingBasis, ...] = ()
    break_glass: SharingBasis | None = None
    # Answers of `sees` by its arguments: a case's fifty actions ask about a handful of labels
    # and owners, and the answer depends on nothing else (this object lives for one read).
    _seen: dict[tuple[str, uuid.UUID | None, str | None], tuple[bool, str | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False)

    @cached_property
    def role(self) -> str | None:
        roles = self.principal.roles_in(self.conference_id) & CASE_WORKERS
        for r in (Role.chair, Role.member, Role.liaison):
            if r in roles:
                return r
        return None

    @property
    def is_chair(self) -> bool:
        return self.role == Role.chair

    def sees(self, label: str, owner: uuid.UUID | None = None, *, part: str | None = None) -> tuple[bool, str | None]:
        """(visible, basis) of one piece of content with this label, owned by `owner`."""
        key = (label, owner, part)
        answer = self._seen.get(key)
        if answer is None:
            answer = self._seen[key] = self._sees(label, owner, part)
        return answer

    def _sees(self, label: str, owner: uuid.UUID | None, part: str | None) -> tuple[bool, str | None]:
        if self.principal.kind == "system":
            # Partner systems read only minimal, general data of their own organisation's work.
            return (label == Label.general and owner == self.principal.organisation_id), None
        if label == Label.identity:
            return True, None  # a person working on the case knows whom it is about
        if part and owner != self.principal.organisation_id:
            hidden_parts = PHASE_MINIMISATION.get(self.phase, {}).get(self.role or "", frozenset())
            if part in hidden_parts:
                return False, None
        visible, basis = label_visibility(self.principal, label=label, conference_id=self.conference_id,
                                          owning_organisation_id=owner, bases=self.bases)
        if not visible and self.break_glass is not None and label != Label.org_internal:
            return True, self.break_glass.describe()
        return visible, basis


def case_gone_for(principal: Principal, conference_id: uuid.UUID, phase: str) -> bool:
    """Has this case left the principal's view by minimisation (a closed case for a liaison)?"""
    roles = principal.roles_in(conference_id) & CASE_WORKERS
    gone = PHASE_GONE.get(phase, frozenset())
    return bool(roles) and roles <= gone


# --- SQL clauses for lists (default deny) -----------------------------------------------------


def _conferences_with(principal: Principal, roles: frozenset[str]) -> list[uuid.UUID]:
    if principal.kind != "person":
        return []
    return sorted({m.conference_id for m in principal.memberships if m.role in roles})


def guest_case_ids(principal: Principal) -> list[uuid.UUID]:
    """The cases the principal is a guest of at this moment (not their closed ones: below)."""
    if principal.kind != "person":
        return []
    now = clock.now()
    return sorted({g.case_id for g in principal.guest_grants
                   if g.active(now) and not principal.roles_in(g.conference_id)})


# The cases a caller may see: those of the caller's conferences, minus those minimisation took out
# of their view, and the open cases the caller is a guest of. The clause depends on the caller only
# through its shape (guest cases or not; per set of phases gone from view, one conference or
# several), so a statement that uses it is built once per process; the caller's conferences and
# guest cases come as bound parameters.
CaseVisibilityShape = tuple[bool, tuple[tuple[tuple[str, ...], bool], ...]]


def case_visibility(principal: Principal) -> tuple[CaseVisibilityShape, dict[str, object]]:
    """The shape of the caller's `visible_cases` clause and the values of its parameters."""
    guest_of = guest_case_ids(principal)
    groups: dict[tuple[str, ...], list[uuid.UUID]] = {}
    for conference_id in _conferences_with(principal, ROLE_MATRIX[Op.case_list]):
        roles = principal.roles_in(conference_id) & CASE_WORKERS
        gone = tuple(sorted(phase for phase, by in PHASE_GONE.items() if roles <= by))
        groups.setdefault(gone, []).append(conference_id)
    ordered = sorted(groups.items())
    values: dict[str, object] = {"visible_guests": guest_of} if guest_of else {}
    for i, (_gone, ids) in enumerate(ordered):
        values[f"visible_conferences_{i}"] = ids[0] if len(ids) == 1 else ids
    return (bool(guest_of), tuple((gone, len(ids) == 1) for gone, ids in ordered)), values


_CASES = Case.__table__  # type: ignore[attr-defined]
_UUIDS = sa.ARRAY(sa.Uuid())
_VISIBLE_SHAPED: dict[CaseVisibilityShape, ColumnElement[bool]] = {}


def visible_cases(shape: CaseVisibilityShape) -> ColumnElement[bool]:
    """The cases visible to a caller of this shape (`case_visibility`), over the table's columns,
    with the caller's values as bound parameters; built once per shape."""
    clause = _VISIBLE_SHAPED.get(shape)
    if clause is not None:
        return clause
    cases = _CASES.c
    has_guests, groups = shape
    clauses: list[ColumnElement[bool]] = []
    if has_guests:
        clauses.append(sa.and_(cases.id == sa.any_(sa.bindparam("visible_guests", type_=_UUIDS)),
                               cases.phase != Phase.closed.value))
    for i, (gone, single) in enumerate(groups):
        name = f"visible_conferences_{i}"
        in_conference = (cases.conference_id == sa.bindparam(name, type_=sa.Uuid()) if single
                         else cases.conference_id == sa.any_(sa.bindparam(name, type_=_UUIDS)))
        clauses.append(sa.and_(in_conference, *(cases.phase != phase for phase in gone)))
    clause = sa.or_(*clauses) if clauses else sa.false()
    _VISIBLE_SHAPED[shape] = clause
    return clause


def name_search_conferences(principal: Principal) -> tuple[uuid.UUID, ...]:
    """Where the principal may find a client by name: a look-up by identity, so the roles of a
    look-up by BSN (Op.client_lookup). Elsewhere a name given to a case search is ignored."""
    return tuple(_conferences_with(principal, ROLE_MATRIX[Op.client_lookup]))


def visible_actions(principal: Principal) -> ColumnElement[bool]:
    """Actions of the caller's conferences, and of the cases the caller is a guest of."""
    ids = _conferences_with(principal, ROLE_MATRIX[Op.action_list])
    clauses: list[ColumnElement[bool]] = []
    if ids:
        clauses.append(col(Action.conference_id).in_(ids))
    guest_of = guest_case_ids(principal)
    if guest_of:
        clauses.append(col(Action.case_id).in_(guest_of))
    return sa.or_(*clauses) if clauses else sa.false()


def sees_actions_of(principal: Principal, conference_id: uuid.UUID, case_id: uuid.UUID) -> bool:
    """`visible_actions` for the actions of one case, answered without SQL (the case detail loads
    the case's actions in the statement that loads the case)."""
    return (conference_id in _conferences_with(principal, ROLE_MATRIX[Op.action_list])
            or case_id in guest_case_ids(principal))


def visible_referrals(principal: Principal) -> ColumnElement[bool]:
    """The chair: all of the conference's; other case workers: their organisation's; a
    referrer: their own (made under their referrer membership)."""
    chair_of = _conferences_with(principal, frozenset({Role.chair}))
    worker_in = _conferences_with(principal, CASE_WORKERS)
    clauses: list[ColumnElement[bool]] = []
    referrer_of = [m.id for m in principal.memberships if m.role == Role.referrer] if principal.kind == "person" else []
    if referrer_of:
        clauses.append(col(Referral.referred_by_id).in_(referrer_of))
    if chair_of:
        clauses.append(Referral.conference_id.in_(chair_of))  # type: ignore[attr-defined]
    if worker_in:
        clauses.append(
            sa.and_(
                Referral.conference_id.in_(worker_in),  # type: ignore[attr-defined]
                Referral.referring_organisation_id == principal.organisation_id,
            )
        )
    return sa.or_(*clauses) if clauses else sa.false()


def visible_consultations(principal: Principal) -> ColumnElement[bool]:
    """The consultations one may read (as `_consultation_decision`): one's own, the chair's
    conference's, those asked of the conference for its members, those asked of one's
    institution for its members and liaisons."""
    if principal.kind != "person":
        return sa.false()
    clauses: list[ColumnElement[bool]] = [col(Consultation.asked_by_id).in_(sorted(principal.membership_ids()))]
    chair_of = _conferences_with(principal, frozenset({Role.chair}))
    if chair_of:
        clauses.append(col(Consultation.conference_id).in_(chair_of))
    member_of = _conferences_with(principal, frozenset({Role.member}))
    if member_of:
        clauses.append(sa.and_(col(Consultation.conference_id).in_(member_of),
                               col(Consultation.addressed_organisation_id).is_(None)))
    worker_in = _conferences_with(principal, frozenset({Role.member, Role.liaison}))
    if worker_in:
        clauses.append(sa.and_(col(Consultation.conference_id).in_(worker_in),
                               col(Consultation.addressed_organisation_id) == principal.organisation_id))
    return sa.or_(*clauses)


def interventions_allowed(principal: Principal, organisation_id: uuid.UUID | None) -> bool:
    """Catalogues of interventions are read by every person with a role somewhere (members and
    organisation administrators); an organisation's catalogue (`organisation_id`) is kept by its
    own people: its administrators, and its chairs and members in any conference."""
    if principal.kind != "person":
        return False
    if organisation_id is None:
        return bool(principal.memberships) or principal.organisation_admin
    return principal.organisation_id == organisation_id and (
        principal.organisation_admin or any(m.role in (Role.chair, Role.member) for m in principal.memberships))


def counts_in(membership: Membership | None, conference_id: uuid.UUID, *roles: str) -> bool:
    """The one test of a named person (an assignee, a committer, a case director, an attester):
    an active membership of this conference, in one of `roles` when they are given."""
    return (
        membership is not None
        and membership.conference_id == conference_id
        and membership.active
        and (not roles or membership.role in roles)
    )


def visible_admin_changes(principal: Principal) -> ColumnElement[bool]:
    """The record of administrative changes: an organisation's administrators see the changes
    that concern their organisation; a conference's administrators and privacy officers see the
    changes in that conference; privacy officers also see their organisation's changes that are
    bound to no conference (identity settings, partner systems)."""
    if principal.kind != "person":
        return sa.false()
    clauses: list[ColumnElement[bool]] = []
    if principal.organisation_admin:
        clauses.append(col(AdminChange.organisation_id) == principal.organisation_id)
    conferences = _conferences_with(principal, frozenset({Role.admin, Role.privacy_officer}))
    if conferences:
        clauses.append(col(AdminChange.conference_id).in_(conferences))
    if _conferences_with(principal, frozenset({Role.privacy_officer})):
        clauses.append(
            sa.and_(
                col(AdminChange.organisation_id) == principal.organisation_id,
                col(AdminChange.conference_id).is_(None),
            )
        )
    return sa.or_(*clauses) if clauses else sa.false()
