"""Case detail with its plan and many actions runs a bounded number of SQL statements."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from app.models import Assessment
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
