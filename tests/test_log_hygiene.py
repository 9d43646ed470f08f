"""Hygiene: no BSN, client name or note text in application logs, error answers or URLs, even
with every logger at DEBUG and SQLAlchemy logging its statements."""

from __future__ import annotations

import logging

import httpx
import pytest
import sqlalchemy as sa

from app.db import Database
from app.logging_filter import redact
from tests.factories import World

BSNS = ("999996356", "999993653")
INVALID_BSN = "123456789"
NAMES = ("Wilhelmina Zwaantjes", "Gerrit Hoogendoorn")
REASON = "Vermoedelijk GHB-gebruik en schulden bij de woningcorporatie"
GOALS = "Mijn dochter weer zien op zondag"
SECRETS = (*BSNS, INVALID_BSN, *NAMES, REASON, GOALS, "Zwaantjes", "Hoogendoorn")


def _referral(name: str, bsn: str) -> dict:
    return {"client": {"name": name, "date_of_birth": "1979-04-12", "bsn": bsn}, "reason": REASON}


async def test_no_bsn_name_or_note_text_in_logs_errors_or_urls(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine_logger = logging.getLogger("sqlalchemy.engine")
    engine_logger.setLevel(logging.INFO)  # statements and (hidden) parameters
    a = world.a.id
    answers: list[httpx.Response] = []
    try:
        for name, bsn in zip(NAMES, BSNS, strict=True):
            r = await client.post(
                f"/api/v1/conferences/{a}/referrals",
                json=_referral(name, bsn),
                headers=world.headers("gemeente_member"),
            )
            assert r.status_code == 201, r.text
            answers.append(r)
            accepted = await client.post(
                f"/api/v1/referrals/{r.json()['id']}/accept", json={}, headers=world.headers("chair")
            )
            case_id = accepted.json()["id"]
            plan = await client.get(f"/api/v1/cases/{case_id}/plan", headers=world.headers("chair"))
            answers.append(
                await client.patch(
                    f"/api/v1/cases/{case_id}/plan",
                    json={"client_goals": GOALS},
                    headers={**world.headers("chair"), "If-Match": plan.headers["ETag"]},
                )
            )
            found = await client.post(
                f"/api/v1/conferences/{a}/clients/lookup", json={"bsn": bsn}, headers=world.headers("chair")
            )
            assert found.status_code == 200 and bsn not in found.text
            answers.append(found)
        # Errors: an invalid BSN on both routes, a lookup of nobody, a stranger's lookup, a lookup
        # with a name where the BSN goes, and a body that is not JSON.
        errors = [
            await client.post(
                f"/api/v1/conferences/{a}/referrals",
                json=_referral(NAMES[0], INVALID_BSN),
                headers=world.headers("gemeente_member"),
            ),
            await client.post(
                f"/api/v1/conferences/{a}/clients/lookup",
                json={"bsn": INVALID_BSN},
                headers=world.headers("chair"),
            ),
            await client.post(
                f"/api/v1/conferences/{a}/clients/lookup",
                json={"bsn": "999990019"},
                headers=world.headers("chair"),
            ),
            await client.post(
                f"/api/v1/conferences/{a}/clients/lookup",
                json={"bsn": BSNS[0]},
                headers=world.headers("chair_b"),
            ),
            await client.post(
                f"/api/v1/conferences/{a}/clients/lookup",
                json={"bsn": NAMES[1]},
                headers=world.headers("chair"),
            ),
            await client.post(
                f"/api/v1/conferences/{a}/referrals",
                content=f'{{"client": "{NAMES[0]} {BSNS[0]}',
                headers={**world.headers("chair"), "Content-Type": "application/json"},
            ),
        ]
        assert [e.status_code for e in errors] == [422, 422, 404, 404, 422, 400]
        answers.extend(errors)
    finally:
        engine_logger.setLevel(logging.WARNING)

    assert caplog.records, "the capture must have seen log output"
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for secret in SECRETS:
        assert secret not in logged, f"{secret!r} reached the log"
    for answer in answers:
        urls = [str(answer.request.url), answer.headers.get("location", "")]
        assert not any(secret in u for u in urls for secret in SECRETS)
        if answer.status_code >= 400:
            assert not any(secret in answer.text for secret in SECRETS), answer.text


async def test_no_route_takes_a_bsn_or_name_in_its_url(app: object) -> None:
    schema = app.openapi()  # type: ignore[attr-defined]
    offenders = [
        f"{method.upper()} {path} {p['name']}"
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
        for p in op.get("parameters", [])
        if p.get("in") in {"path", "query"} and any(w in p["name"].lower() for w in ("bsn", "name", "birth"))
    ]
    assert offenders == []


def test_filter_redacts_bsn_shapes() -> None:
    assert (
        redact("bsn 999996356 en 9999.96.356 en 999 996 356") == "bsn [redacted] en [redacted] en [redacted]"
    )
    assert redact("seq 12345678 en 1234567890") == "seq 12345678 en 1234567890"

    # Only standalone runs: ids, request ids and hashes that contain nine digits are left alone.
    for text in (
        "/api/v1/cases/b653c123456789ce-81ff-4a2b-9c3d-123456789012",
        "/api/v1/clients/12345678-1234-4321-8123-123456789012/timeline",
        "request 0a123456789f0a123456789f0a123456",
        "sha256 3f123456789e",
    ):
        assert redact(text) == text
    assert redact("/api/v1/x?q=999996356&n=1") == "/api/v1/x?q=[redacted]&n=1"
    assert redact("BSN:123-456-789.") == "BSN:[redacted]."


async def test_database_error_logs_carry_no_values(owner_db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """hide_parameters hides the statement's parameters, but the database's own message quotes
    values (asyncpg's argument errors, PostgreSQL's DETAIL): those are scrubbed from the log."""
    log = logging.getLogger("app.errors")
    secret = "Zwaantjes"
    statements = [
        ("SELECT CAST(:v AS integer)", {"v": secret}),  # invalid input for query argument $1: 'Zwaantjes'
        ("SELECT CAST(:v AS uuid)", {"v": secret}),  # ... (invalid UUID 'Zwaantjes': ...)
        ("SELECT CAST(:v AS integer)", {"v": 9999999999}),  # value out of int32 range
        ("SELECT CAST(CAST(:v AS text) AS integer)", {"v": secret}),  # invalid input syntax ...: "Zwaantjes"
        ("INSERT INTO t (k, n) VALUES (:v, 2)", {"v": secret}),  # Key (k)=(Zwaantjes) already exists.
        ("INSERT INTO t (k, n) VALUES ('other', NULL) ", {}),  # Failing row contains (other, null)
    ]
    with caplog.at_level(logging.ERROR):
        async with owner_db.engine.connect() as conn:
            await conn.execute(sa.text("CREATE TEMP TABLE t (k text PRIMARY KEY, n integer CHECK (n > 0))"))
            await conn.execute(sa.text("INSERT INTO t VALUES (:v, 1)"), {"v": secret})
            await conn.execute(sa.text("ALTER TABLE t ALTER COLUMN n SET NOT NULL"))
            for statement, params in statements:
                try:
                    async with conn.begin_nested():
                        await conn.execute(sa.text(statement), params)
                except sa.exc.DBAPIError as exc:
                    log.error("database error on POST /x: %s", exc, exc_info=exc)
                else:
                    raise AssertionError(f"{statement} should fail")
    assert len(caplog.records) == len(statements)
    logged = caplog.text
    assert "[value hidden]" in logged and "already exists" in logged and "Failing row contains" in logged
    for value in (secret, "9999999999"):
        assert value not in logged, logged
