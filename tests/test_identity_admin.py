"""Registering identity providers (claim mapping, groups-to-roles seeding, typ check) and
partner systems through the admin API, and what that does to the tokens that come in."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from app.models import AccessLogEntry, Membership
from tests.factories import ADMIN_OF, World


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _patch_org(client: httpx.AsyncClient, world: World, slug: str, body: dict) -> httpx.Response:
    return await client.patch(
        f"/api/v1/organisations/{world.orgs[slug].id}", json=body, headers=world.headers(ADMIN_OF[slug])
    )


async def test_groups_claim_seeds_memberships_once(client: httpx.AsyncClient, world: World, owner_db) -> None:
    mapping = {
        "groups": "groups",
        "group_roles": {
            "cg-voorzitter": {"role": "chair", "conference_id": str(world.a.id)},
            "cg-b": [{"role": "member", "conference_id": str(world.b.id)}],
        },
    }
    response = await _patch_org(client, world, "gemeente", {"claim_mapping": mapping})
    assert response.status_code == 200, response.text
    assert response.json()["claim_mapping"]["group_roles"]["cg-voorzitter"]["role"] == "chair"

    token = world.idp.token(
        "gemeente",
        "nieuw-1",
        audience="casusoverleg",
        name="Nina Nieuw",
        extra={"groups": ["cg-voorzitter", "cg-b", "iets-anders"]},
    )
    for _ in range(2):  # the second sign-in finds the memberships and seeds nothing more
        me = await client.get("/api/v1/me", headers=_bearer(token))
        assert me.status_code == 200, me.text
        roles = sorted((m["conference_id"], m["role"]) for m in me.json()["memberships"])
        assert roles == sorted([(str(world.a.id), "chair"), (str(world.b.id), "member")])
        assert me.json()["display_name"] == "Nina Nieuw"
    async with owner_db.sessions() as session:
        count = (
            await session.execute(
                sa.select(sa.func.count()).select_from(Membership).where(Membership.subject == "nieuw-1")
            )
        ).scalar_one()
    assert count == 2

    # the seeded chair can act as chair in A: list the escalations of A
    escalations = await client.get(f"/api/v1/conferences/{world.a.id}/escalations", headers=_bearer(token))
    assert escalations.status_code == 200


async def test_groups_never_reseed_a_deactivated_person(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    await _patch_org(
        client,
        world,
        "gemeente",
        {
            "claim_mapping": {
                "groups": "groups",
                "group_roles": {"cg-voorzitter": {"role": "chair", "conference_id": str(world.a.id)}},
            }
        },
    )
    async with owner_db.sessions() as session:
        await session.execute(
            sa.update(Membership).where(Membership.subject == "gemeente_member-sub").values(active=False)
        )
        await session.commit()
    token = world.idp.token(
        "gemeente", "gemeente_member-sub", audience="casusoverleg", extra={"groups": ["cg-voorzitter"]}
    )
    assert (await client.get("/api/v1/me", headers=_bearer(token))).status_code == 401


async def test_groups_of_another_provider_grant_nothing(client: httpx.AsyncClient, world: World) -> None:
    """The municipality's group mapping does not apply to tokens of the police provider."""
    await _patch_org(
        client,
        world,
        "gemeente",
        {
            "claim_mapping": {
                "groups": "groups",
                "group_roles": {"cg-voorzitter": {"role": "chair", "conference_id": str(world.a.id)}},
            }
        },
    )
    token = world.idp.token(
        "politie", "nieuw-2", audience="casusoverleg", extra={"groups": ["cg-voorzitter"]}
    )
    assert (await client.get("/api/v1/me", headers=_bearer(token))).status_code == 401


