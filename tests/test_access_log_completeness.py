"""Acceptance 1: every route of the OpenAPI document is classified. A route that touches client
data has an entry in CALLS, which calls it for real and checks the log rows written under the
request's id (action, resource type, client); the others are listed in NO_CLIENT_DATA. A new
route in neither list fails this test, so no client-data route ships without logging."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.models import Action, Case, Referral
from tests.factories import World, add_action, add_case

# Paths with these words are client data by their name; they can never be exempted.
CLIENT_WORDS = re.compile(r"case|action|referral|client|plan|assessment|escalation|audit")

# Routes that show or change no client data (organisations, conferences, people, mandates).
NO_CLIENT_DATA = {
    "GET /api/v1/health",
    "GET /api/v1/organisations",
    "POST /api/v1/organisations",
    "GET /api/v1/conferences",
    "POST /api/v1/conferences",
    "GET /api/v1/conferences/{conference_id}/memberships",
    "POST /api/v1/conferences/{conference_id}/memberships",
    "GET /api/v1/memberships/{membership_id}/mandates",
    "POST /api/v1/memberships/{membership_id}/mandates",
}

Expected = list[tuple[str, str, str | None]]  # (action, resource_type, client_number)


@dataclass
class Ctx:
    http: httpx.AsyncClient
    world: World
    case: Case
    number: str
    action: Action
    pending: list[Referral] = field(default_factory=list)
    referral_number: str = ""

    async def call(
        self, person: str, method: str, url: str, json: object = None, **headers: str
    ) -> httpx.Response:
        response = await self.http.request(
            method, url, json=json, headers=self.world.headers(person, **headers)
        )
        assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text}"
        return response

    async def etag(self, person: str, url: str) -> str:
        return (await self.call(person, "GET", url)).headers["ETag"]


Call = Callable[[Ctx], Awaitable[tuple[httpx.Response, Expected]]]


async def _list_cases(c: Ctx):
    return await c.call("police_member", "GET", "/api/v1/cases"), [("list", "case", c.number)]


async def _get_case(c: Ctx):
    return await c.call("police_member", "GET", f"/api/v1/cases/{c.case.id}"), [("read", "case", c.number)]


async def _patch_case(c: Ctx):
    etag = await c.etag("chair", f"/api/v1/cases/{c.case.id}")
    response = await c.call(
        "chair", "PATCH", f"/api/v1/cases/{c.case.id}", {"priority": "high"}, **{"If-Match": etag}
    )
    return response, [("update", "case", c.number)]


async def _transition(c: Ctx):
    etag = await c.etag("chair", f"/api/v1/cases/{c.case.id}")
    response = await c.call(
        "chair", "POST", f"/api/v1/cases/{c.case.id}/transitions", {"to": "monitoring"}, **{"If-Match": etag}
    )
    return response, [("update", "case", c.number)]


async def _history(c: Ctx):
    return await c.call("chair", "GET", f"/api/v1/cases/{c.case.id}/history"), [("read", "case", c.number)]


async def _assessments(c: Ctx):
    response = await c.call("care_member", "GET", f"/api/v1/cases/{c.case.id}/assessments")
    return response, [("read", "case", c.number)]


async def _add_assessment(c: Ctx):
    response = await c.call(
        "care_member",
        "POST",
        f"/api/v1/cases/{c.case.id}/assessments",
        {"assessed_on": str(clock.today()), "scores": {"housing": 3}},
    )
    return response, [("create", "assessment", c.number)]


async def _get_plan(c: Ctx):
    return await c.call("care_member", "GET", f"/api/v1/cases/{c.case.id}/plan"), [("read", "plan", c.number)]


async def _patch_plan(c: Ctx):
    etag = await c.etag("chair", f"/api/v1/cases/{c.case.id}/plan")
    response = await c.call(
        "chair", "PATCH", f"/api/v1/cases/{c.case.id}/plan", {"client_goals": "Rust."}, **{"If-Match": etag}
    )
    return response, [("update", "plan", c.number)]


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
    return response, [("create", "action", c.number)]


async def _list_actions(c: Ctx):
    return await c.call("police_member", "GET", "/api/v1/actions"), [("list", "action", c.number)]


async def _get_action(c: Ctx):
    return await c.call("police_member", "GET", f"/api/v1/actions/{c.action.id}"), [
        ("read", "action", c.number)
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
    return response, [("update", "action", c.number)]


async def _escalations(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/conferences/{c.world.a.id}/escalations")
    return response, [("list", "action", c.number)]


async def _create_referral(c: Ctx):
    response = await c.call(
        "wijkteam_member",
        "POST",
        f"/api/v1/conferences/{c.world.a.id}/referrals",
        {"client": {"name": "Nieuw Persoon", "date_of_birth": "1991-01-01"}, "reason": "Zorgen."},
    )
    return response, [("create", "referral", response.json()["client_number"])]


async def _list_referrals(c: Ctx):
    return await c.call("chair", "GET", "/api/v1/referrals"), [("list", "referral", c.referral_number)]


async def _get_referral(c: Ctx):
    response = await c.call("chair", "GET", f"/api/v1/referrals/{c.pending[0].id}")
    return response, [("read", "referral", c.referral_number)]


async def _accept(c: Ctx):
    response = await c.call("chair", "POST", f"/api/v1/referrals/{c.pending[0].id}/accept", {})
    return response, [("update", "referral", c.referral_number), ("create", "case", c.referral_number)]


async def _decline(c: Ctx):
    response = await c.call(
        "chair", "POST", f"/api/v1/referrals/{c.pending[1].id}/decline", {"reason": "Elders."}
    )
    return response, [("update", "referral", c.referral_number)]


async def _lookup(c: Ctx):
    # Looking a person up logs the search even when nobody is found (404 below is the answer).
    response = await c.http.post(
        f"/api/v1/conferences/{c.world.a.id}/clients/lookup",
        json={"bsn": "111222333"},
        headers=c.world.headers("chair"),
    )
    assert response.status_code == 404
    return response, [("search", "client", None)]


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


CALLS: dict[str, Call] = {
    "GET /api/v1/cases": _list_cases,
    "GET /api/v1/cases/{case_id}": _get_case,
    "PATCH /api/v1/cases/{case_id}": _patch_case,
    "POST /api/v1/cases/{case_id}/transitions": _transition,
    "GET /api/v1/cases/{case_id}/history": _history,
    "GET /api/v1/cases/{case_id}/assessments": _assessments,
    "POST /api/v1/cases/{case_id}/assessments": _add_assessment,
    "GET /api/v1/cases/{case_id}/plan": _get_plan,
    "PATCH /api/v1/cases/{case_id}/plan": _patch_plan,
    "POST /api/v1/cases/{case_id}/actions": _create_action,
    "GET /api/v1/actions": _list_actions,
    "GET /api/v1/actions/{action_id}": _get_action,
    "PATCH /api/v1/actions/{action_id}": _patch_action,
    "GET /api/v1/conferences/{conference_id}/escalations": _escalations,
    "POST /api/v1/conferences/{conference_id}/referrals": _create_referral,
    "GET /api/v1/referrals": _list_referrals,
    "GET /api/v1/referrals/{referral_id}": _get_referral,
    "POST /api/v1/referrals/{referral_id}/accept": _accept,
    "POST /api/v1/referrals/{referral_id}/decline": _decline,
    "POST /api/v1/conferences/{conference_id}/clients/lookup": _lookup,
    "GET /api/v1/audit/log": _audit_log,
    "GET /api/v1/audit/verify": _audit_verify,
    "GET /api/v1/audit/clients/{client_number}/report": _audit_report,
    "GET /api/v1/audit/clients/{client_number}/export": _audit_export,
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


async def test_every_client_data_route_writes_the_right_log_rows(
    app: object, client: httpx.AsyncClient, world: World, owner_db
) -> None:
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
        await session.commit()
        number = (
            await session.execute(
                sa.text("SELECT client_number FROM client WHERE id = :i"), {"i": case.client_id}
            )
        ).scalar_one()
    ctx = Ctx(client, world, case, number, action, pending, referral_number=number)
    problems = []
    for op in _operations(app):
        if op not in CALLS:
            continue
        response, expected = await CALLS[op](ctx)
        request_id = response.headers["x-request-id"]
        async with owner_db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.text(
                        "SELECT action, resource_type, client_number, outcome, request_id, actor_subject, "
                        "organisation_id FROM access_log WHERE request_id = :r"
                    ),
                    {"r": request_id},
                )
            ).all()
        got = {(r.action, r.resource_type, r.client_number) for r in rows}
        if not rows or not set(expected) <= got or any(r.outcome != "allowed" for r in rows):
            problems.append(f"{op}: expected {expected}, logged {sorted(got, key=str)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/api/v1/cases/{id}", "/api/v1/cases/{id}/plan"])
async def test_a_read_whose_log_row_cannot_be_written_is_refused(
    app: object, world: World, owner_db, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world, name="Jan Geheim")
        await session.commit()
    import app.audit as audit

    real = audit.entry_values

    def broken(*args, **kwargs):
        values = real(*args, **kwargs)
        values["resource_type"] = "x" * 100  # longer than the column: the INSERT fails at commit
        return values

    monkeypatch.setattr(audit, "entry_values", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as raw:
        response = await raw.get(path.format(id=case.id), headers=world.headers("chair"))
    assert response.status_code >= 500
    assert "Jan Geheim" not in response.text and "eigen plek" not in response.text
