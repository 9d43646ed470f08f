"""The domain's closed vocabularies, and the one place where a state's value is spelled.

States are stored as text (VARCHAR) through `StateColumn` (app/models/base.py), which hands back
these enums. Code compares with the members (`ActionStatus.open`), never with a string; SQL
predicates over states are written once, in app/models/predicates.py. A test keeps it so
(tests/test_house.py)."""

from __future__ import annotations

from enum import StrEnum


class OrganisationKind(StrEnum):
    municipality = "municipality"
    police = "police"
    addiction_care = "addiction_care"
    housing = "housing"
    probation = "probation"
    public_health = "public_health"
    neighbourhood_team = "neighbourhood_team"
    # The wider ring (issue 17): organisations that refer, consult or join as guests.
    mental_health_care = "mental_health_care"  # GGZ
    general_practice = "general_practice"  # huisarts, praktijkondersteuner (POH)
    work_income = "work_income"  # werk en inkomen
    reintegration = "reintegration"
    education = "education"
    peer_support = "peer_support"  # ervaringsdeskundigen
    other = "other"


class Role(StrEnum):
    chair = "chair"
    member = "member"
    liaison = "liaison"
    privacy_officer = "privacy_officer"
    admin = "admin"
    # A professional of a non-member organisation who may refer and follow only their own
    # referrals' status; no case access (issue 17).
    referrer = "referrer"
    # The municipality's policy staff: outcome figures (aggregates) only, never a case (issue 18).
    policy_staff = "policy_staff"


class GuestKind(StrEnum):
    """Someone outside the conference given read access to one case for a while (issue 17): a
    professional of another organisation invited by the chair, or a peer supporter or buddy who
    takes part in the plan with the client's recorded consent."""

    guest = "guest"
    peer_supporter = "peer_supporter"  # ervaringsdeskundige
    buddy = "buddy"


class GuestStatus(StrEnum):
    """Never stored: an invitation is active, ended or revoked by its dates."""

    active = "active"
    expired = "expired"
    revoked = "revoked"


class AftercareReportKind(StrEnum):
    """What the neighbourhood team reports to the addiction care institution during an aftercare
    watch (issue 17). A suspected relapse is health information (label), the others general."""

    worry = "worry"  # zorgen
    missed_contact = "missed_contact"  # gemist contact
    suspected_relapse = "suspected_relapse"  # vermoeden van terugval


class HouseholdRelation(StrEnum):
    """A client's place in a household (één gezin, één plan, één regisseur; issue 17)."""

    parent = "parent"
    child = "child"
    partner = "partner"
    other = "other"


class RepresentativeKind(StrEnum):
    """A client's legal representative (wettelijk vertegenwoordiger)."""

    curator = "curator"  # curatele
    mentor = "mentor"  # mentorschap
    parent = "parent"  # ouder met gezag
    guardian = "guardian"  # voogd


# Who signs an agreement for (or beside) a minor client.
GUARDIAN_KINDS = frozenset({RepresentativeKind.parent, RepresentativeKind.guardian})


class MandateScope(StrEnum):
    housing_allocation = "housing_allocation"
    debt_fast_track = "debt_fast_track"
    treatment_intake = "treatment_intake"
    outreach = "outreach"
    enforcement_priority = "enforcement_priority"
    budget = "budget"
    sign_agreements = "sign_agreements"


class Phase(StrEnum):
    selected = "selected"
    prioritised = "prioritised"
    active = "active"
    monitoring = "monitoring"
    closed = "closed"


# The personal approach's four phases, in order; closing is possible from every open phase,
# and monitoring may fall back to active (a relapse).
PHASE_TRANSITIONS: dict[Phase, tuple[Phase, ...]] = {
    Phase.selected: (Phase.prioritised, Phase.closed),
    Phase.prioritised: (Phase.active, Phase.closed),
    Phase.active: (Phase.monitoring, Phase.closed),
    Phase.monitoring: (Phase.active, Phase.closed),
    Phase.closed: (),
}


class ClosureReason(StrEnum):
    goals_reached = "goals_reached"
    moved = "moved"
    refused_care = "refused_care"
    deceased = "deceased"
    transferred = "transferred"
    other = "other"


class MeetingStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"
    held = "held"


class AgendaStatus(StrEnum):
    """A meeting's agenda: a draft only the chair sees, or published to the participants."""

    draft = "draft"
    published = "published"


