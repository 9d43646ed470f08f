"""Acceptance 1 and 5: every route of the OpenAPI document, for every kind of caller, against
objects of the caller's own conference and of another conference, checked against the expected
matrix in tests/authz_matrix.py. Plus need-to-know labels (another organisation's labelled data)
and counts that do not leak."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.config import Settings
from app.crypto import seal_text
from app.errors import HIDDEN_SUFFIX
from app.events.signing import SECRET_PURPOSE, new_secret
from app.main import create_app
from app.models import (
    AccessLogEntry,
    AftercareReport,
    AftercareWatch,
    AgendaItem,
    Agreement,
    AgreementSignature,
    Assessment,
    Case,
    CaseFlag,
    CaseNote,
    Client,
    ClientReference,
    ClientRequest,
    Conference,
    ConferenceOrganisation,
    Consultation,
    Decision,
    GuestInvitation,
    IdentityChange,
    Intervention,
    KnownElsewhereQuestion,
    LegalBasis,
    Meeting,
    Notification,
    OutboxMessage,
    PartnerEvent,
    PartnerSystem,
    Referral,
    SignalSnooze,
    Subscription,
)
from app.services.cases.clients import new_client_number
from tests.authz_matrix import MATRIX, PUBLIC, ROLES, WEB_MATRIX, WEB_PUBLIC, WEB_ROLES, Rule
from tests.factories import World, add_action, add_case, add_mandate
from tests.routes import app_routes

CALLERS: dict[str, tuple[str, str]] = {  # role -> (world person or system, own conference)
    "chair": ("chair", "A"),
    "member": ("police_member", "A"),
    "member_other_org": ("care_member", "A"),
    "liaison": ("police_liaison", "A"),
    "privacy_officer": ("privacy_officer", "A"),
    "admin": ("admin", "A"),
    "system": ("police_system", "A"),
    "webhook_system": ("care_system", "A"),  # its subscription is "A"'s; "B"'s is another system's
    "member_b": ("police_member_b", "B"),
}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


APP = create_app(Settings(dev_idp_enabled=False, load_demo_data=False, scheduler_enabled=False))
OPENAPI = APP.openapi()
ROUTES = [(method.upper(), path) for path, item in OPENAPI["paths"].items() for method in item]
# The web client's routes, from the application's own route list (they are not in the OpenAPI document).
WEB_ROUTES = sorted(
    (method, path) for methods, path in app_routes(APP) if path == "/web" or path.startswith("/web/")
    for method in methods if method != "HEAD"
)


def _takes_conference_filter(method: str, template: str) -> bool:
    parameters = OPENAPI["paths"][template][method.lower()].get("parameters", [])
    return any(p["name"] == "conference_id" and p["in"] == "query" for p in parameters)


@pytest.fixture
async def mworld(world: World, owner_db) -> World:
    """The world, plus what the matrix needs once: a care partner system that manages webhooks,
    addiction care taking part in conference B too (so that B's agreements have the same
    parties as A's), and the care member's mandate to sign agreements."""
    async with owner_db.sessions() as session:
        care_system = PartnerSystem(
            organisation_id=world.orgs["zorg"].id,
            name="Zorgsysteem",
            subject="care-system",
            scopes=["webhooks:manage"],
        )
        session.add(care_system)
        session.add(ConferenceOrganisation(conference_id=world.b.id, organisation_id=world.orgs["zorg"].id))
        # both take part in known-elsewhere questions (hit/no-hit)
        await session.execute(sa.update(Conference).where(Conference.id.in_([world.a.id, world.b.id]))
                              .values(known_elsewhere=True))
        await add_mandate(session, world.members["care_member"], "sign_agreements")
        await session.commit()
    world.systems["care_system"] = care_system
    return world


@dataclass
class Objects:
    """The objects of one conference. The first group is always made; the rest only when a route
    needs them (`_needs`)."""

    conference_id: uuid.UUID
    case_id: uuid.UUID
    action_id: uuid.UUID
    referral_id: uuid.UUID
    membership_id: uuid.UUID
    organisation_id: uuid.UUID
    system_id: uuid.UUID  # a partner system of the municipality (organisation_id)
    client_number: str
    change_id: uuid.UUID | None = None  # a pending change of the municipality's keys
    item: str = "client_informed"  # a checklist item ticked by hand
    reference: str | None = None  # the police's own reference for the client (partner events)
    reference_id: uuid.UUID | None = None  # ... and its row
    snooze_id: uuid.UUID | None = None  # a snooze of missed appointments on the case
    agreement_id: uuid.UUID | None = None  # a draft the client signed on paper (with a scan)
    unsigned_agreement_id: uuid.UUID | None = None  # a draft nobody signed yet
    basis_id: uuid.UUID | None = None  # a legal basis
    meeting_id: uuid.UUID | None = None  # a future meeting with a draft agenda ...
    item_id: uuid.UUID | None = None  # ... carrying the case
    published_meeting_id: uuid.UUID | None = None  # a meeting under way, its agenda published ...
    published_item_id: uuid.UUID | None = None  # ... carrying the case
    held_meeting_id: uuid.UUID | None = None  # a held meeting with a published decision
    subscription_id: uuid.UUID | None = None  # a webhook subscription ...
    message_id: uuid.UUID | None = None  # ... with a dead letter
    question_id: uuid.UUID | None = None  # a known-elsewhere question asked by the conference
    consultation_id: uuid.UUID | None = None  # asked by the committer of addiction care
    intervention_id: uuid.UUID | None = None  # in the municipality's catalogue
    invitation_id: uuid.UUID | None = None  # a guest invited to the case by the chair
    report_id: uuid.UUID | None = None  # an aftercare report of the neighbourhood team
    request_id: uuid.UUID | None = None  # an open client request for correction (issue 21)
    second_case_id: uuid.UUID | None = None  # another case of the conference (a household's member)
    notification_id: uuid.UUID | None = None  # a reminder to the police about the action


# Which group of objects makes an attribute that is not always there.
GROUP = {
    "reference": "reference",
    "reference_id": "reference",
    "snooze_id": "snooze",
    "agreement_id": "agreement",
    "unsigned_agreement_id": "unsigned_agreement",
    "basis_id": "basis",
    "meeting_id": "meeting",
    "item_id": "meeting",
    "published_meeting_id": "published",
    "published_item_id": "published",
    "held_meeting_id": "held",
    "subscription_id": "subscription",
    "message_id": "subscription",
    "change_id": "identity_change",
    "invitation_id": "guest",
    "report_id": "aftercare",
    "question_id": "question",
    "request_id": "client_request",
    "consultation_id": "consultation",
    "second_case_id": "household",
    "notification_id": "notification",
    "intervention_id": "intervention",
}

# Routes whose path parameter is a particular one of the objects (default: the same name).
PARAMS: dict[tuple[str, str], dict[str, str]] = {
    **{
        ("GET", f"/api/v1/meetings/{{meeting_id}}/{suffix}"): {"meeting_id": "published_meeting_id"}
        for suffix in ("agenda", "agenda.html", "agenda.pdf")
    },
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/reopen"): {"meeting_id": "published_meeting_id"},
    ("POST", "/api/v1/meetings/{meeting_id}/decisions/publish"): {"meeting_id": "published_meeting_id"},
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/items/{item_id}/decisions"): {
        "meeting_id": "published_meeting_id",
        "item_id": "published_item_id",
    },
    **{
        ("GET", f"/api/v1/meetings/{{meeting_id}}/{suffix}"): {"meeting_id": "held_meeting_id"}
        for suffix in ("decisions", "decisions.html", "decisions.pdf")
    },
    ("POST", "/api/v1/agreements/{agreement_id}/client-signature"): {"agreement_id": "unsigned_agreement_id"},
}

BODY_NEEDS: dict[tuple[str, str], set[str]] = {
    ("POST", "/api/v1/events"): {"reference"},
    ("GET", "/api/v1/cases/{case_id}/minimal"): {"reference"},
    ("POST", "/api/v1/cases/minimal-lookup"): {"reference"},
    ("POST", "/api/v1/conferences/{conference_id}/households"): {"second_case_id"},
    ("POST", "/api/v1/cases/{case_id}/actions/from-intervention"): {"intervention_id"},
}


def _attribute(route: tuple[str, str], name: str) -> str:
    return PARAMS.get(route, {}).get(name, name)


def _needs(route: tuple[str, str]) -> frozenset[str]:
    """The groups of objects a route's path, body or list items name."""
    names = {_attribute(route, n) for n in re.findall(r"\{([a-z_]+)\}", route[1])} | BODY_NEEDS.get(route, set())
    if route[0] == "GET" and route[1] in LIST_ITEM:
        names.add(LIST_ITEM[route[1]][1])
    return frozenset(GROUP[n] for n in names if n in GROUP)


_last_slot: dict[float, datetime] = {}  # meetings of one conference need distinct start times


def _slot(days: float) -> Any:
    """A start `days` from now (in the past for negative days), at least a second after the last
    start made for the same `days` (objects are made again and again while time passes)."""
    start = clock.now().replace(microsecond=0) + timedelta(days=days)
    last = _last_slot.get(days)
    if last is not None and start <= last:
        start = last + timedelta(seconds=1)
    _last_slot[days] = start
    return start


async def _objects(owner_db, world: World, needs: frozenset[str] = frozenset()) -> dict[str, Objects]:
    """Objects in both conferences: a case (in A directed by the care member), a police action
    and a pending police referral, and the groups in `needs`."""
    result = {}
    async with owner_db.sessions() as session:
        for key, conference, director, assignee, committer, chair in (
            ("A", world.a, "care_member", "police_liaison", "police_member", "chair"),
            ("B", world.b, None, None, "police_member_b", "chair_b"),
        ):
            case = await add_case(session, world, conference=conference, director=director)
            action = await add_action(
                session, world, case, owner="politie", assignee=assignee, committed_by=committer
            )
            client = Client(
                conference_id=conference.id,
                client_number=new_client_number(),
                name="Aangemelde",
                date_of_birth=date(1990, 1, 1),
            )
            session.add(client)
            await session.flush()
            referral = Referral(
                conference_id=conference.id,
                client_id=client.id,
                referred_by_id=world.members[committer].id,
                referring_organisation_id=world.orgs["politie"].id,
                reason="Zorgen",
            )
            session.add(referral)
            await session.flush()
            case_client = await session.get(Client, case.client_id)
            assert case_client is not None
            objects = Objects(
                conference.id,
                case.id,
                action.id,
                referral.id,
                world.members[committer].id,
                world.orgs["gemeente"].id,
                world.systems["gemeente_system"].id,
                case_client.client_number,
            )
            await _make_groups(session, world, objects, conference, case, world.members[chair].id, needs)
            result[key] = objects
        await session.commit()
    return result


async def _make_groups(
    session, world: World, o: Objects, conference: Conference, case: Case, chair_id: uuid.UUID,
    needs: frozenset[str],
) -> None:
    today = clock.today()
    if "identity_change" in needs:  # asked by the second administrator, harmless when applied
        gemeente = world.orgs["gemeente"]
        change = IdentityChange(organisation_id=gemeente.id, changes={"discovery_url": gemeente.discovery_url},
                                before={"discovery_url": gemeente.discovery_url},
                                requested_by_issuer=gemeente.issuer or "", requested_by_subject="gemeente_admin_2-sub",
                                requested_by_name="Tweede beheerder")
        session.add(change)
        await session.flush()
        o.change_id = change.id
    if "intervention" in needs:
        intervention = Intervention(organisation_id=world.orgs["gemeente"].id, name="Huisbezoek",
                                    life_domain="housing")
        session.add(intervention)
        await session.flush()
        o.intervention_id = intervention.id
    if "consultation" in needs:
        consultation = Consultation(conference_id=conference.id, asked_by_id=o.membership_id,
                                    asking_organisation_id=world.orgs["politie"].id, addressee="addiction_care",
                                    addressed_organisation_id=world.orgs["zorg"].id,
                                    question="Hoe begeleid ik iemand naar behandeling?")
        session.add(consultation)
        await session.flush()
        o.consultation_id = consultation.id
    if "reference" in needs:
        o.reference = f"POL-{uuid.uuid4().hex[:10]}"
        reference = ClientReference(client_id=case.client_id, organisation_id=world.orgs["politie"].id,
                                    reference=o.reference)
        session.add(reference)
        await session.flush()
        o.reference_id = reference.id
    if "question" in needs:
        question = KnownElsewhereQuestion(conference_id=conference.id, asked_by_id=chair_id, reason="Verhuisd",
                                          known=False)
        session.add(question)
        await session.flush()
        o.question_id = question.id
    if "snooze" in needs:
        snooze = SignalSnooze(case_id=case.id, kind="missed_appointment", until=today + timedelta(days=7),
                              reason="Opgenomen", created_by_id=chair_id)
        session.add(snooze)
        await session.flush()
        o.snooze_id = snooze.id
    for group in ("agreement", "unsigned_agreement"):
        if group not in needs:
            continue
        text = f"Driepartijenovereenkomst {uuid.uuid4()}"
        agreement = Agreement(
            case_id=case.id,
            conference_id=conference.id,
            template_id="driepartijen",
            template_version=1,
            template_sha256="0" * 64,
            title="Driepartijenovereenkomst",
            parties={
                "client": {"client_id": str(case.client_id), "commitment_label": "Cliënt"},
                "municipality": {"organisation_id": str(world.orgs["gemeente"].id), "name": "Gemeente"},
                "addiction_care": {"organisation_id": str(world.orgs["zorg"].id), "name": "Zorg"},
            },
            commitments={"client": "Ik kom", "municipality": "Schuldhulp", "addiction_care": "Behandeling"},
            options=["health_to_police"],
            scope={"health": ["police"]},
            starts_on=today,
            ends_on=today + timedelta(days=365),
            rendered_text=text,
            text_hash=hashlib.sha256(text.encode()).hexdigest(),
            created_by_id=chair_id,
        )
        session.add(agreement)
        await session.flush()
        if group == "agreement":
            o.agreement_id = agreement.id
            session.add(
                AgreementSignature(
                    agreement_id=agreement.id, party="client", attested_by_id=chair_id, signed_in_person=False,
                    signed_on=today, text_hash=agreement.text_hash, recorded_by_id=chair_id, scan=PNG,
                    scan_content_type="image/png", scan_size=len(PNG), scan_sha256=hashlib.sha256(PNG).hexdigest(),
                )
            )
        else:
            o.unsigned_agreement_id = agreement.id
    if "guest" in needs:
        invitation = GuestInvitation(case_id=case.id, conference_id=conference.id, organisation_id=world.orgs["wijkteam"].id,
                                     issuer=world.orgs["wijkteam"].issuer or "", subject=f"gast-{uuid.uuid4().hex[:8]}",
                                     display_name="Gast", reason="Afstemming", invited_by_id=chair_id,
                                     ends_at=clock.now() + timedelta(days=7))
        session.add(invitation)
        await session.flush()
        o.invitation_id = invitation.id
    if "household" in needs:
        o.second_case_id = (await add_case(session, world, conference=conference, director=None, name="Huisgenoot")).id
    if "aftercare" in needs:
        watch = AftercareWatch(case_id=case.id, client_id=case.client_id, started_at=clock.now() - timedelta(days=5),
                               ends_at=clock.now() + timedelta(days=100))
        session.add(watch)
        await session.flush()
        report = AftercareReport(case_id=case.id, conference_id=conference.id, watch_id=watch.id, kind="worry",
                                 organisation_id=world.orgs["wijkteam"].id, observed_on=today)
        session.add(report)
        await session.flush()
        o.report_id = report.id
    if "client_request" in needs:
        request = ClientRequest(conference_id=conference.id, client_id=case.client_id, kind="rectification",
                                channel="letter", received_on=today, deadline_on=today + timedelta(days=30),
                                recorded_by_id=chair_id)
        session.add(request)
        await session.flush()
        o.request_id = request.id
    if "basis" in needs:
        basis = LegalBasis(case_id=case.id, conference_id=conference.id, article="Art. 9 lid 2 sub g AVG",
                           justification="Zwaarwegend algemeen belang", scope={"health": ["police"]},
                           starts_on=today, ends_on=today + timedelta(days=90), recorded_by_id=chair_id)
        session.add(basis)
        await session.flush()
        o.basis_id = basis.id

    async def meeting(days: float, **values: Any) -> tuple[Meeting, AgendaItem]:
        starts = _slot(days)
        m = Meeting(conference_id=conference.id, starts_at=starts, ends_at=starts + timedelta(hours=2), **values)
        session.add(m)
        await session.flush()
        reason = {"code": "added_by_chair", "text": "Toegevoegd door de voorzitter", "label": "general"}
        item = AgendaItem(meeting_id=m.id, kind="case", case_id=case.id, reasons=[reason], position=1,
                          time_box_minutes=10, added_by_chair=True)
        session.add(item)
        await session.flush()
        return m, item

    if "meeting" in needs:
        m, item = await meeting(7)
        o.meeting_id, o.item_id = m.id, item.id
    if "published" in needs:  # started an hour ago: decisions can be recorded and published
        m, item = await meeting(-1 / 24, agenda_status="published", published_at=clock.now() - timedelta(days=1))
        o.published_meeting_id, o.published_item_id = m.id, item.id
    if "held" in needs:
        m, item = await meeting(-7, status="held", agenda_status="published",
                                published_at=clock.now() - timedelta(days=8),
                                decisions_published_at=clock.now() - timedelta(days=6))
        session.add(Decision(meeting_id=m.id, agenda_item_id=item.id, case_id=case.id, text="Besluit",
                             decided_by_id=chair_id))
        o.held_meeting_id = m.id
    if "notification" in needs:
        notification = Notification(kind="action_overdue", conference_id=conference.id,
                                    organisation_id=world.orgs["politie"].id, ref_type="action", ref_id=o.action_id,
                                    on_date=today, due_on=today)
        session.add(notification)
        await session.flush()
        o.notification_id = notification.id
    if "subscription" in needs:
        owner = world.systems["care_system" if conference.id == world.a.id else "police_system"]
        subscription = Subscription(partner_system_id=owner.id, organisation_id=owner.organisation_id,
                                    url="https://93.184.215.14/hooks", event_types=["case.flagged"],
                                    secret=seal_text(new_secret(), Settings(), purpose=SECRET_PURPOSE))
        session.add(subscription)
        await session.flush()
        message = OutboxMessage(subscription_id=subscription.id, type="case.flagged", payload={},
                                attempts=12, dead_at=clock.now(), last_status=500, last_error="HTTP 500")
        session.add(message)
        await session.flush()
        o.subscription_id, o.message_id = subscription.id, message.id


def _today() -> str:
    return clock.today().isoformat()


@dataclass(frozen=True)
class Form:
    """A multipart form body instead of JSON."""

    data: dict[str, str]


BODIES: dict[tuple[str, str], Callable[[Objects, World], Any]] = {
    ("POST", "/api/v1/audit/clients/{client_number}/requests"): lambda o, w: {
        "kind": "inspection", "received_on": _today(), "channel": "letter"},
    ("POST", "/api/v1/client-requests/{request_id}/extension"): lambda o, w: {
        "reason": "Meer tijd nodig voor het antwoord."},
    ("POST", "/api/v1/client-requests/{request_id}/corrections"): lambda o, w: {
        "field": "name", "new_value": "Nieuwe Naam"},
    ("POST", "/api/v1/client-requests/{request_id}/answer"): lambda o, w: {
        "decision": "refused", "answer": "Wij wijzen het verzoek af, omdat het niet klopt."},
    ("POST", "/api/v1/organisations"): lambda o, w: {
        "name": "Woningcorporatie",
        "kind": "housing",
        "slug": f"woon-{uuid.uuid4().hex[:8]}",
    },
    ("PATCH", "/api/v1/organisations/{organisation_id}"): lambda o, w: {"audience": "casusoverleg"},
    ("POST", "/api/v1/organisations/{organisation_id}/partner-systems"): lambda o, w: {
        "name": "Systeem",
        "subject": f"sys-{uuid.uuid4().hex[:8]}",
        "scopes": ["events:write"],
    },
    ("PATCH", "/api/v1/organisations/{organisation_id}/partner-systems/{system_id}"): lambda o, w: {
        "active": True
    },
    ("POST", "/api/v1/conferences"): lambda o, w: {
        "name": "C",
        "municipality": "M",
        "cadence": {"weekday": "monday"},
    },
    ("PATCH", "/api/v1/conferences/{conference_id}"): lambda o, w: {"known_elsewhere": True},
    ("POST", "/api/v1/conferences/{conference_id}/memberships"): lambda o, w: {
        "organisation_id": str(w.orgs["politie"].id),
        "subject": f"new-{uuid.uuid4().hex[:8]}",
        "display_name": "Nieuw",
        "role": "member",
    },
    ("POST", "/api/v1/memberships/{membership_id}/mandates"): lambda o, w: {
        "scope": "outreach",
        "valid_from": _today(),
        "granted_by": "Directie",
    },
    ("POST", "/api/v1/conferences/{conference_id}/clients/lookup"): lambda o, w: {"bsn": "111222333"},
    ("POST", "/api/v1/conferences/{conference_id}/known-elsewhere"): lambda o, w: {
        "bsn": "111222333", "reason": "Verhuisd uit een andere gemeente"},
    ("POST", "/api/v1/conferences/{conference_id}/referrals"): lambda o, w: {
        "client": {"name": "Nieuwe Cliënt", "date_of_birth": "1980-02-03"},
        "reason": "Overlast en schulden",
    },
    ("POST", "/api/v1/conferences/{conference_id}/concerns"): lambda o, w: {
        "client": {"name": "Nieuwe Cliënt", "date_of_birth": "1980-02-03"},
        "reporter": "Buurman", "relation": "neighbour", "observation": "Geluidsoverlast en verwaarlozing",
    },
    ("POST", "/api/v1/conferences/{conference_id}/consultations"): lambda o, w: {
        "addressee": "conference", "question": "Wat is een goede eerste stap bij schulden en alcohol?",
    },
    ("POST", "/api/v1/consultations/{consultation_id}/answer"): lambda o, w: {"answer": "Een huisbezoek."},
    ("POST", "/api/v1/consultations/{consultation_id}/referral"): lambda o, w: {
        "consent": True, "client": {"name": "Nieuwe Cliënt", "date_of_birth": "1980-02-03"}, "reason": "Na spreekuur",
    },
    ("POST", "/api/v1/referrals/{referral_id}/accept"): lambda o, w: {},
    ("POST", "/api/v1/referrals/{referral_id}/decline"): lambda o, w: {"reason": "Past niet"},
    ("PATCH", "/api/v1/cases/{case_id}"): lambda o, w: {"priority": "high"},
    ("POST", "/api/v1/cases/{case_id}/transitions"): lambda o, w: {"to": "monitoring"},
    ("POST", "/api/v1/cases/{case_id}/break-glass"): lambda o, w: {"reason": "Crisis: overdosis gemeld", "minutes": 30},
    ("POST", "/api/v1/cases/{case_id}/guests"): lambda o, w: {
        "organisation_id": str(w.orgs["wijkteam"].id), "subject": f"gast-{uuid.uuid4().hex[:8]}",
        "display_name": "Gast", "reason": "Afstemming over de woning",
        "ends_on": (clock.today() + timedelta(days=7)).isoformat(),
    },
    ("POST", "/api/v1/cases/{case_id}/guests/{invitation_id}/revoke"): lambda o, w: {},
    ("POST", "/api/v1/cases/{case_id}/aftercare-reports"): lambda o, w: {"kind": "worry", "note": "Zorgen"},
    ("POST", "/api/v1/conferences/{conference_id}/households"): lambda o, w: {
        "coordinator_id": str(o.membership_id),
        "members": [{"case_id": str(o.case_id), "relation": "parent"},
                    {"case_id": str(o.second_case_id), "relation": "child"}],
    },
    ("POST", "/api/v1/cases/{case_id}/representatives"): lambda o, w: {
        "kind": "mentor", "name": "Mr. Mentor", "basis": "Beschikking kantonrechter"},
    ("POST", "/api/v1/cases/{case_id}/aftercare-reports/{report_id}/reply"): lambda o, w: {"text": "We bellen."},
    ("POST", "/api/v1/cases/{case_id}/assessments"): lambda o, w: {
        "assessed_on": _today(),
        "scores": {"housing": 2},
    },
    ("PATCH", "/api/v1/cases/{case_id}/plan"): lambda o, w: {"client_goals": "Eigen woning"},
    ("POST", "/api/v1/cases/{case_id}/actions"): lambda o, w: {
        "title": "Intake",
        "life_domain": "substance_use",
        "owner_organisation_id": str(w.orgs["politie"].id),
        "due_date": (clock.today() + timedelta(days=7)).isoformat(),
    },
    ("PATCH", "/api/v1/actions/{action_id}"): lambda o, w: {"note": "Gebeld"},
    ("POST", "/api/v1/cases/{case_id}/actions/from-intervention"): lambda o, w: {
        "intervention_id": str(o.intervention_id), "due_date": (clock.today() + timedelta(days=7)).isoformat(),
    },
    ("POST", "/api/v1/organisations/{organisation_id}/interventions"): lambda o, w: {
        "name": "Kortdurende interventie", "life_domain": "substance_use",
    },
    ("PATCH", "/api/v1/interventions/{intervention_id}"): lambda o, w: {"active": False},
    ("POST", "/api/v1/cases/{case_id}/notes"): lambda o, w: {"label": "general", "text": "Gesprek gehad"},
    ("POST", "/api/v1/cases/{case_id}/agreements"): lambda o, w: {
        "template_id": "driepartijen",
        "parties": {"municipality": str(w.orgs["gemeente"].id), "addiction_care": str(w.orgs["zorg"].id)},
        "commitments": {
            "client": "Ik kom elke week naar de afspraak.",
            "municipality": "De gemeente regelt schuldhulp.",
            "addiction_care": "De verslavingszorg biedt een behandelplek.",
        },
    },
    ("POST", "/api/v1/agreements/{agreement_id}/signatures"): lambda o, w: {"party": "addiction_care"},
    ("POST", "/api/v1/agreements/{agreement_id}/client-signature"): lambda o, w: Form(
        {"signed_in_person": "true"}
    ),
    ("POST", "/api/v1/agreements/{agreement_id}/withdrawals"): lambda o, w: {"whole": True},
    ("POST", "/api/v1/cases/{case_id}/legal-bases"): lambda o, w: {
        "article": "Art. 9 lid 2 sub g AVG",
        "justification": "Zwaarwegend algemeen belang: acuut gevaar",
        "scope": {"health": ["police"]},
        "ends_on": (clock.today() + timedelta(days=90)).isoformat(),
    },
    ("POST", "/api/v1/cases/{case_id}/legal-bases/{basis_id}/end"): lambda o, w: {},
    ("PUT", "/api/v1/cases/{case_id}/checklist/{item}"): lambda o, w: {"done": True},
    ("POST", "/api/v1/conferences/{conference_id}/meetings"): lambda o, w: {
        "starts_at": _slot(20).isoformat(),
        "duration_minutes": 60,
    },
    ("POST", "/api/v1/conferences/{conference_id}/meetings/generate"): lambda o, w: {"weeks": 2},
    ("POST", "/api/v1/meetings/{meeting_id}/move"): lambda o, w: {"starts_at": _slot(30).isoformat()},
    ("POST", "/api/v1/meetings/{meeting_id}/cancel"): lambda o, w: {},
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/draft"): lambda o, w: {},
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/items"): lambda o, w: {
        "referral_id": str(o.referral_id),
        "reason": "Nieuwe aanmelding",
    },
    ("PATCH", "/api/v1/meetings/{meeting_id}/agenda/items/{item_id}"): lambda o, w: {"time_box_minutes": 15},
    ("PUT", "/api/v1/meetings/{meeting_id}/agenda/order"): lambda o, w: {"item_ids": [str(o.item_id)]},
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/publish"): lambda o, w: {},
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/reopen"): lambda o, w: {},
    ("POST", "/api/v1/discussion-requests"): lambda o, w: {"case_id": str(o.case_id), "reason": "Graag bespreken"},
    ("POST", "/api/v1/meetings/{meeting_id}/agenda/items/{item_id}/decisions"): lambda o, w: {
        "text": "Besluit: huisbezoek"
    },
    ("POST", "/api/v1/meetings/{meeting_id}/decisions/publish"): lambda o, w: {},
    ("POST", "/api/v1/calendar-feeds"): lambda o, w: {"conference_id": str(o.conference_id)},
    ("POST", "/api/v1/events"): lambda o, w: {
        "specversion": "1.0",
        "id": f"ev-{uuid.uuid4().hex}",
        "source": "urn:politie:bvh",
        "type": "nl.casusoverleg.event.police_contact",
        "subject": o.reference,
        "time": (clock.now() - timedelta(hours=1)).isoformat(),
        "datacontenttype": "application/json",
        "data": {"contact_kind": "arrest"},
    },
    ("POST", "/api/v1/cases/{case_id}/references"): lambda o, w: {"reference": f"REF-{uuid.uuid4().hex[:10]}"},
    ("POST", "/api/v1/cases/minimal-lookup"): lambda o, w: {"reference": o.reference},
    ("POST", "/api/v1/cases/{case_id}/snoozes"): lambda o, w: {
        "kind": "missed_appointment",
        "until": (clock.today() + timedelta(days=7)).isoformat(),
        "reason": "Opgenomen in de kliniek",
    },
    ("POST", "/api/v1/subscriptions"): lambda o, w: {
        "url": "https://93.184.215.14/hooks",
        "event_types": ["case.flagged"],
    },
    ("POST", "/api/v1/admin/dead-letters/{message_id}/replay"): lambda o, w: {},
    ("POST", "/api/v1/organisations/{organisation_id}/administrators"): lambda o, w: {
        "subject": f"beheer-{uuid.uuid4().hex[:8]}",
        "display_name": "Nieuwe beheerder",
    },
    ("POST", "/api/v1/organisations/{organisation_id}/identity-changes/{change_id}/approve"): lambda o, w: None,
    ("POST", "/api/v1/organisations/{organisation_id}/identity-changes/{change_id}/reject"): lambda o, w: None,
}

