"""The event intake's lane (app/http/dispatch.py `lanes`, app/routers/events.py `push_events_lane`):
`POST /api/v1/events` run without FastAPI's request handling answers what the route answers, for
every kind of request a partner system sends: stored, replayed, refused by the intake, by the
policy, by the body's size or type, without a token."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import sqlalchemy as sa

from app.db import Database
from app.http.dispatch import PathDispatch
from app.models import PartnerEvent
from app.routers import events as events_router
from tests.events.support import CE, CE_BATCH, binary, event, link_case, sdk_event
from tests.factories import World

Answer = tuple[int, list[tuple[str, str]], Any]


def _answer(response: httpx.Response, *, ids: dict[str, str], tag: str) -> Answer:
    """Status, headers (but the request id) and the body, with the service's fresh ids and times of
    a stored event replaced by their role and the run's tag in the events' ids taken out, so that
    two runs compare."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in ("x-request-id", "content-length")]
    body: Any = response.content
    if response.headers.get("content-type", "").endswith("json"):
        body = json.loads(response.text.replace(f'"{tag}-', '"tag-'))
        for receipt in body.get("receipts", [body]) if isinstance(body, dict) else []:
            if isinstance(receipt, dict) and "event" in receipt:
                receipt["event"] = ids.setdefault(receipt["event"], f"event-{len(ids)}")
                receipt["received_at"] = "received"
    return response.status_code, headers, body


async def _requests(api: httpx.AsyncClient, world: World, tag: str) -> list[Answer]:
    """The same sequence each time; `tag` keeps the event ids of the two runs apart."""
    care = world.headers("care_system")
    ids: dict[str, str] = {}
    first = event("relapse", id=f"{tag}-1")
    requests: list[Callable[[], Awaitable[httpx.Response]]] = [
        lambda: api.post("/api/v1/events", content=json.dumps(first), headers={**care, **CE}),
        lambda: api.post("/api/v1/events", content=json.dumps(first), headers={**care, **CE}),  # replay
        lambda: api.post("/api/v1/events", content=json.dumps({**first, "data": {"substances": ["alcohol"]}}),
                         headers={**care, **CE}),  # the id again, other content
        lambda: api.post("/api/v1/events", content=json.dumps(event("lapse", "ZRG-UNKNOWN", id=f"{tag}-2")),
                         headers={**care, **CE}),
        lambda: api.post("/api/v1/events", content=json.dumps([event("lapse", id=f"{tag}-3"),
                                                               event("overdose", id=f"{tag}-4")]),
                         headers={**care, **CE_BATCH}),
        lambda: api.post("/api/v1/events", content=b"[]", headers={**care, **CE_BATCH}),
        lambda: api.post("/api/v1/events", content=b'{"id": 1, "id": 2}', headers={**care, **CE}),
        lambda: api.post("/api/v1/events", content=b"<event/>", headers={**care, "content-type": "text/xml"}),
        lambda: api.post("/api/v1/events", content=json.dumps(event("relapse", id=f"{tag}-5", time="yesterday")),
                         headers={**care, **CE}),
        lambda: api.post("/api/v1/events", content=json.dumps(event("relapse", id=f"{tag}-6")),
                         headers={**world.headers("care_liaison"), **CE}),  # a person, not a system
        lambda: api.post("/api/v1/events", content=json.dumps(event("relapse", id=f"{tag}-7")), headers=CE),
        lambda: api.post("/api/v1/events", content=json.dumps(event("relapse", id=f"{tag}-8")),
                         headers={"Authorization": "Bearer not-a-token", **CE}),
    ]
    message = binary(sdk_event("missed_appointment", id=f"{tag}-9"))
    requests.append(lambda: api.post("/api/v1/events", content=message.body, headers={**care, **message.headers}))
    return [_answer(await send(), ids=ids, tag=tag) for send in requests]


async def _stored(owner_db: Database, prefix: str) -> int:
    async with owner_db.sessions() as session:
        query = sa.select(sa.func.count()).select_from(PartnerEvent).where(PartnerEvent.event_id.like(f"{prefix}-%"))
        return int((await session.execute(query)).scalar_one())


async def test_the_lane_answers_what_the_route_answers(
    api: httpx.AsyncClient, events_app: Any, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    dispatch = events_app.router.middleware_stack
    assert isinstance(dispatch, PathDispatch)
    assert dispatch.lanes == {events_router.push_events: events_router.push_events_lane}
    ran: list[str] = []

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        ran.append(scope["path"])
        await events_router.push_events_lane(scope, receive, send)

    saved = dispatch.lanes
    try:
        dispatch.lanes, dispatch._signature = {events_router.push_events: counted}, None
        through_lane = await _requests(api, world, "lane")
        assert ran, "the lane did not run"
        dispatch.lanes, dispatch._signature = {}, None
        ran.clear()
        through_route = await _requests(api, world, "route")
        assert not ran
    finally:
        dispatch.lanes, dispatch._signature = saved, None

    assert [a[0] for a in through_lane] == [201, 200, 409, 422, 201, 400, 400, 415, 422, 403, 401, 401, 201]
    for one, other in zip(through_lane, through_route, strict=True):
        assert one == other
    assert await _stored(owner_db, "lane") == await _stored(owner_db, "route") == 4
