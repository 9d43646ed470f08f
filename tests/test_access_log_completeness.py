"""Acceptance 1: every route of the OpenAPI document is classified. A route that touches client
data has an entry in CALLS, which calls it for real and checks the log rows written under the
request's id (action, resource type, client, case, and the basis where shared labelled data is
shown); the others are listed in NO_CLIENT_DATA with the reason. A new route in neither list
fails this test, so no client-data route ships without logging. Refused attempts on the
client-data routes that refuse beyond the policy guard are checked at the end."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.models import (
    Action,
    AgendaItem,
    Assessment,
    Case,
    ClientReference,
    Conference,
    Decision,
    KnownElsewhereQuestion,
    LegalBasis,
    Meeting,
    PartnerSystem,
    Referral,
)
from tests.agreements_support import driepartijen_body, sign_all
from tests.factories import World, add_action, add_case, add_mandate

# Paths with these words are client data by their name; they can never be exempted.
CLIENT_WORDS = re.compile(
    r"case|action|referral|client|plan|assessment|escalation|audit|agenda|decision|agreements|note|"
    r"events|flag|relapse|checklist|legal-bas|sharing|discussion|digest|known-elsewhere"
)

# Routes that show or change no client data, each with the reason.
NO_CLIENT_DATA = {
    "GET /api/v1/health": "database reachability and pool use",
    "GET /api/v1/health/live": "liveness only",
    "GET /api/v1/health/ready": "readiness: database reachability",
    "GET /api/v1/organisations": "organisations",
    "POST /api/v1/organisations": "organisations",
    "GET /api/v1/conferences": "conferences",
    "POST /api/v1/conferences": "conferences",
    "PATCH /api/v1/conferences/{conference_id}": "a conference's settings",
    "GET /api/v1/conferences/{conference_id}/memberships": "people of the conference",
    "POST /api/v1/conferences/{conference_id}/memberships": "people of the conference",
    "GET /api/v1/memberships/{membership_id}/mandates": "mandates of a member",
    "POST /api/v1/memberships/{membership_id}/mandates": "mandates of a member",
    "GET /api/v1/me": "the caller's own registration: organisation, memberships, scopes",
    "GET /api/v1/me/notifications": "ids, kinds and dates only; opening the object they name is logged",
    "GET /api/v1/organisations/{organisation_id}/identity": "identity-provider configuration",
    "PATCH /api/v1/organisations/{organisation_id}": "identity-provider configuration",
    "GET /api/v1/organisations/{organisation_id}/partner-systems": "partner-system registrations",
    "POST /api/v1/organisations/{organisation_id}/partner-systems": "partner-system registrations",
    "PATCH /api/v1/organisations/{organisation_id}/partner-systems/{system_id}": "partner-system registrations",
    "POST /api/v1/organisations/{organisation_id}/identity-changes/{change_id}/approve": "identity-provider configuration",
    "POST /api/v1/organisations/{organisation_id}/identity-changes/{change_id}/reject": "identity-provider configuration",
    "GET /api/v1/organisations/{organisation_id}/administrators": "an organisation's administrators",
    "POST /api/v1/organisations/{organisation_id}/administrators": "an organisation's administrators",
    "GET /api/v1/admin-changes": "administrative changes: settings, roles and mandates of staff, no client",
    "GET /api/v1/subscriptions": "a partner system's webhook URLs and event types",
    "POST /api/v1/subscriptions": "a partner system's webhook URLs and event types",
    "DELETE /api/v1/subscriptions/{subscription_id}": "a partner system's webhook URLs and event types",
    "GET /api/v1/admin/dead-letters": "outbox message ids, types and delivery status, no payload",
    "POST /api/v1/admin/dead-letters/{message_id}/replay": "outbox message ids, types and delivery status",
    "GET /api/v1/agreement-templates": "template texts, no agreement of a client",
    "GET /api/v1/organisations/{organisation_id}/interventions": "an organisation's catalogue of interventions",
    "POST /api/v1/organisations/{organisation_id}/interventions": "an organisation's catalogue of interventions",
    "PATCH /api/v1/interventions/{intervention_id}": "an organisation's catalogue of interventions",
    "GET /api/v1/zrm/anchors": "the ZRM's score descriptions per life domain, the same for every client",
    "POST /api/v1/calendar-feeds": "a feed URL for the caller's own membership",
    "GET /api/v1/calendar/{token}.ics": "meeting dates only",
    "GET /api/v1/conferences/{conference_id}/meetings": "meeting dates and status only",
    "POST /api/v1/conferences/{conference_id}/meetings": "meeting dates and status only",
    "POST /api/v1/conferences/{conference_id}/meetings/generate": "meeting dates and status only",
    "GET /api/v1/meetings/{meeting_id}": "meeting dates and status only",
    "POST /api/v1/meetings/{meeting_id}/move": "meeting dates and status only",
    "POST /api/v1/meetings/{meeting_id}/cancel": "meeting dates and status only",
}

ANY: Any = object()  # in an expected row: not checked
# (action, resource_type, client_number[, case_id[, basis]]): case_id and basis are ANY when left out.
Expected = list[tuple[Any, ...]]
_minutes = itertools.count(1)
ZORG_REF = "ZRG-LOG-1"


def _event(type_: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"ev-{uuid.uuid4().hex}",
        "source": "urn:zorg:epd",
        "type": f"nl.casusoverleg.event.{type_}",
        "subject": ZORG_REF,
        "time": (clock.now() - timedelta(hours=1)).isoformat(),
        "datacontenttype": "application/json",
        "data": {"substances": ["ghb"], "reported_by": "professional"} if type_ == "relapse" else {
            "substances": ["ghb"], "hospitalised": True},
    }


@dataclass
class Ctx:
    http: httpx.AsyncClient
    world: World
    db: Any
    case: Case
    number: str
    action: Action
    pending: list[Referral] = field(default_factory=list)
    referral_number: str = ""
    basis: str = ""  # the agreement that shares the case's health information with the police
    agreement_id: str = ""  # that agreement, signed by all (with a scan of the client's signature)
    draft_id: str = ""  # a draft agreement of another client, for the signing routes
    draft_number: str = ""
    draft_case_id: uuid.UUID | None = None
    legal_basis_id: uuid.UUID | None = None
    invitation_id: str = ""  # a guest invited to the case (then revoked)
    report_id: str = ""  # an aftercare report of the neighbourhood team (then answered)

    async def call(
        self, person: str, method: str, url: str, json: object = None, *, form: dict[str, str] | None = None,
        **headers: str,
    ) -> httpx.Response:
        response = await self.http.request(
            method, url, json=json, data=form, headers=self.world.headers(person, **headers)
        )
        assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text}"
        return response

    async def etag(self, person: str, url: str) -> str:
        return (await self.call(person, "GET", url)).headers["ETag"]

    def row(self, action: str, resource_type: str, basis: Any = ANY) -> tuple[Any, ...]:
        """An expected row about the case of this test (its client and case)."""
        return (action, resource_type, self.number, self.case.id, basis)

    async def meeting(
        self, *, published: bool = False, with_item: bool = True, decided: bool = False,
        decisions_published: bool = False,
    ) -> tuple[Meeting, uuid.UUID | None]:
        """A meeting that started a little while ago (so its decisions may be published), with
        the case on its agenda: (meeting, agenda item id)."""
        starts = clock.now() - timedelta(hours=1, minutes=next(_minutes))
        async with self.db.sessions() as session:
            meeting = Meeting(
                conference_id=self.world.a.id, starts_at=starts, ends_at=starts + timedelta(hours=2),
                agenda_status="published" if published else "draft",
                published_at=starts - timedelta(days=1) if published else None,
                decisions_published_at=clock.now() if decisions_published else None,
            )
            session.add(meeting)
            await session.flush()
            item_id = None
            if with_item:
                item = AgendaItem(
                    meeting_id=meeting.id, kind="case", case_id=self.case.id, position=1, time_box_minutes=10,
                    added_by_chair=True, reasons=[{"code": "added_by_chair", "text": "Toegevoegd", "label": "general"}],
                )
                session.add(item)
                await session.flush()
                item_id = item.id
                if decided:
                    session.add(Decision(meeting_id=meeting.id, agenda_item_id=item.id, case_id=self.case.id,
                                         text="Door naar monitoren.", decided_by_id=self.world.members["chair"].id))
            await session.commit()
        return meeting, item_id

    async def chair(self, method: str, meeting: Meeting, path: str, json: object = None) -> httpx.Response:
        url = f"/api/v1/meetings/{meeting.id}"
        return await self.call("chair", method, url + path, json, **{"If-Match": await self.etag("chair", url)})


Call = Callable[[Ctx], Awaitable[tuple[httpx.Response, Expected]]]


async def _number_of(c: Ctx, case: Case) -> str:
    async with c.db.engine.connect() as conn:
        return (
            await conn.execute(sa.text("SELECT client_number FROM client WHERE id = :i"), {"i": case.client_id})
        ).scalar_one()


async def _list_cases(c: Ctx):
    return await c.call("police_member", "GET", "/api/v1/cases"), [c.row("list", "case")]


async def _get_case(c: Ctx):
    return await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}"), [
        c.row("read", "case"),
        c.row("read", "assessment", c.basis),  # the health scores, shared with the police by consent
    ]


async def _fhir(c: Ctx):
    # The privacy officer's export holds the client's access log: that read is logged too.
    officer = await c.call("privacy_officer", "GET", f"/api/v1/cases/{c.case.id}/fhir")
    officer_rows = await _rows(c.db, officer.headers["x-request-id"])
    assert [(r.action, r.resource_type, r.client_number) for r in officer_rows] == [
        ("export", "access_log", c.number)], officer_rows
    police = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/fhir")
    return police, [c.row("export", "case"), c.row("export", "agreement")]


async def _patch_case(c: Ctx):
    etag = await c.etag("chair", f"/api/v1/cases/{c.case.id}")
    response = await c.call(
        "chair", "PATCH", f"/api/v1/cases/{c.case.id}", {"priority": "high"}, **{"If-Match": etag}
    )
    return response, [c.row("update", "case")]


async def _transition(c: Ctx):
    etag = await c.etag("chair", f"/api/v1/cases/{c.case.id}")
    response = await c.call(
        "chair", "POST", f"/api/v1/cases/{c.case.id}/transitions", {"to": "monitoring"}, **{"If-Match": etag}
    )
    return response, [c.row("update", "case")]


async def _history(c: Ctx):
    return await c.call("chair", "GET", f"/api/v1/cases/{c.case.id}/history"), [c.row("read", "case")]


async def _assessments(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/assessments")
    assert response.json()["items"], "the police see the health scores by consent"
    return response, [c.row("read", "case", c.basis)]


async def _add_assessment(c: Ctx):
    response = await c.call(
        "care_member",
        "POST",
        f"/api/v1/cases/{c.case.id}/assessments",
        {"assessed_on": str(clock.today()), "scores": {"housing": 3}},
    )
    return response, [c.row("create", "assessment")]


async def _get_plan(c: Ctx):
    return await c.call("care_member", "GET", f"/api/v1/cases/{c.case.id}/plan"), [c.row("read", "plan")]


async def _patch_plan(c: Ctx):
    etag = await c.etag("chair", f"/api/v1/cases/{c.case.id}/plan")
    response = await c.call(
        "chair", "PATCH", f"/api/v1/cases/{c.case.id}/plan", {"client_goals": "Rust."}, **{"If-Match": etag}
    )
    return response, [c.row("update", "plan")]


async def _create_action(c: Ctx):
    response = await c.call(
        "police_member",
        "POST",
        f"/api/v1/cases/{c.case.id}/actions",
        {
            "title": "Huisbezoek",
            "life_domain": "housing",
            "owner_organisation_id": str(c.world.orgs["politie"].id),
            "due_date": str(clock.today() + timedelta(days=3)),
        },
    )
    return response, [c.row("create", "action")]


async def _action_from_intervention(c: Ctx):
    intervention = await c.call("police_member", "POST", f"/api/v1/organisations/{c.world.orgs['politie'].id}/interventions",
                                {"name": "Stopgesprek", "life_domain": "justice"})
    response = await c.call("police_member", "POST", f"/api/v1/cases/{c.case.id}/actions/from-intervention",
                            {"intervention_id": intervention.json()["id"],
                             "due_date": str(clock.today() + timedelta(days=3))})
    return response, [c.row("create", "action")]


async def _list_actions(c: Ctx):
    return await c.call("police_member", "GET", "/api/v1/actions"), [c.row("list", "action")]


async def _get_action(c: Ctx):
    return await c.call("police_member", "GET", f"/api/v1/actions/{c.action.id}"), [
        c.row("read", "action")
    ]


async def _patch_action(c: Ctx):
    etag = await c.etag("police_member", f"/api/v1/actions/{c.action.id}")
    response = await c.call(
        "police_member",
        "PATCH",
        f"/api/v1/actions/{c.action.id}",
        {"status": "in_progress"},
        **{"If-Match": etag},
    )
    return response, [c.row("update", "action")]


async def _escalations(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/conferences/{c.world.a.id}/escalations")
    return response, [c.row("list", "action")]


async def _outcomes(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/conferences/{c.world.a.id}/outcomes")
    return response, [("read", "outcomes", None, None)]  # about the conference: no client, no case


async def _outcomes_csv(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/conferences/{c.world.a.id}/outcomes.csv")
    return response, [("export", "outcomes", None, None)]


async def _create_referral(c: Ctx):
    response = await c.call(
        "wijkteam_member",
        "POST",
        f"/api/v1/conferences/{c.world.a.id}/referrals",
        {"client": {"name": "Nieuw Persoon", "date_of_birth": "1991-01-01"}, "reason": "Zorgen."},
    )
    return response, [("create", "referral", response.json()["client_number"])]


async def _create_concern(c: Ctx):
    response = await c.call(
        "wijkteam_member", "POST", f"/api/v1/conferences/{c.world.a.id}/concerns",
        {"client": {"name": "Henk Visser", "date_of_birth": "1962-08-30"}, "reporter": "Buurvrouw",
         "relation": "neighbour", "observation": "De post stapelt zich op."},
    )
    return response, [("create", "referral", response.json()["client_number"])]


CONSULTATION = {"addressee": "addiction_care", "question": "Hoe begeleid ik iemand die GHB gebruikt?",
                "situation": "Een vrouw van rond de dertig; ze mist afspraken.", "substances": ["ghb"]}


async def _ask(c: Ctx) -> str:
    response = await c.call("wijkteam_member", "POST", f"/api/v1/conferences/{c.world.a.id}/consultations", CONSULTATION)
    return str(response.json()["id"])


async def _create_consultation(c: Ctx):
    response = await c.call("wijkteam_member", "POST", f"/api/v1/conferences/{c.world.a.id}/consultations",
                            CONSULTATION)
    return response, [("create", "consultation", None)]


async def _list_consultations(c: Ctx):
    await _ask(c)
    return await c.call("care_member", "GET", "/api/v1/consultations"), [("list", "consultation", None)]


async def _get_consultation(c: Ctx):
    cid = await _ask(c)
    return await c.call("care_liaison", "GET", f"/api/v1/consultations/{cid}"), [("read", "consultation", None)]


async def _answer_consultation(c: Ctx):
    cid = await _ask(c)
    response = await c.call("care_member", "POST", f"/api/v1/consultations/{cid}/answer", {"answer": "Kom langs."})
    return response, [("update", "consultation", None)]


async def _convert_consultation(c: Ctx):
    cid = await _ask(c)
    response = await c.call("wijkteam_member", "POST", f"/api/v1/consultations/{cid}/referral", {
        "consent": True, "client": {"name": "Nieuw Persoon", "date_of_birth": "1991-01-01"}, "reason": "Na spreekuur."})
    return response, [("update", "consultation", None), ("create", "referral", response.json()["client_number"])]


async def _consultation_count(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/conferences/{c.world.a.id}/consultation-count")
    return response, [("read", "consultation", None)]


async def _list_referrals(c: Ctx):
    return await c.call("chair", "GET", "/api/v1/referrals"), [("list", "referral", c.referral_number, None)]


async def _get_referral(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/referrals/{c.pending[0].id}")
    return response, [("read", "referral", c.referral_number, None)]


async def _accept(c: Ctx):
    response = await c.call("chair", "POST", f"/api/v1/referrals/{c.pending[0].id}/accept", {})
    return response, [("update", "referral", c.referral_number, None), ("create", "case", c.referral_number)]


async def _decline(c: Ctx):
    response = await c.call(
        "chair", "POST", f"/api/v1/referrals/{c.pending[1].id}/decline", {"reason": "Elders."}
    )
    return response, [("update", "referral", c.referral_number, None)]


async def _lookup(c: Ctx):
    # Looking a person up logs the search even when nobody is found (404 below is the answer).
    response = await c.http.post(
        f"/api/v1/conferences/{c.world.a.id}/clients/lookup",
        json={"bsn": "111222333"},
        headers=c.world.headers("chair"),
    )
    assert response.status_code == 404
    return response, [("search", "client", None)]


async def _ask_known_elsewhere(c: Ctx):
    async with c.db.sessions() as session:
        await session.execute(sa.update(Conference).where(Conference.id.in_([c.world.a.id, c.world.b.id]))
                              .values(known_elsewhere=True))
        await session.commit()
    response = await c.call("chair", "POST", f"/api/v1/conferences/{c.world.a.id}/known-elsewhere",
                            {"bsn": "111222333", "reason": "Verhuisd uit een andere gemeente"})
    # asked in A (a look-up by BSN), answered in B (no: no client number)
    return response, [("search", "client", None), ("search", "known_elsewhere", None)]


async def _known_elsewhere_question(c: Ctx):
    await _ask_known_elsewhere(c)
    async with c.db.sessions() as session:
        question = (await session.execute(sa.select(KnownElsewhereQuestion.id))).scalars().first()
    response = await c.call("chair", "GET", f"/api/v1/known-elsewhere/{question}")
    return response, [("read", "known_elsewhere", None)]


async def _audit_log(c: Ctx):
    response = await c.call("privacy_officer", "GET", "/api/v1/audit/log", None)
    return response, [("search", "access_log", None), ("list", "access_log", c.number)]


async def _audit_verify(c: Ctx):
    return await c.call("privacy_officer", "GET", "/api/v1/audit/verify"), [("execute", "access_log", None)]


async def _audit_report(c: Ctx):
    response = await c.call("privacy_officer", "GET", f"/api/v1/audit/clients/{c.number}/report")
    return response, [("read", "access_log", c.number)]


async def _audit_export(c: Ctx):
    response = await c.call("privacy_officer", "GET", f"/api/v1/audit/clients/{c.number}/export")
    return response, [("export", "client", c.number)]


# --- a client's requests under the AVG (issue 21) ---------------------------------------------


async def _new_request(c: Ctx, kind: str = "rectification") -> tuple[str, str]:
    """A request of this test's client, recorded by the privacy officer: (id, ETag)."""
    response = await c.call("privacy_officer", "POST", f"/api/v1/audit/clients/{c.number}/requests",
                            {"kind": kind, "received_on": str(clock.today()), "channel": "email"})
    return response.json()["id"], response.headers["ETag"]


