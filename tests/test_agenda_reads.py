"""The agenda's read (issue 16): one statement for the items and what need to know needs of their
cases, whatever the number of items; and the reasons it shows follow the same need to know as
every other read of the case (agreements in force and their withdrawals, legal bases, an open
break-glass)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from app.clock import clock
from app.deps import lane_for
from app.http.dispatch import PathDispatch
from app.models import Agreement, BreakGlass, ConsentWithdrawal, LegalBasis
from app.routers import meetings as meetings_router
from app.schemas.meetings import AgendaOut
from tests.driver_statements import driver_statements
from tests.factories import World, add_case
from tests.meeting_helpers import NOW, add_flag, add_meeting, chair_post

HIDDEN = "Signaal (gezondheid) ontvangen, inhoud afgeschermd: bespreken"
UNKNOWN = uuid.UUID("00000000-0000-4000-8000-000000000000")


async def test_agenda_statements_do_not_grow_with_its_items(client: httpx.AsyncClient, world: World,
                                                             owner_db) -> None:
    clock.freeze(NOW)
    try:
        async with owner_db.sessions() as s:
            small, big = await add_meeting(s, world), await add_meeting(s, world, starts_at=NOW + timedelta(days=8))
            for i in range(30):
                case = await add_case(s, world, name=f"Persoon {i}")
                case.next_review_date = NOW.date()
            await s.commit()
        for meeting in (small, big):
            assert (await chair_post(client, world, meeting.id, "/agenda/draft")).status_code == 200
        async with owner_db.engine.begin() as conn:  # the small agenda keeps 3 of its 30 items
            await conn.execute(sa.text("DELETE FROM agenda_item WHERE meeting_id = :m AND position > 3"),
                               {"m": small.id})
        counted = {}
        headers = world.headers("chair")
        for meeting in (small, big, small):  # the first request fills the token cache
            with driver_statements() as seen:
                response = await client.get(f"/api/v1/meetings/{meeting.id}/agenda", headers=headers)
            assert response.status_code == 200, response.text
            # Written by the service as JSON: exactly the bytes AgendaOut's own serializer writes.
            assert response.content == AgendaOut.model_validate_json(response.content).model_dump_json().encode()
            counted[len(response.json()["items"])] = seen
        assert set(counted) == {3, 30}
        assert len(counted[3]) == len(counted[30]) == 2, counted[30]
        # Outside any transaction: the meeting with its items and what need to know needs of their
        # cases, then the access log (one row per client shown, in one call).
        assert counted[30][0].lstrip().startswith("WITH m AS")
        assert counted[30][1].startswith("SELECT access_log_append")
        with driver_statements() as seen:
            draft = await client.post(f"/api/v1/meetings/{small.id}/agenda/draft",
                                      headers={**headers, "If-Match": response.headers["ETag"]})
        assert draft.status_code == 200 and len(draft.json()["items"]) == 30
        with driver_statements() as again:
            draft = await client.post(f"/api/v1/meetings/{small.id}/agenda/draft",
                                      headers={**headers, "If-Match": draft.headers["ETag"]})
        assert draft.status_code == 200 and len(again) == len(seen), again
        # BEGIN, the meeting (locked) with its conference's cadence, what needs discussing (one
        # aggregate), the items replaced and the meeting's new version (one statement), the agenda
        # as above, the access log, COMMIT.
        assert len(again) == 7, again
    finally:
        clock.reset()


async def test_agenda_reasons_follow_the_cases_need_to_know(client: httpx.AsyncClient, world: World,
                                                             owner_db) -> None:
    """The chair (a municipality) reads a health signal's content on the agenda exactly when the
    case's flags read it: under an agreement in force, not after its withdrawal, again under a
    break-glass; under a legal basis, not once it has ended."""
    clock.freeze(NOW)
    try:
        async with owner_db.sessions() as s:
            meeting = await add_meeting(s, world)
            case = await add_case(s, world)
            await s.commit()
        await add_flag(owner_db, case.id, "relapse", NOW - timedelta(days=1), reason="Terugval GHB", label="health")
        chair = world.members["chair"]
        today = clock.today()

        async def shown() -> bool:
            draft = await chair_post(client, world, meeting.id, "/agenda/draft")
            assert draft.status_code == 200, draft.text
            agenda = await client.get(f"/api/v1/meetings/{meeting.id}/agenda", headers=world.headers("chair"))
            item = next(i for i in agenda.json()["items"] if i["case_id"] == str(case.id))
            for answer in (agenda, draft):  # hidden and shown reasons: the bytes AgendaOut writes
                assert answer.content == AgendaOut.model_validate_json(answer.content).model_dump_json().encode()
            assert item == next(i for i in draft.json()["items"] if i["case_id"] == str(case.id))
            flags = (await client.get(f"/api/v1/cases/{case.id}/flags", headers=world.headers("chair"))).json()
            visible = item["reasons"][0]["code"] == "relapse_flag"
            assert visible == (not flags[0]["hidden"])
            if not visible:
                assert item["reasons"][0] == {"code": "signal", "text": HIDDEN, "detail": None}
            return visible

        assert not await shown()
        text = "Driepartijenovereenkomst"
        async with owner_db.sessions() as s:
            agreement = Agreement(case_id=case.id, conference_id=world.a.id, template_id="driepartijen",
                                  template_version=3, template_sha256="0" * 64, title=text, parties={},
                                  commitments={}, scope={"health": ["municipality", "police"]}, status="signed",
                                  starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=30),
                                  rendered_text=text, text_hash=hashlib.sha256(text.encode()).hexdigest(),
                                  created_by_id=chair.id)
            s.add(agreement)
            await s.commit()
        assert await shown()
        async with owner_db.sessions() as s:
            s.add(ConsentWithdrawal(agreement_id=agreement.id, whole=False, label="health",
                                    organisation_kinds=["police"], recorded_by_id=chair.id,
                                    effective_at=NOW - timedelta(hours=1)))
            await s.commit()
        assert await shown()  # withdrawn for the police only
        async with owner_db.sessions() as s:
            s.add(ConsentWithdrawal(agreement_id=agreement.id, whole=False, label="health",
                                    organisation_kinds=["municipality"], recorded_by_id=chair.id,
                                    effective_at=NOW + timedelta(hours=1)))
            await s.commit()
        assert await shown()  # a withdrawal takes effect at its moment, not before
        clock.freeze(NOW + timedelta(hours=2))
        assert not await shown()
        async with owner_db.sessions() as s:
            s.add(BreakGlass(case_id=case.id, conference_id=world.a.id, membership_id=chair.id,
                             organisation_id=chair.organisation_id, reason="Spoed",
                             opened_at=clock.now(), expires_at=clock.now() + timedelta(hours=1)))
            await s.commit()
        assert await shown()
        clock.freeze(NOW + timedelta(hours=4))  # the break-glass has expired
        assert not await shown()
        async with owner_db.sessions() as s:
            basis = LegalBasis(case_id=case.id, conference_id=world.a.id, article="Art. 9 lid 2 sub g AVG",
                               justification="Zwaarwegend algemeen belang", scope={"health": ["municipality"]},
                               starts_on=today, ends_on=today + timedelta(days=30), recorded_by_id=chair.id)
            s.add(basis)
            await s.commit()
        assert await shown()
        async with owner_db.sessions() as s:
            found = await s.get(LegalBasis, basis.id)
            found.ended_at = clock.now()
            await s.commit()
        assert not await shown()
    finally:
        clock.reset()


async def test_regenerating_keeps_the_chairs_choices_in_place(client: httpx.AsyncClient, world: World,
                                                              owner_db) -> None:
    """The draft's one replacing statement: automatic items numbered 1..n in urgency order, the
    items the chair added after them in the chair's order, a subject the chair removed stays
    removed (position 0), an item that no longer applies goes, and the others keep their ids."""
    clock.freeze(NOW)
    try:
        async with owner_db.sessions() as s:
            meeting = await add_meeting(s, world)
            due = []
            for i in range(3):
                case = await add_case(s, world, name=f"Evaluatie {i}")
                case.next_review_date = NOW.date()
                due.append(case)
            quiet = [await add_case(s, world, name=f"Rustig {i}") for i in range(2)]
            for case in quiet:
                case.next_review_date = NOW.date() + timedelta(days=60)
            await s.commit()
        first = await chair_post(client, world, meeting.id, "/agenda/draft")
        assert first.status_code == 200 and len(first.json()["items"]) == 3
        for case in reversed(quiet):  # the chair adds the second quiet case, then the first
            added = await chair_post(client, world, meeting.id, "/agenda/items", {"case_id": str(case.id)})
            assert added.status_code == 201, added.text
        gone = added.json()["items"][0]
        assert (await chair_post(client, world, meeting.id, f"/agenda/items/{gone['id']}",
                                 method="DELETE")).status_code == 200
        async with owner_db.sessions() as s:  # one automatic item no longer applies
            later = next(c for c in due if str(c.id) != gone["case_id"])
            await s.execute(sa.text("UPDATE \"case\" SET next_review_date = :d WHERE id = :i"),
                            {"d": NOW.date() + timedelta(days=60), "i": later.id})
            await s.commit()
        before = {i["case_id"]: i["id"] for i in added.json()["items"]}
        again = await chair_post(client, world, meeting.id, "/agenda/draft")
        assert again.status_code == 200, again.text
        items = again.json()["items"]
        shown = [(i["case_id"], i["position"], i["added_by_chair"]) for i in items if not i["removed"]]
        still_due = next(str(c.id) for c in due if str(c.id) not in (gone["case_id"], str(later.id)))
        assert shown == [(still_due, 1, False), (str(quiet[1].id), 2, True), (str(quiet[0].id), 3, True)]
        assert [(i["case_id"], i["position"]) for i in items if i["removed"]] == [(gone["case_id"], 0)]
        assert str(later.id) not in [i["case_id"] for i in items]
        assert all(before[i["case_id"]] == i["id"] for i in items)
        assert again.json()["meeting"]["version"] == added.json()["meeting"]["version"] + 2
    finally:
        clock.reset()


async def test_a_regeneration_logs_an_update_only_for_the_items_it_wrote(client: httpx.AsyncClient, world: World,
                                                                         owner_db) -> None:
    """Every client shown is logged as listed; as updated only where the draft wrote the item
    (new, or its reasons, order, time box or removal changed): regenerating an unchanged agenda
    changes nobody's item."""
    clock.freeze(NOW)
    try:
        async with owner_db.sessions() as s:
            meeting = await add_meeting(s, world)
            due = []
            for i in range(3):
                case = await add_case(s, world, name=f"Evaluatie {i}")
                case.next_review_date = NOW.date()
                due.append(case)
            await s.commit()

        async def logged(response: httpx.Response) -> dict[str, list[str]]:
            assert response.status_code == 200, response.text
            async with owner_db.engine.connect() as conn:
                rows = (await conn.execute(sa.text(
                    "SELECT action, client_number FROM access_log WHERE request_id = :r AND resource_type = 'agenda'"
                ), {"r": response.headers["x-request-id"]})).all()
            return {action: sorted(n for a, n in rows if a == action) for action in ("list", "update")}

        first = await chair_post(client, world, meeting.id, "/agenda/draft")
        numbers = sorted(i["client_number"] for i in first.json()["items"])
        assert len(numbers) == 3 and await logged(first) == {"list": numbers, "update": numbers}
        unchanged = await chair_post(client, world, meeting.id, "/agenda/draft")
        assert [i["id"] for i in unchanged.json()["items"]] == [i["id"] for i in first.json()["items"]]
        assert await logged(unchanged) == {"list": numbers, "update": []}
        async with owner_db.sessions() as s:  # one review date passed: that item's reason reads otherwise
            await s.execute(sa.text("UPDATE \"case\" SET next_review_date = :d WHERE id = :i"),
                            {"d": NOW.date() - timedelta(days=1), "i": due[0].id})
            await s.commit()
        changed = await chair_post(client, world, meeting.id, "/agenda/draft")
        item = next(i for i in changed.json()["items"] if i["case_id"] == str(due[0].id))
        assert "verstreken" in item["reasons"][0]["text"]
        assert await logged(changed) == {"list": numbers, "update": [item["client_number"]]}
    finally:
        clock.reset()