LIST_ITEM = {  # list route -> (the id field of its items, which of the objects they are)
    "/api/v1/conferences": ("id", "conference_id"),
    "/api/v1/cases": ("id", "case_id"),
    "/api/v1/actions": ("id", "action_id"),
    "/api/v1/referrals": ("id", "referral_id"),
    "/api/v1/consultations": ("id", "consultation_id"),
    "/api/v1/checklists": ("case_id", "case_id"),
    "/api/v1/me/digest": ("id", "action_id"),
    "/api/v1/subscriptions": ("id", "subscription_id"),
    "/api/v1/client-requests": ("id", "request_id"),
}

HIDDEN = HIDDEN_SUFFIX  # the policy's 404 ends so, the same as for an id that does not exist

# Routes whose allowed callers may get a 4xx that is not a refusal (everyone else gets a 2xx).
NOT_FOUND_IS_AN_ANSWER = {("POST", "/api/v1/conferences/{conference_id}/clients/lookup")}  # no such BSN


def _detail(response: httpx.Response) -> Any:
    try:
        return response.json().get("detail")
    except (ValueError, AttributeError):
        return None


def _denied(response: httpx.Response) -> bool:
    """403, or the policy's 404. (A 404 with another detail, like "no client with this BSN",
    is the answer of a route the caller was allowed to use.)"""
    return response.status_code == 403 or (
        response.status_code == 404 and str(_detail(response) or "").endswith(HIDDEN)
    )


