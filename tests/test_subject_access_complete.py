"""Issue 21, acceptance 2: a request for inspection produces a report and an export that contain
one item of every kind of client data held for a seeded client (JSON and the Dutch PDF), each with
whom it was shared on which basis; and a new kind of client data that is not exported fails."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa
from pypdf import PdfReader

from app.clock import clock
from app.models import (
    AftercareReport,
    AftercareWatch,
    AgendaItem,
    Agreement,
    AgreementSignature,
    Assessment,
    BreakGlass,
    CaseFlag,
    CaseNote,
    ChangeRecord,
    ChecklistTick,
    Client,
    ClientCorrection,
    ClientReference,
    ClientRepresentative,
    ClientRequest,
    ConsentWithdrawal,
    Consultation,
    Decision,
    DiscussionRequest,
    Goal,
    GuestInvitation,
    Household,
    HouseholdMember,
    KnownElsewhereAnswer,
    KnownElsewhereQuestion,
    LegalBasis,
    Meeting,
    PartnerEvent,
    Plan,
    Referral,
    SignalSnooze,
)
from app.services.privacy.dossier import KINDS_NL, NOT_CLIENT_DATA_TABLES, client_data_tables
from tests.factories import World, add_action, add_case

PO = "privacy_officer"


def test_every_kind_of_client_data_is_exported_or_named_as_not_client_data() -> None:
    tables = client_data_tables()
    assert not set(KINDS_NL) & set(NOT_CLIENT_DATA_TABLES)
    missing = sorted(tables - set(KINDS_NL) - set(NOT_CLIENT_DATA_TABLES))
    assert not missing, (
        f"tables that hold client data but are not in the subject-access answer: {missing}; give each a "
        "Dutch name in app/services/privacy/dossier.py KINDS_NL (or name it in NOT_CLIENT_DATA_TABLES with the reason)"
    )
    stale = sorted((set(KINDS_NL) | set(NOT_CLIENT_DATA_TABLES)) - tables)
    assert not stale, f"entries for tables that hold no client data (any more): {stale}"


def test_a_new_table_that_refers_to_a_case_counts_as_client_data() -> None:
    from sqlmodel import SQLModel

    table = sa.Table("test_new_client_kind", SQLModel.metadata,
                     sa.Column("id", sa.Uuid, primary_key=True),
                     sa.Column("case_id", sa.Uuid, sa.ForeignKey("case.id")))
    try:
        assert "test_new_client_kind" in client_data_tables()
        assert "test_new_client_kind" not in KINDS_NL  # so the test above would fail
    finally:
        SQLModel.metadata.remove(table)


async def _seed_every_kind(owner_db, world: World) -> tuple[str, dict[str, str]]:
    """One item of every kind for one client: kind -> the item's id."""
    today, now = clock.today(), clock.now()
    chair, care = world.members["chair"].id, world.members["care_member"].id
    ids: dict[str, str] = {}
    async with owner_db.sessions() as s:
        case = await add_case(s, world, name="Els Alles")
        client = await s.get(Client, case.client_id)
        assert client is not None
        plan = (await s.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        goal = Goal(plan_id=plan.id, life_domain="housing", description="Een eigen woning")
        action = await add_action(s, world, case)
        meeting = Meeting(conference_id=world.a.id, starts_at=now - timedelta(days=1),
                          ends_at=now - timedelta(days=1) + timedelta(hours=2))
        s.add_all([goal, meeting])
        await s.flush()
        item = AgendaItem(meeting_id=meeting.id, kind="case", case_id=case.id, reasons=[], position=1)
        event = PartnerEvent(organisation_id=world.orgs["zorg"].id, source="urn:zorg", event_id="ev-1",
                             type="relapse", subject_reference="ZRG-1", client_id=client.id, case_id=case.id,
                             occurred_at=now - timedelta(hours=2), label="health", severity="high",
                             data={"substances": ["ghb"]}, payload_hash="0" * 64)
        text = "Driepartijenovereenkomst van Els"
        agreement = Agreement(case_id=case.id, conference_id=world.a.id, template_id="driepartijen",
                              template_version=3, template_sha256="0" * 64, title="Driepartijenovereenkomst",
                              parties={}, commitments={"client": "Ik kom"}, scope={"health": ["police"]},
                              starts_on=today, ends_on=today + timedelta(days=30), rendered_text=text,
                              text_hash=hashlib.sha256(text.encode()).hexdigest(), created_by_id=chair)
        request = ClientRequest(conference_id=world.a.id, client_id=client.id, kind="rectification",
                                channel="letter", received_on=today, deadline_on=today + timedelta(days=30),
                                recorded_by_id=world.members[PO].id)
        watch = AftercareWatch(case_id=case.id, client_id=client.id, started_at=now, ends_at=now + timedelta(days=90))
        household = Household(conference_id=world.a.id, coordinator_id=care, created_by_id=chair)
        question = KnownElsewhereQuestion(conference_id=world.b.id, asked_by_id=world.members["chair_b"].id,
                                          reason="Is deze persoon bekend?", known=True)
        s.add_all([item, event, agreement, request, watch, question, household])
        await s.flush()
        rows = {
            "client_reference": ClientReference(client_id=client.id, organisation_id=world.orgs["zorg"].id,
                                                reference="ZRG-1"),
            "referral": Referral(conference_id=world.a.id, client_id=client.id, case_id=case.id,
                                 referred_by_id=chair, referring_organisation_id=world.orgs["gemeente"].id,
                                 reason="Zorgen om Els"),
            "assessment": Assessment(case_id=case.id, assessed_on=today, assessed_by_id=care,
                                     scores={"housing": 2}),
            "case_note": CaseNote(case_id=case.id, author_id=care, organisation_id=world.orgs["zorg"].id,
                                  label="health", text="Gaat beter"),
            "change_record": ChangeRecord(case_id=case.id, entity_type="case", entity_id=case.id, version=1,
                                          operation="create", actor_issuer="x", actor_subject="y",
                                          actor_name="Voorzitter", changes={}),
            "case_flag": CaseFlag(case_id=case.id, kind="relapse", reason="Terugval gemeld"),
            "signal_snooze": SignalSnooze(case_id=case.id, kind="missed_appointment", until=today + timedelta(days=7),
                                          reason="Opgenomen", created_by_id=chair),
            "aftercare_report": AftercareReport(case_id=case.id, conference_id=world.a.id, watch_id=watch.id,
                                                kind="worry", organisation_id=world.orgs["wijkteam"].id,
                                                observed_on=today, note="Zorgen om Els"),
            "agreement_signature": AgreementSignature(agreement_id=agreement.id, party="client", attested_by_id=chair,
                                                      signed_on=today, text_hash=agreement.text_hash,
                                                      recorded_by_id=chair),
            "consent_withdrawal": ConsentWithdrawal(agreement_id=agreement.id, whole=False, label="health",
                                                    organisation_kinds=["police"], recorded_by_id=chair),
            "legal_basis": LegalBasis(case_id=case.id, conference_id=world.a.id, article="Art. 6 lid 1 sub e AVG",
                                      justification="Taak van algemeen belang", scope={}, starts_on=today,
                                      ends_on=today + timedelta(days=30), recorded_by_id=chair),
            "checklist_tick": ChecklistTick(case_id=case.id, item="client_informed", ticked_by_id=chair),
            "decision": Decision(meeting_id=meeting.id, agenda_item_id=item.id, case_id=case.id,
                                 text="Besluit over Els", decided_by_id=chair),
            "discussion_request": DiscussionRequest(conference_id=world.a.id, case_id=case.id, requested_by_id=care,
                                                    organisation_id=world.orgs["zorg"].id, reason="Graag bespreken"),
            "break_glass": BreakGlass(case_id=case.id, conference_id=world.a.id, membership_id=chair,
                                      organisation_id=world.orgs["gemeente"].id, reason="Spoed",
                                      expires_at=now + timedelta(hours=1)),
            "guest_invitation": GuestInvitation(case_id=case.id, conference_id=world.a.id,
                                                organisation_id=world.orgs["wijkteam"].id, issuer="x", subject="gast",
                                                display_name="Gast", reason="Afstemming", invited_by_id=chair,
                                                ends_at=now + timedelta(days=7)),
            "known_elsewhere_answer": KnownElsewhereAnswer(question_id=question.id, conference_id=world.a.id,
                                                           client_id=client.id),
            "household_member": HouseholdMember(household_id=household.id, client_id=client.id),
            "client_representative": ClientRepresentative(client_id=client.id, conference_id=world.a.id,
                                                          name="Mentor Jansen", basis="Mentorschap, rechtbank 2026/1",
                                                          recorded_by_id=chair),
            "client_correction": ClientCorrection(request_id=request.id, field="note_text", entity_id=uuid.uuid4(),
                                                  case_id=case.id, old_value="oud", new_value="nieuw",
                                                  corrected_by_id=world.members[PO].id),
        }
        s.add_all(rows.values())
        await s.flush()
        consultation = Consultation(conference_id=world.a.id, asked_by_id=world.members["wijkteam_member"].id,
                                    asking_organisation_id=world.orgs["wijkteam"].id, question="Wat kunnen wij doen?",
                                    referral_id=rows["referral"].id)
        s.add(consultation)
        await s.commit()
    ids = {kind: str(row.id) for kind, row in rows.items()} | {"consultation": str(consultation.id)}
    ids |= {"client": str(client.id), "case": str(case.id), "plan": str(plan.id), "goal": str(goal.id),
            "action": str(action.id), "agenda_item": str(item.id), "partner_event": str(event.id),
            "agreement": str(agreement.id), "client_request": str(request.id), "aftercare_watch": str(watch.id)}
    return client.client_number, ids


async def test_report_and_export_hold_one_item_of_every_kind_with_whom_it_was_shared(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    number, ids = await _seed_every_kind(owner_db, world)
    case_id = ids["case"]
    # The police read the case: an access-log item, and the case shared with the police.
    assert (await client.get(f"/api/v1/cases/{case_id}", headers=world.headers("police_member"))).status_code == 200

    export = await client.get(f"/api/v1/audit/clients/{number}/export", headers=world.headers(PO))
    assert export.status_code == 200, export.text
    kinds = export.json()["kinds"]
    for kind, item_id in ids.items():
        assert item_id in {str(r.get("id")) for r in kinds[kind]}, f"{kind} missing from the export"
    assert kinds["access_log"], "the access log is part of the answer"
    assert kinds["client"][0]["name"] == "Els Alles"

    report = await client.get(f"/api/v1/audit/clients/{number}/report", headers=world.headers(PO))
    assert report.status_code == 200
    held = {(h["kind"], h["id"]): h for h in report.json()["data_held"]}
    for kind, item_id in ids.items():
        assert (kind, item_id) in held, f"{kind} missing from the report"
    assert any(h["kind"] == "access_log" for h in report.json()["data_held"])
    shared = held[("case", case_id)]["shared_with"]
    assert [s["organisation_name"] for s in shared] == [world.orgs["politie"].name]
    assert held[("case_note", ids["case_note"])]["shared_with"] == []  # a health note the police did not see

    pdf = await client.get(f"/api/v1/audit/clients/{number}/report", params={"format": "pdf"},
                           headers=world.headers(PO))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    for kind, item_id in ids.items():
        assert KINDS_NL[kind] in text, f"section {KINDS_NL[kind]} missing from the PDF"
        assert f"[{item_id[:8]}]" in text, f"{kind} item missing from the PDF"
    assert "Gedeeld met: Politie" in text
    assert KINDS_NL["access_log"] in text
    export_pdf = await client.get(f"/api/v1/audit/clients/{number}/export", params={"format": "pdf"},
                                  headers=world.headers(PO))
    assert export_pdf.status_code == 200 and export_pdf.content.startswith(b"%PDF")