async def test_the_agenda_answers_in_its_lane_what_the_route_answers(app: Any, client: httpx.AsyncClient,
                                                                       world: World, owner_db) -> None:
    """GET .../agenda runs in a lane (app/deps.py `lane_for`, without FastAPI's request handling):
    the same status, headers and bytes as through FastAPI's route, for the chair's draft, a member
    refused the draft, a member's published agenda, an unknown meeting, no token and an ETag that
    matches; and the same access-log rows."""
    clock.freeze(NOW)
    try:
        async with owner_db.sessions() as s:
            draft, published = await add_meeting(s, world), await add_meeting(s, world, starts_at=NOW + timedelta(days=8))
            for i in range(3):
                case = await add_case(s, world, name=f"Evaluatie {i}")
                case.next_review_date = NOW.date()
            await s.commit()
        for meeting in (draft, published):
            assert (await chair_post(client, world, meeting.id, "/agenda/draft")).status_code == 200
        etag = (await chair_post(client, world, published.id, "/agenda/publish")).headers["ETag"]
        assert etag

        async def run() -> list[tuple[Any, ...]]:
            answers = []
            for person, meeting_id, extra in (("chair", draft.id, {}), ("police_member", draft.id, {}),
                                              ("police_member", published.id, {}), ("chair", UNKNOWN, {}),
                                              (None, draft.id, {})):
                headers = world.headers(person, **extra) if person else {}
                response = await client.get(f"/api/v1/meetings/{meeting_id}/agenda", headers=headers)
                async with owner_db.engine.connect() as conn:
                    rows = (await conn.execute(sa.text(
                        "SELECT action, resource_type, resource_id, client_number, case_id, part, role, outcome "
                        "FROM access_log WHERE request_id = :r ORDER BY seq"), {"r": response.headers["x-request-id"]})).all()
                answers.append((response.status_code, response.content, rows,
                                [(k, v) for k, v in response.headers.items() if k not in ("x-request-id", "content-length")]))
            got = await client.get(f"/api/v1/meetings/{published.id}/agenda", headers=world.headers("police_member"))
            again = await client.get(f"/api/v1/meetings/{published.id}/agenda",
                                     headers=world.headers("police_member", **{"If-None-Match": got.headers["ETag"]}))
            answers.append((again.status_code, again.content))
            return answers

        dispatch = app.router.middleware_stack
        assert isinstance(dispatch, PathDispatch) and meetings_router.get_agenda in dispatch.lanes
        ran: list[str] = []

        def counted(route: Any) -> Any:
            lane = lane_for(meetings_router.get_agenda, route)

            async def counting(scope: Any, receive: Any, send: Any) -> bool:
                ran.append(scope["path"])
                return await lane(scope, receive, send)
            return counting

        saved = dispatch.lanes
        try:
            dispatch.lanes, dispatch._signature = {meetings_router.get_agenda: counted}, None
            through_lane = await run()
            assert len(ran) >= 5
            dispatch.lanes, dispatch._signature = {}, None
            ran.clear()
            through_route = await run()
            assert not ran
        finally:
            dispatch.lanes, dispatch._signature = saved, None
        assert [a[0] for a in through_lane] == [200, 404, 200, 404, 401, 304]
        assert through_lane[0][2] and through_lane[1][2][0][-1] == "denied"
        assert through_lane == through_route
    finally:
        clock.reset()


def test_per_client_access_rows_equal_constructed_ones() -> None:
    """meeting_views.per_client copies an Access field by field (for speed): the copies must be
    the Access that its constructor makes, and stay frozen."""
    import dataclasses

    import pytest

    from app.audit import Access
    from app.routers.meeting_views import per_client

    template = Access(action="list", resource_type="agenda", resource_id="m", conference_id=uuid.uuid4(), part="agenda")
    case = uuid.uuid4()
    copies = per_client(template, [(case, "N-1"), (None, "N-2")], ["a", "b"])
    assert copies == [dataclasses.replace(template, case_id=case, client_number="N-1", resource_id="a"),
                      dataclasses.replace(template, case_id=None, client_number="N-2", resource_id="b")]
    assert per_client(template, [(case, "N-1")]) == [dataclasses.replace(template, case_id=case, client_number="N-1")]
    with pytest.raises(dataclasses.FrozenInstanceError):
        copies[0].action = "read"  # type: ignore[misc]