def _path(route: tuple[str, str], objects: Objects | None) -> str:
    def value(match: re.Match[str]) -> str:
        name = _attribute(route, match.group(1))
        if objects is None:
            return str(uuid.uuid4())
        if name not in GROUP and not hasattr(objects, name):
            pytest.fail(
                f"{route[1]}: teach Objects/_objects in {__file__} to make a {name} in both conferences"
            )
        found = getattr(objects, name)
        assert found is not None, f"{route[1]}: {name} was not made (see GROUP and _needs)"
        return str(found)

    return re.sub(r"\{([a-z_]+)\}", value, route[1])


async def _call(
    client: httpx.AsyncClient,
    world: World,
    role: str,
    route: tuple[str, str],
    objects: Objects | None,
    body_objects: Objects,
) -> httpx.Response:
    method = route[0]
    body_for = BODIES.get(route)
    if method in ("POST", "PATCH", "PUT") and body_for is None:
        pytest.fail(f"{method} {route[1]}: add a valid request body to BODIES in {__file__}")
    person = CALLERS[role][0]
    headers = world.headers(person, **{"If-Match": '"v1"'})
    body = body_for(body_objects, world) if body_for else None
    if isinstance(body, Form):
        return await client.request(method, _path(route, objects), headers=headers, data=body.data)
    return await client.request(method, _path(route, objects), headers=headers, json=body)


