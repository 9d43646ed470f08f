"""BSN: the 11-test, encrypted storage found by a keyed hash, lookups in the body, and never a
BSN in the logs, errors or URLs."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from app.models import Client
from app.services.cases.clients import bsn_is_valid
from tests.factories import World

VALID_BSNS = ["999996356", "999993653", "111222333", "123456782"]


@pytest.mark.parametrize("bsn", VALID_BSNS)
def test_valid_bsns_pass_the_eleven_test(bsn: str) -> None:
    assert bsn_is_valid(bsn)


@pytest.mark.parametrize("bsn", ["999996357", "123456789", "000000000", "12345678a", "99999635", "9999963560"])
def test_invalid_bsns_fail_the_eleven_test(bsn: str) -> None:
    assert not bsn_is_valid(bsn)


def _referral(bsn: str | None, name: str = "Petra Voorbeeld") -> dict:
    client: dict = {"name": name, "date_of_birth": "1979-03-02"}
    if bsn is not None:
        client["bsn"] = bsn
    return {"client": client, "reason": "Schulden en GHB-gebruik, dreigende huisuitzetting."}


async def test_invalid_bsn_is_refused_without_echo_and_nothing_written(client, world: World, owner_db) -> None:
    response = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", json=_referral("123456789"),
                                 headers=world.headers("gemeente_member"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "123456789" not in response.text
    assert response.json()["errors"][0]["pointer"] == "#/client/bsn"
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Client))).scalar_one() == 0


async def test_bsn_is_stored_encrypted_and_found_by_hash(client, world: World, owner_db) -> None:
    created = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", json=_referral("999996356"),
                                headers=world.headers("gemeente_member"))
    assert created.status_code == 201, created.text
    async with owner_db.sessions() as session:
        row = (await session.execute(sa.text("SELECT * FROM client"))).mappings().one()
    assert b"999996356" not in bytes(row["bsn_ciphertext"])
    assert row["bsn_hash"] != "999996356" and len(row["bsn_hash"]) == 64
    found = await client.post(f"/api/v1/conferences/{world.a.id}/clients/lookup", json={"bsn": "999996356"},
                              headers=world.headers("chair"))
    assert found.status_code == 200
    assert found.json()["client_number"] == created.json()["client_number"]
    assert found.json()["bsn_masked"] == "*****6356"
    # A second referral of the same person reuses the client.
    again = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", json=_referral("999996356"),
                              headers=world.headers("police_member"))
    assert again.json()["client_number"] == created.json()["client_number"]
    missing = await client.post(f"/api/v1/conferences/{world.a.id}/clients/lookup", json={"bsn": "999993653"},
                                headers=world.headers("chair"))
    assert missing.status_code == 404
    assert "999993653" not in missing.text


async def test_no_bsn_or_name_in_any_log_output(client, world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and their parameters
    try:
        urls = []
        for bsn in ("999996356", "999993653"):
            r = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", json=_referral(bsn),
                                  headers=world.headers("gemeente_member"))
            assert r.status_code == 201
            urls.append(str(r.request.url))
            r = await client.post(f"/api/v1/conferences/{world.a.id}/clients/lookup", json={"bsn": bsn},
                                  headers=world.headers("chair"))
            assert r.status_code == 200
            urls.append(str(r.request.url))
        bad = await client.post(f"/api/v1/conferences/{world.a.id}/referrals", json=_referral("123456789"),
                                headers=world.headers("gemeente_member"))
        assert bad.status_code == 422
        logging.getLogger("app.test").error("client with bsn %s", "999996356")
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records, "the capture must have seen log output"
    for bsn in ("999996356", "999993653", "123456789"):
        assert bsn not in text
        assert all(bsn not in u for u in urls)
    assert "[redacted]" in text



def test_redaction_keeps_uvicorn_access_log_working() -> None:
    from uvicorn.logging import AccessFormatter

    from app.logging_filter import install_log_redaction

    install_log_redaction()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/cases?q=999996356", "1.1", 200), None,
    )
    line = AccessFormatter(fmt="%(client_addr)s %(request_line)s %(status_code)s", use_colors=False).format(record)
    assert "999996356" not in line and "/api/v1/cases" in line and "200" in line


async def test_bulk_lookups_by_bsn_are_throttled_and_flagged(client, world: World, owner_db) -> None:
    from app.models import AccessLogEntry

    url = f"/api/v1/conferences/{world.a.id}/clients/lookup"
    for _ in range(30):
        assert (await client.post(url, json={"bsn": "999996356"}, headers=world.headers("chair"))).status_code == 404
    refused = await client.post(url, json={"bsn": "999993653"}, headers=world.headers("chair"))
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["Retry-After"]) > 0
    assert "999993653" not in refused.text
    # Someone else is not affected.
    other = await client.post(url, json={"bsn": "999993653"}, headers=world.headers("gemeente_member"))
    assert other.status_code == 404
    async with owner_db.sessions() as session:
        flagged = (
            await session.execute(sa.select(AccessLogEntry).where(AccessLogEntry.part == "bsn:throttled"))
        ).scalars().all()
    assert [(f.actor_subject, f.outcome) for f in flagged] == [(world.members["chair"].subject, "denied")]
