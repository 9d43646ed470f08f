"""Issue 18, acceptance 2: known elsewhere (hit/no-hit) between two participating conferences.
The answer is right both ways; no name or BSN is in the answer or lands in the other
conference's tables; both sides log the question; the other chair is notified."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from app.models import AccessLogEntry, Client, Conference, KnownElsewhereQuestion, Membership, Notification
from app.services.cases.clients import bsn_hash, bsn_is_valid, encrypt_bsn
from tests.factories import World, add_case

REASON = "Piet Geheim is verhuisd uit B-dorp; is hij daar bekend?"


def _valid_bsns(count: int) -> list[str]:
    found, n = [], 100000000
    while len(found) < count:
        n += 7
        if bsn_is_valid(str(n)):
            found.append(str(n))
    return found


BSN_IN_B, BSN_IN_A, BSN_CLOSED_IN_B, BSN_IN_C, BSN_NOWHERE = _valid_bsns(5)


async def _client_with_bsn(session, world: World, conference: Conference, bsn: str, name: str, settings,
                           phase: str = "active") -> Client:
    case = await add_case(session, world, conference=conference, director=None, name=name, phase=phase)
    client = await session.get(Client, case.client_id)
    assert client is not None
    client.bsn_hash, client.bsn_ciphertext = bsn_hash(bsn, settings), encrypt_bsn(bsn, settings)
    await session.flush()
    return client


@pytest.fixture
async def known(world: World, owner_db, app: Any) -> dict[str, Any]:
    """A and B take part; C (with a client of its own) does not. Clients with a BSN: an active case
    in B, an active case in A, a closed case in B, an active case in C."""
    settings = app.state.settings
    async with owner_db.sessions() as session:
        c = Conference(name="Casusoverleg C", municipality="C-stad", cadence={})
        session.add(c)
        await session.flush()
        for conference in (world.a, world.b):
            await session.execute(sa.update(Conference).where(Conference.id == conference.id)
                                  .values(known_elsewhere=True))
        await session.execute(sa.update(Membership).where(Membership.id == world.members["chair_b"].id)
                              .values(email="voorzitter@b-dorp.example"))
        await session.execute(sa.update(Membership).where(Membership.id == world.members["chair"].id)
                              .values(email="voorzitter@a-stad.example"))
        in_b = await _client_with_bsn(session, world, world.b, BSN_IN_B, "Bert Bekend", settings)
        in_a = await _client_with_bsn(session, world, world.a, BSN_IN_A, "Anna Andersom", settings)
        await _client_with_bsn(session, world, world.b, BSN_CLOSED_IN_B, "Gesloten Geval", settings, phase="closed")
        await _client_with_bsn(session, world, c, BSN_IN_C, "Carla Elders", settings)
        await session.commit()
    return {"in_b": in_b.client_number, "in_a": in_a.client_number, "c": c}


async def _ask(client: httpx.AsyncClient, world: World, person: str, conference: Conference, bsn: str,
               reason: str = REASON) -> httpx.Response:
    return await client.post(f"/api/v1/conferences/{conference.id}/known-elsewhere",
                             json={"bsn": bsn, "reason": reason}, headers=world.headers(person))


async def test_the_answer_is_right_both_ways(client, world: World, known) -> None:
    from_a = await _ask(client, world, "police_member", world.a, BSN_IN_B)
    assert from_a.status_code == 200, from_a.text
    assert from_a.json() == {"known": True, "conferences": [
        {"name": "Casusoverleg B", "chair_contact": "Chair B <voorzitter@b-dorp.example>"}]}
    from_b = await _ask(client, world, "police_member_b", world.b, BSN_IN_A)
    assert from_b.json() == {"known": True, "conferences": [
        {"name": "Casusoverleg A", "chair_contact": "Chair <voorzitter@a-stad.example>"}]}
    # not elsewhere: the asker's own client, a closed case, a conference that does not take part, nobody
    for person, conference, bsn in (("police_member", world.a, BSN_IN_A), ("police_member_b", world.b, BSN_IN_B),
                                    ("police_member", world.a, BSN_CLOSED_IN_B), ("police_member", world.a, BSN_IN_C),
                                    ("chair", world.a, BSN_NOWHERE)):
        response = await _ask(client, world, person, conference, bsn)
        assert (response.status_code, response.json()) == (200, {"known": False}), (person, bsn)
    for response in (from_a, from_b):
        for secret in (BSN_IN_A, BSN_IN_B, "Bert", "Anna", known["in_a"], known["in_b"]):
            assert secret not in response.text


async def _table_rows(owner_db) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as JSON (the scan of what a question left behind)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with owner_db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            result = await conn.execute(sa.text(f'SELECT to_jsonb(t) FROM "{table.name}" t'))  # noqa: S608
            rows[table.name] = [r[0] for r in result]
    return rows


def _new(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> dict[str, list]:
    return {t: [r for r in after[t] if r not in before[t]] for t in after}


async def test_nothing_of_the_client_crosses_both_sides_log_and_the_other_chair_is_notified(
    client, world: World, owner_db, known, app: Any
) -> None:
    before = await _table_rows(owner_db)
    response = await _ask(client, world, "police_member", world.a, BSN_IN_B)
    assert response.json()["known"] is True
    new = _new(before, await _table_rows(owner_db))
    written = {t: rows for t, rows in new.items() if rows}
    assert set(written) == {"known_elsewhere_question", "known_elsewhere_answer", "notification", "access_log"}
    digest = bsn_hash(BSN_IN_B, app.state.settings)
    everything = str(await _table_rows(owner_db))
    assert BSN_IN_B not in everything, "a BSN is never stored in the clear"
    # The other conference's (B's) rows: no BSN, no hash, no reason, nothing the asker typed
    theirs = [r for rows in written.values() for r in rows if r.get("conference_id") == str(world.b.id)]
    assert theirs and all(secret not in str(theirs) for secret in (BSN_IN_B, digest, "Piet", "Geheim", REASON))
    # The reason stays with the asking side's question; the hash is nowhere in what was written
    assert [q["conference_id"] for q in written["known_elsewhere_question"]] == [str(world.a.id)]
    assert digest not in str(written)
    [question] = written["known_elsewhere_question"]

    # Both sides logged the question, the answering side with its own client; no BSN in either
    log = {(r["conference_id"], r["resource_type"], r["action"], r["part"], r["client_number"], r["outcome"])
           for r in written["access_log"]}
    assert log == {
        (str(world.a.id), "client", "search", "bsn:known_elsewhere", None, "allowed"),
        (str(world.b.id), "known_elsewhere", "search", "answer:hit", known["in_b"], "allowed"),
    }

    # The other chair is told (ids only), and reads who asked and about which of their clients
    [note] = written["notification"]
    assert (note["membership_id"], note["kind"], note["ref_id"]) == (
        str(world.members["chair_b"].id), "known_elsewhere", question["id"])
    listed = await client.get("/api/v1/me/notifications", headers=world.headers("chair_b"))
    assert any(n["ref_id"] == question["id"] and n["kind"] == "known_elsewhere" for n in listed.json())
    opened = await client.get(f"/api/v1/known-elsewhere/{question['id']}", headers=world.headers("chair_b"))
    assert opened.status_code == 200, opened.text
    assert opened.json() | {"asked_at": None} == {
        "id": question["id"], "asked_at": None, "asking_conference": "Casusoverleg A", "asked_by": "Police Member",
        "known": True, "client_number": known["in_b"]}
    assert "Piet" not in opened.text and BSN_IN_B not in opened.text
    own_side = await client.get(f"/api/v1/known-elsewhere/{question['id']}", headers=world.headers("chair"))
    assert own_side.json()["client_number"] is None
    # a member of B (not its chair) and the asker's fellow member: refused, and logged
    assert (await client.get(f"/api/v1/known-elsewhere/{question['id']}",
                             headers=world.headers("police_member_b"))).status_code == 404
    assert (await client.get(f"/api/v1/known-elsewhere/{question['id']}",
                             headers=world.headers("gemeente_member"))).status_code == 403


async def test_a_no_is_logged_in_every_conference_asked(client, world: World, owner_db, known) -> None:
    response = await _ask(client, world, "police_member", world.a, BSN_NOWHERE)
    assert response.json() == {"known": False}
    async with owner_db.sessions() as session:
        rows = (await session.execute(sa.select(AccessLogEntry).where(
            AccessLogEntry.actor_subject == "police_member-sub"))).scalars().all()
        notes = (await session.execute(sa.select(sa.func.count()).select_from(Notification))).scalar_one()
    assert {(r.conference_id, r.part, r.client_number) for r in rows} == {
        (world.a.id, "bsn:known_elsewhere", None), (world.b.id, "answer:no_hit", None)}
    assert notes == 0


@pytest.mark.parametrize("body, pointer", [
    ({"bsn": BSN_IN_B}, "/reason"),
    ({"bsn": BSN_IN_B, "reason": "   "}, "/reason"),
    ({"bsn": "123456789", "reason": REASON}, "/bsn"),
    ({"reason": REASON}, "/bsn"),
])
async def test_bad_input_is_refused_logged_and_writes_nothing(
    client, world: World, owner_db, known, body: dict[str, str], pointer: str
) -> None:
    before = await _table_rows(owner_db)
    response = await client.post(f"/api/v1/conferences/{world.a.id}/known-elsewhere", json=body,
                                 headers=world.headers("police_member"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["pointer"].endswith(pointer)
    assert "123456789" not in response.text and BSN_IN_B not in response.text
    new = {t: rows for t, rows in _new(before, await _table_rows(owner_db)).items() if rows}
    assert list(new) == ["access_log"]
    assert [(r["outcome"], r["part"], r["resource_type"]) for r in new["access_log"]] == [
        ("denied", "bsn:known_elsewhere", "client")]
    assert "123456789" not in str(new) and BSN_IN_B not in str(new)


async def test_only_members_of_a_participating_conference_ask(client, world: World, owner_db, known) -> None:
    assert (await _ask(client, world, "police_liaison", world.a, BSN_IN_B)).status_code == 403
    assert (await _ask(client, world, "police_member_b", world.a, BSN_IN_B)).status_code == 404
    async with owner_db.sessions() as session:
        await session.execute(sa.update(Conference).where(Conference.id == world.a.id).values(known_elsewhere=False))
        await session.commit()
    refused = await _ask(client, world, "police_member", world.a, BSN_IN_B)
    assert refused.status_code == 403 and "take part" in refused.json()["detail"]
    async with owner_db.sessions() as session:
        questions = (await session.execute(sa.select(sa.func.count()).select_from(KnownElsewhereQuestion))).scalar_one()
        denied = (await session.execute(sa.select(sa.func.count()).select_from(AccessLogEntry).where(
            AccessLogEntry.outcome == "denied"))).scalar_one()
    assert questions == 0 and denied == 3


async def test_a_conference_joins_by_its_administrator(client, world: World, owner_db, known) -> None:
    url = f"/api/v1/conferences/{world.a.id}"
    assert (await client.patch(url, json={"known_elsewhere": False},
                               headers=world.headers("chair"))).status_code == 403
    left = await client.patch(url, json={"known_elsewhere": False}, headers=world.headers("admin"))
    assert (left.status_code, left.json()["known_elsewhere"]) == (200, False)
    assert (await _ask(client, world, "police_member", world.a, BSN_IN_B)).status_code == 403
    # B no longer finds A's client either: A is not asked
    assert (await _ask(client, world, "police_member_b", world.b, BSN_IN_A)).json() == {"known": False}
    joined = await client.patch(url, json={"known_elsewhere": True}, headers=world.headers("admin"))
    assert joined.json()["known_elsewhere"] is True
    assert (await _ask(client, world, "police_member_b", world.b, BSN_IN_A)).json()["known"] is True
    changes = await client.get("/api/v1/admin-changes", headers=world.headers("admin"))
    flips = [c for c in changes.json()["items"] if c["entity_type"] == "conference" and c["operation"] == "update"]
    assert len(flips) == 2
