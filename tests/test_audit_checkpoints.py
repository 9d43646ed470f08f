"""Issue 13, acceptance 3: the access log survives its own database owner. The chain is keyed
with AUDIT_CHAIN_KEY, which the database never sees, and signed checkpoints of the chains' heads
are kept outside the database; `audit verify` names the first affected row of a rewrite with a
recomputed chain, of rows removed from the end, and of a forged purge."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from app.cli_audit import run_verify
from app.db import Database, DatabaseUrls
from app.services.privacy.checkpoints import (
    ChainBroken,
    latest_checkpoint,
    publish_checkpoint,
    write_checkpoint,
)
from app.services.privacy.verify import verify_chain
from tests.driver_statements import driver_statements
from tests.factories import World, add_case


async def _log(client: httpx.AsyncClient, world: World, owner_db: Database, reads: int = 6) -> list[tuple[int, int]]:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await add_case(session, world)
        await session.commit()
    for _ in range(reads):
        response = await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))
        assert response.status_code == 200, response.text
    assert (await client.get("/api/v1/cases", headers=world.headers("police_member"))).status_code == 200
    return await _rows(owner_db)


async def _rows(owner_db: Database) -> list[tuple[int, int]]:
    async with owner_db.engine.connect() as conn:
        return [(r.seq, r.chain) for r in await conn.execute(sa.text("SELECT seq, chain FROM access_log ORDER BY seq"))]


async def _owner(owner_db: Database, sql: str, **params: object) -> None:
    async with owner_db.engine.begin() as conn:
        await conn.execute(sa.text(sql), params)


async def _checkpoint(owner_db: Database, folder: Path) -> Path | None:
    async with owner_db.sessions() as session:
        return await publish_checkpoint(session, folder, _secret())


def _secret() -> str:
    from app.audit import chain_secret

    return chain_secret()


async def _verify(database_urls: DatabaseUrls, folder: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_verify(database_urls.app, None, None, out, err, checkpoint_dir=folder)
    return code, out.getvalue() + err.getvalue()


# What an owner who knows the old design would do: recompute the chain from the changed row on,
# with the canonical text and the hash the database itself offers.
RECHAIN_WITH_THE_DATABASES_OWN_FUNCTION = """
DO $$
DECLARE
    r access_log;
    prev text;
BEGIN
    FOR r IN SELECT * FROM access_log WHERE chain = {chain} AND seq >= {seq} ORDER BY seq LOOP
        IF prev IS NOT NULL THEN
            r.prev_hash := prev;
        END IF;
        prev := encode(sha256(convert_to(access_log_canonical(r), 'UTF8')), 'hex');
        UPDATE access_log SET prev_hash = r.prev_hash, row_hash = prev WHERE seq = r.seq;
    END LOOP;
