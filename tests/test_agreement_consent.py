"""Acceptance 1: consent in a signed agreement (or a legal basis) really gates what partners see."""

from __future__ import annotations

from datetime import timedelta

import httpx

from app.clock import clock
from tests.agreements_support import (
    assessments_seen_by,
    case_with_assessment,
    create,
    driepartijen_body,
    sign_all,
    sign_organisation,
)
from tests.factories import World


async def test_health_reaches_police_only_per_signed_scope_until_withdrawn(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)

    before = await assessments_seen_by(client, world, case, "police_member")
    assert before["hidden"] is True and before["items"] == []

    created = await create(client, world, case)
    assert created.status_code == 201, created.text
    agreement_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    # A draft, and a draft with only the organisations' signatures, is no consent.
    await sign_organisation(client, world, agreement_id, "municipality", "gemeente_member")
    await sign_organisation(client, world, agreement_id, "addiction_care", "care_member")
    assert (await assessments_seen_by(client, world, case, "police_member"))["hidden"] is True

    signed = await sign_all(client, world, agreement_id, signers={})
    assert signed.json()["status"] == "active"
    seen = await assessments_seen_by(client, world, case, "police_member")
    assert seen["hidden"] is False
    assert [i["scores"]["substance_use"] for i in seen["items"]] == [2]
    assert seen["items"][0]["basis"] == f"agreement:{agreement_id}"
    detail = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))).json()
    assert detail["assessments"]["items"][0]["basis"] == f"agreement:{agreement_id}"
    # Outside the scope: the neighbourhood team still sees nothing.
    assert (await assessments_seen_by(client, world, case, "wijkteam_member"))["hidden"] is True

    withdrawn = await client.post(
        f"/api/v1/agreements/{agreement_id}/withdrawals",
        json={"whole": False, "label": "health", "organisation_kinds": ["police"]},
        headers=world.headers("care_member"),
    )
    assert withdrawn.status_code == 201, withdrawn.text
    assert withdrawn.json()["effective_scope"]["health"] == ["municipality"]
    # The very next request: hidden from the police, still shared with the municipality.
    assert (await assessments_seen_by(client, world, case, "police_member"))["hidden"] is True
    municipality = await assessments_seen_by(client, world, case, "gemeente_member")
    assert municipality["hidden"] is False and municipality["items"][0]["basis"] == f"agreement:{agreement_id}"


async def test_sharing_ends_at_expiry(client: httpx.AsyncClient, world: World, owner_db) -> None:
    case = await case_with_assessment(owner_db, world)
    ends_on = clock.today() + timedelta(days=30)

    created = await create(client, world, case, driepartijen_body(world, ends_on=ends_on.isoformat()))
    agreement_id = created.json()["id"]
    await sign_all(client, world, agreement_id)
    assert (await assessments_seen_by(client, world, case, "police_member"))["hidden"] is False

    clock.travel(timedelta(days=30))  # the last day still counts
    assert (await assessments_seen_by(client, world, case, "police_member"))["hidden"] is False
    clock.travel(timedelta(days=1))
    assert (await assessments_seen_by(client, world, case, "police_member"))["hidden"] is True
    assert (await assessments_seen_by(client, world, case, "gemeente_member"))["hidden"] is True
    agreement = (await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("chair"))).json()
    assert agreement["status"] == "expired" and agreement["effective_scope"] == {}


async def test_whole_withdrawal_ends_all_sharing_at_once(client: httpx.AsyncClient, world: World, owner_db) -> None:
    case = await case_with_assessment(owner_db, world)
    agreement_id = (await create(client, world, case)).json()["id"]
    await sign_all(client, world, agreement_id)
    response = await client.post(f"/api/v1/agreements/{agreement_id}/withdrawals", json={"whole": True},
                                 headers=world.headers("gemeente_member"))
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "withdrawn"
    for person in ("police_member", "gemeente_member"):
        assert (await assessments_seen_by(client, world, case, person))["hidden"] is True
    again = await client.post(f"/api/v1/agreements/{agreement_id}/withdrawals", json={"whole": True},
                              headers=world.headers("gemeente_member"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_legal_basis_by_the_chair_shares_until_its_end_and_is_shown_beside_consent(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)
    body = {"article": "Art. 9 lid 2 sub g AVG jo. Wet verplichte ggz",
            "justification": "Acuut gevaar voor de cliënt; de politie moet de behandelsituatie kennen.",
            "scope": {"health": ["police"]}, "ends_on": (clock.today() + timedelta(days=14)).isoformat()}
    refused = await client.post(f"/api/v1/cases/{case.id}/legal-bases", json=body,
                                headers=world.headers("gemeente_member"))
    assert refused.status_code == 403
    recorded = await client.post(f"/api/v1/cases/{case.id}/legal-bases", json=body, headers=world.headers("chair"))
    assert recorded.status_code == 201, recorded.text
    basis_id = recorded.json()["id"]

    seen = await assessments_seen_by(client, world, case, "police_member")
    assert seen["hidden"] is False and seen["items"][0]["basis"] == f"legal_basis:{basis_id}"
    agreement_id = (await create(client, world, case)).json()["id"]
    await sign_all(client, world, agreement_id)
    sharing = (await client.get(f"/api/v1/cases/{case.id}/sharing", headers=world.headers("police_member"))).json()
    assert [b["basis"] for b in sharing["consent"]] == [f"agreement:{agreement_id}"]
    assert [b["basis"] for b in sharing["legal_bases"]] == [f"legal_basis:{basis_id}"]
    assert sharing["legal_bases"][0]["title"].startswith("Art. 9")

    await client.post(f"/api/v1/agreements/{agreement_id}/withdrawals", json={"whole": True},
                      headers=world.headers("care_member"))
    clock.travel(timedelta(days=15))
    assert (await assessments_seen_by(client, world, case, "police_member"))["hidden"] is True
    listed = (await client.get(f"/api/v1/cases/{case.id}/legal-bases", headers=world.headers("chair"))).json()
    assert listed[0]["in_force"] is False
