"""Administrators govern only what is theirs: an organisation's identity settings and partner
systems by that organisation's own administrators, a change of issuer or keys only with a
second administrator's approval, conferences by their own administrators, no role granted to
oneself; every administrative change recorded with before and after, and reviewable."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import sqlalchemy as sa

from app.auth.dev_idp import mint_token
from app.clock import clock
from app.models import AccessLogEntry, AdminChange, Client, Membership, Organisation
from tests.factories import World, add_case


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _forged(world: World, subject: str) -> str:
    """A token that names the police's issuer but is signed with a key of the attacker's own."""
    return mint_token(world.idp.store, slug="aanvaller", issuer=world.orgs["politie"].issuer or "",
                      subject=subject, audience="casusoverleg", now=clock.now().timestamp())


async def _denied_rows(owner_db, **where: Any) -> list[AccessLogEntry]:
    async with owner_db.sessions() as session:
        query = sa.select(AccessLogEntry).where(AccessLogEntry.outcome == "denied")
        for name, value in where.items():
            query = query.where(getattr(AccessLogEntry, name) == value)
        return list((await session.execute(query)).scalars())


async def _changes(client: httpx.AsyncClient, world: World, person: str, **params: str) -> list[dict]:
    response = await client.get("/api/v1/admin-changes", params=params, headers=world.headers(person))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_conference_admin_cannot_change_another_organisations_identity(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """The issue's first finding: the municipality's administrator (of conference A, and of the
    municipality) points the police's JWKS at a key of their own. Refused, logged, unchanged."""
    police = world.orgs["politie"]
    attacker_jwks = f"{world.idp.issuer('aanvaller')}/jwks.json"
    admin = world.headers("admin")
    calls = [
        ("PATCH", f"/api/v1/organisations/{police.id}", {"jwks_uri": attacker_jwks}),
        ("PATCH", f"/api/v1/organisations/{police.id}", {"audience": "iets-anders"}),
        ("GET", f"/api/v1/organisations/{police.id}/identity", None),
        ("GET", f"/api/v1/organisations/{police.id}/partner-systems", None),
        ("POST", f"/api/v1/organisations/{police.id}/partner-systems",
         {"name": "Achterdeur", "subject": "achterdeur", "scopes": ["cases:read-minimal"]}),
        ("PATCH", f"/api/v1/organisations/{police.id}/partner-systems/{world.systems['police_system'].id}",
         {"scopes": ["cases:read-minimal", "webhooks:manage"]}),
    ]
    for method, url, body in calls:
        response = await client.request(method, url, json=body, headers=admin)
        assert response.status_code == 403, (method, url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # the police's own people other than its administrators are refused too
    for person in ("police_member", "police_system"):
        response = await client.patch(f"/api/v1/organisations/{police.id}", json={"jwks_uri": attacker_jwks},
                                      headers=world.headers(person))
        assert response.status_code == 403, person
    async with owner_db.sessions() as session:
        stored = await session.get(Organisation, police.id)
        assert stored is not None and stored.jwks_uri is None and stored.audience == "casusoverleg"
        assert (await session.execute(sa.select(sa.func.count()).select_from(AdminChange))).scalar_one() == 0
    refused = await _denied_rows(owner_db, resource_type="organisation", resource_id=str(police.id))
    assert len(refused) == len(calls) + 2
    assert {r.actor_subject for r in refused} == {"admin-sub", "police_member-sub", "police-system"}
    # the forged token reads nothing
    assert (await client.get("/api/v1/cases", headers=_bearer(_forged(world, "police_member_b-sub")))).status_code == 401


async def test_forged_jwks_needs_a_second_police_administrator(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """Even one of the police's own administrators cannot make a key of their own trusted: the
    change waits for a second administrator, the others are notified, and until then a token
    signed with that key reads no case of any conference."""
    police = world.orgs["politie"]
    async with owner_db.sessions() as session:
        case_b = await add_case(session, world, conference=world.b, director=None)
        await session.commit()
    attacker_jwks = f"{world.idp.issuer('aanvaller')}/jwks.json"
    response = await client.patch(f"/api/v1/organisations/{police.id}", json={"jwks_uri": attacker_jwks},
                                  headers=world.headers("police_admin"))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["jwks_uri"] is None  # unchanged
    [pending] = body["pending_changes"]
    assert pending["status"] == "pending" and pending["changes"] == {"jwks_uri": attacker_jwks}
    forged = _bearer(_forged(world, "police_member_b-sub"))
    assert (await client.get(f"/api/v1/cases/{case_b.id}", headers=forged)).status_code == 401
    assert (await client.get("/api/v1/cases", headers=forged)).status_code == 401
    # the police's other administrator is told (ids only), and may reject it
    notices = await client.get("/api/v1/me/notifications", headers=world.headers("police_admin_2"))
    assert notices.status_code == 200, notices.text
    assert [(n["kind"], n["ref_id"]) for n in notices.json()] == [("identity_change_requested", pending["id"])]
    url = f"/api/v1/organisations/{police.id}/identity-changes/{pending['id']}"
    # the requester cannot approve their own request; the refusal is logged
    own = await client.post(f"{url}/approve", headers=world.headers("police_admin"))
    assert own.status_code == 403, own.text
    assert await _denied_rows(owner_db, actor_subject="police_admin-sub", part="identity_change")
    # an administrator of another organisation cannot approve it either
    assert (await client.post(f"{url}/approve", headers=world.headers("admin"))).status_code == 403
    rejected = await client.post(f"{url}/reject", headers=world.headers("police_admin_2"))
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await client.post(f"{url}/approve", headers=world.headers("police_admin_2"))).status_code == 409
    assert (await client.get(f"/api/v1/cases/{case_b.id}", headers=forged)).status_code == 401
    # the real police member still signs in with the real keys
    assert (await client.get(f"/api/v1/cases/{case_b.id}", headers=world.headers("police_member_b"))).status_code == 200


async def test_an_approved_key_change_takes_effect_and_is_recorded(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    police = world.orgs["politie"]
    new_jwks = f"{police.issuer}/jwks.json"  # the same provider's JWKS, now named explicitly
    requested = await client.patch(f"/api/v1/organisations/{police.id}",
                                   json={"jwks_uri": new_jwks, "claim_mapping": {"email": "mail"}},
                                   headers=world.headers("police_admin"))
    assert requested.status_code == 202
    assert requested.json()["claim_mapping"]["email"] == "mail"  # not a key: at once
    change = requested.json()["pending_changes"][0]["id"]
    approved = await client.post(f"/api/v1/organisations/{police.id}/identity-changes/{change}/approve",
                                 headers=world.headers("police_admin_2"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "applied" and approved.json()["decided_by_subject"] == "police_admin_2-sub"
    identity = await client.get(f"/api/v1/organisations/{police.id}/identity", headers=world.headers("police_admin"))
    assert identity.json()["jwks_uri"] == new_jwks and identity.json()["pending_changes"] == []

    changes = await _changes(client, world, "police_admin_2")
    summary = [(c["entity_type"], c["operation"], c["actor_subject"], c["before"], c["after"]) for c in changes]
    mapping = next(c for c in changes if c["operation"] == "update")
    assert mapping["before"] == {"claim_mapping": {}} and mapping["after"]["claim_mapping"]["email"] == "mail"
    assert ("identity_change", "request", "police_admin-sub", {"jwks_uri": None}, {"jwks_uri": new_jwks}) in summary
    assert ("organisation_identity", "approve", "police_admin_2-sub",
            {"issuer": police.issuer, "jwks_uri": None, "discovery_url": police.discovery_url},
            {"issuer": police.issuer, "jwks_uri": new_jwks, "discovery_url": police.discovery_url}) in summary
    # the municipality's administrator does not see the police's changes
    assert await _changes(client, world, "admin", organisation_id=str(police.id)) == []


async def test_nobody_grants_a_role_or_mandate_to_themselves(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    admin = world.members["admin"]
    self_grant = await client.post(
        f"/api/v1/conferences/{world.a.id}/memberships",
        json={"organisation_id": str(world.orgs["gemeente"].id), "subject": admin.subject,
              "display_name": "Ik", "role": "chair"},
        headers=world.headers("admin"),
    )
    assert self_grant.status_code == 403, self_grant.text
    assert "themselves" in self_grant.json()["detail"]
    own_mandate = await client.post(
        f"/api/v1/memberships/{admin.id}/mandates",
        json={"scope": "budget", "valid_from": clock.today().isoformat(), "granted_by": "Ik"},
        headers=world.headers("admin"),
    )
    assert own_mandate.status_code == 403
    async with owner_db.sessions() as session:
        roles = (
            await session.execute(sa.select(Membership.role).where(Membership.subject == admin.subject))
        ).scalars().all()
    assert roles == ["admin"]
    refused = await _denied_rows(owner_db, actor_subject="admin-sub")
    assert sorted(r.resource_type for r in refused) == ["mandate", "membership"]
    # the admin of conference A has no say in conference B (404: B is not theirs to know)
    other = await client.post(
        f"/api/v1/conferences/{world.b.id}/memberships",
        json={"organisation_id": str(world.orgs["gemeente"].id), "subject": "iemand",
              "display_name": "Iemand", "role": "member"},
        headers=world.headers("admin"),
    )
    assert other.status_code == 404


async def test_every_administrative_change_is_reviewable_with_before_and_after(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    gemeente = world.orgs["gemeente"]
    # a conference created by an administrator gets that administrator as its administrator
    created = await client.post("/api/v1/conferences", json={"name": "Casusoverleg C", "municipality": "C-stad",
                                                             "cadence": {"weekday": "monday"}},
                                headers=world.headers("gemeente_admin_2"))
    assert created.status_code == 201, created.text
    conference_c = created.json()["id"]
    members = await client.get(f"/api/v1/conferences/{conference_c}/memberships",
                               headers=world.headers("gemeente_admin_2"))
    assert members.status_code == 200, members.text
    assert [(m["role"], m["organisation_id"]) for m in members.json()] == [("admin", str(gemeente.id))]
    # ... who manages it: a chair for it (not themselves), and that chair's mandate
    chair = await client.post(
        f"/api/v1/conferences/{conference_c}/memberships",
        json={"organisation_id": str(gemeente.id), "subject": "chair-sub", "display_name": "Voorzitter C",
              "role": "chair"},
        headers=world.headers("gemeente_admin_2"),
    )
    assert chair.status_code == 201, chair.text
    mandate = await client.post(
        f"/api/v1/memberships/{chair.json()['id']}/mandates",
        json={"scope": "budget", "max_amount_cents": 100_000, "valid_from": "2026-01-01", "granted_by": "Directie"},
        headers=world.headers("gemeente_admin_2"),
    )
    assert mandate.status_code == 201, mandate.text
    # the administrator of conference A has no say in C
    assert (await client.post(
        f"/api/v1/conferences/{conference_c}/memberships",
        json={"organisation_id": str(gemeente.id), "subject": "x", "display_name": "X", "role": "member"},
        headers=world.headers("admin"),
    )).status_code == 404
    # identity settings and a partner system of the municipality, by its administrator
    assert (await client.patch(f"/api/v1/organisations/{gemeente.id}", json={"require_typ_at_jwt": False,
                                                                           "claim_mapping": {"name": "naam"}},
                               headers=world.headers("admin"))).status_code == 200
    system = await client.post(f"/api/v1/organisations/{gemeente.id}/partner-systems",
                               json={"name": "Zaaksysteem", "subject": "zaak", "scopes": ["events:write"]},
                               headers=world.headers("gemeente_admin_2"))
    assert system.status_code == 201
    assert (await client.patch(f"/api/v1/organisations/{gemeente.id}/partner-systems/{system.json()['id']}",
                               json={"active": False}, headers=world.headers("gemeente_admin_2"))).status_code == 200

    seen = await _changes(client, world, "gemeente_admin_2")
    by_kind = {(c["entity_type"], c["operation"]): c for c in seen}
    assert set(by_kind) == {
        ("conference", "create"), ("membership", "create"), ("mandate", "create"),
        ("organisation_identity", "update"), ("partner_system", "create"), ("partner_system", "update"),
    }
    assert sum(1 for c in seen if c["entity_type"] == "membership") == 2  # the creator's own and the chair's
    assert by_kind[("organisation_identity", "update")]["before"] == {"claim_mapping": {}}
    assert by_kind[("organisation_identity", "update")]["after"]["claim_mapping"]["name"] == "naam"
    assert by_kind[("partner_system", "update")]["before"]["active"] is True
    assert by_kind[("partner_system", "update")]["after"]["active"] is False
    assert by_kind[("mandate", "create")]["after"]["max_amount_cents"] == 100_000
    assert all(c["actor_subject"] for c in seen)
    # the municipality's privacy officer (of conference A) sees its organisation's changes outside
    # any conference, not conference C's; the police's administrator sees none of them
    officer = await _changes(client, world, "privacy_officer")
    assert {(c["entity_type"], c["operation"]) for c in officer} == {
        ("organisation_identity", "update"), ("partner_system", "create"), ("partner_system", "update")
    }
    assert await _changes(client, world, "police_admin") == []
    # reading the record is itself in the access log; others are refused
    async with owner_db.sessions() as session:
        reads = (
            await session.execute(
                sa.select(sa.func.count()).select_from(AccessLogEntry).where(
                    AccessLogEntry.resource_type == "admin_change", AccessLogEntry.outcome == "allowed"
                )
            )
        ).scalar_one()
    assert reads == 3
    for person in ("chair", "police_member", "police_system"):
        refused = await client.get("/api/v1/admin-changes", headers=world.headers(person))
        assert refused.status_code == 403, person


async def test_an_organisation_admin_without_conference_role_sees_no_client(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    async with owner_db.sessions() as session:
        session.add(Client(conference_id=world.a.id, client_number="C-1", name="X", date_of_birth=date(1990, 1, 1)))
        await add_case(session, world)
        await session.commit()
    me = await client.get("/api/v1/me", headers=world.headers("police_admin"))
    assert me.status_code == 200 and me.json()["organisation_admin"] is True and me.json()["memberships"] == []
    cases = await client.get("/api/v1/cases", headers=world.headers("police_admin"))
    assert cases.status_code == 200 and cases.json()["total"] == 0


async def test_administrators_of_an_organisation_are_added_by_its_administrators_or_the_operator(
    client: httpx.AsyncClient, world: World, owner_db, database_urls
) -> None:
    import io

    from app.cli_admin import run_add, run_list

    wijkteam = world.orgs["wijkteam"]
    # the operator's bootstrap (owner rights), recorded as the operator's change
    out, err = io.StringIO(), io.StringIO()
    assert await run_add(database_urls.owner, "wijkteam", "wijk-beheer-2", "Wim Wijk", out, err) == 0, err.getvalue()
    assert await run_add(database_urls.owner, "wijkteam", "wijk-beheer-2", "Wim Wijk", out, err) == 2  # twice
    assert await run_add(database_urls.owner, "bestaat-niet", "x", "X", out, err) == 2
    listed = io.StringIO()
    assert await run_list(database_urls.owner, "wijkteam", listed, err) == 0
    assert "wijk-beheer-2" in listed.getvalue()
    token = world.idp.token("wijkteam", "wijk-beheer-2", audience="casusoverleg")
    me = await client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200 and me.json()["organisation_admin"] is True
    # an administrator adds another; a conference's administrator cannot; nobody adds themselves
    url = f"/api/v1/organisations/{wijkteam.id}/administrators"
    added = await client.post(url, json={"subject": "wijk-beheer-3", "display_name": "Wies"}, headers=_bearer(token))
    assert added.status_code == 201, added.text
    assert (await client.post(url, json={"subject": "x", "display_name": "X"},
                              headers=world.headers("admin"))).status_code == 403
    self_add = await client.post(url, json={"subject": "wijk-beheer-2", "display_name": "Ik"}, headers=_bearer(token))
    assert self_add.status_code == 403
    admins = await client.get(url, headers=_bearer(token))
    assert sorted(a["subject"] for a in admins.json()) == ["wijk-beheer-2", "wijk-beheer-3", "wijkteam_admin-sub"]
    changes = await _changes(client, world, "wijkteam_admin")
    actors = sorted((c["entity_type"], c["actor_issuer"].startswith("urn:"), c["after"]["subject"]) for c in changes)
    assert actors == [("organisation_admin", False, "wijk-beheer-3"), ("organisation_admin", True, "wijk-beheer-2")]


async def test_an_organisation_admin_is_never_seeded_from_their_own_group_mapping(
    client: httpx.AsyncClient, world: World
) -> None:
    mapping = {"groups": "groups",
               "group_roles": {"cg-voorzitter": {"role": "chair", "conference_id": str(world.a.id)}}}
    response = await client.patch(f"/api/v1/organisations/{world.orgs['politie'].id}",
                                  json={"claim_mapping": mapping}, headers=world.headers("police_admin"))
    assert response.status_code == 200, response.text
    token = world.idp.token("politie", "police_admin-sub", audience="casusoverleg",
                            extra={"groups": ["cg-voorzitter"]})
    me = await client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200 and me.json()["memberships"] == []
    # a colleague in that group is seeded as the mapping says
    colleague = world.idp.token("politie", "collega", audience="casusoverleg", extra={"groups": ["cg-voorzitter"]})
    seeded = await client.get("/api/v1/me", headers=_bearer(colleague))
    assert [m["role"] for m in seeded.json()["memberships"]] == ["chair"]
