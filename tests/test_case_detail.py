"""Case detail with its plan and many actions runs a bounded number of SQL statements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event

from app.models import Assessment
from app.schemas.cases import CaseDetail
from tests.factories import World, add_action, add_case


async def _count_statements(app, client, world: World, case_id) -> tuple[int, dict]:
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        response = await client.get(f"/api/v1/cases/{case_id}", headers=world.headers("care_member"))
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert response.status_code == 200, response.text
    return len(statements), response.json()


@pytest.mark.parametrize("n_actions", [50])
async def test_case_detail_statement_count_does_not_grow_with_actions(app, client, world: World, owner_db,
                                                                      n_actions: int) -> None:
    async with owner_db.sessions() as session:
        small = await add_case(session, world)
        big = await add_case(session, world, name="Tweede Persoon")
        await add_action(session, world, small)
        for i in range(n_actions):
            await add_action(session, world, big, due_in_days=i)
        session.add(Assessment(case_id=big.id, assessed_on=date.today(), assessed_by_id=world.members["care_member"].id,
                               scores={"housing": 2, "finances": 1}))
        await session.commit()
    # Warm up: a connection's first access-log write claims its chain (app/audit.py), and one
    # whose cached chain head is stale (the tables are truncated between tests) seals again.
    await _count_statements(app, client, world, small.id)
    few, _ = await _count_statements(app, client, world, small.id)
    many, body = await _count_statements(app, client, world, big.id)
    assert len(body["actions"]) == n_actions
    assert body["plan"]["client_goals"] == "Ik wil weer een eigen plek."
    assert body["assessments"]["items"][0]["scores"]["housing"] == 2  # care sees health-labelled scores
    assert many == few
    assert many <= 15


async def test_police_sees_no_health_labelled_assessments(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        session.add(Assessment(case_id=case.id, assessed_on=date.today(), assessed_by_id=world.members["care_member"].id,
                               scores={"substance_use": 1}))
        await session.commit()
    police = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("police_member"))).json()
    assert police["assessments"] == {"items": [], "trend": [], "hidden": True}
    care = (await client.get(f"/api/v1/cases/{case.id}", headers=world.headers("care_member"))).json()
    assert care["assessments"]["items"][0]["scores"] == {"substance_use": 1}


async def test_case_detail_actions_read_as_each_action_does(client, world: World, owner_db) -> None:
    """The detail builds its actions in PostgreSQL (issue 16); each one must read exactly as the
    action's own read path shapes it, for every caller: content hidden or shown by label, owner
    and basis (a signed agreement included), overdue by the same rule, nothing more or less."""
    from tests.agreements_support import case_with_assessment, create, sign_all

    case = await case_with_assessment(owner_db, world)
    async with owner_db.sessions() as session:

        async def action(owner: str, domain: str, title: str = "Huisbezoek", updated_at: datetime | None = None,
                         **extra: Any) -> None:
            row = await add_action(session, world, case, owner=owner, **extra)
            row.life_domain, row.title = domain, title
            row.updated_at = updated_at or row.updated_at

        # Text that JSON must escape, and a time without microseconds.
        await action("politie", "housing", title='Huis"bezoek\\ \n\t\u0001 € 🏠 </script>',
                     updated_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
        await action("zorg", "substance_use", due_in_days=-3, note="Intake gemist", description="Behandelplek")  # overdue
        await action("zorg", "mental_health", due_in_days=-2, status="done")  # past its date, but done
        await action("politie", "justice", assignee=None, resource_scope="debt_fast_track", resource_amount_cents=125_000)
        await action("gemeente", "finances", label="org_internal")
        await action("wijkteam", "housing", label="health")
        await session.commit()
    created = await create(client, world, case)
    assert created.status_code == 201, created.text
    await sign_all(client, world, created.json()["id"])

    for person in ("care_member", "police_member", "police_liaison", "chair", "gemeente_member",
                   "wijkteam_member"):
        headers = world.headers(person)
        detail = await client.get(f"/api/v1/cases/{case.id}", headers=headers)
        assert detail.status_code == 200, detail.text
        shown = detail.json()["actions"]
        assert len(shown) == 6
        # Written as JSON by the read path: exactly the bytes CaseDetail's own serializer writes.
        assert detail.content == CaseDetail.model_validate_json(detail.content).model_dump_json().encode()
        for action in shown:
            own = await client.get(f"/api/v1/actions/{action['id']}", headers=headers)
            assert own.status_code == 200, own.text
            assert action == own.json(), person
        if person == "police_member":
            assert {a["hidden"] for a in shown} == {True, False}
            assert any(a["basis"] for a in shown)  # health through the agreement
            assert {a["updated_at"] for a in shown if a["title"].startswith('Huis"')} == {"2026-03-01T12:00:00Z"}
        assert [a["overdue"] for a in shown[:2]] == [True, False]  # in order of their due date


async def test_a_case_detail_whose_log_rows_cannot_be_written_is_not_served(
    client, world: World, owner_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detail is read outside a transaction and its access-log rows appended right after:
    when they cannot be written, the answer is an error, never the data (and no row claims it)."""
    import sqlalchemy as sa

    from app import audit

    async with owner_db.sessions() as session:
        case = await add_case(session, world, name="Onvindbaar Persoon")
        await session.commit()
    headers = world.headers("care_member")
    assert (await client.get(f"/api/v1/cases/{case.id}", headers=headers)).status_code == 200

    async def rows() -> int:
        async with owner_db.sessions() as session:
            found = await session.execute(sa.text("SELECT count(*) FROM access_log WHERE case_id = :id"), {"id": case.id})
            return int(found.scalar_one())

    before = await rows()
    monkeypatch.setattr(audit, "_APPEND", "SELECT access_log_append($1::smallint, $2::text, $3::jsonb, $4::text) "
                                          "FROM no_such_table")
    response = await client.get(f"/api/v1/cases/{case.id}", headers=headers)
    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Onvindbaar" not in response.text and str(case.client_id) not in response.text
    assert await rows() == before
