"""Conditional requests per RFC 9110, the Allow header on 405, and an OpenAPI document that
lists every error an operation gives as application/problem+json."""

from __future__ import annotations

import httpx

from app.http.problems import PROBLEM_JSON
from tests.factories import World, add_action, add_case


async def _action(owner_db, world: World):  # noqa: ANN001, ANN202
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        action = await add_action(session, world, case)
        await session.commit()
    return action


async def test_if_match_star_strong_comparison_and_syntax(client: httpx.AsyncClient, world: World, owner_db) -> None:  # noqa: ANN001
    action = await _action(owner_db, world)
    url = f"/api/v1/actions/{action.id}"

    def patch(if_match: str, status: str) -> object:
        return client.patch(url, json={"status": status}, headers=world.headers("police_liaison", **{"If-Match": if_match}))

    weak = await patch('W/"v1"', "done")  # a weak tag never matches in If-Match
    assert weak.status_code == 412 and "without W/" in weak.json()["detail"]
    malformed = await patch("v1", "done")
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["pointer"] == "#header:If-Match"
    star = await patch("*", "done")  # any current representation
    assert star.status_code == 200 and star.headers["ETag"] == '"v2"'
    listed = await patch('"v1", "v2"', "blocked")
    assert listed.status_code == 200 and listed.headers["ETag"] == '"v3"'
    stale = await patch('"v2"', "open")
    assert stale.status_code == 412


async def test_if_none_match_gives_304_on_reads_with_an_etag(client: httpx.AsyncClient, world: World, owner_db) -> None:  # noqa: ANN001
    action = await _action(owner_db, world)
    url = f"/api/v1/actions/{action.id}"
    first = await client.get(url, headers=world.headers("police_liaison"))
    etag = first.headers["ETag"]
    for value in (etag, f"W/{etag}", f'"v0", {etag}', "*"):  # weak comparison; * matches
        again = await client.get(url, headers=world.headers("police_liaison", **{"If-None-Match": value}))
        assert again.status_code == 304, value
        assert again.content == b"" and again.headers["ETag"] == etag
        assert "content-type" not in again.headers
    changed = await client.get(url, headers=world.headers("police_liaison", **{"If-None-Match": '"v0"'}))
    assert changed.status_code == 200 and changed.json()["id"] == str(action.id)
    # A read the caller may not make stays a refusal, whatever the condition says.
    hidden = await client.get(url, headers=world.headers("chair_b", **{"If-None-Match": "*"}))
    assert hidden.status_code == 404


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient, world: World, owner_db) -> None:  # noqa: ANN001
    action = await _action(owner_db, world)
    for method, path, allowed in (
        ("DELETE", f"/api/v1/actions/{action.id}", "GET, PATCH"),  # GET and PATCH are two routes
        ("PUT", f"/api/v1/cases/{action.case_id}", "GET, PATCH"),
        ("DELETE", "/api/v1/conferences", "GET, POST"),
    ):
        response = await client.request(method, path, headers=world.headers("chair"))
        assert response.status_code == 405, path
        assert response.headers["allow"] == allowed
        assert response.headers["content-type"].startswith(PROBLEM_JSON)


def test_openapi_documents_errors_as_problems(app: object) -> None:
    document = app.openapi()  # type: ignore[attr-defined]
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
                    assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert {"422", "503"} <= set(responses), (method, path)
            headers = {p["name"].lower(): p for p in operation.get("parameters", []) if p["in"] == "header"}
            if "if-match" in headers:
                assert headers["if-match"]["required"] and {"412", "428"} <= set(responses), (method, path)
    cases = document["paths"]["/api/v1/cases/{case_id}"]
    assert {"401", "403", "404"} <= set(cases["get"]["responses"])
    assert "304" in cases["get"]["responses"] and "ETag" in cases["get"]["responses"]["200"]["headers"]
    assert "WWW-Authenticate" in cases["get"]["responses"]["401"]["headers"]
    lookup = document["paths"]["/api/v1/conferences/{conference_id}/clients/lookup"]["post"]
    assert "Retry-After" in lookup["responses"]["429"]["headers"]
    assert "401" not in document["paths"]["/api/v1/health"]["get"]["responses"]
