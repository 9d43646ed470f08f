"""What bad input gets: problem+json, and nothing written."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from app.models import AccessLogEntry
from tests.agreements_support import (
    PDF,
    case_with_assessment,
    create,
    driepartijen_body,
    sign_all,
    sign_client,
    sign_organisation,
)
from tests.factories import World


async def _agreements(client: httpx.AsyncClient, world: World, case) -> list[dict]:
    response = await client.get(f"/api/v1/cases/{case.id}/agreements", headers=world.headers("chair"))
    assert response.status_code == 200, response.text
    return response.json()


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict = response.json()
    return body


async def test_refused_agreements_write_nothing(client: httpx.AsyncClient, world: World, owner_db) -> None:
    case = await case_with_assessment(owner_db, world)
    body = driepartijen_body(world)

    missing_party = {**body, "parties": {"municipality": body["parties"]["municipality"]}}
    problem = _problem(await create(client, world, case, missing_party), 422)
    assert problem["errors"][0]["pointer"] == "#/parties/addiction_care"

    missing_value = {**body, "commitments": {**body["commitments"], "municipality": "  "}}
    problem = _problem(await create(client, world, case, missing_value), 422)
    assert problem["errors"][0]["pointer"] == "#/commitments/municipality"

    wrong_kind = {**body, "parties": {**body["parties"], "municipality": str(world.orgs["politie"].id)}}
    _problem(await create(client, world, case, wrong_kind), 422)
    _problem(await create(client, world, case, {**body, "template_id": "bestaat_niet"}), 422)
    _problem(await create(client, world, case, {**body, "options": ["alles_naar_iedereen"]}), 422)
    _problem(await create(client, world, case, {**body, "owner_org": "x"}), 422)
    _problem(await create(client, world, case, {**body, "starts_on": "9999-12-31"}), 422)
    _problem(await create(client, world, case, {**body, "starts_on": "2001-01-01"}), 422)
    # A member of another conference: 404, the case's existence is not leaked.
    _problem(await create(client, world, case, person="police_member_b"), 404)
    assert await _agreements(client, world, case) == []


async def test_one_draft_and_one_active_agreement_per_template(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)
    first = await create(client, world, case)
    assert first.status_code == 201
    _problem(await create(client, world, case), 409)
    await sign_all(client, world, first.json()["id"])
    problem = _problem(await create(client, world, case), 409)
    assert problem["active_agreement_id"] == first.json()["id"]
    assert len(await _agreements(client, world, case)) == 1

    # A renewal names the agreement it replaces; once signed, the old one is superseded.
    renewal = await create(client, world, case, driepartijen_body(world, replaces_id=first.json()["id"],
                                                                  options=[]))
    assert renewal.status_code == 201, renewal.text
    await sign_all(client, world, renewal.json()["id"])
    statuses = {a["id"]: a["status"] for a in await _agreements(client, world, case)}
    assert statuses == {first.json()["id"]: "superseded", renewal.json()["id"]: "active"}


async def test_organisation_signs_only_through_a_member_with_mandate(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world, mandates=False)
    agreement_id = (await create(client, world, case)).json()["id"]
    _problem(await sign_organisation(client, world, agreement_id, "municipality", "gemeente_member"), 403)
    # Another organisation's member cannot sign for the municipality, mandate or not.
    _problem(await sign_organisation(client, world, agreement_id, "municipality", "police_member"), 403)
    _problem(await sign_organisation(client, world, agreement_id, "police", "police_member"), 422)
    agreement = (await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("chair"))).json()
    assert agreement["signatures"] == [] and agreement["status"] == "draft"
    async with owner_db.sessions() as session:
        denied = (await session.execute(
            sa.select(AccessLogEntry.actor_subject).where(AccessLogEntry.outcome == "denied",
                                                          AccessLogEntry.part == "signature")
        )).scalars().all()
    assert sorted(denied) == ["gemeente_member-sub", "police_member-sub"]


async def test_scan_is_checked_for_size_and_type(client: httpx.AsyncClient, world: World, owner_db, app) -> None:
    case = await case_with_assessment(owner_db, world)
    agreement_id = (await create(client, world, case)).json()["id"]
    limit = app.state.settings.agreement_scan_max_bytes
    too_large = PDF + b"0" * (limit + 1 - len(PDF))
    _problem(await sign_client(client, world, agreement_id, scan=("scan.pdf", too_large, "application/pdf")), 413)
    # A GIF or a script that calls itself a PDF: the magic bytes decide.
    _problem(await sign_client(client, world, agreement_id, scan=("scan.pdf", b"GIF89a....", "application/pdf")),
             422)
    _problem(await sign_client(client, world, agreement_id, scan=("scan.pdf", b"<script>", "application/pdf")), 422)
    _problem(await sign_client(client, world, agreement_id, scan=None, data={"signed_in_person": "false"}), 422)
    # The police are no party to this agreement: they do not record the client's signature.
    _problem(await sign_client(client, world, agreement_id, person="police_member"), 403)
    agreement = (await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("chair"))).json()
    assert agreement["signatures"] == []

    ok = await sign_client(client, world, agreement_id, scan=("scan.pdf", PDF, "image/png"),
                           data={"attested_by_id": str(world.members["gemeente_member"].id)})
    assert ok.status_code == 200, ok.text
    signature = ok.json()["signatures"][0]
    assert signature["party"] == "client"
    assert signature["scan_content_type"] == "application/pdf" and signature["scan_size"] == len(PDF)
    assert signature["attested_by_name"] == "Gemeente Member"
    assert signature["text_hash"] == ok.json()["text_hash"]
    scan = await client.get(f"/api/v1/agreements/{agreement_id}/client-signature/scan",
                            headers=world.headers("care_member"))
    assert scan.status_code == 200 and scan.content == PDF
    # An attester from another conference is refused.
    other = (await create(client, world, await case_with_assessment(owner_db, world, mandates=False))).json()["id"]
    _problem(await sign_client(client, world, other, data={"attested_by_id": str(world.members["chair_b"].id)}), 422)


async def test_agreement_text_only_for_chair_director_and_parties(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    case = await case_with_assessment(owner_db, world)
    agreement_id = (await create(client, world, case)).json()["id"]
    police = (await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("police_member"))).json()
    assert police["text_hidden"] is True and police["rendered_text"] is None and police["commitments"] is None
    assert police["scope"]["health"] == ["municipality", "police"]
    assert (await client.get(f"/api/v1/agreements/{agreement_id}/pdf",
                             headers=world.headers("police_member"))).status_code == 403
    care = (await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("care_member"))).json()
    assert care["text_hidden"] is False and "Jan Testpersoon" in care["rendered_text"]
    outsider = await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("police_member_b"))
    _problem(outsider, 404)


async def test_retention_removes_names_commitments_and_scans(client: httpx.AsyncClient, world: World, owner_db) -> None:
    from app.services.agreements.lifecycle import REMOVED_TEXT, anonymise_case_agreements

    case = await case_with_assessment(owner_db, world)
    agreement_id = (await create(client, world, case)).json()["id"]
    signed = (await sign_all(client, world, agreement_id)).json()
    async with owner_db.sessions() as session:
        assert await anonymise_case_agreements(session, case.id) == 1
        await session.commit()
    after = (await client.get(f"/api/v1/agreements/{agreement_id}", headers=world.headers("chair"))).json()
    assert after["rendered_text"] == REMOVED_TEXT and after["commitments"] == {}
    assert after["text_hash"] == signed["text_hash"] and after["signed_parties"] == signed["signed_parties"]
    scan = await client.get(f"/api/v1/agreements/{agreement_id}/client-signature/scan", headers=world.headers("chair"))
    assert scan.status_code == 404