async def _denials(owner_db) -> int:
    async with owner_db.sessions() as session:
        query = (
            sa.select(sa.func.count()).select_from(AccessLogEntry).where(AccessLogEntry.outcome == "denied")
        )
        return int((await session.execute(query)).scalar_one())


def _items(body: Any) -> list[dict[str, Any]]:
    """The items of a list answer: a JSON array, a page (`items`), or lists by group (the digest)."""
    if isinstance(body, list):
        return body
    if "items" in body:
        return list(body["items"])
    return [item for value in body.values() if isinstance(value, list) for item in value]


def _ids(response: httpx.Response, key: str) -> set[str]:
    return {str(item[key]) for item in _items(response.json())}


async def _public(client: httpx.AsyncClient, world: World, route: tuple[str, str]) -> None:
    """Routes without a bearer token: the health check, and the calendar feed whose random token
    in the URL is the credential (a made-up token finds nothing)."""
    if route == ("GET", "/api/v1/calendar/{token}.ics"):
        feed = await client.post(
            "/api/v1/calendar-feeds", json={"conference_id": str(world.a.id)}, headers=world.headers("chair")
        )
        assert feed.status_code == 201, feed.text
        assert (await client.get(feed.json()["url"])).status_code == 200
        guessed = await client.get(f"/api/v1/calendar/{uuid.uuid4().hex}.ics")
        assert guessed.status_code == 404
        return
    assert (await client.request(*route)).status_code == 200


