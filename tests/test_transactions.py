"""A write either happens completely or not at all, and the answer tells which."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import Client, Referral
from tests.factories import World


async def test_a_failing_commit_is_an_error_answer_and_nothing_is_written(app, world: World, owner_db) -> None:
    def refuse(session) -> None:  # noqa: ANN001
        raise RuntimeError("commit refused by the test")

    factory = Session  # every ORM session, for the duration of this one request
    event.listen(factory, "before_commit", refuse)
    # As a real server would: the error handler's answer, not the exception, reaches the client.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                f"/api/v1/conferences/{world.a.id}/referrals",
                json={"client": {"name": "Ria", "date_of_birth": "1980-01-01"}, "reason": "Zorgen."},
                headers=world.headers("gemeente_member"),
            )
    finally:
        event.remove(factory, "before_commit", refuse)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "refused" not in response.text  # generic body, no internals
    async with owner_db.sessions() as session:
        for table in (Client, Referral):
            assert (await session.execute(sa.select(sa.func.count()).select_from(table))).scalar_one() == 0


async def test_a_write_is_visible_as_soon_as_its_answer_arrives(client, world: World, owner_db) -> None:
    response = await client.post(
        f"/api/v1/conferences/{world.a.id}/referrals",
        json={"client": {"name": "Ria", "date_of_birth": "1980-01-01"}, "reason": "Zorgen."},
        headers=world.headers("gemeente_member"),
    )
    assert response.status_code == 201
    async with owner_db.sessions() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(Referral))).scalar_one() == 1
