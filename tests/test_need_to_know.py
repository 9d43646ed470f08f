"""Need to know by construction: the classification of every response field, one read path that
routers cannot bypass, the chair and health, break-glass, and BSN look-ups only by the look-up's
rules (issue 11, acceptance 3-7)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import BaseModel

from app.clock import clock
from app.config import PROJECT_ROOT
from app.models import AccessLogEntry, Goal, LegalBasis, Notification, PartnerEvent, Plan, Referral
from app.models.classification import unclassified
from app.schemas.cases import CaseDetail
from tests.factories import World, add_case
from tests.meeting_helpers import NOW, add_flag, add_meeting, chair_post

HEALTH_GOAL = "Veilig afbouwen van GHB via een klinische detox"


async def _rows(owner_db, **where: object) -> list[AccessLogEntry]:
    async with owner_db.sessions() as session:
        query = sa.select(AccessLogEntry).order_by(AccessLogEntry.seq)
        for column, value in where.items():
            query = query.where(getattr(AccessLogEntry, column) == value)
        return list((await session.execute(query)).scalars())


# --- acceptance 3: every response field has a label -------------------------------------------


def test_every_response_field_that_carries_client_data_is_classified(app: FastAPI) -> None:
    assert unclassified(app.openapi()) == []


def test_a_new_unlabelled_field_in_a_response_fails_the_classification(monkeypatch: pytest.MonkeyPatch) -> None:
    """How the test above catches omission: a response gains a field nobody labelled."""
    from app.models import classification

    monkeypatch.setitem(classification.CLASSIFICATION, "CaseDetailWithDiagnosis",
                        classification.CLASSIFICATION["CaseDetail"])  # what it inherits stays labelled

    class CaseDetailWithDiagnosis(CaseDetail):
        diagnosis: str  # new client data, not in app/models/classification.py

    probe = FastAPI()

    @probe.get("/cases/{case_id}", response_model=CaseDetailWithDiagnosis)
    async def read(case_id: uuid.UUID) -> CaseDetailWithDiagnosis:  # pragma: no cover - never called
        raise NotImplementedError

    assert unclassified(probe.openapi()) == ["CaseDetailWithDiagnosis.diagnosis"]

    class Wrapper(BaseModel):
        items: list[CaseDetailWithDiagnosis]  # nested schemas are classified in their own right

    @probe.get("/lists", response_model=Wrapper)
    async def lists() -> Wrapper:  # pragma: no cover - never called
        raise NotImplementedError

    probe.openapi_schema = None
    assert unclassified(probe.openapi()) == ["CaseDetailWithDiagnosis.diagnosis"]


# --- acceptance 7: routers render; they do not decide about labels or write log rows -----------


def test_no_router_decides_labels_or_writes_access_rows_by_hand() -> None:
    offenders = []
    for folder in ("app/routers", "app/web"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            text = path.read_text()
            for pattern in (r"\blabel_visibility\b", r"\baudit\.allowed\s*\(", r"\bsharing_bases\b"):
                if re.search(pattern, text):
                    offenders.append(f"{Path(path).relative_to(PROJECT_ROOT)}: {pattern}")
    assert offenders == []


# --- the read paths: labels by life domain ----------------------------------------------------


async def _case_with_health_goal(owner_db, world: World, *, phase: str = "active"):
    async with owner_db.sessions() as session:
        case = await add_case(session, world, phase=phase)
        case.substances = ["ghb"]
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one()
        session.add(Goal(plan_id=plan.id, life_domain="substance_use", description=HEALTH_GOAL))
        session.add(Goal(plan_id=plan.id, life_domain="housing", description="Een eigen woning vinden"))
        await session.commit()
    return case


async def test_health_goals_and_substances_follow_their_label(client: httpx.AsyncClient, world: World,
                                                              owner_db) -> None:
    case = await _case_with_health_goal(owner_db, world)
    for reader, sees_health in (("police_member", False), ("wijkteam_member", False), ("chair", False),
                                ("care_liaison", True)):
        body = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers(reader))).json()
        goals = {g["description"] for g in body["plan"]["goals"]}
        assert "Een eigen woning vinden" in goals, reader
        assert (HEALTH_GOAL in goals) is sees_health, reader
        assert body["substances"] == (["ghb"] if sees_health else []), reader
        assert body["substances_hidden"] is (not sees_health), reader
        if not sees_health:
            hidden = [g for g in body["plan"]["goals"] if g["hidden"]]
            assert hidden == [{"id": hidden[0]["id"], "life_domain": None, "description": "afgeschermd",
                               "hidden": True, "basis": None}]


# --- acceptance 5: break-glass ------------------------------------------------------------------


async def test_break_glass_opens_one_case_for_a_while_marked_in_the_log(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await _case_with_health_goal(owner_db, world)
    url = f"/api/v1/cases/{case.id}"
    police = world.headers("police_member")
    assert HEALTH_GOAL not in (await client.get(url, headers=police)).text

    # Without a reason, by a liaison, or on a case of another conference: refused and logged.
    no_reason = await client.post(f"{url}/break-glass", json={"reason": "  "}, headers=police)
    assert no_reason.status_code == 422 and no_reason.headers["content-type"] == "application/problem+json"
    liaison = await client.post(f"{url}/break-glass", json={"reason": "Crisis"},
                                headers=world.headers("police_liaison"))
    assert liaison.status_code == 403
    foreign = await client.post(f"{url}/break-glass", json={"reason": "Crisis"},
                                headers=world.headers("police_member_b"))
    assert foreign.status_code == 404
    refused = await _rows(owner_db, part="break_glass", outcome="denied")
    assert len(refused) == 3
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM break_glass"))).scalar_one() == 0

    opened = await client.post(f"{url}/break-glass", headers=police,
                               json={"reason": "Overdosis gemeld, acuut gevaar", "minutes": 30})
    assert opened.status_code == 201, opened.text
    grant = opened.json()["id"]
    body = (await client.get(url, headers=police)).json()
    shown = [g for g in body["plan"]["goals"] if g["description"] == HEALTH_GOAL]
    assert shown and shown[0]["basis"] == f"break_glass:{grant}" and body["substances"] == ["ghb"]
    marked = [r for r in await _rows(owner_db, case_id=case.id, outcome="allowed")
              if r.basis == f"break_glass:{grant}"]
    assert {(r.action, r.part) for r in marked} >= {("execute", "break_glass"), ("read", None)}
    async with owner_db.sessions() as session:
        told = set((await session.execute(
            sa.select(Notification.membership_id).where(Notification.kind == "break_glass")
        )).scalars())
    assert told == {world.members["privacy_officer"].id, world.members["care_member"].id}
    # Another member of the same organisation has no grant: still hidden for them.
    assert HEALTH_GOAL not in (await client.get(url, headers=world.headers("gemeente_member"))).text

    clock.travel(timedelta(minutes=31))
    try:
        assert HEALTH_GOAL not in (await client.get(url, headers=police)).text
    finally:
        clock.reset()


# --- minimisation by phase -------------------------------------------------------------------


async def test_closed_cases_leave_liaisons_and_narrow_for_members(client: httpx.AsyncClient, world: World,
                                                                  owner_db) -> None:
    case = await _case_with_health_goal(owner_db, world, phase="closed")
    liaison = world.headers("police_liaison")
    listed = (await client.get("/api/v1/cases", headers=liaison)).json()
    assert str(case.id) not in {c["id"] for c in listed["items"]}
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=liaison)).status_code == 404
    body = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))).json()
    assert all(g["hidden"] for g in body["plan"]["goals"]) and body["plan"]["client_goals"] == "afgeschermd"
    chair = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()
    assert "Een eigen woning vinden" in {g["description"] for g in chair["plan"]["goals"]}


# --- acceptance 4: the chair's agenda, flags and timeline answer the same way ---------------------


async def test_the_chair_reads_one_answer_on_agenda_flags_and_timeline(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    clock.freeze(NOW)
    async with owner_db.sessions() as session:
        meeting = await add_meeting(session, world)
        case = await add_case(session, world)
        session.add(PartnerEvent(organisation_id=world.orgs["zorg"].id, source="urn:zorg", event_id="e-1",
                                 type="relapse", subject_reference="REF", client_id=case.client_id,
                                 case_id=case.id, occurred_at=NOW - timedelta(days=1), label="health",
                                 severity="high", data={"substances": ["ghb"]}, payload_hash="0" * 64))
        await session.commit()
    await add_flag(owner_db, case.id, "relapse", NOW - timedelta(days=1), reason="Terugval GHB", label="health")

    async def answers() -> dict[str, bool]:
        """Whether the chair sees the content of the health signal, per place that shows it."""
        draft = await chair_post(client, world, meeting.id, "/agenda/draft")
        assert draft.status_code == 200, draft.text
        item = next(i for i in draft.json()["items"] if i["case_id"] == str(case.id))
        flags = (await client.get(f"/api/v1/cases/{case.id}/flags", headers=world.headers("chair"))).json()
        events = (await client.get(f"/api/v1/cases/{case.id}/events", headers=world.headers("chair"))).json()
        hidden_text = "Signaal (gezondheid) ontvangen, inhoud afgeschermd: bespreken"
        agenda_open = item["reasons"][0]["code"] == "relapse_flag"
        if not agenda_open:
            assert item["reasons"][0]["text"] == hidden_text  # that a health signal needs discussion
            assert flags[0]["reason"] == hidden_text and flags[0]["label"] == "health"
        return {"agenda": agenda_open, "flags": not flags[0]["hidden"], "timeline": not events["items"][0]["hidden"]}

    try:
        assert await answers() == {"agenda": False, "flags": False, "timeline": False}
        async with owner_db.sessions() as session:
            session.add(LegalBasis(case_id=case.id, conference_id=case.conference_id, article="Art. 9 lid 2 sub g AVG",
                                   justification="Zwaarwegend algemeen belang", scope={"health": ["municipality"]},
                                   starts_on=clock.today(), ends_on=clock.today() + timedelta(days=30),
                                   recorded_by_id=world.members["chair"].id))
            await session.commit()
        assert await answers() == {"agenda": True, "flags": True, "timeline": True}
    finally:
        clock.reset()


# --- acceptance 6: a referral with a BSN is a look-up -------------------------------------------

BSN = "111222333"


def _referral(bsn: str | None) -> dict:
    client: dict = {"name": "Piet Voorbeeld", "date_of_birth": "1980-02-03"}
    if bsn:
        client["bsn"] = bsn
    return {"client": client, "reason": "Zorgen over middelengebruik en schulden"}


async def test_a_referral_with_a_bsn_follows_the_look_up_rules(
    client: httpx.AsyncClient, world: World, owner_db, app: FastAPI
) -> None:
    url = f"/api/v1/conferences/{world.a.id}/referrals"
    first = await client.post(url, json=_referral(BSN), headers=world.headers("police_member"))
    assert first.status_code == 201, first.text
    number = first.json()["client_number"]

    # A liaison may not look up: the referral is refused, nothing is written, no number leaks.
    refused = await client.post(url, json=_referral(BSN), headers=world.headers("police_liaison"))
    assert refused.status_code == 403 and number not in refused.text and BSN not in refused.text
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Referral))).scalar_one() == 1
    assert [(r.action, r.part) for r in await _rows(owner_db, outcome="denied")] == [("search", "bsn:referral")]
    # Without a BSN a liaison refers as before: a new client, never someone else's number.
    plain = await client.post(url, json=_referral(None), headers=world.headers("police_liaison"))
    assert plain.status_code == 201 and plain.json()["client_number"] != number

    # Look-ups through referrals count against the same throttle as the look-up route.
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"bsn_lookup_limit": 2})
    try:
        second = await client.post(url, json=_referral(BSN), headers=world.headers("police_member"))
        assert second.status_code == 201
        lookup = await client.post(f"/api/v1/conferences/{world.a.id}/clients/lookup", json={"bsn": BSN},
                                   headers=world.headers("police_member"))
    finally:
        app.state.settings = settings
    assert lookup.status_code == 429 and "Retry-After" in lookup.headers
    searches = await _rows(owner_db, action="search", outcome="allowed")
    assert [r.part for r in searches] == ["bsn:referral", "bsn:referral"]