def test_matrix_covers_exactly_the_routes() -> None:
    routes = set(ROUTES) - PUBLIC
    missing = sorted(routes - set(MATRIX))
    assert not missing, f"routes without an entry in tests/authz_matrix.py: {missing}"
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"entries in tests/authz_matrix.py for routes that no longer exist: {stale}"


def test_web_matrix_covers_exactly_the_web_routes() -> None:
    """Every /web route of the application's route list has an entry (tests/authz_matrix.py
    WEB_MATRIX, or WEB_PUBLIC for the sign-in round trip); tests/web/test_authz_web.py calls each."""
    routes = set(WEB_ROUTES)
    assert len(routes) >= 20, "the route list finds the web client's routes"
    missing = sorted(routes - set(WEB_MATRIX) - WEB_PUBLIC)
    assert not missing, f"web routes without an entry in tests/authz_matrix.py WEB_MATRIX: {missing}"
    stale = sorted((set(WEB_MATRIX) | WEB_PUBLIC) - routes)
    assert not stale, f"entries in tests/authz_matrix.py for web routes that no longer exist: {stale}"
    assert not set(WEB_MATRIX) & WEB_PUBLIC
    assert all(rule.allowed <= set(WEB_ROLES) and rule.scope in ("conference", "list", "page")
               for rule in WEB_MATRIX.values())