async def _record_request(c: Ctx):
    response = await c.call("privacy_officer", "POST", f"/api/v1/audit/clients/{c.number}/requests",
                            {"kind": "inspection", "received_on": str(clock.today()), "channel": "letter"})
    return response, [("create", "client_request", c.number)]


async def _request_register(c: Ctx):
    await _new_request(c)
    response = await c.call("privacy_officer", "GET", "/api/v1/client-requests")
    return response, [("search", "client_request", None), ("list", "client_request", c.number)]


async def _read_request(c: Ctx):
    request_id, _etag = await _new_request(c)
    response = await c.call("privacy_officer", "GET", f"/api/v1/client-requests/{request_id}")
    return response, [("read", "client_request", c.number)]


async def _extend_request(c: Ctx):
    request_id, etag = await _new_request(c)
    response = await c.call("privacy_officer", "POST", f"/api/v1/client-requests/{request_id}/extension",
                            {"reason": "Veel gegevens bij drie organisaties."}, **{"If-Match": etag})
    return response, [("update", "client_request", c.number)]


async def _correct(c: Ctx):
    request_id, _etag = await _new_request(c)
    response = await c.call("privacy_officer", "POST", f"/api/v1/client-requests/{request_id}/corrections",
                            {"field": "action_title", "entity_id": str(c.action.id), "new_value": "Huisbezoek (gecorrigeerd)"})
    return response, [("update", "client_request", c.number), ("update", "action", c.number, c.case.id)]


