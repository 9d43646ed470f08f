"""Issue 18, acceptance 3: one case as a FHIR Bundle (GET /api/v1/cases/{id}/fhir), validated with
fhir.resources, its Consents matching the case's agreements, shaped by the reader's need to know
(no health goals or tasks for the police), AuditEvents only for the privacy officer."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle

from app.auth.dev_idp import issuer_url, mint_token
from app.demo.people import demo_user
from app.demo.seed import load_demo_data
from app.models import AccessLogEntry, Case, Goal, Plan
from app.services.fhir.export import LIFE_DOMAIN
from tests.agreements_support import case_with_assessment, create, driepartijen_body, sign_all
from tests.factories import World, add_action, add_case
from tests.test_dev_idp import dev_server  # noqa: F401  (the fixture: the app with its dev IdPs on loopback)

HEALTH = {"substance_use", "mental_health", "physical_health"}


async def _demo_like_case(client: httpx.AsyncClient, world: World, owner_db) -> tuple[Case, list[dict[str, Any]]]:
    """A case like the demo's: goals in four life domains, actions of three organisations, an
    active agreement with a partial withdrawal, and a draft the client withdrew before signing."""
    case = await case_with_assessment(owner_db, world)
    async with owner_db.sessions() as session:
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        for position, (domain, text) in enumerate([
            ("housing", "Een eigen woning binnen een jaar"),
            ("substance_use", "Minder GHB gebruiken"),
            ("mental_health", "Rustiger slapen"),
            ("justice", "Geen nieuwe aanhoudingen"),
        ]):
            session.add(Goal(plan_id=plan.id, life_domain=domain, description=text, position=position))
        await add_action(session, world, case, owner="gemeente", assignee="gemeente_member",
                         committed_by="gemeente_member")
        detox = await add_action(session, world, case, owner="zorg", assignee="care_liaison",
                                 committed_by="care_member", status="in_progress")
        detox.title, detox.life_domain = "Intake detox", "substance_use"
        talk = await add_action(session, world, case, owner="politie")
        talk.title, talk.life_domain = "Buurtgesprek", "justice"
        await session.commit()
    first = await create(client, world, case, driepartijen_body(world, options=[]))
    assert first.status_code == 201, first.text
    await sign_all(client, world, first.json()["id"])
    partial = await client.post(f"/api/v1/agreements/{first.json()['id']}/withdrawals",
                                json={"whole": False, "label": "health", "organisation_kinds": ["municipality"]},
                                headers=world.headers("chair"))
    assert partial.status_code == 201, partial.text
    second = await create(client, world, case, driepartijen_body(world, options=["health_to_police"],
                                                                replaces_id=first.json()["id"]))
    assert second.status_code == 201, second.text
    whole = await client.post(f"/api/v1/agreements/{second.json()['id']}/withdrawals", json={"whole": True},
                              headers=world.headers("chair"))
    assert whole.status_code == 201, whole.text
    listed = await client.get(f"/api/v1/cases/{case.id}/agreements", headers=world.headers("chair"))
    assert listed.status_code == 200
    return case, listed.json()


async def _bundle(client: httpx.AsyncClient, world: World, case: Case, person: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{case.id}/fhir", headers=world.headers(person))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    Bundle.model_validate_json(response.content)  # the receiving system's check
    body = response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "collection"
    return body


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


def _domains(resources: list[dict[str, Any]], field: str) -> set[str]:
    found = set()
    for r in resources:
        codes = r[field] if isinstance(r[field], list) else [r[field]]
        found |= {c["code"] for cc in codes for c in cc["coding"] if c["system"] == LIFE_DOMAIN}
    return found


async def test_the_bundle_validates_and_its_consents_match_the_agreements(client, world: World, owner_db) -> None:
    case, agreements = await _demo_like_case(client, world, owner_db)
    bundle = await _bundle(client, world, case, "care_member")

    [careplan] = _of(bundle, "CarePlan")
    goals, tasks = _of(bundle, "Goal"), _of(bundle, "Task")
    assert _domains(goals, "category") == {"housing", "substance_use", "mental_health", "justice"} - {"justice"}
    assert len(careplan["goal"]) == len(goals) and len(careplan["activity"]) == len(tasks)
    assert "substance_use" in _domains(tasks, "code")
    assert {t["status"] for t in tasks} >= {"accepted", "in-progress"}
    [patient] = _of(bundle, "Patient")
    assert patient["name"] == [{"text": "Jan Testpersoon"}]
    assert not _of(bundle, "AuditEvent"), "the access log is for the privacy officer"

    consents = {c["identifier"][0]["value"]: c for c in _of(bundle, "Consent")}
    assert set(consents) == {a["id"] for a in agreements}
    for agreement in agreements:
        consent = consents[agreement["id"]]
        assert consent["provision"]["period"] == {"start": agreement["starts_on"], "end": agreement["ends_on"]}
        parties = {p["organisation_id"] for k, p in agreement["parties"].items() if k != "client"}
        actors = {a["reference"]["identifier"]["value"] for a in consent["provision"]["actor"]}
        assert actors == parties
        nested = consent["provision"]["provision"]
        permitted = {(p["securityLabel"][0]["code"], a["reference"]["identifier"]["value"])
                     for p in nested if p["type"] == "permit" for a in p["actor"]}
        assert permitted == {(label, kind) for label, kinds in agreement["scope"].items() for kind in kinds}
    active = next(a for a in agreements if a["status"] == "active")
    withdrawn = next(a for a in agreements if a["status"] == "withdrawn")
    assert consents[active["id"]]["status"] == "active"
    denied = [p for p in consents[active["id"]]["provision"]["provision"] if p["type"] == "deny"]
    assert [(d["securityLabel"][0]["code"], d["actor"][0]["reference"]["identifier"]["value"]) for d in denied] == [
        ("health", "municipality")]
    # withdrawn before every party signed: the client never gave this consent
    assert consents[withdrawn["id"]]["status"] == "rejected"

    async with owner_db.sessions() as session:
        rows = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.case_id == case.id, AccessLogEntry.action == "export"))).scalars().all()
    assert {(r.resource_type, r.part, r.actor_subject) for r in rows} == {
        ("case", "fhir", "care_member-sub"), ("agreement", "fhir", "care_member-sub")}


async def test_a_police_reader_gets_no_health_goals_or_tasks(client, world: World, owner_db) -> None:
    case, agreements = await _demo_like_case(client, world, owner_db)
    bundle = await _bundle(client, world, case, "police_member")
    goal_domains = _domains(_of(bundle, "Goal"), "category")
    task_domains = _domains(_of(bundle, "Task"), "code")
    assert goal_domains == {"housing", "justice"}
    assert not (goal_domains | task_domains) & HEALTH
    text = str(bundle)
    assert "GHB" not in text and "Intake detox" not in text and "Rustiger slapen" not in text
    assert len(_of(bundle, "Consent")) == len(agreements)  # the agreements themselves: every case worker
    assert not _of(bundle, "AuditEvent")


async def test_the_privacy_officer_gets_the_access_log_and_no_care_content(client, world: World, owner_db) -> None:
    case, _ = await _demo_like_case(client, world, owner_db)
    await _bundle(client, world, case, "police_member")
    async with owner_db.sessions() as session:
        number = (await session.execute(sa.text("SELECT client_number FROM client WHERE id = :id"),
                                        {"id": case.client_id})).scalar_one()
        logged = (await session.execute(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
            AccessLogEntry.client_number == number))).scalar_one()
    bundle = await _bundle(client, world, case, "privacy_officer")
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds == {"Patient", "AuditEvent"}
    events = _of(bundle, "AuditEvent")
    assert len(events) == logged
    police_export = [e for e in events if e["agent"][0]["who"]["identifier"]["value"] == "police_member-sub"
                     and e["subtype"][0]["code"] == "export"]
    assert police_export and police_export[0]["outcome"] == "0"
    assert "name" not in _of(bundle, "Patient")[0]
    async with owner_db.sessions() as session:
        rows = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.actor_subject == "privacy_officer-sub"))).scalars().all()
    assert [(r.action, r.resource_type, r.part, r.client_number) for r in rows] == [
        ("export", "access_log", "fhir", number)]


async def test_another_conference_and_a_system_get_404_and_it_is_logged(client, world: World, owner_db) -> None:
    case, _ = await _demo_like_case(client, world, owner_db)
    for person in ("police_member_b", "police_system"):
        response = await client.get(f"/api/v1/cases/{case.id}/fhir", headers=world.headers(person))
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    async with owner_db.sessions() as session:
        denied = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.case_id == case.id, AccessLogEntry.outcome == "denied"))).scalars().all()
    assert {(r.actor_subject, r.action, r.part) for r in denied} == {
        ("police_member_b-sub", "export", "fhir"), ("police-system", "export", "fhir")}


async def test_every_demo_case_exports_a_valid_bundle(dev_server, owner_db) -> None:  # noqa: F811
    """On the demo conference itself: every case's Bundle validates for the care member and the
    police member; its Consents are the case's agreements; the police's holds no health goal."""
    base, store = dev_server
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=base)
        await session.commit()

    def headers(key: str) -> dict[str, str]:
        who = demo_user(key)
        token = mint_token(store, slug=who.organisation, issuer=issuer_url(base, who.organisation),
                           subject=who.key, name=who.name)
        return {"Authorization": f"Bearer {token}"}

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        cases = (await http.get("/api/v1/cases", params={"limit": 100}, headers=headers("voorzitter"))).json()
        assert cases["items"]
        consents_seen = 0
        for case in cases["items"]:
            agreements = (await http.get(f"/api/v1/cases/{case['id']}/agreements",
                                         headers=headers("zorg-lid"))).json()
            for key in ("zorg-lid", "politie-lid"):
                response = await http.get(f"/api/v1/cases/{case['id']}/fhir", headers=headers(key))
                assert response.status_code == 200, response.text
                Bundle.model_validate_json(response.content)
                bundle = response.json()
                consents = {c["identifier"][0]["value"] for c in _of(bundle, "Consent")}
                assert consents == {a["id"] for a in agreements}
                consents_seen += len(consents)
                if key == "politie-lid":
                    assert not _domains(_of(bundle, "Goal"), "category") & HEALTH
                    assert not _domains(_of(bundle, "Task"), "code") & HEALTH
        assert consents_seen, "the demo has agreements"


async def test_the_access_log_part_needs_a_multi_factor_sign_in(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    url = f"/api/v1/cases/{case.id}/fhir"
    password_only = {"Authorization": f"Bearer {world.token('privacy_officer', extra={'amr': ['pwd']})}"}
    with_otp = {"Authorization": f"Bearer {world.token('privacy_officer', extra={'amr': ['pwd', 'otp']})}"}
    refused = await client.get(url, headers=password_only)
    assert refused.status_code == 403 and "multi-factor" in refused.json()["detail"]
    assert (await client.get(url, headers=with_otp)).status_code == 200
    async with owner_db.sessions() as session:
        denied = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.outcome == "denied"))).scalars().all()
    assert [(r.actor_subject, r.action, r.part) for r in denied] == [("privacy_officer-sub", "export", "fhir")]
