"""Acceptance 1: the agenda builds itself from what needs discussing, with reasons; the chair
adjusts and publishes it; members see only what they may."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.models import AgendaItem, Case
from app.schemas.meetings import AgendaOut
from tests.factories import World, add_action, add_case
from tests.meeting_helpers import NOW, add_flag, add_meeting, add_referral, chair_post


async def _situation(owner_db, world: World, client: httpx.AsyncClient, *, with_flag: bool) -> dict:
    clock.freeze(NOW)
    async with owner_db.sessions() as s:
        meeting = await add_meeting(s, world)
        cases = {}
        for key in ("relapse", "review", "overdue", "escalation", "request", "quiet", "closed"):
            cases[key] = await add_case(
                s, world, name=f"Naam {key}", phase="closed" if key == "closed" else "active"
            )
        cases["review"].next_review_date = NOW.date()  # due before the meeting (3 March)
        cases["quiet"].next_review_date = NOW.date() + timedelta(days=60)
        cases["escalation"].priority = "high"
        await add_action(s, world, cases["overdue"], due_in_days=-3)
        await add_action(
            s,
            world,
            cases["escalation"],
            due_in_days=10,
            coverage="escalation_required",
            resource_scope="housing_allocation",
        )
        # the quiet case: an action due later and an overdue one that is done -> needs nothing
        await add_action(s, world, cases["quiet"], due_in_days=10)
        await add_action(s, world, cases["quiet"], due_in_days=-5, status="done")
        await add_action(s, world, cases["closed"], due_in_days=-5)
        referral = await add_referral(s, world)
        await s.commit()
    if with_flag:
        await add_flag(
            owner_db, cases["relapse"].id, "relapse", NOW - timedelta(days=1), reason="GHB-terugval",
            label="health",  # as the care system's relapse event labels it
        )
        await add_flag(owner_db, cases["quiet"].id, "relapse", NOW - timedelta(days=1), reason="opgeheven")
        async with owner_db.engine.begin() as conn:
            await conn.execute(
                sa.text("UPDATE case_flag SET cleared_at = :t WHERE case_id = :c"),
                {"t": NOW, "c": cases["quiet"].id},
            )
    response = await client.post(
        "/api/v1/discussion-requests",
        headers=world.headers("police_member"),
        json={"case_id": str(cases["request"].id), "reason": "Veel meldingen overlast"},
    )
    assert response.status_code == 201, response.text
    return {"meeting": meeting, "cases": cases, "referral": referral}


async def test_draft_agenda_lists_every_reason_in_order_of_urgency(client, world: World, owner_db) -> None:
    built = await _situation(owner_db, world, client, with_flag=True)
    meeting, cases = built["meeting"], built["cases"]
    response = await chair_post(client, world, meeting.id, "/agenda/draft")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    by_case = {i["case_id"]: i for i in items if i["kind"] == "case"}
    codes = {
        key: [r["code"] for r in by_case[str(c.id)]["reasons"]]
        for key, c in cases.items()
        if str(c.id) in by_case
    }
    # The chair leads the process: a relapse is health information, so without a basis the chair
    # sees that a health signal needs discussion, not what it is (docs/need-to-know.md).
    assert codes == {
        "relapse": ["signal"],
        "escalation": ["escalation_required"],
        "overdue": ["overdue_actions"],
        "review": ["review_due"],
        "request": ["discussion_request"],
    }
    referral_items = [i for i in items if i["kind"] == "referral"]
    assert [i["referral_id"] for i in referral_items] == [str(built["referral"].id)]
    assert referral_items[0]["reasons"][0]["code"] == "referral_pending"
    # most urgent first: relapse > escalation > overdue > review > request > referral
    order = [i["case_id"] or "referral" for i in items]
    assert order == [str(cases[k].id) for k in ("relapse", "escalation", "overdue", "review", "request")] + [
        "referral"
    ]
    assert [i["position"] for i in items] == [1, 2, 3, 4, 5, 6]
    texts = {k: by_case[str(cases[k].id)]["reasons"][0]["text"] for k in codes}
    assert texts["relapse"] == "Signaal (gezondheid) ontvangen, inhoud afgeschermd: bespreken"
    assert texts["overdue"] == "1 actie over de termijn (oudste: 27-02-2026)"
    assert texts["escalation"] == "1 actie wacht op mandaat-escalatie"
    assert texts["review"].startswith("Evaluatiedatum 02-03-2026")
    assert texts["request"] == "Bespreekverzoek van Politie"
    # the chair sees names and the request's own reason; every item has a suggested time box
    assert by_case[str(cases["request"].id)]["client_name"] == "Naam request"
    assert by_case[str(cases["request"].id)]["reasons"][0]["detail"] == "Veel meldingen overlast"
    assert all(i["time_box_minutes"] == 10 for i in items)


async def test_flags_before_the_last_discussion_do_not_count(client, world: World, owner_db) -> None:
    clock.freeze(NOW)
    async with owner_db.sessions() as s:
        case = await add_case(s, world)
        earlier = await add_meeting(s, world, starts_at=NOW - timedelta(days=14), published=True)
        s.add(AgendaItem(meeting_id=earlier.id, kind="case", case_id=case.id, reasons=[], position=1))
        meeting = await add_meeting(s, world)
        await s.commit()
    # Another kind than the later flag: one open flag per kind and case (a unique index).
    await add_flag(owner_db, case.id, "detention", NOW - timedelta(days=20))
    response = await chair_post(client, world, meeting.id, "/agenda/draft")
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    await add_flag(owner_db, case.id, "police_contact", NOW - timedelta(days=2), reason="aanhouding")
    response = await chair_post(client, world, meeting.id, "/agenda/draft")
    items = response.json()["items"]
    assert [(i["case_id"], [r["code"] for r in i["reasons"]]) for i in items] == [
        (str(case.id), ["serious_event"])
    ]
    assert items[0]["reasons"][0]["text"] == "Politiecontact gemeld op 28-02-2026"


async def test_members_see_the_published_agenda_without_names_or_hidden_details(
    client, world: World, owner_db
) -> None:
    built = await _situation(owner_db, world, client, with_flag=True)
    meeting, cases = built["meeting"], built["cases"]
    assert (await chair_post(client, world, meeting.id, "/agenda/draft")).status_code == 200
    draft = await client.get(
        f"/api/v1/meetings/{meeting.id}/agenda", headers=world.headers("police_member")
    )
    assert draft.status_code == 404
    assert (await chair_post(client, world, meeting.id, "/agenda/publish")).status_code == 200
    police = await client.get(
        f"/api/v1/meetings/{meeting.id}/agenda", headers=world.headers("police_member")
    )
    care = await client.get(f"/api/v1/meetings/{meeting.id}/agenda", headers=world.headers("care_member"))
    other = await client.get(
        f"/api/v1/meetings/{meeting.id}/agenda", headers=world.headers("police_member_b")
    )
    assert police.status_code == 200 and care.status_code == 200, police.text
    assert other.status_code == 404
    for answer in (police, care):  # written by the service: the bytes AgendaOut's serializer writes
        assert answer.content == AgendaOut.model_validate_json(answer.content).model_dump_json().encode()
    body = police.text
    for key in cases:
        assert f"Naam {key}" not in body
    assert "Veel meldingen" not in body and "GHB" not in body and "Schulden" not in body
    police_items = {i["case_id"]: i for i in police.json()["items"]}
    relapse = police_items[str(cases["relapse"].id)]
    assert set(relapse) >= {"client_number", "phase", "reasons"}
    assert relapse["client_name"] is None and relapse["priority"] is None
    # a relapse is health information: the police see that there is a signal, not what it is
    assert [r["code"] for r in relapse["reasons"]] == ["signal"]
    care_relapse = next(i for i in care.json()["items"] if i["case_id"] == str(cases["relapse"].id))
    assert [r["code"] for r in care_relapse["reasons"]] == ["relapse_flag"]
    assert care_relapse["reasons"][0]["detail"] is None
    # publishing handled the member's request: it does not come back on the next agenda
    async with owner_db.sessions() as s:
        handled = (await s.execute(sa.text("SELECT handled_in_meeting_id FROM discussion_request"))).scalar()
        logged = (
            await s.execute(
                sa.text(
                    "SELECT count(*) FILTER (WHERE outcome = 'allowed'), count(*) FILTER (WHERE outcome = 'denied') "
                    "FROM access_log WHERE resource_type = 'agenda' AND actor_subject = 'police_member-sub'"
                )
            )
        ).one()
    assert handled == meeting.id
    # one row per client shown; the refused read of the draft is logged as refused
    assert tuple(logged) == (len(police.json()["items"]), 1)


async def test_chair_adds_removes_reorders_and_time_boxes(client, world: World, owner_db) -> None:
    built = await _situation(owner_db, world, client, with_flag=False)
    meeting, cases = built["meeting"], built["cases"]
    items = (await chair_post(client, world, meeting.id, "/agenda/draft")).json()["items"]
    added = await chair_post(
        client,
        world,
        meeting.id,
        "/agenda/items",
        {"case_id": str(cases["quiet"].id), "reason": "Even bijpraten", "time_box_minutes": 15},
    )
    assert added.status_code == 201, added.text
    items = added.json()["items"]
    assert items[-1]["case_id"] == str(cases["quiet"].id) and items[-1]["added_by_chair"]
    assert items[-1]["reasons"][0]["code"] == "added_by_chair"
    again = await chair_post(client, world, meeting.id, "/agenda/items", {"case_id": str(cases["quiet"].id)})
    assert again.status_code == 409
    closed = await chair_post(
        client, world, meeting.id, "/agenda/items", {"case_id": str(cases["closed"].id)}
    )
    assert closed.status_code == 422

    first = items[0]["id"]
    removed = await chair_post(client, world, meeting.id, f"/agenda/items/{first}", method="DELETE")
    assert removed.status_code == 200
    visible = [i for i in removed.json()["items"] if not i["removed"]]
    assert first not in [i["id"] for i in visible]

    new_order = [i["id"] for i in reversed(visible)]
    reordered = await chair_post(
        client, world, meeting.id, "/agenda/order", {"item_ids": new_order}, method="PUT"
    )
    assert reordered.status_code == 200, reordered.text
    assert [i["id"] for i in reordered.json()["items"] if not i["removed"]] == new_order

    boxed = await chair_post(
        client, world, meeting.id, f"/agenda/items/{new_order[0]}", {"time_box_minutes": 25}, method="PATCH"
    )
    assert boxed.status_code == 200
    assert boxed.json()["items"][0]["time_box_minutes"] == 25

    # regenerating keeps the chair's additions and removals
    regenerated = (await chair_post(client, world, meeting.id, "/agenda/draft")).json()["items"]
    removed_case = items[0]["case_id"]
    assert [i["removed"] for i in regenerated if i["case_id"] == removed_case] == [True]
    assert str(cases["quiet"].id) in [i["case_id"] for i in regenerated if not i["removed"]]
    # ... and the items keep their ids, so the chair's references stay valid
    before_ids = {i["case_id"] or i["referral_id"]: i["id"] for i in boxed.json()["items"]}
    assert {i["case_id"] or i["referral_id"]: i["id"] for i in regenerated} == before_ids


async def test_bad_agenda_edits_are_refused_and_change_nothing(client, world: World, owner_db) -> None:
    built = await _situation(owner_db, world, client, with_flag=False)
    meeting = built["meeting"]
    items = (await chair_post(client, world, meeting.id, "/agenda/draft")).json()["items"]
    ids = [i["id"] for i in items]

    async def positions() -> list:
        async with owner_db.sessions() as s:
            rows = (
                await s.execute(
                    sa.select(AgendaItem.id, AgendaItem.position, AgendaItem.time_box_minutes)
                    .where(AgendaItem.meeting_id == meeting.id)
                    .order_by(AgendaItem.position)
                )
            ).all()
        return [tuple(r) for r in rows]

    before = await positions()
    duplicate = await chair_post(
        client, world, meeting.id, "/agenda/order", {"item_ids": [ids[0], *ids]}, method="PUT"
    )
    unknown = await chair_post(
        client,
        world,
        meeting.id,
        "/agenda/order",
        {"item_ids": [*ids[1:], "00000000-0000-4000-8000-000000000000"]},
        method="PUT",
    )
    missing = await chair_post(
        client, world, meeting.id, "/agenda/order", {"item_ids": ids[1:]}, method="PUT"
    )
    zero = await chair_post(
        client, world, meeting.id, f"/agenda/items/{ids[0]}", {"time_box_minutes": 0}, method="PATCH"
    )
    too_long = await chair_post(
        client, world, meeting.id, f"/agenda/items/{ids[0]}", {"time_box_minutes": 121}, method="PATCH"
    )
    for response in (duplicate, unknown, missing, zero, too_long):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert "00000000-0000-4000-8000-000000000000" in unknown.json()["unknown"]
    assert await positions() == before
    member = await client.put(
        f"/api/v1/meetings/{meeting.id}/agenda/order",
        json={"item_ids": ids},
        headers=world.headers("police_member", **{"If-Match": '"v1"'}),
    )
    assert member.status_code == 403
    stale = await client.put(
        f"/api/v1/meetings/{meeting.id}/agenda/order",
        json={"item_ids": ids},
        headers=world.headers("chair", **{"If-Match": '"v1"'}),
    )
    assert stale.status_code == 412


async def test_statement_count_of_the_draft_is_constant(client, world: World, owner_db) -> None:
    """The builder aggregates in SQL: 5 cases or 40 cases, the same number of statements."""
    from app.services.meetings import agenda

    clock.freeze(NOW)

    async def count_for(n: int) -> int:
        async with owner_db.sessions() as s:
            for _ in range(n):
                case = await add_case(s, world)
                case.next_review_date = NOW.date()
                await add_action(s, world, case, due_in_days=-2)
            meeting = await add_meeting(s, world, starts_at=NOW + timedelta(days=n))
            await s.commit()
        statements = 0

        def count(*_args) -> None:
            nonlocal statements
            statements += 1

        sa.event.listen(owner_db.engine.sync_engine, "before_cursor_execute", count)
        try:
            async with owner_db.sessions() as s:
                meeting = await s.get(type(meeting), meeting.id)
                assert meeting is not None
                total = (await agenda.build_draft(s, meeting, world.a.cadence)).items
                await s.commit()
        finally:
            sa.event.remove(owner_db.engine.sync_engine, "before_cursor_execute", count)
        async with owner_db.sessions() as s:
            active = (await s.execute(sa.select(sa.func.count()).select_from(Case))).scalar()
        assert total == active
        return statements

    assert await count_for(5) == await count_for(40)
