"""Acceptance 2: the access log is append-only for the application and hash-chained, so that a
row changed, removed or inserted behind the application's back is named by verify."""

from __future__ import annotations

import argparse
import io

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from app.cli_audit import register, run_verify
from app.db import Database, DatabaseUrls
from app.services.privacy.verify import GENESIS, compute_row_hash
from tests.factories import World, add_case

VERIFY = "/api/v1/audit/verify"


async def _make_log(client: httpx.AsyncClient, world: World, owner_db: Database, reads: int = 5) -> list[int]:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await add_case(session, world)
        await session.commit()
    for _ in range(reads):
        response = await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))
        assert response.status_code == 200, response.text
    # A list writes one row per case in one transaction: those rows share a chain.
    assert (await client.get("/api/v1/cases", headers=world.headers("police_member"))).status_code == 200
    return [seq for seq, _chain in await _chains(owner_db)]


async def _chains(owner_db: Database) -> list[tuple[int, int]]:
    async with owner_db.engine.connect() as conn:
        return [
            tuple(r) for r in (await conn.execute(sa.text("SELECT seq, chain FROM access_log ORDER BY seq")))
        ]


def _successor(rows: list[tuple[int, int]], seq: int) -> int | None:
    chain = dict(rows)[seq]
    return next((s for s, c in rows if c == chain and s > seq), None)


def _with_successor(rows: list[tuple[int, int]]) -> tuple[int, int]:
    """A row that has a next row in its chain, and that next row."""
    for seq, _chain in rows:
        after = _successor(rows, seq)
        if after is not None:
            return seq, after
    raise AssertionError("no chain with two rows")


async def _verify(client: httpx.AsyncClient, world: World, **params: int) -> dict:
    response = await client.get(VERIFY, params=params, headers=world.headers("privacy_officer"))
    assert response.status_code == 200, response.text
    return response.json()


async def _owner(owner_db: Database, sql: str, **params: object) -> None:
    async with owner_db.engine.begin() as conn:
        await conn.execute(sa.text(sql), params)


async def test_intact_chain_verifies_and_rows_link(client: httpx.AsyncClient, world: World, owner_db) -> None:
    seqs = await _make_log(client, world, owner_db)
    body = await _verify(client, world)
    assert body["ok"] is True
    assert body["first_broken_seq"] is None
    assert body["rows_checked"] == len(seqs)
    async with owner_db.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM access_log ORDER BY seq"))).all()
    by_chain: dict[int, list] = {}
    for row in rows:
        by_chain.setdefault(row.chain, []).append(row)
    for chain_rows in by_chain.values():
        assert chain_rows[0].prev_hash == GENESIS
        for before, after in zip(chain_rows, chain_rows[1:], strict=False):
            assert after.prev_hash == before.row_hash
    # The heads reported are the chains' last rows at the time (before verify logged itself).
    checked = [r for r in rows if r.resource_type != "access_log"]
    heads = {str(r.chain): r.row_hash for r in checked}
    assert body["heads"] == heads
    assert all(compute_row_hash(r) == r.row_hash for r in rows)
    # The verify run itself was logged (after the check), and the chain still holds with it.
    assert (await _verify(client, world))["rows_checked"] == len(seqs) + 1


async def test_altered_row_is_named(client: httpx.AsyncClient, world: World, owner_db) -> None:
    seqs = await _make_log(client, world, owner_db)
    victim = seqs[2]
    await _owner(owner_db, "UPDATE access_log SET actor_name = 'Iemand anders' WHERE seq = :s", s=victim)
    body = await _verify(client, world)
    assert body["ok"] is False
    assert body["first_broken_seq"] == victim
    assert "changed" in body["problem"]


