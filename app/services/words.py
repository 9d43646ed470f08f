"""The Dutch words the service shows people, one mapping per thing: the web pages (app/web/render.py),
the printed and PDF documents (app/services/privacy/exports.py) and the agenda's reasons all use
these. docs/glossary.md (the woordenlijst) lists the same words; tests/web/test_words.py keeps the
two equal."""

from __future__ import annotations

from app.events.cloudevents import EventType
from app.models.enums import ActionStatus, ClosureReason, Label, Phase, Priority, ReferralStatus

# The phases of the personal approach (selecteren, prioriteren, plan van aanpak opstellen en
# uitvoeren, monitoren en beëindigen), as a case is in them.
PHASES: dict[str, str] = {
    Phase.selected: "Geselecteerd",
    Phase.prioritised: "Geprioriteerd",
    Phase.active: "Plan in uitvoering",
    Phase.monitoring: "Monitoren en nazorg",
    Phase.closed: "Afgesloten",
}

# Why a case was closed (the case page's phase form, meeting mode's decision form).
CLOSURE_REASONS: dict[str, str] = {
    ClosureReason.goals_reached: "Doelen bereikt",
    ClosureReason.moved: "Verhuisd",
    ClosureReason.refused_care: "Zorg geweigerd",
    ClosureReason.deceased: "Overleden",
    ClosureReason.transferred: "Overgedragen",
    ClosureReason.other: "Andere reden",
}

ACTION_STATUS: dict[str, str] = {
    ActionStatus.open: "Open",
    ActionStatus.in_progress: "Bezig",
    ActionStatus.done: "Gedaan",
    ActionStatus.blocked: "Geblokkeerd",
    ActionStatus.cancelled: "Vervallen",
}

REFERRAL_STATUS: dict[str, str] = {
    ReferralStatus.pending: "In behandeling",
    ReferralStatus.accepted: "Geaccepteerd",
    ReferralStatus.declined: "Afgewezen",
}

PRIORITY: dict[str, str] = {Priority.low: "Laag", Priority.normal: "Normaal", Priority.high: "Hoog",
                            Priority.urgent: "Urgent"}

LIFE_DOMAINS: dict[str, str] = {
    "finances": "Financiën",
    "work_education": "Werk en opleiding",
    "time_use": "Tijdsbesteding",
    "housing": "Huisvesting",
    "domestic_relations": "Huiselijke relaties",
    "mental_health": "Geestelijke gezondheid",
    "physical_health": "Lichamelijke gezondheid",
    "substance_use": "Middelengebruik",
    "adl": "ADL (dagelijkse verzorging)",
    "iadl": "Huishouden (IADL)",
    "social_network": "Sociaal netwerk",
    "community_participation": "Maatschappelijke participatie",
    "justice": "Justitie",
}

# Why a partner's event flagged a case (the stored reason is the API's English text).
FLAG_REASONS: dict[str, str] = {
    EventType.relapse: "Terugval gemeld door een ketenpartner",
    EventType.overdose: "Overdosis gemeld door een ketenpartner",
    EventType.detention: "Detentie gemeld door een ketenpartner",
    EventType.eviction_threat: "Dreigende huisuitzetting gemeld door een ketenpartner",
    EventType.missed_appointment: "Gemiste afspraak gemeld door een ketenpartner",
}

# What a partner's event on the timeline was.
EVENT_TYPES: dict[str, str] = {
    EventType.relapse: "Terugval",
    EventType.lapse: "Uitglijder",
    EventType.police_contact: "Contact met de politie",
    EventType.nuisance_report: "Melding van overlast",
    EventType.missed_appointment: "Gemiste afspraak",
    EventType.admission: "Opname",
    EventType.discharge: "Ontslag uit opname",
    EventType.overdose: "Overdosis",
    EventType.eviction_threat: "Dreigende huisuitzetting",
    EventType.detention: "Detentie",
    EventType.treatment_completed: "Behandeling afgerond",
    EventType.aftercare_worry: "Zorg in de nazorg",
    EventType.aftercare_missed_contact: "Gemist contact in de nazorg",
    EventType.aftercare_suspected_relapse: "Vermoeden van terugval in de nazorg",
}

# The kind of information a label marks (shown with a hidden item where the reader may know its kind).
LABELS: dict[str, str] = {
    Label.general: "algemeen",
    Label.identity: "identiteit",
    Label.health: "gezondheid",
    Label.justice: "justitie",
    Label.org_internal: "intern van een organisatie",
}

# What a notification (the one `notification` table) tells its reader.
NOTIFICATIONS: dict[str, str] = {
    "action_due_soon": "Actie moet binnenkort klaar zijn",
    "action_overdue": "Actie is over de termijn",
    "mandate_expiring": "Uw mandaat loopt binnenkort af",
    "agreement_expiring": "Driepartijenovereenkomst loopt binnenkort af",
    "case_flagged": "Signaal van een ketenpartner",
    "aftercare_relapse": "Terugval gemeld in de nazorg",
    "aftercare_report": "Melding van het wijkteam in de nazorg",
    "aftercare_reply": "Antwoord van de verslavingszorg op een nazorgmelding",
    "break_glass": "Noodtoegang gebruikt",
    "mandate_escalation": "Actie wacht op mandaat-escalatie",
    "identity_change_requested": "Wijziging van inloggegevens aangevraagd",
    "identity_change_applied": "Wijziging van inloggegevens doorgevoerd",
    "organisation_admin_added": "Nieuwe beheerder van uw organisatie",
    "data_corrected": "Gegevens die u zag zijn gecorrigeerd",
    "client_request_overdue": "Verzoek van een cliënt is over de termijn",
}


def count_of(count: int, one: str, many: str) -> str:
    """A count with its noun in the right number: "1 actie", "2 acties", "0 acties"."""
    return f"{count} {one if count == 1 else many}"
