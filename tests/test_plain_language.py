"""Issue 21: a per-client marker that the client needs plain language or reading support. It is
set on the case (chair), every reader of the case sees it, and documents for that client come out
B1-checked: an agreement whose filled-in texts are not at B1 level is refused, naming the field."""

from __future__ import annotations

import httpx

from tests.agreements_support import case_with_assessment, create, driepartijen_body
from tests.factories import World

HARD = ("Derhalve dient de cliënt zich conform de gemaakte afspraken inzake de behandeling middels "
        "wekelijkse aanwezigheid ten behoeve van de voortgang te conformeren aan het programma.")


async def _mark(client: httpx.AsyncClient, world: World, case_id: object, value: object) -> httpx.Response:
    read = await client.get(f"/api/v1/cases/{case_id}", headers=world.headers("chair"))
    return await client.patch(f"/api/v1/cases/{case_id}", json={"client_plain_language": value},
                              headers=world.headers("chair", **{"If-Match": read.headers["ETag"]}))


async def test_marker_is_set_shown_and_makes_agreements_b1_checked(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)
    before = await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))
    assert before.json()["client_plain_language"] is False
    # Without the marker a formal commitment is accepted (the template itself is B1).
    formal = driepartijen_body(world)
    formal["commitments"]["client"] = HARD
    assert (await create(client, world, case, formal)).status_code == 201

    other = await case_with_assessment(owner_db, world, mandates=False)
    refused_null = await _mark(client, world, other.id, None)
    assert refused_null.status_code == 422 and "client_plain_language" in refused_null.text
    marked = await _mark(client, world, other.id, True)
    assert marked.status_code == 200, marked.text
    for person in ("police_member", "care_liaison"):
        shown = await client.get(f"/api/v1/cases/{other.id}", headers=world.headers(person))
        assert shown.json()["client_plain_language"] is True
    history = await client.get(f"/api/v1/cases/{other.id}/history", headers=world.headers("chair"))
    assert any(c["entity_type"] == "client" and "plain_language" in c["changes"] for c in history.json())

    refused = await create(client, world, other, formal)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert "plain language" in refused.json()["detail"] and "derhalve" in refused.json()["detail"]
    assert refused.json()["errors"][0]["pointer"] == "#/commitments/client"
    hard_relapse = driepartijen_body(world, relapse_wishes=HARD)
    refused = await create(client, world, other, hard_relapse)
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "#/relapse_wishes"
    listed = await client.get(f"/api/v1/cases/{other.id}/agreements", headers=world.headers("chair"))
    assert listed.status_code == 200 and not (listed.json().get("items") if isinstance(listed.json(), dict)
                                              else listed.json())
    plain = await create(client, world, other, driepartijen_body(world))
    assert plain.status_code == 201, plain.text


async def test_the_agreement_document_of_a_plain_language_client_is_printed_larger(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)
    agreement_id = (await create(client, world, case)).json()["id"]
    ordinary = await client.get(f"/api/v1/agreements/{agreement_id}/print", headers=world.headers("chair"))
    assert '<body class="plain">' not in ordinary.text
    assert (await _mark(client, world, case.id, True)).status_code == 200
    larger = await client.get(f"/api/v1/agreements/{agreement_id}/print", headers=world.headers("chair"))
    assert '<body class="plain">' in larger.text
    pdf = await client.get(f"/api/v1/agreements/{agreement_id}/pdf", headers=world.headers("chair"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_the_subject_access_report_of_a_plain_language_client_is_the_plain_variant(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    from app.services.agreements.readability import measure
    from app.services.privacy.documents import HELD_INTRO_PLAIN, INTRO, INTRO_PLAIN

    assert measure(INTRO_PLAIN).passes() and measure(HELD_INTRO_PLAIN).passes()
    assert not measure(INTRO).passes()  # the ordinary wording is not B1: the reason for the variant
    case = await case_with_assessment(owner_db, world)
    number = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("chair"))).json()["client_number"]
    url = f"/api/v1/audit/clients/{number}/report"
    ordinary = await client.get(url, params={"format": "html"}, headers=world.headers("privacy_officer"))
    assert INTRO_PLAIN not in ordinary.text
    assert (await _mark(client, world, case.id, True)).status_code == 200
    plain = await client.get(url, params={"format": "html"}, headers=world.headers("privacy_officer"))
    assert INTRO_PLAIN in plain.text and HELD_INTRO_PLAIN in plain.text and "artikel 15 AVG" not in plain.text
    assert (await client.get(url, headers=world.headers("privacy_officer"))).json()["plain_language"] is True
    pdf = await client.get(url, params={"format": "pdf"}, headers=world.headers("privacy_officer"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
