"""RetryingSession.driver(): hot paths run their own SQL on the session's asyncpg connection, inside
the session's transaction, and a database fault raised by asyncpg itself is still answered as a
temporary fault (503), not as a bug."""

from __future__ import annotations

import asyncpg
import pytest

from app.db import Database, RetryingSession, database_fault


async def _count(db: Database, marker: str) -> int:
    async with db.sessions() as session:
        driver = await session.driver()  # type: ignore[attr-defined]
        return int(await driver.fetchval("SELECT count(*) FROM organisation WHERE name = $1", marker))


async def _insert(session: RetryingSession, marker: str) -> None:
    driver = await session.driver()
    await driver.execute(
        "INSERT INTO organisation (id, name, slug, kind, claim_mapping, created_at) "
        "VALUES (gen_random_uuid(), $1, $1, 'municipality', '{}', now())", marker)


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
async def test_driver_statements_belong_to_the_sessions_transaction(owner_db: Database, outcome: str) -> None:
    marker = f"driver-{outcome}"
    async with owner_db.sessions() as session:
        assert isinstance(session, RetryingSession)
        await _insert(session, marker)
        # Seen inside the transaction, by SQLAlchemy's statements too ...
        assert await _count_in(session, marker) == 1
        await (session.commit() if outcome == "commit" else session.rollback())
    # ... and after it ends, only when it committed.
    assert await _count(owner_db, marker) == (1 if outcome == "commit" else 0)


async def _count_in(session: RetryingSession, marker: str) -> int:
    from sqlalchemy import text

    return int((await session.execute(text("SELECT count(*) FROM organisation WHERE name = :m"), {"m": marker}))
               .scalar_one())


def test_asyncpg_faults_are_temporary_faults() -> None:
    assert database_fault(asyncpg.exceptions.LockNotAvailableError("lock")) == "lock_timeout"
    assert database_fault(asyncpg.exceptions.DeadlockDetectedError("deadlock")) == "deadlock"
    assert database_fault(asyncpg.exceptions.ConnectionDoesNotExistError("gone")) == "connection"
    assert database_fault(asyncpg.exceptions.AdminShutdownError("shutdown")) == "connection"
    assert database_fault(asyncpg.exceptions.UniqueViolationError("dup")) is None  # a bug, not a fault
    assert database_fault(asyncpg.exceptions.DataError("out of range")) is None  # input, not a fault


async def test_driver_follows_the_session_into_its_next_transaction(owner_db: Database) -> None:
    async with owner_db.sessions() as session:
        assert isinstance(session, RetryingSession)
        await _insert(session, "driver-first")
        assert await session.driver() is await session.driver()  # one connection per transaction
        await session.commit()
        await _insert(session, "driver-second")  # a new transaction, begun by driver() again
        await session.rollback()
    assert await _count(owner_db, "driver-first") == 1
    assert await _count(owner_db, "driver-second") == 0
