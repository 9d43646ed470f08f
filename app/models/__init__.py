"""All tables, imported here so that SQLModel.metadata (and Alembic) sees every one."""

from app.models.action import Action
from app.models.audit import AccessLogEntry
from app.models.case import Case, CaseNote
from app.models.client import Client, ClientReference
from app.models.conference import Conference, ConferenceOrganisation, Mandate, Membership
from app.models.history import ChangeRecord
from app.models.organisation import Organisation, PartnerSystem
from app.models.plan import Assessment, Goal, Plan
from app.models.referral import Referral
from app.models.retention import AccessLogAnchor, AnonymisedCase

__all__ = [
    "AccessLogAnchor",
    "AccessLogEntry",
    "Action",
    "AnonymisedCase",
    "Assessment",
    "Case",
    "CaseNote",
    "ChangeRecord",
    "Client",
    "ClientReference",
    "Conference",
    "ConferenceOrganisation",
    "Goal",
    "Mandate",
    "Membership",
    "Organisation",
    "PartnerSystem",
    "Plan",
    "Referral",
]