async def _answer_request(c: Ctx):
    request_id, etag = await _new_request(c, "objection")
    response = await c.call("privacy_officer", "POST", f"/api/v1/client-requests/{request_id}/answer",
                            {"decision": "refused", "answer": "Het delen is nodig voor uw hulp."},
                            **{"If-Match": etag})
    return response, [("update", "client_request", c.number)]


# --- notes, partner events, flags, relapses -----------------------------------------------------


async def _add_note(c: Ctx):
    response = await c.call("care_member", "POST", f"/api/v1/cases/{c.case.id}/notes",
                            {"label": "health", "text": "Gesprek gevoerd."})
    return response, [c.row("create", "case")]


async def _invite_guest(c: Ctx):
    body = {"organisation_id": str(c.world.orgs["wijkteam"].id), "subject": f"gast-{uuid.uuid4().hex[:8]}",
            "display_name": "Gast", "reason": "Afstemming", "ends_on": str(clock.today() + timedelta(days=7))}
    response = await c.call("chair", "POST", f"/api/v1/cases/{c.case.id}/guests", body)
    c.invitation_id = response.json()["id"]
    return response, [c.row("create", "guest_invitation")]


async def _guests(c: Ctx):
    return await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/guests"), [c.row("list", "guest_invitation")]


async def _revoke_guest(c: Ctx):
    response = await c.call("chair", "POST", f"/api/v1/cases/{c.case.id}/guests/{c.invitation_id}/revoke")
    return response, [c.row("update", "guest_invitation")]