def test_every_caller_is_in_the_matrix() -> None:
    assert set(CALLERS) == set(ROLES)
    assert all(rule.allowed <= set(ROLES) for rule in MATRIX.values())


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_route_against_matrix(
    client: httpx.AsyncClient, mworld: World, owner_db, route: tuple[str, str]
) -> None:
    world = mworld
    if route in PUBLIC:
        await _public(client, world, route)
        return
    rule: Rule | None = MATRIX.get(route)
    assert rule is not None, f"{route[0]} {route[1]} has no entry in tests/authz_matrix.py"
    method, template = route
    needs = _needs(route)
    problems: list[str] = []
    # Objects are made afresh only after a call that may have changed them (one that was not
    # refused): a refused request is rolled back, so the next caller meets the same objects.
    objects: dict[str, Objects] | None = None
    for role in ROLES:
        own_key = CALLERS[role][1]
        other_key = "A" if own_key == "B" else "B"
        if objects is None:
            objects = await _objects(owner_db, world, needs)
        own, other = objects[own_key], objects[other_key]
        denials_before = await _denials(owner_db)
        response = await _call(client, world, role, route, own, own)
        status = response.status_code
        expect = role in rule.allowed
        if method != "GET" and status < 400:
            objects = None
        if status >= 500 or status == 401:
            problems.append(f"{role}: own conference answered {status}: {response.text[:200]}")
            continue
        denied = _denied(response)
        if denied and await _denials(owner_db) != denials_before + 1:
            problems.append(f"{role}: the refusal ({status}) was not written to the access log (once)")
        if rule.scope == "list":
            key, attribute = LIST_ITEM[template]
            wanted = str(getattr(own, attribute))
            seen = status == 200 and wanted in _ids(response, key)
            if seen != expect:
                problems.append(f"{role}: own {'not listed' if expect else 'listed'} ({status})")
            if status == 200:
                if str(getattr(other, attribute)) in _ids(response, key):
                    problems.append(f"{role}: another conference's (or system's) object is listed")
                if _takes_conference_filter(method, template):
                    filtered = await client.get(
                        template,
                        params={"conference_id": str(other.conference_id)},
                        headers=world.headers(CALLERS[role][0]),
                    )
                    if filtered.status_code == 200 and (
                        filtered.json().get("total") or _items(filtered.json())
                    ):
                        problems.append(f"{role}: filtering on another conference shows a count")
            continue
        if (not denied) != expect or (expect and status >= 400 and route not in NOT_FOUND_IS_AN_ANSWER):
            problems.append(
                f"{role}: own conference expected {'allow' if expect else 'deny'}, got {status}: "
                f"{response.text[:200]}"
            )
        if rule.scope not in ("conference", "owner"):
            continue
        # Another conference's (or system's) object answers exactly like an id that does not
        # exist: for the policy's objects always 404.
        if objects is None:
            objects = await _objects(owner_db, world, needs)
        theirs = await _call(client, world, role, route, objects[other_key], objects[other_key])
        nowhere = await _call(client, world, role, route, None, objects[other_key])
        if theirs.status_code < 400:
            objects = None
        if rule.scope == "conference" and theirs.status_code != 404:
            problems.append(f"{role}: another conference answered {theirs.status_code}, not 404")
        elif rule.scope == "owner" and expect and theirs.status_code != 404:
            problems.append(f"{role}: another system's object answered {theirs.status_code}, not 404")
        elif (theirs.status_code, _detail(theirs)) != (nowhere.status_code, _detail(nowhere)):
            problems.append(
                f"{role}: another conference's answer differs from a missing id's "
                f"({theirs.status_code} {_detail(theirs)!r} vs {nowhere.status_code} {_detail(nowhere)!r})"
            )
    assert not problems, f"{method} {template}:\n  " + "\n  ".join(problems)