async def test_altered_row_with_recomputed_hash_breaks_the_next_link(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    await _make_log(client, world, owner_db)
    victim, after = _with_successor(await _chains(owner_db))
    await _owner(owner_db, "UPDATE access_log SET role = 'chair' WHERE seq = :s", s=victim)
    async with owner_db.engine.connect() as conn:
        row = (await conn.execute(sa.text("SELECT * FROM access_log WHERE seq = :s"), {"s": victim})).one()
    await _owner(
        owner_db, "UPDATE access_log SET row_hash = :h WHERE seq = :s", h=compute_row_hash(row), s=victim
    )
    body = await _verify(client, world)
    assert body["first_broken_seq"] == after


async def test_deleted_row_is_named_by_the_row_after_it(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    await _make_log(client, world, owner_db)
    victim, after = _with_successor(await _chains(owner_db))
    await _owner(owner_db, "DELETE FROM access_log WHERE seq = :s", s=victim)
    body = await _verify(client, world)
    assert body["ok"] is False
    assert body["first_broken_seq"] == after
    assert "removed or inserted" in body["problem"]


async def test_inserted_row_is_named(client: httpx.AsyncClient, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    headers = world.headers("police_member")
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=headers)).status_code == 200
    # A transaction that rolled back leaves a gap in seq; a forger fills it afterwards.
    await _owner(owner_db, "SELECT nextval('access_log_seq_seq')")
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=headers)).status_code == 200
    async with owner_db.engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM access_log ORDER BY seq"))).all()
    gap = rows[0].seq + 1
    assert gap not in [r.seq for r in rows]
    # A careful forger: the row goes into the chain of the row after the gap, linked to that
    # chain's previous row, with a correct hash of its own.
    target = rows[1]
    before = [r for r in rows if r.chain == target.chain and r.seq < gap]
    forged = dict(rows[0]._mapping)
    forged.update(
        seq=gap,
        chain=target.chain,
        actor_name="Verzonnen",
        prev_hash=before[-1].row_hash if before else GENESIS,
    )
    forged["row_hash"] = compute_row_hash(type("Row", (), forged)())
    columns = ", ".join(forged)
    values = ", ".join(f":{c}" for c in forged)
    async with owner_db.engine.begin() as conn:
        # Behind the application's back: the owner switches the triggers off for this transaction.
        await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        await conn.execute(sa.text(f"INSERT INTO access_log ({columns}) VALUES ({values})"), forged)
    body = await _verify(client, world)
    assert body["ok"] is False
    # The forged row links to its predecessor, so the break shows at the next row of its chain.
    assert body["first_broken_seq"] == target.seq

    # A clumsy forger, trigger off, who links to the row just before in seq order but puts the
    # row in another chain: the row itself is named.
    async with owner_db.engine.begin() as conn:
        await conn.execute(sa.text("DELETE FROM access_log WHERE seq = :s"), {"s": gap})
        await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        forged.update(chain=(rows[0].chain + 1) % 16, prev_hash=rows[0].row_hash)
        forged["row_hash"] = compute_row_hash(type("Row", (), forged)())
        await conn.execute(sa.text(f"INSERT INTO access_log ({columns}) VALUES ({values})"), forged)
    assert (await _verify(client, world))["first_broken_seq"] == gap


async def test_range_verify_and_empty_range(client: httpx.AsyncClient, world: World, owner_db) -> None:
    seqs = await _make_log(client, world, owner_db)
    body = await _verify(client, world, from_seq=seqs[1], to_seq=seqs[3])
    assert body == {**body, "ok": True, "from_seq": seqs[1], "to_seq": seqs[3], "rows_checked": 3}
    response = await client.get(
        VERIFY, params={"from_seq": 100000, "to_seq": 100010}, headers=world.headers("privacy_officer")
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "no rows" in response.json()["detail"]
    response = await client.get(
        VERIFY, params={"from_seq": 5, "to_seq": 2}, headers=world.headers("privacy_officer")
    )
    assert response.status_code == 422


async def test_verify_is_for_privacy_officers_only(client: httpx.AsyncClient, world: World, owner_db) -> None:
    await _make_log(client, world, owner_db, reads=1)
    response = await client.get(VERIFY, headers=world.headers("chair"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET actor_name = 'x'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
    ],
)
async def test_application_role_may_not_change_the_log(
    client: httpx.AsyncClient, world: World, owner_db, database_urls: DatabaseUrls, statement: str
) -> None:
    await _make_log(client, world, owner_db, reads=1)
    dsn = database_urls.app.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT current_user") == "casusoverleg_app"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
        # Inserting stays possible (that is how the log is written), and the row is chained.
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(
                "INSERT INTO access_log_anchor (anchored_seq, row_hash, rows_removed, "
                "removed_before, created_at) VALUES (1, 'x', 0, now(), now())"
            )
    finally:
        await conn.close()
    body = await _verify(client, world)
    assert body["ok"] is True


async def test_cli_verify_reports_ok_broken_and_empty_range(
    client: httpx.AsyncClient, world: World, owner_db, database_urls: DatabaseUrls
) -> None:
    seqs = await _make_log(client, world, owner_db)
    out, err = io.StringIO(), io.StringIO()
    assert await run_verify(database_urls.app, None, None, out, err) == 0
    assert f"{len(seqs)} rows checked" in out.getvalue()
    await _owner(owner_db, "UPDATE access_log SET outcome = 'denied' WHERE seq = :s", s=seqs[3])
    out = io.StringIO()
    assert await run_verify(database_urls.app, None, None, out, err) == 1
    assert f"BROKEN at seq {seqs[3]}" in out.getvalue()
    assert await run_verify(database_urls.app, 10_000, 10_100, out, err) == 2
    assert "no rows" in err.getvalue()


def test_cli_parser_refuses_negative_periods(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="casusoverleg")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["audit", "verify", "--from-seq", "3"])
    assert args.handler.__name__ == "cmd_audit_verify" and args.from_seq == 3
    assert parser.parse_args(["purge", "--dry-run"]).dry_run is True
    with pytest.raises(SystemExit):
        parser.parse_args(["purge", "--log-retention-days", "-1"])
    assert "cannot be negative" in capsys.readouterr().err
