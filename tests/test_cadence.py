"""Acceptance 2: meetings stay at 10:00 local time across the March and October DST changes;
meetings are laid out idempotently, moved, cancelled; a cadence without dates is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.clock import clock
from app.models import Conference, Meeting
from app.services.meetings.cadence import occurrences, parse_cadence
from tests.factories import World

AMS = ZoneInfo("Europe/Amsterdam")
WEEKLY = {
    "weekday": "tuesday",
    "interval_weeks": 1,
    "time": "10:00",
    "timezone": "Europe/Amsterdam",
    "duration_minutes": 120,
    "anchor": "2026-01-06",
}


def test_weekly_meetings_stay_at_ten_local_across_both_dst_changes() -> None:
    cadence = parse_cadence(WEEKLY)
    march = occurrences(cadence, datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 8, tzinfo=UTC))
    october = occurrences(cadence, datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC))
    # CET (UTC+1) until 29 March 2026, CEST (UTC+2) until 25 October 2026
    assert [t.isoformat() for t in march] == [
        "2026-03-17T09:00:00+00:00",
        "2026-03-24T09:00:00+00:00",
        "2026-03-31T08:00:00+00:00",
        "2026-04-07T08:00:00+00:00",
    ]
    assert [t.isoformat() for t in october] == [
        "2026-10-20T08:00:00+00:00",
        "2026-10-27T09:00:00+00:00",
        "2026-11-03T09:00:00+00:00",
    ]
    for instant in march + october:
        local = instant.astimezone(AMS)
        assert (local.hour, local.minute, local.weekday()) == (10, 0, 1)


def test_every_other_week_keeps_its_parity_from_the_anchor() -> None:
    cadence = parse_cadence({**WEEKLY, "interval_weeks": 2})
    dates = [
        t.astimezone(AMS).date().isoformat()
        for t in occurrences(cadence, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC))
    ]
    assert dates == ["2026-03-03", "2026-03-17", "2026-03-31", "2026-04-14", "2026-04-28"]


async def _set_cadence(owner_db, conference_id, cadence: dict) -> None:
    async with owner_db.sessions() as s:
        await s.execute(sa.update(Conference).where(Conference.id == conference_id).values(cadence=cadence))
        await s.commit()


async def test_generating_meetings_is_idempotent_and_respects_moves_and_cancellations(
    client, world: World, owner_db
) -> None:
    clock.freeze(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    await _set_cadence(owner_db, world.a.id, WEEKLY)
    url = f"/api/v1/conferences/{world.a.id}/meetings/generate"
    first = await client.post(url, headers=world.headers("chair"), json={"weeks": 4})
    assert first.status_code == 200, first.text
    created = first.json()["created"]
    assert [m["starts_at"] for m in created] == [
        "2026-03-17T09:00:00Z",
        "2026-03-24T09:00:00Z",
        "2026-03-31T08:00:00Z",
        "2026-04-07T08:00:00Z",
    ]
    assert (await client.post(url, headers=world.headers("chair"), json={"weeks": 4})).json()["created"] == []

    moved_id, cancelled_id = created[0]["id"], created[1]["id"]
    move = await client.post(
        f"/api/v1/meetings/{moved_id}/move",
        headers=world.headers("chair", **{"If-Match": '"v1"'}),
        json={"starts_at": "2026-03-18T14:00:00+01:00"},
    )
    assert move.status_code == 200, move.text
    assert move.json()["starts_at"] == "2026-03-18T13:00:00Z"
    assert move.json()["moved_from"] == "2026-03-17T09:00:00Z"
    cancel = await client.post(
        f"/api/v1/meetings/{cancelled_id}/cancel", headers=world.headers("chair", **{"If-Match": '"v1"'})
    )
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    again = await client.post(url, headers=world.headers("chair"), json={"weeks": 4})
    assert again.json()["created"] == []
    async with owner_db.sessions() as s:
        count = (await s.execute(sa.select(sa.func.count()).select_from(Meeting))).scalar()
    assert count == 4
    listed = await client.get(
        f"/api/v1/conferences/{world.a.id}/meetings", headers=world.headers("police_member")
    )
    assert listed.status_code == 200
    assert [m["status"] for m in listed.json()] == ["scheduled", "cancelled", "scheduled", "scheduled"]
    # cancelling twice, moving a cancelled meeting: conflicts
    assert (
        await client.post(
            f"/api/v1/meetings/{cancelled_id}/cancel", headers=world.headers("chair", **{"If-Match": '"v2"'})
        )
    ).status_code == 409
    # a member may not manage meetings
    assert (await client.post(url, headers=world.headers("police_member"))).status_code == 403


async def test_ad_hoc_meeting_and_conflicts(client, world: World, owner_db) -> None:
    clock.freeze(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    url = f"/api/v1/conferences/{world.a.id}/meetings"
    created = await client.post(
        url,
        headers=world.headers("chair"),
        json={"starts_at": "2026-03-12T15:00:00+01:00", "duration_minutes": 45},
    )
    assert created.status_code == 201, created.text
    assert created.json()["ad_hoc"] is True
    assert created.json()["ends_at"] == "2026-03-12T14:45:00Z"
    same = await client.post(url, headers=world.headers("chair"), json={"starts_at": "2026-03-12T14:00:00Z"})
    assert same.status_code == 409
    past = await client.post(url, headers=world.headers("chair"), json={"starts_at": "2026-03-01T14:00:00Z"})
    assert past.status_code == 422
    naive = await client.post(url, headers=world.headers("chair"), json={"starts_at": "2026-03-20T14:00:00"})
    assert naive.status_code == 422
    far = await client.post(url, headers=world.headers("chair"), json={"starts_at": "9999-12-31T23:00:00Z"})
    assert far.status_code == 422
    listing = f"/api/v1/conferences/{world.a.id}/meetings"
    naive_from = await client.get(
        listing, headers=world.headers("chair"), params={"from": "2026-03-01T00:00:00"}
    )
    assert naive_from.status_code == 422
    edge = await client.get(listing, headers=world.headers("chair"), params={"from": "9999-12-31T00:00:00Z"})
    assert edge.status_code == 422
    backwards = await client.get(
        listing,
        headers=world.headers("chair"),
        params={"from": "2026-04-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
    )
    assert backwards.status_code == 422


async def test_a_cadence_that_produces_no_dates_is_refused(client, world: World, owner_db) -> None:
    clock.freeze(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    empty = await client.post(
        f"/api/v1/conferences/{world.b.id}/meetings/generate", headers=world.headers("chair_b")
    )
    assert empty.status_code == 422
    assert empty.headers["content-type"] == "application/problem+json"
    await _set_cadence(owner_db, world.a.id, {**WEEKLY, "anchor": "2027-06-01"})
    future = await client.post(
        f"/api/v1/conferences/{world.a.id}/meetings/generate",
        headers=world.headers("chair"),
        json={"weeks": 8},
    )
    assert future.status_code == 422
    await _set_cadence(owner_db, world.a.id, {**WEEKLY, "timezone": "Mars/Olympus_Mons"})
    bad_zone = await client.post(
        f"/api/v1/conferences/{world.a.id}/meetings/generate", headers=world.headers("chair")
    )
    assert bad_zone.status_code == 422
    async with owner_db.sessions() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Meeting))).scalar() == 0


async def test_generated_meetings_keep_local_time_over_the_october_change(
    client, world: World, owner_db
) -> None:
    clock.freeze(datetime(2026, 10, 13, 12, 0, tzinfo=UTC))
    await _set_cadence(owner_db, world.a.id, WEEKLY)
    response = await client.post(
        f"/api/v1/conferences/{world.a.id}/meetings/generate",
        headers=world.headers("chair"),
        json={"weeks": 3},
    )
    assert response.status_code == 200, response.text
    starts = [m["starts_at"] for m in response.json()["created"]]
    assert starts == ["2026-10-20T08:00:00Z", "2026-10-27T09:00:00Z", "2026-11-03T09:00:00Z"]
    ends = [m["ends_at"] for m in response.json()["created"]]
    assert ends == ["2026-10-20T10:00:00Z", "2026-10-27T11:00:00Z", "2026-11-03T11:00:00Z"]