async def test_denials_are_in_the_access_log(client: httpx.AsyncClient, world: World, owner_db) -> None:
    objects = await _objects(owner_db, world)
    response = await client.post(
        f"/api/v1/cases/{objects['A'].case_id}/transitions",
        json={"to": "monitoring"},
        headers=world.headers("police_member", **{"If-Match": '"v1"'}),
    )
    assert response.status_code == 403
    response = await client.get(
        f"/api/v1/cases/{objects['B'].case_id}", headers=world.headers("police_member")
    )
    assert response.status_code == 404
    async with owner_db.sessions() as session:
        rows = (
            await session.execute(sa.select(AccessLogEntry).where(AccessLogEntry.outcome == "denied"))
        ).scalars()
        denied = {(r.actor_subject, str(r.case_id), r.action) for r in rows}
    assert ("police_member-sub", str(objects["A"].case_id), "update") in denied
    assert ("police_member-sub", str(objects["B"].case_id), "read") in denied


# Another organisation's labelled data in the caller's own conference, without a sharing basis:
# health for addiction care, justice for the police and the chair, org_internal for its owner.
LABEL_READERS = {
    "general": {"chair", "member", "member_other_org", "liaison"},
    "health": {"member_other_org"},  # the chair sees health only on a basis (docs/need-to-know.md)
    "justice": {"chair", "member", "liaison"},
    "org_internal": {"member_other_org"},  # the note of addiction care
}
# With a legal basis that shares health information with the police.
LABEL_READERS_WITH_BASIS = {**LABEL_READERS, "health": {"member_other_org", "member", "liaison"}}


async def _labelled_case(owner_db, world: World) -> Case:
    """A case of conference A with notes and flags of every label (their texts and reasons name
    it), and partner events: a care relapse (health) and a police contact (justice)."""
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        authors = {"general": "chair", "health": "care_member", "justice": "police_member",
                   "org_internal": "care_member"}
        flag_kinds = {"general": "nuisance", "health": "relapse", "justice": "police_contact"}  # one open per kind
        for label, author in authors.items():
            member = world.members[author]
            session.add(CaseNote(case_id=case.id, author_id=member.id, organisation_id=member.organisation_id,
                                 label=label, text=f"note-{label}"))
            if label != "org_internal":  # flags come from partner events: they have no owner
                session.add(CaseFlag(case_id=case.id, kind=flag_kinds[label], reason=f"flag-{label}", label=label))
        for org, kind, label, data in (
            ("zorg", "relapse", "health", {"substances": ["ghb"], "reported_by": "professional"}),
            ("politie", "police_contact", "justice", {"contact_kind": "arrest"}),
        ):
            session.add(
                PartnerEvent(organisation_id=world.orgs[org].id, source=f"urn:{org}", event_id=uuid.uuid4().hex,
                             type=kind, subject_reference="REF", client_id=case.client_id, case_id=case.id,
                             occurred_at=clock.now() - timedelta(days=2), label=label, severity="high",
                             data=data, payload_hash="0" * 64)
            )
        await session.commit()
    return case


