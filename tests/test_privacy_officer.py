"""The privacy officer's tools, and acceptance 3: the subject-access report of a client lists
exactly the accesses made, with their bases."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from app.auth.policy import SharingBasis
from app.clock import clock
from tests.factories import World, add_case

BSN = "111222333"  # passes the 11-test


async def _log_rows(owner_db) -> list:
    async with owner_db.engine.connect() as conn:
        return list((await conn.execute(sa.text("SELECT * FROM access_log ORDER BY seq"))).all())


@pytest.fixture
def consent_shares_health_with_police(monkeypatch: pytest.MonkeyPatch) -> SharingBasis:
    """Stands in for the agreements issue: consent that lets the police see health data."""
    basis = SharingBasis(
        kind="agreement", reference="0b8d6c1e-overeenkomst", labels_to_kinds={"health": frozenset({"police"})}
    )

    def bases(found: object) -> tuple[SharingBasis, ...]:
        return (basis,)

    monkeypatch.setattr("app.services.need_to_know._bases", bases)
    return basis


async def test_subject_access_report_lists_exactly_the_accesses_with_their_bases(
    client: httpx.AsyncClient, world: World, owner_db, consent_shares_health_with_police: SharingBasis
) -> None:
    a = world.a.id
    # A demo-like client: referred by the neighbourhood team, admitted by the chair.
    response = await client.post(
        f"/api/v1/conferences/{a}/referrals",
        headers=world.headers("wijkteam_member"),
        json={
            "client": {"name": "Sanne de Vries", "date_of_birth": "1990-03-02", "bsn": BSN},
            "reason": "Schulden en GHB-gebruik, dreigende huisuitzetting.",
        },
    )
    assert response.status_code == 201, response.text
    number, referral_id = response.json()["client_number"], response.json()["id"]
    clock.travel(timedelta(minutes=1))
    response = await client.post(
        f"/api/v1/referrals/{referral_id}/accept",
        headers=world.headers("chair"),
        json={"case_director_id": str(world.members["care_member"].id)},
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    clock.travel(timedelta(minutes=1))
    response = await client.post(
        f"/api/v1/cases/{case_id}/assessments",
        headers=world.headers("care_member"),
        json={"assessed_on": str(clock.today()), "scores": {"housing": 2}},
    )
    assert response.status_code == 201, response.text
    clock.travel(timedelta(minutes=1))
    response = await client.get(f"/api/v1/cases/{case_id}", headers=world.headers("police_member"))
    assert response.status_code == 200 and response.json()["assessments"]["items"]
    clock.travel(timedelta(minutes=1))
    assert (
        await client.get(f"/api/v1/cases/{case_id}/plan", headers=world.headers("care_liaison"))
    ).status_code == 200
    # A refused attempt is no access: the report lists what was seen or changed.
    assert (
        await client.get(f"/api/v1/cases/{case_id}/history", headers=world.headers("police_liaison"))
    ).status_code == 403
    # Another client's accesses do not show up.
    async with owner_db.sessions() as session:
        other = await add_case(session, world)
        await session.commit()
    assert (
        await client.get(f"/api/v1/cases/{other.id}", headers=world.headers("police_member"))
    ).status_code == 200

    response = await client.get(
        f"/api/v1/audit/clients/{number}/report", headers=world.headers("privacy_officer")
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["client_number"] == number
    seen = [
        (e["organisation_name"], e["role"], e["action"], e["resource_type"], e["basis"])
        for e in report["entries"]
    ]
    agreement = consent_shares_health_with_police.describe()
    assert seen == [
        ("Wijkteam", "member", "search", "client", None),  # a referral with a BSN is a look-up
        ("Wijkteam", "member", "create", "referral", None),
        ("Gemeente", "chair", "update", "referral", None),
        ("Gemeente", "chair", "create", "case", None),
        ("Zorg", "case_director", "create", "assessment", None),
        ("Politie", "member", "read", "case", None),
        ("Politie", "member", "read", "assessment", agreement),
        ("Zorg", "liaison", "read", "plan", None),
    ]
    assert [e["person"] for e in report["entries"]][5] == "Police Member"
    times = [e["occurred_at"] for e in report["entries"]]
    assert times == sorted(times)

    # The printable Dutch document says the same, and the report itself is in the log.
    response = await client.get(
        f"/api/v1/audit/clients/{number}/report",
        params={"format": "html"},
        headers=world.headers("privacy_officer"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Wie heeft uw gegevens ingezien of gewijzigd?" in html and number in html
    assert "uw toestemming (driepartijenovereenkomst" in html
    assert html.count("<tr>") == 1 + 8 + 1  # header, the accesses, and the JSON report just read
    assert "Sanne" not in html and BSN not in html
    response = await client.get(
        f"/api/v1/audit/clients/{number}/report",
        params={"format": "pdf"},
        headers=world.headers("privacy_officer"),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    rows = [r for r in await _log_rows(owner_db) if r.resource_type == "access_log"]
    assert [(r.action, r.client_number, r.role) for r in rows] == [
        ("read", number, "privacy_officer"),
        ("print", number, "privacy_officer"),
        ("print", number, "privacy_officer"),
    ]


async def test_report_and_export_of_unknown_client_are_404(client: httpx.AsyncClient, world: World) -> None:
    for path in ("report", "export"):
        response = await client.get(
            f"/api/v1/audit/clients/K-NOSUCH/{path}", headers=world.headers("privacy_officer")
        )
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_only_privacy_officers_read_the_log(client: httpx.AsyncClient, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    number = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()[
        "client_number"
    ]
    for person in ("chair", "police_member", "admin"):
        headers = world.headers(person)
        assert (
            await client.get(f"/api/v1/audit/clients/{number}/report", headers=headers)
        ).status_code == 403
        assert (
            await client.get(f"/api/v1/audit/clients/{number}/export", headers=headers)
        ).status_code == 403
        assert (await client.get("/api/v1/audit/log", headers=headers)).status_code == 403
    # Conference B's people do not even learn the client exists.
    assert (
        await client.get(f"/api/v1/audit/clients/{number}/report", headers=world.headers("chair_b"))
    ).status_code == 404
    denied = [r for r in await _log_rows(owner_db) if r.outcome == "denied"]
    assert len(denied) == 10


async def test_query_log_by_client_person_organisation_and_period(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    async with owner_db.sessions() as session:
        first = await add_case(session, world)
        second = await add_case(session, world, name="Piet Tweede")
        elsewhere = await add_case(session, world, conference=world.b)
        await session.commit()
    start = clock.now()
    await client.get(f"/api/v1/cases/{first.id}", headers=world.headers("police_member"))
    clock.travel(timedelta(hours=2))
    await client.get(f"/api/v1/cases/{second.id}", headers=world.headers("care_member"))
    await client.get(f"/api/v1/cases/{second.id}/plan", headers=world.headers("care_member"))
    await client.get(f"/api/v1/cases/{elsewhere.id}", headers=world.headers("chair_b"))
    officer = world.headers("privacy_officer")
    numbers = {r.case_id: r.client_number for r in await _log_rows(owner_db)}

    body = (await client.get("/api/v1/audit/log", headers=officer)).json()
    assert body["total"] == 3  # conference B's row is not this officer's business
    body = (
        await client.get("/api/v1/audit/log", params={"client_number": numbers[second.id]}, headers=officer)
    ).json()
    # The officer's first query showed this client, so that read is on the client's record too.
    assert {(i["resource_type"], i["actor_subject"]) for i in body["items"]} == {
        ("case", "care_member-sub"),
        ("plan", "care_member-sub"),
        ("access_log", "privacy_officer-sub"),
    }
    body = (
        await client.get("/api/v1/audit/log", params={"subject": "police_member-sub"}, headers=officer)
    ).json()
    assert [i["case_id"] for i in body["items"]] == [str(first.id)]
    body = (
        await client.get(
            "/api/v1/audit/log", params={"organisation_id": str(world.orgs["zorg"].id)}, headers=officer
        )
    ).json()
    assert body["total"] == 2
    period = {
        "occurred_from": (start - timedelta(minutes=1)).isoformat(),
        "occurred_to": (start + timedelta(hours=1)).isoformat(),
    }
    body = (await client.get("/api/v1/audit/log", params=period, headers=officer)).json()
    assert [i["case_id"] for i in body["items"]] == [str(first.id)]
    # Paginated, newest first; the officer's own reads of the log are in the log too.
    page = (await client.get("/api/v1/audit/log", params={"limit": 2}, headers=officer)).json()
    assert page["limit"] == 2 and len(page["items"]) == 2 and page["next"]
    assert page["total"] > 3 and page["items"][0]["resource_type"] == "access_log"
    bad = await client.get(
        "/api/v1/audit/log",
        params={"occurred_from": period["occurred_to"], "occurred_to": period["occurred_from"]},
        headers=officer,
    )
    assert bad.status_code == 422


async def test_export_holds_everything_on_the_client(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    a = world.a.id
    response = await client.post(
        f"/api/v1/conferences/{a}/referrals",
        headers=world.headers("chair"),
        json={
            "client": {"name": "Sanne de Vries", "date_of_birth": "1990-03-02", "bsn": BSN},
            "reason": "Overlast en schulden.",
        },
    )
    number, referral_id = response.json()["client_number"], response.json()["id"]
    case_id = (
        await client.post(f"/api/v1/referrals/{referral_id}/accept", headers=world.headers("chair"), json={})
    ).json()["id"]
    plan = await client.get(f"/api/v1/cases/{case_id}/plan", headers=world.headers("chair"))
    response = await client.patch(
        f"/api/v1/cases/{case_id}/plan",
        headers={**world.headers("chair"), "If-Match": plan.headers["ETag"]},
        json={
            "client_goals": "Weer een eigen huis.",
            "goals": [{"life_domain": "housing", "description": "Woning zoeken"}],
        },
    )
    assert response.status_code == 200, response.text
    response = await client.post(
        f"/api/v1/cases/{case_id}/actions",
        headers=world.headers("police_member"),
        json={
            "title": "Huisbezoek",
            "life_domain": "housing",
            "owner_organisation_id": str(world.orgs["politie"].id),
            "due_date": str(clock.today() + timedelta(days=7)),
        },
    )
    assert response.status_code == 201, response.text

    response = await client.get(
        f"/api/v1/audit/clients/{number}/export", headers=world.headers("privacy_officer")
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["client"]["name"] == "Sanne de Vries" and data["client"]["bsn"] == BSN
    assert "bsn_hash" not in data["client"] and "bsn_ciphertext" not in data["client"]
    assert [r["reason"] for r in data["referrals"]] == ["Overlast en schulden."]
    [case] = data["cases"]
    assert case["plan"]["client_goals"] == "Weer een eigen huis."
    assert [g["description"] for g in case["plan"]["goals"]] == ["Woning zoeken"]
    assert [a["title"] for a in case["actions"]] == ["Huisbezoek"]
    assert {c["operation"] for c in case["changes"]} >= {"create", "update"}
    rows = await _log_rows(owner_db)
    assert (rows[-1].action, rows[-1].resource_type, rows[-1].client_number) == ("export", "client", number)


async def test_log_readers_need_multi_factor_sign_in_where_the_provider_reports_it(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    number = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()[
        "client_number"
    ]
    password_only = {"Authorization": f"Bearer {world.token('privacy_officer', extra={'amr': ['pwd']})}"}
    with_otp = {"Authorization": f"Bearer {world.token('privacy_officer', extra={'amr': ['pwd', 'otp']})}"}
    for path in (
        "/api/v1/audit/log",
        "/api/v1/audit/verify",
        f"/api/v1/audit/clients/{number}/report",
        f"/api/v1/audit/clients/{number}/export",
    ):
        refused = await client.get(path, headers=password_only)
        assert refused.status_code == 403 and "multi-factor" in refused.json()["detail"]
        assert (await client.get(path, headers=with_otp)).status_code == 200, path
    denied = [r for r in await _log_rows(owner_db) if r.outcome == "denied"]
    assert len(denied) == 4 and {r.resource_type for r in denied} <= {"access_log", "client"}


async def test_rows_without_a_conference_are_reviewed_by_the_organisations_privacy_officers(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """Rows bound to no conference: a privacy officer's own searches, refused calls of partner
    systems, refused administrative operations on an organisation. The privacy officers of the
    organisation involved review them; another organisation's stay out of view."""
    gemeente, politie = world.orgs["gemeente"], world.orgs["politie"]
    hook = {"url": "https://93.184.215.14/hooks", "event_types": ["case.flagged"]}
    # the municipality's partner system lacks webhooks:manage; so does the police's
    for system in ("gemeente_system", "police_system"):
        assert (await client.post("/api/v1/subscriptions", json=hook, headers=world.headers(system))).status_code == 403
    # the police's administrator tries the municipality's settings; and their own organisation's
    # is tried by the municipality's administrator
    assert (await client.patch(f"/api/v1/organisations/{gemeente.id}", json={"audience": "x"},
                               headers=world.headers("police_admin"))).status_code == 403
    assert (await client.patch(f"/api/v1/organisations/{politie.id}", json={"audience": "x"},
                               headers=world.headers("admin"))).status_code == 403
    officer = world.headers("privacy_officer")
    assert (await client.get("/api/v1/audit/log", headers=officer)).status_code == 200  # an own search

    body = (await client.get("/api/v1/audit/log", params={"limit": 200}, headers=officer)).json()
    seen = {(i["actor_subject"], i["resource_type"], i["outcome"]) for i in body["items"]}
    assert ("gemeente-system", "subscription", "denied") in seen
    assert ("police_admin-sub", "organisation", "denied") in seen  # an attempt on the municipality
    assert ("admin-sub", "organisation", "denied") in seen  # the municipality's own administrator
    assert ("privacy_officer-sub", "access_log", "allowed") in seen  # the officer's own search
    assert not any(s == "police-system" for s, _, _ in seen)  # the police's business
    assert all(i["conference_id"] is None for i in body["items"])
    # with a conference named, only that conference's rows
    only_a = (await client.get("/api/v1/audit/log", params={"conference_id": str(world.a.id)},
                               headers=officer)).json()
    assert all(i["conference_id"] == str(world.a.id) for i in only_a["items"])