END
$$
"""


async def test_owner_rewrites_a_row_and_recomputes_the_chain(
    client: httpx.AsyncClient, world: World, owner_db: Database, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    rows = await _log(client, world, owner_db)
    assert await _checkpoint(owner_db, tmp_path) is not None
    victim, chain = rows[2]
    assert any(c == chain and s > victim for s, c in rows), "the victim has later rows in its chain"
    await _owner(owner_db, "UPDATE access_log SET actor_name = 'Iemand anders', role = 'chair' WHERE seq = :s", s=victim)
    await _owner(owner_db, RECHAIN_WITH_THE_DATABASES_OWN_FUNCTION.format(chain=chain, seq=victim))
    # The chain is consistent again by the database's own measure ...
    async with owner_db.engine.connect() as conn:
        relinked = (
            await conn.execute(
                sa.text(
                    "SELECT bool_and(prev_hash = lag) FROM (SELECT prev_hash, lag(row_hash) OVER (ORDER BY seq) "
                    "FROM access_log WHERE chain = :c) x WHERE lag IS NOT NULL"
                ),
                {"c": chain},
            )
        ).scalar()
    assert relinked is True
    # ... but not by the key's: verify names the rewritten row, by API and on the command line.
    code, text = await _verify(database_urls, tmp_path)
    assert code == 1
    assert f"BROKEN at seq {victim}:" in text and "changed" in text
    response = await client.get("/api/v1/audit/verify", headers=world.headers("privacy_officer"))
    body = response.json()
    assert (body["ok"], body["first_broken_seq"]) == (False, victim)


async def test_owner_deletes_the_newest_rows(
    client: httpx.AsyncClient, world: World, owner_db: Database, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    rows = await _log(client, world, owner_db)
    await _checkpoint(owner_db, tmp_path)
    code, text = await _verify(database_urls, tmp_path)
    assert code == 0 and "checked against checkpoint checkpoint-" in text
    # The newest rows of one chain go; what is left is a perfectly linked, shorter chain.
    newest_seq, chain = rows[-1]
    of_chain = [s for s, c in rows if c == chain]
    assert len(of_chain) >= 3
    first_removed = of_chain[-3]
    await _owner(owner_db, "DELETE FROM access_log WHERE chain = :c AND seq >= :s", c=chain, s=first_removed)
    # Without the checkpoint nothing shows ...
    async with owner_db.sessions() as session:
        assert (await verify_chain(session)).ok is True
    code, text = await _verify(database_urls, tmp_path / "elsewhere")
    assert code == 0 and "no checkpoint yet" in text
    # ... against it, verify names the first row that is gone.
    code, text = await _verify(database_urls, tmp_path)
    assert code == 1
    assert f"BROKEN at seq {first_removed}:" in text
    assert f"through seq {newest_seq}" in text
    # The checkpoint job refuses to sign over it.
    with pytest.raises(ChainBroken):
        await _checkpoint(owner_db, tmp_path)


async def test_owner_deletes_everything(
    client: httpx.AsyncClient, world: World, owner_db: Database, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    rows = await _log(client, world, owner_db, reads=1)
    await _checkpoint(owner_db, tmp_path)
    await _owner(owner_db, "DELETE FROM access_log")
    code, text = await _verify(database_urls, tmp_path)
    assert code == 1 and "has no rows left" in text
    assert f"BROKEN at seq {min(s for s, _c in rows)}" in text or "BROKEN at seq 1" in text


async def test_a_forged_purge_anchor_is_named(
    client: httpx.AsyncClient, world: World, owner_db: Database, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    rows = await _log(client, world, owner_db)
    first, chain = rows[0]
    later = [s for s, c in rows if c == chain and s > first]
    # Remove the oldest row and write the anchor the retention purge would have written.
    async with owner_db.engine.begin() as conn:
        row_hash = (await conn.execute(sa.text("SELECT row_hash FROM access_log WHERE seq = :s"), {"s": first})).scalar()
        await conn.execute(sa.text("DELETE FROM access_log WHERE seq = :s"), {"s": first})
        await conn.execute(
            sa.text(
                "INSERT INTO access_log_anchor (chain, anchored_seq, row_hash, rows_removed, removed_before, created_at) "
                "VALUES (:c, :s, :h, 1, now(), now())"
            ),
            {"c": chain, "s": first, "h": row_hash},
        )
    code, text = await _verify(database_urls, tmp_path)
    assert code == 1
    assert f"BROKEN at seq {later[0]}:" in text and "purge anchor" in text


async def test_checkpoints_are_signed_files_outside_the_database(
    client: httpx.AsyncClient, world: World, owner_db: Database, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    assert await _checkpoint(owner_db, tmp_path) is None  # an empty log: nothing to record
    rows = await _log(client, world, owner_db, reads=2)
    path = await _checkpoint(owner_db, tmp_path)
    assert path is not None and path.parent == tmp_path
    document = json.loads(path.read_text())
    assert {int(c): s for c, (s, _h) in document["heads"].items()} == {
        c: max(s for s, cc in rows if cc == c) for _s, c in rows
    }
    # More rows, a second checkpoint: it verifies only what is new, and keeps every chain.
    await _log(client, world, owner_db, reads=1)
    second = await _checkpoint(owner_db, tmp_path)
    assert second is not None and second.name > path.name
    checkpoint = latest_checkpoint(tmp_path, document["database"], _secret())
    assert checkpoint is not None and checkpoint.name == second.name
    assert set(checkpoint.heads) >= {int(c) for c in document["heads"]}
    # A checkpoint changed by hand (a head moved back) no longer verifies: verify says so.
    document = json.loads(second.read_text())
    chain = next(iter(document["heads"]))
    document["heads"][chain][0] -= 1
    second.write_text(json.dumps(document))
    code, text = await _verify(database_urls, tmp_path)
    assert code == 1 and "signature" in text
    # A checkpoint signed with another key does not pass either.
    other = tmp_path / "other"
    write_checkpoint(other, replace(checkpoint, name="checkpoint-x.json"), "another-key-entirely-of-some-length")
    code, text = await _verify(database_urls, other)
    assert code == 1 and "signature" in text


async def test_concurrent_requests_keep_every_chain_whole(
    client: httpx.AsyncClient, world: World, owner_db: Database, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    headers = world.headers("police_member")
    # Concurrent, but within the pool (10 + 10 overflow): beyond it a request waits at most the pool
    # timeout and is answered 503 by design (tests/test_bounded_waits.py), which is not this test.
    responses = await asyncio.gather(
        *[client.get(f"/api/v1/cases/{case.id}", headers=headers) for _ in range(12)],
        *[client.get("/api/v1/cases", headers=headers) for _ in range(4)],
    )
    assert {r.status_code for r in responses} == {200}
    rows = await _rows(owner_db)
    assert len(rows) >= 16 and len({c for _s, c in rows}) > 1  # several connections, several chains
    await _checkpoint(owner_db, tmp_path)
    code, text = await _verify(database_urls, tmp_path)
    assert code == 0, text


async def test_application_role_appends_only_through_the_chain(
    client: httpx.AsyncClient, world: World, owner_db: Database, database_urls: DatabaseUrls
) -> None:
    await _log(client, world, owner_db, reads=1)
    conn = await asyncpg.connect(database_urls.app.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO access_log (seq, occurred_at, actor_issuer, actor_subject, resource_type, action, "
                "outcome) VALUES (999999, now(), 'x', 'y', 'case', 'read', 'allowed')"
            )
        # A stale head (another writer got there first) inserts nothing and returns the real head.
        lane, head, _claimed = await conn.fetchrow("SELECT lane, head, claimed FROM access_log_claim()")
        moved = await conn.fetchval("SELECT access_log_append($1, $2, '[]'::jsonb, '')", lane, "f" * 64)
        assert moved == head
    finally:
        await conn.close()


async def test_a_list_appends_all_its_rows_with_one_statement(
    app: object, client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    """Issue 16: the access log as a set. 30 cases listed, 30 rows, one append (and no trigger)."""

    async with owner_db.sessions() as session:
        for i in range(30):
            await add_case(session, world, name=f"Persoon {i}")
        await session.commit()
    headers = world.headers("police_member")
    assert (await client.get("/api/v1/cases?limit=50", headers=headers)).status_code == 200  # warm: claim
    before = len(await _rows(owner_db))
    with driver_statements() as seen:  # counted at the driver: SQLAlchemy's or asyncpg's own
        response = await client.get("/api/v1/cases?limit=50", headers=headers)
    appends = [s for s in seen if "access_log" in s]
    assert response.status_code == 200 and len(response.json()["items"]) == 30
    assert len(await _rows(owner_db)) - before == 30
    assert len(appends) == 1 and appends[0].startswith("SELECT access_log_append("), appends
    async with owner_db.engine.connect() as conn:
        triggers = (
            await conn.execute(sa.text("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'access_log'::regclass"))
        ).scalar()
    assert triggers == 0
