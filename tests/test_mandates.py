"""The mandate check: an action that claims a resource is covered only by a mandate of that scope,
valid today, with enough amount; otherwise it is recorded as escalation_required and listed for
the chair."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.clock import clock
from tests.factories import World, add_case, add_mandate


def _action(world: World, **extra) -> dict:
    body = {
        "title": "Woning toewijzen",
        "life_domain": "housing",
        "owner_organisation_id": str(world.orgs["gemeente"].id),
        "assignee_id": str(world.members["gemeente_member"].id),
        "due_date": (clock.today() + timedelta(days=14)).isoformat(),
        "resource_scope": "housing_allocation",
        "resource_amount_cents": 50_000,
    }
    body.update(extra)
    return body


@pytest.mark.parametrize(
    ("mandate", "expected"),
    [
        ({"scope": "housing_allocation", "max_amount_cents": 100_000}, "covered"),
        ({"scope": "housing_allocation", "max_amount_cents": None}, "covered"),
        ({"scope": "housing_allocation", "max_amount_cents": 100_000, "expired": True}, "escalation_required"),
        ({"scope": "housing_allocation", "max_amount_cents": 100_000, "future": True}, "escalation_required"),
        ({"scope": "debt_fast_track", "max_amount_cents": 100_000}, "escalation_required"),
        ({"scope": "housing_allocation", "max_amount_cents": 10_000}, "escalation_required"),
        (None, "escalation_required"),
    ],
    ids=["covered", "unlimited", "expired", "not-yet-valid", "wrong-scope", "amount-too-high", "no-mandate"],
)
async def test_mandate_check(client, world: World, owner_db, mandate, expected) -> None:
    today = clock.today()
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        if mandate is not None:
            kwargs = {}
            if mandate.get("expired"):
                kwargs = {"valid_from": today - timedelta(days=400), "valid_to": today - timedelta(days=1)}
            if mandate.get("future"):
                kwargs = {"valid_from": today + timedelta(days=1), "valid_to": today + timedelta(days=30)}
            await add_mandate(session, world.members["gemeente_member"], mandate["scope"],
                              max_amount_cents=mandate["max_amount_cents"], **kwargs)
        await session.commit()
    response = await client.post(f"/api/v1/cases/{case.id}/actions", json=_action(world),
                                 headers=world.headers("gemeente_member"))
    assert response.status_code == 201, response.text
    assert response.json()["coverage"] == expected
    assert (response.json()["mandate_id"] is not None) == (expected == "covered")
    escalations = await client.get(f"/api/v1/conferences/{world.a.id}/escalations", headers=world.headers("chair"))
    assert escalations.status_code == 200
    listed = [a["id"] for a in escalations.json()["items"]]
    assert (response.json()["id"] in listed) == (expected == "escalation_required")


async def test_committing_for_another_organisation_is_not_covered(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await add_mandate(session, world.members["police_member"], "housing_allocation", max_amount_cents=10**9)
        await session.commit()
    response = await client.post(f"/api/v1/cases/{case.id}/actions", json=_action(world),
                                 headers=world.headers("police_member"))
    assert response.status_code == 201
    assert response.json()["coverage"] == "escalation_required"


async def test_action_without_resource_needs_no_mandate(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    body = _action(world, resource_scope=None, resource_amount_cents=None)
    response = await client.post(f"/api/v1/cases/{case.id}/actions", json=body, headers=world.headers("gemeente_member"))
    assert response.status_code == 201
    assert response.json()["coverage"] == "not_applicable"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"life_domain": "astrology"}, "#/life_domain"),
        ({"due_date": "2000-01-01"}, "#/due_date"),
        ({"assignee_id": "POLICE"}, "#/assignee_id"),
        ({"owner_organisation_id": "OTHER_CONF_ORG"}, "#/owner_organisation_id"),
        ({"owner_org": "x"}, "#/owner_org"),
    ],
    ids=["unknown-life-domain", "due-before-opened", "assignee-other-org", "org-not-in-conference", "unknown-field"],
)
async def test_bad_action_input_is_refused_and_nothing_written(client, world: World, owner_db, change, pointer) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        from app.models import Organisation

        outsider = Organisation(name="Woningcorporatie", slug="woco", kind="housing")
        session.add(outsider)
        await session.commit()
    if change.get("assignee_id") == "POLICE":
        change = {"assignee_id": str(world.members["police_liaison"].id)}
    if change.get("owner_organisation_id") == "OTHER_CONF_ORG":
        change = {"owner_organisation_id": str(outsider.id), "assignee_id": None}
    response = await client.post(f"/api/v1/cases/{case.id}/actions", json=_action(world, **change),
                                 headers=world.headers("gemeente_member"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["pointer"] == pointer
    listed = await client.get("/api/v1/actions", params={"case_id": str(case.id)}, headers=world.headers("chair"))
    assert listed.json()["total"] == 0


async def test_a_member_cannot_commit_under_another_members_mandate(client, world: World, owner_db) -> None:
    """The chair has a large housing mandate; a police member names the chair as the committer
    of a municipality action: refused (403), nothing written, the refusal in the access log."""
    import sqlalchemy as sa

    from app.models import AccessLogEntry, Action

    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await add_mandate(session, world.members["chair"], "housing_allocation", max_amount_cents=10**9)
        await session.commit()
    body = _action(world, committed_by_id=str(world.members["chair"].id), resource_amount_cents=500_000)
    response = await client.post(f"/api/v1/cases/{case.id}/actions", json=body,
                                 headers=world.headers("police_member"))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "committed_by_id" in response.json()["detail"]
    # the chair too commits only themselves outside a meeting's decision
    body = _action(world, committed_by_id=str(world.members["gemeente_member"].id))
    chair = await client.post(f"/api/v1/cases/{case.id}/actions", json=body, headers=world.headers("chair"))
    assert chair.status_code == 403
    async with owner_db.sessions() as session:
        count = (await session.execute(sa.select(sa.func.count()).select_from(Action))).scalar_one()
        denied = (
            await session.execute(
                sa.select(AccessLogEntry.actor_subject).where(
                    AccessLogEntry.outcome == "denied", AccessLogEntry.resource_type == "action"
                )
            )
        ).scalars().all()
    assert count == 0
    assert sorted(denied) == ["chair-sub", "police_member-sub"]
    # naming yourself is the same as leaving it out: covered by your own mandate only
    async with owner_db.sessions() as session:
        await add_mandate(session, world.members["gemeente_member"], "housing_allocation", max_amount_cents=10**6)
        await session.commit()
    own = _action(world, committed_by_id=str(world.members["gemeente_member"].id), resource_amount_cents=500_000)
    mine = await client.post(f"/api/v1/cases/{case.id}/actions", json=own, headers=world.headers("gemeente_member"))
    assert mine.status_code == 201, mine.text
    assert mine.json()["coverage"] == "covered"
    assert mine.json()["committed_by_id"] == str(world.members["gemeente_member"].id)


@pytest.mark.parametrize(("amount", "status"), [(9_999_999_999, 201), (10_000_000_000, 201), (10_000_000_001, 422)])
async def test_amounts_fit_the_column(client, world: World, owner_db, amount, status) -> None:
    """The schema's maximum (10^10 cents) is beyond 32 bits: the columns are bigint, so no 500."""
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    response = await client.post(f"/api/v1/cases/{case.id}/actions", json=_action(world, resource_amount_cents=amount),
                                 headers=world.headers("gemeente_member"))
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["resource_amount_cents"] == amount
    else:
        assert response.json()["errors"][0]["pointer"] == "#/resource_amount_cents"
    mandate = await client.post(
        f"/api/v1/memberships/{world.members['gemeente_member'].id}/mandates",
        json={"scope": "budget", "max_amount_cents": amount, "valid_from": clock.today().isoformat(),
              "granted_by": "Directie"},
        headers=world.headers("admin"),
    )
    assert mandate.status_code == status, mandate.text