async def _labels_seen(client: httpx.AsyncClient, world: World, case: Case, role: str) -> dict[str, set[str]]:
    headers = world.headers(CALLERS[role][0])
    seen: dict[str, set[str]] = {}
    notes = await client.get(f"/api/v1/cases/{case.id}/notes", headers=headers)
    flags = await client.get(f"/api/v1/cases/{case.id}/flags", headers=headers)
    events = await client.get(f"/api/v1/cases/{case.id}/events", headers=headers)
    relapses = await client.get(f"/api/v1/cases/{case.id}/relapses", headers=headers)
    for response in (notes, flags, events, relapses):
        assert response.status_code == 200, f"{role}: {response.text}"
    seen["notes"] = {n["text"].removeprefix("note-") for n in notes.json()["items"] if not n["hidden"]}
    assert all(n["text"] == "afgeschermd" for n in notes.json()["items"] if n["hidden"]), role
    seen["flags"] = {f["reason"].removeprefix("flag-") for f in flags.json() if not f["hidden"]}
    # A hidden flag reads "afgeschermd": no kind, no severity, no reason of its own.
    assert all(f["kind"] is None and f["severity"] is None and "flag-" not in f["reason"]
               for f in flags.json() if f["hidden"]), role
    seen["events"] = {e["label"] for e in events.json()["items"] if not e["hidden"]}
    assert all(e["data"] is None and e["type"] is None for e in events.json()["items"] if e["hidden"]), role
    seen["relapses"] = {"health"} if "ghb" in relapses.text else set()
    return seen


@pytest.mark.parametrize("with_basis", [False, True], ids=["no basis", "legal basis: health to police"])
async def test_labelled_data_of_another_organisation(
    client: httpx.AsyncClient, world: World, owner_db, with_basis: bool
) -> None:
    """Acceptance 1, third dimension: in their own conference, each caller sees another
    organisation's labelled notes, flag reasons and event details only as the labels allow; a
    legal basis recorded by the chair widens exactly what it names."""
    case = await _labelled_case(owner_db, world)
    readers = LABEL_READERS
    if with_basis:
        async with owner_db.sessions() as session:
            session.add(LegalBasis(case_id=case.id, conference_id=case.conference_id, article="Art. 9 lid 2 sub g AVG",
                                   justification="Zwaarwegend algemeen belang", scope={"health": ["police"]},
                                   starts_on=clock.today(), ends_on=clock.today() + timedelta(days=30),
                                   recorded_by_id=world.members["chair"].id))
            await session.commit()
        readers = LABEL_READERS_WITH_BASIS
    problems = []
    for role in ("chair", "member", "member_other_org", "liaison"):
        seen = await _labels_seen(client, world, case, role)
        expected = {label for label, roles in readers.items() if role in roles}
        wanted = {
            "notes": expected,
            "flags": expected - {"org_internal"},
            "events": expected & {"health", "justice"},
            "relapses": expected & {"health"},
        }
        problems += [f"{role} {what}: saw {sorted(seen[what])}, expected {sorted(wanted[what])}"
                     for what in wanted if seen[what] != wanted[what]]
    assert not problems, "\n".join(problems)


async def test_health_assessments_are_hidden_from_other_organisations(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """Assessments (ZRM scores) are care information (label health): the addiction care
    organisation sees them; the police and the municipality do not, without a sharing basis."""
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        session.add(
            Assessment(
                case_id=case.id,
                assessed_on=clock.today() - timedelta(days=10),
                assessed_by_id=world.members["care_member"].id,
                scores={"substance_use": 1, "housing": 2},
            )
        )
        await session.commit()
    for person, visible in (
        ("care_member", True),
        ("care_liaison", True),
        ("police_member", False),
        ("police_liaison", False),
        ("chair", False),
        ("wijkteam_member", False),
    ):
        detail = await client.get(f"/api/v1/cases/{case.id}", headers=world.headers(person))
        assert detail.status_code == 200, detail.text
        history = await client.get(f"/api/v1/cases/{case.id}/assessments", headers=world.headers(person))
        assert history.status_code == 200, history.text
        for shown in (detail.json()["assessments"], history.json()):
            assert shown["hidden"] is (not visible), person
            assert len(shown["items"]) == (1 if visible else 0), person
            assert bool(shown["trend"]) is visible, person
        if not visible:
            assert "substance_use" not in detail.text and "substance_use" not in history.text


async def test_counts_do_not_leak_across_conferences(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """A member of conference A sees exactly A's cases and A's total, whatever B holds, and
    asking for B's cases gives nothing, not even a count."""
    async with owner_db.sessions() as session:
        mine = [await add_case(session, world, name=f"A {i}") for i in range(3)]
        for i in range(5):
            await add_case(session, world, conference=world.b, director=None, name=f"B {i}")
        await session.commit()
    headers = world.headers("police_member")
    body = (await client.get("/api/v1/cases", headers=headers)).json()
    assert body["total"] == 3
    assert sorted(c["id"] for c in body["items"]) == sorted(str(c.id) for c in mine)
    page = (await client.get("/api/v1/cases", params={"limit": 1}, headers=headers)).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    other = (
        await client.get("/api/v1/cases", params={"conference_id": str(world.b.id)}, headers=headers)
    ).json()
    assert other["total"] == 0 and other["items"] == []
    # and the chair of B, symmetrically
    body_b = (await client.get("/api/v1/cases", headers=world.headers("chair_b"))).json()
    assert body_b["total"] == 5
    assert not {c["id"] for c in body_b["items"]} & {str(c.id) for c in mine}
    # roles without case content see no cases at all, and no count
    for person in ("privacy_officer", "admin", "police_system"):
        response = await client.get("/api/v1/cases", headers=world.headers(person))
        assert response.status_code in (200, 403)
        if response.status_code == 200:
            assert response.json()["total"] == 0 and response.json()["items"] == []
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Case))).scalar_one() == 8
