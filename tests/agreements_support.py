"""Helpers for the agreement tests: a case with a health-labelled assessment, signing mandates,
and the HTTP steps of making and signing an agreement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.clock import clock
from app.db import Database
from app.models import Assessment, Case
from tests.factories import World, add_case, add_mandate

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


async def case_with_assessment(owner_db: Database, world: World, *, mandates: bool = True, **kwargs: Any) -> Case:
    async with owner_db.sessions() as session:
        case = await add_case(session, world, **kwargs)
        session.add(Assessment(case_id=case.id, assessed_on=clock.today() - timedelta(days=1),
                               assessed_by_id=world.members["care_member"].id,
                               scores={"substance_use": 2, "housing": 1}))
        if mandates:
            for person in ("gemeente_member", "care_member"):
                await add_mandate(session, world.members[person], "sign_agreements")
        await session.commit()
    return case


def driepartijen_body(world: World, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "template_id": "driepartijen",
        "parties": {"municipality": str(world.orgs["gemeente"].id), "addiction_care": str(world.orgs["zorg"].id)},
        "commitments": {
            "client": "Ik kom elke week naar de afspraak bij de verslavingszorg.",
            "municipality": "De gemeente regelt schuldhulp binnen twee weken.",
            "addiction_care": "De verslavingszorg biedt een behandelplek binnen een maand.",
        },
        "options": ["health_to_police"],
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, world: World, case: Case, body: dict[str, Any] | None = None,
                 person: str = "chair") -> httpx.Response:
    return await client.post(f"/api/v1/cases/{case.id}/agreements", json=body or driepartijen_body(world),
                             headers=world.headers(person))


async def sign_organisation(client: httpx.AsyncClient, world: World, agreement_id: str, party: str,
                            person: str) -> httpx.Response:
    return await client.post(f"/api/v1/agreements/{agreement_id}/signatures", json={"party": party},
                             headers=world.headers(person))


async def sign_client(client: httpx.AsyncClient, world: World, agreement_id: str, *, person: str = "care_member",
                      scan: tuple[str, bytes, str] | None = ("handtekening.png", PNG, "image/png"),
                      data: dict[str, str] | None = None) -> httpx.Response:
    return await client.post(f"/api/v1/agreements/{agreement_id}/client-signature", data=data or {},
                             files={"scan": scan} if scan else None, headers=world.headers(person))


async def sign_all(client: httpx.AsyncClient, world: World, agreement_id: str,
                   signers: dict[str, str] | None = None) -> httpx.Response:
    if signers is None:
        signers = {"municipality": "gemeente_member", "addiction_care": "care_member"}
    for party, person in signers.items():
        response = await sign_organisation(client, world, agreement_id, party, person)
        assert response.status_code == 200, response.text
    response = await sign_client(client, world, agreement_id)
    assert response.status_code == 200, response.text
    return response


async def assessments_seen_by(client: httpx.AsyncClient, world: World, case: Case, person: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{case.id}/assessments", headers=world.headers(person))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
