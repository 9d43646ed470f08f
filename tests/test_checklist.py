"""Acceptance 4: the intake checklist reflects the data; the agreement's item ticks itself."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.jobs.registry import build_registry
from app.models import Notification
from tests.agreements_support import case_with_assessment, create, driepartijen_body, sign_all
from tests.factories import World


def _items(body: dict) -> dict[str, bool]:
    return {i["key"]: i["done"] for i in body["items"]}


async def _checklist(client: httpx.AsyncClient, world: World, case, person: str = "care_member") -> dict:
    response = await client.get(f"/api/v1/cases/{case.id}/checklist", headers=world.headers(person))
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


async def test_signing_the_agreement_ticks_its_item_without_a_manual_step(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)
    before = await _checklist(client, world, case)
    assert _items(before)["agreement_signed"] is False
    assert _items(before)["case_director_named"] is True
    assert before["complete"] is False and before["total"] == 6

    agreement_id = (await create(client, world, case)).json()["id"]
    await sign_all(client, world, agreement_id)
    after = await _checklist(client, world, case)
    assert _items(after)["agreement_signed"] is True
    assert after["done"] == before["done"] + 1
    shown = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()
    assert shown["intake_checklist"] == {"complete": False, "done": after["done"], "total": 6}

    await client.post(f"/api/v1/agreements/{agreement_id}/withdrawals", json={"whole": True},
                      headers=world.headers("care_member"))
    assert _items(await _checklist(client, world, case))["agreement_signed"] is False


async def test_plan_review_date_and_manual_items_complete_the_checklist(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world, opened_on=clock.today() - timedelta(days=10))
    agreement_id = (await create(client, world, case)).json()["id"]
    await sign_all(client, world, agreement_id)

    refused = await client.put(f"/api/v1/cases/{case.id}/checklist/agreement_signed", json={"done": True},
                               headers=world.headers("care_member"))
    assert refused.status_code == 422
    for item in ("client_informed", "partners_information_gathered"):
        ticked = await client.put(f"/api/v1/cases/{case.id}/checklist/{item}", json={"done": True},
                                  headers=world.headers("care_member"))
        assert ticked.status_code == 200, ticked.text

    plan = await client.get(f"/api/v1/cases/{case.id}/plan", headers=world.headers("chair"))
    updated = await client.patch(f"/api/v1/cases/{case.id}/plan",
                                 json={"goals": [{"life_domain": "housing", "description": "Een eigen kamer."}]},
                                 headers=world.headers("chair", **{"If-Match": plan.headers["ETag"]}))
    assert updated.status_code == 200, updated.text
    listed = await client.get("/api/v1/checklists", headers=world.headers("chair"))
    assert [c["case_id"] for c in listed.json()] == [str(case.id)]
    assert _items(listed.json()[0])["first_review_date_set"] is False

    current = await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))
    review = await client.patch(f"/api/v1/cases/{case.id}",
                                json={"next_review_date": (clock.today() + timedelta(days=42)).isoformat()},
                                headers=world.headers("chair", **{"If-Match": current.headers["ETag"]}))
    assert review.status_code == 200, review.text
    done = await _checklist(client, world, case)
    assert done["complete"] is True, done
    assert (await client.get("/api/v1/checklists", headers=world.headers("chair"))).json() == []
    assert (await client.get("/api/v1/checklists", headers=world.headers("police_member"))).status_code == 403


async def test_a_plan_made_after_four_weeks_does_not_count(client: httpx.AsyncClient, world: World, owner_db) -> None:
    case = await case_with_assessment(owner_db, world, opened_on=clock.today() - timedelta(days=40))
    plan = await client.get(f"/api/v1/cases/{case.id}/plan", headers=world.headers("chair"))
    await client.patch(f"/api/v1/cases/{case.id}/plan",
                       json={"goals": [{"life_domain": "finances", "description": "Schulden op een rij."}]},
                       headers=world.headers("chair", **{"If-Match": plan.headers["ETag"]}))
    item = next(i for i in (await _checklist(client, world, case))["items"] if i["key"] == "plan_within_four_weeks")
    assert item["done"] is False and item["overdue"] is True


async def test_expiry_warnings_reach_the_case_director_once(
    client: httpx.AsyncClient, world: World, owner_db, app
) -> None:
    case = await case_with_assessment(owner_db, world)
    ends_on = clock.today() + timedelta(days=60)
    agreement_id = (await create(client, world, case, driepartijen_body(world, ends_on=ends_on.isoformat()))).json()["id"]
    await sign_all(client, world, agreement_id)
    settings = app.state.settings
    job = next(j for j in build_registry(settings) if j.id == "expiry.warnings")
    assert (await job.func(app.state.db, clock.now()))["agreements"] == 0
    clock.travel(timedelta(days=60 - settings.expiry_warning_days))
    assert (await job.func(app.state.db, clock.now()))["agreements"] == 1
    assert (await job.func(app.state.db, clock.now()))["agreements"] == 0  # once per agreement and day
    async with owner_db.sessions() as session:
        warning = (await session.execute(sa.select(Notification))).scalar_one()
    assert (warning.kind, warning.ref_id, warning.due_on) == ("agreement_expiring", uuid.UUID(agreement_id), ends_on)
    assert warning.membership_id == world.members["care_member"].id
