"""Issue 21, ZRM anchors: the score descriptions 1-5 of every life domain, with the source named,
served as metadata to any signed-in person (partner systems are refused)."""

from __future__ import annotations

import httpx

from app.models.enums import LifeDomain
from app.services.cases import zrm
from tests.factories import World


async def test_every_domain_has_five_anchors_and_the_source_is_named(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get("/api/v1/zrm/anchors", headers=world.headers("chair"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "Zelfredzaamheid-Matrix (ZRM), GGD Amsterdam / Hogeschool van Amsterdam"
    assert [d["domain"] for d in body["domains"]] == [d.value for d in LifeDomain]
    for domain in body["domains"]:
        assert domain["name"], domain["domain"]
        assert [s["score"] for s in domain["scores"]] == [1, 2, 3, 4, 5], domain["domain"]
        assert [s["level"] for s in domain["scores"]] == [
            "acute problematiek", "niet zelfredzaam", "beperkt zelfredzaam", "voldoende zelfredzaam",
            "volledig zelfredzaam",
        ]
        descriptions = [s["description"] for s in domain["scores"]]
        assert all(descriptions) and len(set(descriptions)) == 5, domain["domain"]
    refused = await client.get("/api/v1/zrm/anchors", headers=world.headers("police_system"))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_the_anchors_are_short() -> None:
    assert set(zrm.ANCHORS) == set(LifeDomain) == set(zrm.DOMAIN_NAMES)
    assert all(len(line) <= 120 for lines in zrm.ANCHORS.values() for line in lines)
