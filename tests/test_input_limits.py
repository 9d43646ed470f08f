"""Input the database cannot store is refused with 422 naming the field, never a 500: text with
a NUL character (anywhere: bodies, queries, partner events, web forms) and integers beyond their
column."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest

from app.clock import clock
from tests.events.support import CE, CE_BATCH, event, link_case
from tests.factories import World, add_case

NUL = "\u0000"


def _referral(**override: object) -> dict:
    client = {"name": "Piet de Vries", "date_of_birth": "1980-01-01", "bsn": "999996356"}
    body: dict = {"client": client, "reason": "Zorgen om overlast"}
    for key, value in override.items():
        if key.startswith("client_"):
            client[key.removeprefix("client_")] = value
        else:
            body[key] = value
    return body


def _assert_refused(response: httpx.Response, pointer: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [e["pointer"] for e in body["errors"]] == [pointer]
    assert "NUL character" in body["errors"][0]["detail"]
    assert NUL not in response.text and "\\u0000" not in body["detail"].replace("(\\u0000)", "")


@pytest.mark.parametrize(
    ("override", "pointer"),
    [
        ({"client_name": f"Piet{NUL}"}, "#/client/name"),
        ({"reason": f"Zorgen{NUL}om overlast"}, "#/reason"),
    ],
)
async def test_nul_in_a_referral_is_refused(client: httpx.AsyncClient, world: World, override: dict, pointer: str) -> None:
    response = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", json=_referral(**override),
                                 headers=world.headers("gemeente_member"))
    _assert_refused(response, pointer)


async def test_nul_in_a_note_or_an_action_is_refused(client: httpx.AsyncClient, world: World, owner_db) -> None:  # noqa: ANN001
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    note = await client.post(f"/api/v1/cases/{case.id}/notes", json={"label": "general", "text": f"a{NUL}b"},
                             headers=world.headers("chair"))
    _assert_refused(note, "#/text")
    action = {"title": f"Huisbezoek{NUL}", "life_domain": "housing", "owner_organisation_id": str(world.orgs["gemeente"].id),
              "due_date": (clock.today() + timedelta(days=7)).isoformat()}
    _assert_refused(await client.post(f"/api/v1/cases/{case.id}/actions", json=action,
                                      headers=world.headers("chair")), "#/title")


async def test_nul_in_a_query_parameter_or_path_is_refused(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/api/v1/audit/log", params={"subject": f"x{NUL}y"},
                                headers=world.headers("privacy_officer"))
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "#query:subject"
    response = await client.get("/api/v1/cases/%00", headers=world.headers("chair"))
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "#path:"


async def test_nul_in_a_partner_event_is_refused(client: httpx.AsyncClient, world: World, owner_db) -> None:  # noqa: ANN001
    await link_case(owner_db, world)
    sent = event("relapse", data={"substances": [f"ghb{NUL}"]})
    response = await client.post("/api/v1/events", json=sent, headers={**world.headers("care_system"), **CE})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "#/data/substances/0"
    extension = event("relapse", **{"zorgref": f"a{NUL}"})
    response = await client.post("/api/v1/events", json=extension, headers={**world.headers("care_system"), **CE})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "#/zorgref"
    # The same in a batch, and in JSON text encoded as UTF-16 (which JSON allows) where the escape
    # is not the bytes of "\u0000" in UTF-8.
    batch = [event("lapse"), sent]
    response = await client.post("/api/v1/events", json=batch,
                                 headers={**world.headers("care_system"), **CE_BATCH})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "#/1/data/substances/0"
    utf16 = json.dumps(event("relapse", data={"substances": [f"ghb{NUL}"]})).encode("utf-16")
    response = await client.post("/api/v1/events", content=utf16, headers={**world.headers("care_system"), **CE})
    assert response.status_code == 422 and response.json()["errors"][0]["pointer"] == "#/data/substances/0"


async def test_integers_beyond_their_column_are_refused(client: httpx.AsyncClient, world: World, owner_db) -> None:  # noqa: ANN001
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    huge_version = await client.post(f"/api/v1/cases/{case.id}/agreements",
                                     json={"template_version": 9_999_999_999, "parties": {}, "commitments": {}},
                                     headers=world.headers("chair"))
    assert huge_version.status_code == 422
    assert "#/template_version" in [e["pointer"] for e in huge_version.json()["errors"]]
    huge_seq = await client.get("/api/v1/audit/verify", params={"from_seq": 2**63},
                                headers=world.headers("privacy_officer"))
    assert huge_seq.status_code == 422 and huge_seq.json()["errors"][0]["pointer"] == "#query:from_seq"
    # The amount of the report: stored (the column is bigint) or refused, never a 500.
    action = {"title": "Budget", "life_domain": "finances", "owner_organisation_id": str(world.orgs["gemeente"].id),
              "due_date": (clock.today() + timedelta(days=7)).isoformat(), "resource_amount_cents": 9_999_999_999}
    created = await client.post(f"/api/v1/cases/{case.id}/actions", json=action, headers=world.headers("chair"))
    assert created.status_code in (201, 403, 422), created.text


def _organisation(**override: object) -> dict[str, object]:
    return {"name": "Buurtzorg Oost", "slug": "buurtzorg-oost", "kind": "other",
            "issuer": "https://login.buurtzorg.example/", **override}


async def test_a_provider_url_longer_than_its_column_is_refused(client: httpx.AsyncClient, world: World) -> None:
    # 500 characters as sent; the normalised URL gains a trailing slash (found by the fuzzer as a 500)
    long_host = "https://" + ("a" * 62 + ".") * 7 + "b" * 43 + ".example"
    assert len(long_host) == 500
    r = await client.post("/api/v1/organisations", json=_organisation(jwks_uri=long_host), headers=world.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "#/jwks_uri"
    assert "500 characters" in r.json()["detail"]
    listed = await client.get("/api/v1/organisations", headers=world.headers("admin"))
    assert "buurtzorg-oost" not in listed.text


@pytest.mark.parametrize("value", [0, 1, "yes", "true"])
async def test_a_number_or_text_is_no_true_or_false(client: httpx.AsyncClient, world: World, value: object) -> None:
    r = await client.post("/api/v1/organisations", json=_organisation(require_typ_at_jwt=value),
                          headers=world.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["pointer"] == "#/require_typ_at_jwt"
    assert r.json()["errors"][0]["detail"] == "Input should be true or false"
