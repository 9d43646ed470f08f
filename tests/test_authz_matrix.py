"""Acceptance 1 and 5: every route of the OpenAPI document, for every kind of caller, against
objects of the caller's own conference and of another conference, checked against the expected
matrix in tests/authz_matrix.py. Plus need-to-know labels and counts that do not leak."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.config import Settings
from app.errors import HIDDEN_SUFFIX
from app.main import create_app
from app.models import AccessLogEntry, Assessment, Case, Client, Referral
from app.services.clients import new_client_number
from tests.authz_matrix import MATRIX, PUBLIC, ROLES, Rule
from tests.factories import World, add_action, add_case

CALLERS: dict[str, tuple[str, str]] = {  # role -> (world person or system, own conference)
    "chair": ("chair", "A"),
    "member": ("police_member", "A"),
    "member_other_org": ("care_member", "A"),
    "liaison": ("police_liaison", "A"),
    "privacy_officer": ("privacy_officer", "A"),
    "admin": ("admin", "A"),
    "system": ("police_system", "A"),
    "member_b": ("police_member_b", "B"),
}


def _openapi_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(dev_idp_enabled=False, load_demo_data=False, scheduler_enabled=False))
    return [(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item]


ROUTES = _openapi_routes()


@dataclass
class Objects:
    conference_id: uuid.UUID
    case_id: uuid.UUID
    action_id: uuid.UUID
    referral_id: uuid.UUID
    membership_id: uuid.UUID
    organisation_id: uuid.UUID
    system_id: uuid.UUID


async def _objects(owner_db, world: World) -> dict[str, Objects]:
    """Fresh objects in both conferences (so that one caller's write does not change what the
    next caller meets)."""
    result = {}
    async with owner_db.sessions() as session:
        for key, conference, director, assignee, committer in (
            ("A", world.a, "care_member", "police_liaison", "police_member"),
            ("B", world.b, None, None, "police_member_b"),
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
            result[key] = Objects(
                conference.id,
                case.id,
                action.id,
                referral.id,
                world.members[committer].id,
                world.orgs["politie"].id,
                world.systems["police_system"].id,
            )
        await session.commit()
    return result


def _today() -> str:
    return clock.today().isoformat()


BODIES: dict[tuple[str, str], Callable[[Objects, World], Any]] = {
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
    ("POST", "/api/v1/conferences/{conference_id}/referrals"): lambda o, w: {
        "client": {"name": "Nieuwe Cliënt", "date_of_birth": "1980-02-03"},
        "reason": "Overlast en schulden",
    },
    ("POST", "/api/v1/referrals/{referral_id}/accept"): lambda o, w: {},
    ("POST", "/api/v1/referrals/{referral_id}/decline"): lambda o, w: {"reason": "Past niet"},
    ("PATCH", "/api/v1/cases/{case_id}"): lambda o, w: {"priority": "high"},
    ("POST", "/api/v1/cases/{case_id}/transitions"): lambda o, w: {"to": "monitoring"},
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
}

LIST_ITEM = {  # list route -> which of the objects its items are
    "/api/v1/conferences": "conference_id",
    "/api/v1/cases": "case_id",
    "/api/v1/actions": "action_id",
    "/api/v1/referrals": "referral_id",
}

HIDDEN = HIDDEN_SUFFIX  # the policy's 404 ends so, the same as for an id that does not exist


def _denied(response: httpx.Response) -> bool:
    """403, or the policy's 404. (A 404 with another detail, like "no client with this BSN",
    is the answer of a route the caller was allowed to use.)"""
    return response.status_code == 403 or (
        response.status_code == 404 and str(response.json().get("detail", "")).endswith(HIDDEN)
    )


def _path(template: str, objects: Objects | None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if objects is None:
            return str(uuid.uuid4())
        if not hasattr(objects, name):
            pytest.fail(
                f"{template}: teach Objects/_objects in {__file__} to make a {name} in both conferences"
            )
        return str(getattr(objects, name))

    return re.sub(r"\{([a-z_]+)\}", value, template)


async def _call(
    client: httpx.AsyncClient,
    world: World,
    role: str,
    method: str,
    template: str,
    objects: Objects | None,
    body_objects: Objects,
) -> httpx.Response:
    body_for = BODIES.get((method, template))
    if method in ("POST", "PATCH", "PUT") and body_for is None:
        pytest.fail(f"{method} {template}: add a valid request body to BODIES in {__file__}")
    person = CALLERS[role][0]
    headers = world.headers(person, **{"If-Match": '"v1"'})
    return await client.request(
        method,
        _path(template, objects),
        headers=headers,
        json=body_for(body_objects, world) if body_for else None,
    )


async def _denials(owner_db) -> int:
    async with owner_db.sessions() as session:
        query = (
            sa.select(sa.func.count()).select_from(AccessLogEntry).where(AccessLogEntry.outcome == "denied")
        )
        return int((await session.execute(query)).scalar_one())


def _ids(response: httpx.Response) -> set[str]:
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return {str(item["id"]) for item in items}


def test_matrix_covers_exactly_the_routes() -> None:
    routes = set(ROUTES) - PUBLIC
    missing = sorted(routes - set(MATRIX))
    assert not missing, f"routes without an entry in tests/authz_matrix.py: {missing}"
    stale = sorted(set(MATRIX) - routes)
    assert not stale, f"entries in tests/authz_matrix.py for routes that no longer exist: {stale}"


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
async def test_route_against_matrix(
    client: httpx.AsyncClient, world: World, owner_db, route: tuple[str, str]
) -> None:
    if route in PUBLIC:
        assert (await client.request(*route)).status_code == 200
        return
    rule: Rule | None = MATRIX.get(route)
    assert rule is not None, f"{route[0]} {route[1]} has no entry in tests/authz_matrix.py"
    method, template = route
    problems: list[str] = []
    read_only = method == "GET"
    shared = await _objects(owner_db, world) if read_only else None
    for role in ROLES:
        own_key = CALLERS[role][1]
        other_key = "A" if own_key == "B" else "B"
        objects = shared or await _objects(owner_db, world)  # writes get fresh objects per caller
        own, other = objects[own_key], objects[other_key]
        denials_before = await _denials(owner_db)
        response = await _call(client, world, role, method, template, own, own)
        status = response.status_code
        expect = role in rule.allowed
        if status >= 500 or status == 401:
            problems.append(f"{role}: own conference answered {status}: {response.text[:200]}")
            continue
        if rule.scope == "list":
            wanted = str(getattr(own, LIST_ITEM[template]))
            seen = status == 200 and wanted in _ids(response)
            if seen != expect:
                problems.append(f"{role}: own conference {'not listed' if expect else 'listed'} ({status})")
            if status == 200:
                if str(getattr(other, LIST_ITEM[template])) in _ids(response):
                    problems.append(f"{role}: another conference's object is listed")
                if template != "/api/v1/conferences":
                    filtered = await client.get(
                        template,
                        params={"conference_id": str(other.conference_id)},
                        headers=world.headers(CALLERS[role][0]),
                    )
                    if filtered.status_code == 200 and (filtered.json()["total"] or filtered.json()["items"]):
                        problems.append(f"{role}: filtering on another conference shows a count")
            continue
        allowed = not _denied(response)
        if allowed != expect:
            problems.append(
                f"{role}: own conference expected {'allow' if expect else 'deny'}, got {status}: "
                f"{response.text[:200]}"
            )
        if rule.scope != "conference":
            continue
        if not allowed and await _denials(owner_db) != denials_before + 1:
            problems.append(f"{role}: the denial was not written to the access log")
        # Another conference: 404, exactly like an id that does not exist.
        fresh = shared or await _objects(owner_db, world)
        theirs = await _call(client, world, role, method, template, fresh[other_key], fresh[other_key])
        nowhere = await _call(client, world, role, method, template, None, fresh[other_key])
        if theirs.status_code != 404:
            problems.append(f"{role}: another conference answered {theirs.status_code}, not 404")
        elif theirs.json().get("detail") != nowhere.json().get("detail") or nowhere.status_code != 404:
            problems.append(
                f"{role}: another conference's 404 differs from a missing id's "
                f"({theirs.json().get('detail')!r} vs {nowhere.status_code} "
                f"{nowhere.json().get('detail')!r})"
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
