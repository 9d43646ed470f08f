"""All tables, imported here so that SQLModel.metadata (and Alembic) sees every one."""

from app.models.action import Action
from app.models.administration import AdminChange, IdentityChange, OrganisationAdmin
from app.models.agreement import (
    Agreement,
    AgreementSignature,
    ChecklistTick,
    ConsentWithdrawal,
    LegalBasis,
)
from app.models.audit import AccessLogEntry
from app.models.case import BreakGlass, Case, CaseNote
from app.models.client import Client, ClientReference
from app.models.client_request import ClientCorrection, ClientRequest
from app.models.conference import Conference, ConferenceOrganisation, Mandate, Membership
from app.models.consultation import Consultation
from app.models.event import (
    AftercareReport,
    AftercareWatch,
    CaseFlag,
    OutboxMessage,
    PartnerEvent,
    SignalSnooze,
    Subscription,
)
from app.models.guest import GuestInvitation
from app.models.history import ChangeRecord
from app.models.household import ClientRepresentative, Household, HouseholdMember
from app.models.intervention import Intervention
from app.models.job import JobRun, Notification, NotificationRead
from app.models.known_elsewhere import KnownElsewhereAnswer, KnownElsewhereQuestion
from app.models.meeting import AgendaItem, CalendarFeed, Decision, DiscussionRequest, Meeting
from app.models.organisation import Organisation, PartnerSystem
from app.models.plan import Assessment, Goal, Plan
from app.models.referral import Referral
from app.models.retention import AccessLogAnchor, AnonymisedCase
from app.models.web import DevAuthorizationCode, WebSession, WebSignIn

__all__ = [
    "AccessLogAnchor",
    "AccessLogEntry",
    "Action",
    "AdminChange",
    "AftercareReport",
    "AftercareWatch",
    "AgendaItem",
    "Agreement",
    "AgreementSignature",
    "AnonymisedCase",
    "Assessment",
    "BreakGlass",
    "CalendarFeed",
    "Case",
    "CaseFlag",
    "CaseNote",
    "ChangeRecord",
    "ChecklistTick",
    "Client",
    "ClientCorrection",
    "ClientReference",
    "ClientRepresentative",
    "ClientRequest",
    "Conference",
    "ConferenceOrganisation",
    "ConsentWithdrawal",
    "Consultation",
    "Decision",
    "DevAuthorizationCode",
    "DiscussionRequest",
    "Goal",
    "GuestInvitation",
    "Household",
    "HouseholdMember",
    "IdentityChange",
    "Intervention",
    "JobRun",
    "KnownElsewhereAnswer",
    "KnownElsewhereQuestion",
    "LegalBasis",
    "Mandate",
    "Meeting",
    "Membership",
    "Notification",
    "NotificationRead",
    "Organisation",
    "OrganisationAdmin",
    "OutboxMessage",
    "PartnerEvent",
    "PartnerSystem",
    "Plan",
    "Referral",
    "SignalSnooze",
    "Subscription",
    "WebSession",
    "WebSignIn",
]