class AgreementStatus(StrEnum):
    """Stored: draft, signed, withdrawn, superseded. Active and expired are never stored: a signed
    agreement is active or expired by its dates (services/agreements/lifecycle.py
    `effective_status`), so expiry takes effect without a job."""

    draft = "draft"
    signed = "signed"
    active = "active"
    expired = "expired"
    withdrawn = "withdrawn"
    superseded = "superseded"


class IdentityChangeStatus(StrEnum):
    """A change of an organisation's identity settings, waiting for a second administrator."""

    pending = "pending"
    applied = "applied"
    rejected = "rejected"


class ReferralStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"


class ReferralKind(StrEnum):
    """Where a referral comes from (issue 17): each lands in the chair's triage."""

    professional = "professional"  # a member of the conference
    external = "external"  # a referrer: a professional of a non-member organisation
    surroundings = "surroundings"  # a worry from the client's surroundings, recorded by a member
    consultation = "consultation"  # a consultation (spreekuur) turned into a referral with consent


class ReporterRelation(StrEnum):
    """Who in the social surroundings reported a worry (zorgmelding uit de omgeving)."""

    family = "family"
    partner = "partner"
    neighbour = "neighbour"
    friend = "friend"
    landlord = "landlord"
    colleague = "colleague"
    other = "other"


class ConsultationAddressee(StrEnum):
    """Whom a consultation (spreekuur) asks: the conference, or the addiction care institution."""

    conference = "conference"
    addiction_care = "addiction_care"


class AgeGroup(StrEnum):
    """A consultation's situation in an age band: enough for advice, too coarse to identify."""

    under_18 = "under_18"
    from_18_to_26 = "18_26"
    from_27_to_44 = "27_44"
    from_45_to_64 = "45_64"
    from_65 = "65_plus"


class ConsultationStatus(StrEnum):
    open = "open"
    answered = "answered"
    converted = "converted"  # turned into a referral with consent; the consultation keeps the link


class LifeDomain(StrEnum):
    """The 13 domains of the self-sufficiency matrix (Zelfredzaamheid-Matrix)."""

    finances = "finances"
    work_education = "work_education"
    time_use = "time_use"
    housing = "housing"
    domestic_relations = "domestic_relations"
    mental_health = "mental_health"
    physical_health = "physical_health"
    substance_use = "substance_use"
    adl = "adl"
    iadl = "iadl"
    social_network = "social_network"
    community_participation = "community_participation"
    justice = "justice"


class ActionStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    blocked = "blocked"
    cancelled = "cancelled"


class Coverage(StrEnum):
    """Whether an action's resource claim is covered by the committing member's mandate."""

    not_applicable = "not_applicable"
    covered = "covered"
    escalation_required = "escalation_required"


class Label(StrEnum):
    """Need-to-know label of a piece of information."""

    general = "general"
    identity = "identity"  # who the client is (name, date of birth): persons of the conference only
    health = "health"
    justice = "justice"
    org_internal = "org_internal"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class PartnerScope(StrEnum):
    """What a partner system (a machine with client-credentials tokens) may be granted."""

    events_write = "events:write"
    cases_read_minimal = "cases:read-minimal"
    webhooks_manage = "webhooks:manage"


class ClientRequestKind(StrEnum):
    """A request of the client under the AVG (issue 21): inzage, correctie, verwijdering,
    beperking, bezwaar, klacht."""

    inspection = "inspection"  # inzage, art. 15
    rectification = "rectification"  # correctie, art. 16
    erasure = "erasure"  # verwijdering, art. 17
    restriction = "restriction"  # beperking, art. 18
    objection = "objection"  # bezwaar, art. 21
    complaint = "complaint"  # klacht


class ClientRequestChannel(StrEnum):
    """How a client request came in."""

    letter = "letter"
    email = "email"
    in_person = "in_person"
    phone = "phone"
    via_professional = "via_professional"


class ClientRequestStatus(StrEnum):
    open = "open"
    answered = "answered"


class ClientRequestDecision(StrEnum):
    granted = "granted"
    partly_granted = "partly_granted"
    refused = "refused"


class CorrectionField(StrEnum):
    """What a correction (AVG art. 16) may change: the client's personal details and free text
    written about them. An agreement's text is never corrected: it is signed (record a new one)."""

    name = "name"  # the client's name
    date_of_birth = "date_of_birth"  # the client's date of birth
    note_text = "note_text"
    goal_text = "goal_text"
    action_title = "action_title"
    agreement_text = "agreement_text"