async def _aftercare_reports(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/aftercare-reports")
    return response, [c.row("list", "aftercare_report")]


async def _aftercare_report(c: Ctx):
    """A nazorg agreement, the care system's completed treatment (the watch), then the team's report."""
    async with c.db.sessions() as session:
        await add_mandate(session, c.world.members["wijkteam_member"], "sign_agreements")
        await session.commit()
    body = {"template_id": "nazorg", "parties": {"addiction_care": str(c.world.orgs["zorg"].id),
                                                 "neighbourhood_team": str(c.world.orgs["wijkteam"].id)},
            "commitments": {"client": "Ik bel.", "addiction_care": "Wij reageren.", "neighbourhood_team": "Wij komen langs."}}
    agreement = (await c.call("chair", "POST", f"/api/v1/cases/{c.case.id}/agreements", body)).json()["id"]
    await sign_all(c.http, c.world, agreement, {"addiction_care": "care_member", "neighbourhood_team": "wijkteam_member"})
    event = {**_event("relapse"), "type": "nl.casusoverleg.event.treatment_completed", "data": {"programme": "detox"}}
    await c.call("care_system", "POST", "/api/v1/events", event, **{"Content-Type": "application/cloudevents+json"})
    response = await c.call("wijkteam_member", "POST", f"/api/v1/cases/{c.case.id}/aftercare-reports",
                            {"kind": "missed_contact"})
    c.report_id = response.json()["id"]
    return response, [c.row("create", "aftercare_report")]


async def _aftercare_reply(c: Ctx):
    response = await c.call("care_liaison", "POST", f"/api/v1/cases/{c.case.id}/aftercare-reports/{c.report_id}/reply",
                            {"text": "We bellen de cliënt."})
    return response, [c.row("update", "aftercare_report")]


async def _create_household(c: Ctx):
    body = {"coordinator_id": str(c.world.members["care_member"].id),  # the case director already
            "members": [{"case_id": str(c.case.id), "relation": "parent"},
                        {"case_id": str(c.draft_case_id), "relation": "child"}]}
    response = await c.call("chair", "POST", f"/api/v1/conferences/{c.world.a.id}/households", body)
    return response, [c.row("create", "household"), ("create", "household", c.draft_number, c.draft_case_id)]


async def _household(c: Ctx):
    return await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/household"), [c.row("read", "household")]


async def _representatives(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/representatives")
    return response, [c.row("list", "representative")]


async def _add_representative(c: Ctx):
    response = await c.call("chair", "POST", f"/api/v1/cases/{c.case.id}/representatives",
                            {"kind": "curator", "name": "Mr. Curator", "basis": "Curatele, beschikking 2025/1"})
    return response, [c.row("create", "representative")]


async def _break_glass(c: Ctx):
    response = await c.call("gemeente_member", "POST", f"/api/v1/cases/{c.case.id}/break-glass",
                            {"reason": "Acute crisis: overdosis gemeld, contact nodig", "minutes": 30})
    return response, [c.row("execute", "case", f"break_glass:{response.json()['id']}")]


async def _notes(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/notes")
    assert response.json()["items"], "the police see the care note by consent"
    return response, [c.row("read", "case", c.basis)]


async def _push_events(c: Ctx):
    response = await c.call("care_system", "POST", "/api/v1/events", _event("overdose"),
                            **{"Content-Type": "application/cloudevents+json"})
    return response, [c.row("create", "partner_event")]


async def _events(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/events")
    return response, [c.row("read", "case", c.basis)]


async def _relapses(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/relapses")
    return response, [c.row("read", "case", c.basis)]


async def _flags(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/flags")
    assert any(not f["hidden"] for f in response.json()), "the police see the health flag by consent"
    return response, [c.row("read", "case", c.basis)]


async def _references(c: Ctx):
    response = await c.call("care_member", "GET", f"/api/v1/cases/{c.case.id}/references")
    assert [r["reference"] for r in response.json()] == [ZORG_REF]
    return response, [c.row("read", "client_reference")]


async def _link_reference(c: Ctx):
    response = await c.call("police_member", "POST", f"/api/v1/cases/{c.case.id}/references",
                            {"reference": f"BVH-{uuid.uuid4().hex[:8]}"})
    return response, [c.row("create", "client_reference")]


async def _unlink_reference(c: Ctx):
    linked = await c.call("police_liaison", "POST", f"/api/v1/cases/{c.case.id}/references",
                          {"reference": f"BVH-{uuid.uuid4().hex[:8]}"})
    response = await c.call("police_liaison", "DELETE",
                            f"/api/v1/cases/{c.case.id}/references/{linked.json()['id']}")
    return response, [c.row("delete", "client_reference")]


async def _minimal(c: Ctx):
    response = await c.call("care_system", "GET", f"/api/v1/cases/{c.case.id}/minimal")
    return response, [c.row("read", "case")]


async def _minimal_lookup(c: Ctx):
    response = await c.call("care_system", "POST", "/api/v1/cases/minimal-lookup", {"reference": ZORG_REF})
    return response, [c.row("read", "case")]


async def _snoozes(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/snoozes")
    return response, [c.row("read", "case")]


def _snooze_body() -> dict[str, str]:
    return {"kind": "missed_appointment", "until": (clock.today() + timedelta(days=7)).isoformat(),
            "reason": "Opgenomen"}


async def _snooze(c: Ctx):
    response = await c.call("chair", "POST", f"/api/v1/cases/{c.case.id}/snoozes", {**_snooze_body(),
                            "kind": "eviction_threat"})
    return response, [c.row("create", "case")]


async def _lift_snooze(c: Ctx):
    made = await c.call("chair", "POST", f"/api/v1/cases/{c.case.id}/snoozes", _snooze_body())
    response = await c.call("chair", "DELETE", f"/api/v1/cases/{c.case.id}/snoozes/{made.json()['id']}")
    return response, [c.row("update", "case")]


# --- agreements, legal bases, sharing, checklist, digest ----------------------------------------


async def _list_agreements(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/cases/{c.case.id}/agreements")
    return response, [c.row("list", "agreement")]


async def _create_agreement(c: Ctx):
    async with c.db.sessions() as session:
        other = await add_case(session, c.world, name="Karel Nieuw")
        await session.commit()
    number = await _number_of(c, other)
    response = await c.call("chair", "POST", f"/api/v1/cases/{other.id}/agreements", driepartijen_body(c.world))
    return response, [("create", "agreement", number, other.id)]


async def _get_agreement(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/agreements/{c.agreement_id}")
    return response, [c.row("read", "agreement")]


async def _print_agreement(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/agreements/{c.agreement_id}/print")
    return response, [c.row("print", "agreement")]


async def _agreement_pdf(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/agreements/{c.agreement_id}/pdf")
    return response, [c.row("export", "agreement")]


async def _signature_scan(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/agreements/{c.agreement_id}/client-signature/scan")
    return response, [c.row("read", "agreement")]


async def _sign_for_client(c: Ctx):
    response = await c.call("care_member", "POST", f"/api/v1/agreements/{c.draft_id}/client-signature",
                            form={"signed_in_person": "true"})
    return response, [("update", "agreement", c.draft_number, c.draft_case_id)]


async def _sign_as_organisation(c: Ctx):
    response = await c.call("gemeente_member", "POST", f"/api/v1/agreements/{c.draft_id}/signatures",
                            {"party": "municipality"})
    return response, [("update", "agreement", c.draft_number, c.draft_case_id)]


async def _withdraw(c: Ctx):
    response = await c.call("chair", "POST", f"/api/v1/agreements/{c.agreement_id}/withdrawals",
                            {"whole": False, "label": "health", "organisation_kinds": ["police"]})
    return response, [c.row("update", "agreement")]


async def _legal_bases(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/cases/{c.case.id}/legal-bases")
    return response, [c.row("list", "legal_basis")]


async def _record_legal_basis(c: Ctx):
    response = await c.call(
        "chair", "POST", f"/api/v1/cases/{c.case.id}/legal-bases",
        {"article": "Art. 6 lid 1 sub e AVG", "justification": "Taak van algemeen belang bij zorgmijding.",
         "scope": {"justice": ["addiction_care"]}, "ends_on": str(clock.today() + timedelta(days=90))},
    )
    return response, [c.row("create", "legal_basis")]


async def _end_legal_basis(c: Ctx):
    response = await c.call("chair", "POST", f"/api/v1/cases/{c.case.id}/legal-bases/{c.legal_basis_id}/end")
    return response, [c.row("update", "legal_basis")]


async def _sharing(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/cases/{c.case.id}/sharing")
    return response, [c.row("read", "sharing")]


async def _checklist(c: Ctx):
    response = await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}/checklist")
    return response, [c.row("read", "checklist")]


async def _tick(c: Ctx):
    response = await c.call("police_member", "PUT", f"/api/v1/cases/{c.case.id}/checklist/client_informed",
                            {"done": True})
    return response, [c.row("update", "checklist")]


async def _checklists(c: Ctx):
    response = await c.call("chair", "GET", "/api/v1/checklists?include_complete=true")
    return response, [c.row("list", "checklist")]


async def _digest(c: Ctx):
    return await c.call("police_member", "GET", "/api/v1/me/digest"), [c.row("list", "action")]


# --- agenda, discussion requests, decisions: one row per client shown or changed -----------------


async def _agenda(c: Ctx):
    meeting, _ = await c.meeting(published=True)
    response = await c.call("police_member", "GET", f"/api/v1/meetings/{meeting.id}/agenda")
    return response, [c.row("list", "agenda")]


async def _agenda_html(c: Ctx):
    meeting, _ = await c.meeting(published=True)
    response = await c.call("police_member", "GET", f"/api/v1/meetings/{meeting.id}/agenda.html")
    return response, [c.row("print", "agenda")]


async def _agenda_pdf(c: Ctx):
    meeting, _ = await c.meeting(published=True)
    response = await c.call("police_member", "GET", f"/api/v1/meetings/{meeting.id}/agenda.pdf")
    return response, [c.row("export", "agenda")]


async def _draft(c: Ctx):
    meeting, _ = await c.meeting(with_item=False)
    response = await c.chair("POST", meeting, "/agenda/draft")
    return response, [c.row("list", "agenda"), c.row("update", "agenda")]


async def _add_item(c: Ctx):
    meeting, _ = await c.meeting(with_item=False)
    response = await c.chair("POST", meeting, "/agenda/items", {"case_id": str(c.case.id)})
    return response, [c.row("list", "agenda"), c.row("create", "agenda")]


async def _remove_item(c: Ctx):
    meeting, item = await c.meeting()
    response = await c.chair("DELETE", meeting, f"/agenda/items/{item}")
    return response, [c.row("list", "agenda"), c.row("delete", "agenda")]


async def _time_box(c: Ctx):
    meeting, item = await c.meeting()
    response = await c.chair("PATCH", meeting, f"/agenda/items/{item}", {"time_box_minutes": 15})
    return response, [c.row("list", "agenda"), c.row("update", "agenda")]


async def _reorder(c: Ctx):
    meeting, item = await c.meeting()
    response = await c.chair("PUT", meeting, "/agenda/order", {"item_ids": [str(item)]})
    return response, [c.row("list", "agenda"), c.row("update", "agenda")]


async def _publish_agenda(c: Ctx):
    meeting, _ = await c.meeting()
    return await c.chair("POST", meeting, "/agenda/publish"), [c.row("update", "agenda")]


async def _reopen_agenda(c: Ctx):
    meeting, _ = await c.meeting(published=True)
    return await c.chair("POST", meeting, "/agenda/reopen"), [c.row("update", "agenda")]


async def _discussion_request(c: Ctx):
    response = await c.call("police_member", "POST", "/api/v1/discussion-requests",
                            {"case_id": str(c.case.id), "reason": "Zorgen over de woning."})
    return response, [c.row("create", "discussion_request")]


async def _decide(c: Ctx):
    meeting, item = await c.meeting(published=True)
    response = await c.call(
        "chair", "POST", f"/api/v1/meetings/{meeting.id}/agenda/items/{item}/decisions",
        {
            "text": "Politie legt huisbezoek af.",
            "actions": [{"title": "Huisbezoek", "life_domain": "housing",
                         "owner_organisation_id": str(c.world.orgs["politie"].id),
                         "due_date": str(clock.today() + timedelta(days=5))}],
            "next_review_date": str(clock.today() + timedelta(days=42)),
        },
    )
    # the decision, and the action and the case change it made, logged as their own routes log them
    return response, [c.row("create", "decision"), c.row("create", "action"), c.row("update", "case")]


async def _decisions(c: Ctx):
    meeting, _ = await c.meeting(published=True, decided=True, decisions_published=True)
    response = await c.call("police_member", "GET", f"/api/v1/meetings/{meeting.id}/decisions")
    return response, [c.row("list", "decision")]


async def _decisions_html(c: Ctx):
    meeting, _ = await c.meeting(published=True, decided=True, decisions_published=True)
    response = await c.call("police_member", "GET", f"/api/v1/meetings/{meeting.id}/decisions.html")
    return response, [c.row("print", "decision")]


async def _decisions_pdf(c: Ctx):
    meeting, _ = await c.meeting(published=True, decided=True, decisions_published=True)
    response = await c.call("police_member", "GET", f"/api/v1/meetings/{meeting.id}/decisions.pdf")
    return response, [c.row("export", "decision")]


async def _publish_decisions(c: Ctx):
    meeting, _ = await c.meeting(published=True, decided=True)
    return await c.chair("POST", meeting, "/decisions/publish"), [c.row("update", "decision")]


CALLS: dict[str, Call] = {
    "GET /api/v1/cases": _list_cases,
    "GET /api/v1/cases/{case_id}": _get_case,
    "PATCH /api/v1/cases/{case_id}": _patch_case,
    "GET /api/v1/cases/{case_id}/fhir": _fhir,
    "POST /api/v1/cases/{case_id}/transitions": _transition,
    "POST /api/v1/cases/{case_id}/break-glass": _break_glass,
    "POST /api/v1/cases/{case_id}/guests": _invite_guest,
    "POST /api/v1/conferences/{conference_id}/households": _create_household,
    "GET /api/v1/cases/{case_id}/household": _household,
    "GET /api/v1/cases/{case_id}/representatives": _representatives,
    "POST /api/v1/cases/{case_id}/representatives": _add_representative,
    "GET /api/v1/cases/{case_id}/aftercare-reports": _aftercare_reports,
    "POST /api/v1/cases/{case_id}/aftercare-reports": _aftercare_report,
    "POST /api/v1/cases/{case_id}/aftercare-reports/{report_id}/reply": _aftercare_reply,
    "GET /api/v1/cases/{case_id}/guests": _guests,
    "POST /api/v1/cases/{case_id}/guests/{invitation_id}/revoke": _revoke_guest,
    "GET /api/v1/cases/{case_id}/history": _history,
    "GET /api/v1/cases/{case_id}/assessments": _assessments,
    "POST /api/v1/cases/{case_id}/assessments": _add_assessment,
    "GET /api/v1/cases/{case_id}/plan": _get_plan,
    "PATCH /api/v1/cases/{case_id}/plan": _patch_plan,
    "POST /api/v1/cases/{case_id}/actions": _create_action,
    "POST /api/v1/cases/{case_id}/actions/from-intervention": _action_from_intervention,
    "GET /api/v1/actions": _list_actions,
    "GET /api/v1/actions/{action_id}": _get_action,
    "PATCH /api/v1/actions/{action_id}": _patch_action,
    "GET /api/v1/conferences/{conference_id}/escalations": _escalations,
    "GET /api/v1/conferences/{conference_id}/outcomes": _outcomes,
    "GET /api/v1/conferences/{conference_id}/outcomes.csv": _outcomes_csv,
    "POST /api/v1/conferences/{conference_id}/referrals": _create_referral,
    "POST /api/v1/conferences/{conference_id}/concerns": _create_concern,
    "POST /api/v1/conferences/{conference_id}/consultations": _create_consultation,
    "GET /api/v1/consultations": _list_consultations,
    "GET /api/v1/consultations/{consultation_id}": _get_consultation,
    "POST /api/v1/consultations/{consultation_id}/answer": _answer_consultation,
    "POST /api/v1/consultations/{consultation_id}/referral": _convert_consultation,
    "GET /api/v1/conferences/{conference_id}/consultation-count": _consultation_count,
    "GET /api/v1/referrals": _list_referrals,
    "GET /api/v1/referrals/{referral_id}": _get_referral,
    "POST /api/v1/referrals/{referral_id}/accept": _accept,
    "POST /api/v1/referrals/{referral_id}/decline": _decline,
    "POST /api/v1/conferences/{conference_id}/clients/lookup": _lookup,
    "POST /api/v1/conferences/{conference_id}/known-elsewhere": _ask_known_elsewhere,
    "GET /api/v1/known-elsewhere/{question_id}": _known_elsewhere_question,
    "GET /api/v1/audit/log": _audit_log,
    "GET /api/v1/audit/verify": _audit_verify,
    "GET /api/v1/audit/clients/{client_number}/report": _audit_report,
    "GET /api/v1/audit/clients/{client_number}/export": _audit_export,
    "POST /api/v1/audit/clients/{client_number}/requests": _record_request,
    "GET /api/v1/client-requests": _request_register,
    "GET /api/v1/client-requests/{request_id}": _read_request,
    "POST /api/v1/client-requests/{request_id}/extension": _extend_request,
    "POST /api/v1/client-requests/{request_id}/corrections": _correct,
    "POST /api/v1/client-requests/{request_id}/answer": _answer_request,
    "GET /api/v1/cases/{case_id}/notes": _notes,
    "POST /api/v1/cases/{case_id}/notes": _add_note,
    "POST /api/v1/events": _push_events,
    "GET /api/v1/cases/{case_id}/events": _events,
    "GET /api/v1/cases/{case_id}/relapses": _relapses,
    "GET /api/v1/cases/{case_id}/flags": _flags,
    "GET /api/v1/cases/{case_id}/references": _references,
    "GET /api/v1/cases/{case_id}/snoozes": _snoozes,
    "GET /api/v1/cases/{case_id}/minimal": _minimal,
    "POST /api/v1/cases/minimal-lookup": _minimal_lookup,
    "POST /api/v1/cases/{case_id}/snoozes": _snooze,
    "DELETE /api/v1/cases/{case_id}/snoozes/{snooze_id}": _lift_snooze,
    "POST /api/v1/cases/{case_id}/references": _link_reference,
    "DELETE /api/v1/cases/{case_id}/references/{reference_id}": _unlink_reference,
    "GET /api/v1/cases/{case_id}/agreements": _list_agreements,
    "POST /api/v1/cases/{case_id}/agreements": _create_agreement,
    "GET /api/v1/agreements/{agreement_id}": _get_agreement,
    "GET /api/v1/agreements/{agreement_id}/print": _print_agreement,
    "GET /api/v1/agreements/{agreement_id}/pdf": _agreement_pdf,
    "GET /api/v1/agreements/{agreement_id}/client-signature/scan": _signature_scan,
    "POST /api/v1/agreements/{agreement_id}/client-signature": _sign_for_client,
    "POST /api/v1/agreements/{agreement_id}/signatures": _sign_as_organisation,
    "POST /api/v1/agreements/{agreement_id}/withdrawals": _withdraw,
    "GET /api/v1/cases/{case_id}/legal-bases": _legal_bases,
    "POST /api/v1/cases/{case_id}/legal-bases": _record_legal_basis,
    "POST /api/v1/cases/{case_id}/legal-bases/{basis_id}/end": _end_legal_basis,
    "GET /api/v1/cases/{case_id}/sharing": _sharing,
    "GET /api/v1/cases/{case_id}/checklist": _checklist,
    "PUT /api/v1/cases/{case_id}/checklist/{item}": _tick,
    "GET /api/v1/checklists": _checklists,
    "GET /api/v1/me/digest": _digest,
    "GET /api/v1/meetings/{meeting_id}/agenda": _agenda,
    "GET /api/v1/meetings/{meeting_id}/agenda.html": _agenda_html,
    "GET /api/v1/meetings/{meeting_id}/agenda.pdf": _agenda_pdf,
    "POST /api/v1/meetings/{meeting_id}/agenda/draft": _draft,
    "POST /api/v1/meetings/{meeting_id}/agenda/items": _add_item,
    "DELETE /api/v1/meetings/{meeting_id}/agenda/items/{item_id}": _remove_item,
    "PATCH /api/v1/meetings/{meeting_id}/agenda/items/{item_id}": _time_box,
    "PUT /api/v1/meetings/{meeting_id}/agenda/order": _reorder,
    "POST /api/v1/meetings/{meeting_id}/agenda/publish": _publish_agenda,
    "POST /api/v1/meetings/{meeting_id}/agenda/reopen": _reopen_agenda,
    "POST /api/v1/discussion-requests": _discussion_request,
    "POST /api/v1/meetings/{meeting_id}/agenda/items/{item_id}/decisions": _decide,
    "GET /api/v1/meetings/{meeting_id}/decisions": _decisions,
    "GET /api/v1/meetings/{meeting_id}/decisions.html": _decisions_html,
    "GET /api/v1/meetings/{meeting_id}/decisions.pdf": _decisions_pdf,
    "POST /api/v1/meetings/{meeting_id}/decisions/publish": _publish_decisions,
}


def _operations(app: object) -> list[str]:
    schema = app.openapi()  # type: ignore[attr-defined]
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted(
        f"{m.upper()} {path}" for path, item in schema["paths"].items() for m in item if m in methods
    )


async def test_every_route_is_classified(app: object) -> None:
    operations = _operations(app)
    unknown = [op for op in operations if op not in CALLS and op not in NO_CLIENT_DATA]
    assert not unknown, (
        "routes neither called-and-checked in CALLS nor listed in NO_CLIENT_DATA (add a CALLS entry that "
        f"checks their access-log rows): {unknown}"
    )
    exempt_but_client = [op for op in NO_CLIENT_DATA if CLIENT_WORDS.search(op.split(" ", 1)[1])]
    assert not exempt_but_client, f"client-data routes cannot be exempt from logging: {exempt_but_client}"
    assert not set(CALLS) - set(operations), f"stale entries: {set(CALLS) - set(operations)}"


def _matches(expected: tuple[Any, ...], row: Any) -> bool:
    action, resource_type, number, *rest = expected
    case_id, basis = (rest + [ANY, ANY])[:2]
    return (
        (row.action, row.resource_type, row.client_number) == (action, resource_type, number)
        and (case_id is ANY or row.case_id == case_id)
        and (basis is ANY or row.basis == basis)
    )


async def _rows(owner_db: Any, request_id: str) -> list[Any]:
    async with owner_db.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    sa.text(
                        "SELECT action, resource_type, client_number, case_id, basis, outcome, request_id, "
                        "actor_subject, organisation_id FROM access_log WHERE request_id = :r"
                    ),
                    {"r": request_id},
                )
            ).all()
        )


async def _setup(client: httpx.AsyncClient, world: World, owner_db: Any) -> Ctx:
    """The case of this test: an escalated action, two pending referrals, a health assessment, a
    care note, a relapse reported by the care provider's system, a legal basis, and a signed
    agreement that shares health information with the police (so the police's reads name it)."""
    today = clock.today()
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        action = await add_action(
            session, world, case, coverage="escalation_required", resource_scope="outreach"
        )
        pending = [
            Referral(
                conference_id=world.a.id,
                client_id=case.client_id,
                referred_by_id=world.members["chair"].id,
                referring_organisation_id=world.orgs["gemeente"].id,
                reason="Zorgen.",
            )
            for _ in range(2)
        ]
        session.add_all(pending)
        session.add(Assessment(case_id=case.id, assessed_on=today - timedelta(days=1),
                               assessed_by_id=world.members["care_member"].id, scores={"housing": 2}))
        for person in ("gemeente_member", "care_member"):
            await add_mandate(session, world.members[person], "sign_agreements")
        session.add(ClientReference(client_id=case.client_id, organisation_id=world.orgs["zorg"].id,
                                    reference=ZORG_REF))
        care_system = PartnerSystem(organisation_id=world.orgs["zorg"].id, name="EPD", subject="care-system",
                                    scopes=["events:write", "cases:read-minimal"])
        session.add(care_system)
        world.systems["care_system"] = care_system
        legal_basis = LegalBasis(case_id=case.id, conference_id=world.a.id, article="Art. 6 lid 1 sub e AVG",
                                 justification="Taak van algemeen belang.", scope={"justice": ["addiction_care"]},
                                 starts_on=today, ends_on=today + timedelta(days=60),
                                 recorded_by_id=world.members["chair"].id)
        session.add(legal_basis)
        other = await add_case(session, world, name="Els Ander")
        await session.commit()
    c = Ctx(client, world, owner_db, case, "", action, pending, legal_basis_id=legal_basis.id)
    c.number = c.referral_number = await _number_of(c, case)
    c.draft_number, c.draft_case_id = await _number_of(c, other), other.id
    body = driepartijen_body(world)  # with consent to share health information with the police
    c.agreement_id = (await c.call("chair", "POST", f"/api/v1/cases/{case.id}/agreements", body)).json()["id"]
    await sign_all(client, world, c.agreement_id)
    c.basis = f"agreement:{c.agreement_id}"
    c.draft_id = (await c.call("chair", "POST", f"/api/v1/cases/{other.id}/agreements", body)).json()["id"]
    await c.call("care_member", "POST", f"/api/v1/cases/{case.id}/notes", {"label": "health", "text": "Terugval."})
    await c.call("care_system", "POST", "/api/v1/events", _event("relapse"),
                 **{"Content-Type": "application/cloudevents+json"})
    return c


async def test_every_client_data_route_writes_the_right_log_rows(
    app: object, client: httpx.AsyncClient, world: World, owner_db
) -> None:
    ctx = await _setup(client, world, owner_db)
    problems = []
    for op in _operations(app):
        if op not in CALLS:
            continue
        response, expected = await CALLS[op](ctx)
        rows = await _rows(owner_db, response.headers["x-request-id"])
        missing = [e for e in expected if not any(_matches(e, r) for r in rows)]
        if not rows or missing or any(r.outcome != "allowed" for r in rows):
            logged = sorted({(r.action, r.resource_type, r.client_number, r.case_id, r.basis) for r in rows}, key=str)
            problems.append(f"{op}: missing {missing}, logged {logged}")
    assert not problems, "\n".join(problems)


async def test_refused_attempts_on_client_data_are_logged(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """The refusals these routes make beyond the policy guard (which logs its own) are logged too."""
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    c = Ctx(client, world, owner_db, case, "", None)  # type: ignore[arg-type]
    c.number = await _number_of(c, case)
    agreement = (await c.call("chair", "POST", f"/api/v1/cases/{case.id}/agreements",
                              driepartijen_body(world))).json()["id"]
    draft, _ = await c.meeting()
    unpublished, _ = await c.meeting(published=True, decided=True)
    attempts: list[tuple[str, str, str, int, tuple[str, str, str | None]]] = [
        # (who, method, url, status, (action, resource_type, client_number) of the denied row)
        ("police_member", "GET", f"/api/v1/agreements/{agreement}/print", 403, ("print", "agreement", c.number)),
        ("police_member", "GET", f"/api/v1/agreements/{agreement}/pdf", 403, ("export", "agreement", c.number)),
        ("police_member", "GET", f"/api/v1/agreements/{agreement}/client-signature/scan", 403,
         ("read", "agreement", c.number)),
        ("police_member", "GET", "/api/v1/checklists", 403, ("list", "checklist", None)),
        ("police_system", "GET", "/api/v1/me/digest", 403, ("list", "action", None)),
        ("police_member", "POST", "/api/v1/events", 403, ("create", "partner_event", None)),
        ("police_member", "GET", f"/api/v1/meetings/{draft.id}/agenda", 404, ("list", "agenda", None)),
        ("police_member", "GET", f"/api/v1/meetings/{draft.id}/agenda.pdf", 404, ("export", "agenda", None)),
        ("police_member", "GET", f"/api/v1/meetings/{unpublished.id}/decisions", 404, ("list", "decision", None)),
    ]
    problems = []
    for who, method, url, status, (action, resource_type, number) in attempts:
        response = await client.request(method, url, headers=world.headers(who), json=_event("relapse"))
        rows = await _rows(owner_db, response.headers["x-request-id"])
        denied = [(r.action, r.resource_type, r.client_number) for r in rows if r.outcome == "denied"]
        if response.status_code != status or denied != [(action, resource_type, number)]:
            problems.append(f"{method} {url} by {who}: {response.status_code}, denied rows {denied}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/api/v1/cases/{id}", "/api/v1/cases/{id}/plan"])
async def test_a_read_whose_log_row_cannot_be_written_is_refused(
    app: object, world: World, owner_db, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world, name="Jan Geheim")
        await session.commit()
    import app.audit as audit

    real = audit.AuditTrail.rows_of
    at = audit.VARYING.index("resource_type")

    def broken(self, *accesses):
        rows = real(self, *accesses)
        # A NOT NULL column left empty: the append fails at commit (an integrity error, the
        # service's own fault; a too-long value would read as refused input, 422).
        rows.varying[:] = [(*values[:at], None, *values[at + 1:]) for values in rows.varying]
        return rows

    monkeypatch.setattr(audit.AuditTrail, "rows_of", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as raw:
        response = await raw.get(path.format(id=case.id), headers=world.headers("chair"))
    assert response.status_code >= 500
    assert "Jan Geheim" not in response.text and "eigen plek" not in response.text