async def test_group_mapping_is_validated(client: httpx.AsyncClient, world: World) -> None:
    wijkteam_not_in_b = {
        "groups": "groups",
        "group_roles": {"x": {"role": "member", "conference_id": str(world.b.id)}},
    }
    bad = [
        {"claim_mapping": {"group_roles": {"x": {"role": "chair", "conference_id": str(world.a.id)}}}},
        {
            "claim_mapping": {
                "groups": "groups",
                "group_roles": {"x": {"role": "king", "conference_id": str(world.a.id)}},
            }
        },
        {"claim_mapping": {"subject": "bad claim name with spaces"}},
        {"claim_mapping": wijkteam_not_in_b},  # the neighbourhood team does not take part in B
        {"issuer": "not a url"},
        {"owner": "me"},
    ]
    for body in bad:
        response = await _patch_org(client, world, "wijkteam", body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_subject_claim_mapping(client: httpx.AsyncClient, world: World) -> None:
    response = await _patch_org(client, world, "politie", {"claim_mapping": {"subject": "employee_id"}})
    assert response.status_code == 200, response.text
    token = world.idp.token(
        "politie", "opaque-123", audience="casusoverleg", extra={"employee_id": "police_member-sub"}
    )
    me = await client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["organisation_id"] == str(world.orgs["politie"].id)
    # without that claim, nobody
    plain = world.idp.token("politie", "police_member-sub", audience="casusoverleg")
    assert (await client.get("/api/v1/me", headers=_bearer(plain))).status_code == 401


async def test_withdrawing_or_moving_the_issuer_takes_effect_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    before = world.headers("wijkteam_member")
    assert (await client.get("/api/v1/me", headers=before)).status_code == 200
    # another organisation's issuer cannot be taken over
    taken = await _patch_org(client, world, "wijkteam", {"issuer": world.orgs["politie"].issuer})
    assert taken.status_code == 409
    response = await _patch_org(client, world, "wijkteam", {"issuer": None})
    assert response.status_code == 200 and response.json()["issuer"] is None
    assert (await client.get("/api/v1/me", headers=before)).status_code == 401
    # a new issuer: memberships stay bound to the old one (a `sub` is only unique per issuer);
    # it takes effect when a second administrator approves (the first is the police's own here)
    moved = await client.patch(f"/api/v1/organisations/{world.orgs['politie'].id}",
                               json={"issuer": world.idp.issuer("politie-nieuw")},
                               headers=world.headers("police_admin"))
    assert moved.status_code == 202, moved.text
    change = moved.json()["pending_changes"][0]["id"]
    approved = await client.post(
        f"/api/v1/organisations/{world.orgs['politie'].id}/identity-changes/{change}/approve",
        headers=world.headers("police_admin_2"),
    )
    assert approved.status_code == 200, approved.text
    same_sub = world.idp.token("politie-nieuw", "police_member-sub", audience="casusoverleg")
    assert (await client.get("/api/v1/me", headers=_bearer(same_sub))).status_code == 401


async def test_require_typ_flag_through_the_api(client: httpx.AsyncClient, world: World) -> None:
    response = await _patch_org(client, world, "zorg", {"require_typ_at_jwt": True})
    assert response.status_code == 200 and response.json()["require_typ_at_jwt"] is True
    assert (await client.get("/api/v1/me", headers=world.headers("care_member"))).status_code == 401
    assert (await client.get("/api/v1/me", headers=world.headers("police_member"))).status_code == 200


async def test_partner_system_registration(client: httpx.AsyncClient, world: World, owner_db) -> None:
    admin = world.headers("care_admin")
    zorg = world.orgs["zorg"].id
    url = f"/api/v1/organisations/{zorg}/partner-systems"
    created = await client.post(
        url, headers=admin, json={"name": "EPD", "subject": "epd-client", "scopes": ["events:write"]}
    )
    assert created.status_code == 201, created.text
    system = created.json()
    assert system["scopes"] == ["events:write"] and system["active"] is True
    duplicate = await client.post(
        url, headers=admin, json={"name": "EPD 2", "subject": "epd-client", "scopes": ["events:write"]}
    )
    assert duplicate.status_code == 409
    unknown_scope = await client.post(
        url, headers=admin, json={"name": "X", "subject": "x", "scopes": ["cases:write-everything"]}
    )
    assert unknown_scope.status_code == 422
    listed = await client.get(url, headers=admin)
    assert [s["subject"] for s in listed.json()] == ["epd-client"]

    # a token of the care provider with that subject is this partner system, with at most its scopes
    token = world.idp.token(
        "zorg", "epd-client", audience="casusoverleg", scope="events:write webhooks:manage"
    )
    me = await client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200
    assert me.json()["kind"] == "system" and me.json()["scopes"] == ["events:write"]
    assert me.json()["organisation_id"] == str(zorg)
    # the same subject from another provider is nobody
    other = world.idp.token("politie", "epd-client", audience="casusoverleg", scope="events:write")
    assert (await client.get("/api/v1/me", headers=_bearer(other))).status_code == 401

    deactivated = await client.patch(f"{url}/{system['id']}", headers=admin, json={"active": False})
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert (await client.get("/api/v1/me", headers=_bearer(token))).status_code == 401
    # a system of another organisation cannot be reached through this one
    police_system = world.systems["police_system"].id
    wrong = await client.patch(f"{url}/{police_system}", headers=admin, json={"active": False})
    assert wrong.status_code == 404


async def test_only_admins_manage_providers_and_denials_are_logged(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    org = world.orgs["gemeente"].id
    for person in ("chair", "privacy_officer", "police_system"):
        response = await client.patch(
            f"/api/v1/organisations/{org}", json={"audience": "x"}, headers=world.headers(person)
        )
        assert response.status_code == 403, person
        response = await client.post(
            f"/api/v1/organisations/{org}/partner-systems",
            json={"name": "X", "subject": "x", "scopes": ["events:write"]},
            headers=world.headers(person),
        )
        assert response.status_code == 403, person
    async with owner_db.sessions() as session:
        rows = (
            (
                await session.execute(
                    sa.select(AccessLogEntry).where(
                        AccessLogEntry.outcome == "denied", AccessLogEntry.resource_type == "organisation"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert {r.actor_subject for r in rows} == {"chair-sub", "privacy_officer-sub", "police-system"}
