"""Lanes (app/deps.py `lane_for`, app/http/dispatch.py): an endpoint run without FastAPI's request
handling answers what the route answers. `POST /api/v1/events` for every kind of request a partner
system sends (stored, replayed, refused by the intake, by the policy, by the body's type, without
a token); case detail for the callers who see it, who may not, who are not known, and with a
matching If-None-Match. An endpoint a lane cannot run is refused at start-up."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import Header, Query, Response
from fastapi.routing import APIRoute

from app.db import Database
from app.deps import GuardDep, lane_for
from app.http.dispatch import PathDispatch
from app.models import Assessment, PartnerEvent
from app.routers import cases as cases_router
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


async def _through_lane_and_route(
    app: Any, endpoint: Any, run: Callable[[str], Awaitable[list[Answer]]]
) -> tuple[list[Answer], list[Answer]]:
    """`run` with the endpoint in its lane (counted), then through FastAPI's route."""
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PathDispatch)
    assert endpoint in dispatch.lanes
    ran: list[str] = []

    def counted(route: Any) -> Any:
        lane = lane_for(endpoint, route)

        async def counting(scope: Any, receive: Any, send: Any) -> bool:
            answered = await lane(scope, receive, send)
            if answered:
                ran.append(scope["path"])
            return answered
        return counting

    saved = dispatch.lanes
    try:
        dispatch.lanes, dispatch._signature = {endpoint: counted}, None
        through_lane = await run("lane")
        assert ran, "the lane did not run"
        dispatch.lanes, dispatch._signature = {}, None
        ran.clear()
        through_route = await run("route")
        assert not ran
    finally:
        dispatch.lanes, dispatch._signature = saved, None
    return through_lane, through_route


async def test_the_event_intake_answers_in_its_lane_what_the_route_answers(
    api: httpx.AsyncClient, events_app: Any, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    through_lane, through_route = await _through_lane_and_route(
        events_app, events_router.push_events, lambda tag: _requests(api, world, tag))
    assert [a[0] for a in through_lane] == [201, 200, 409, 422, 201, 400, 400, 415, 422, 403, 401, 401, 201]
    for one, other in zip(through_lane, through_route, strict=True):
        assert one == other
    assert await _stored(owner_db, "lane") == await _stored(owner_db, "route") == 4


async def test_case_detail_answers_in_its_lane_what_the_route_answers(
    api: httpx.AsyncClient, events_app: Any, world: World, owner_db: Database
) -> None:
    case_id = (await link_case(owner_db, world)).case.id
    async with owner_db.sessions() as session:  # health-labelled: the police do not see the scores
        session.add(Assessment(case_id=case_id, assessed_on=date.today(), assessed_by_id=world.members["care_member"].id,
                               scores={"substance_use": 1}))
        await session.commit()

    async def run(_tag: str) -> list[Answer]:
        answers = []
        for person, path in (("care_member", f"/api/v1/cases/{case_id}"),
                             ("police_member", f"/api/v1/cases/{case_id}"),  # other labels hidden
                             ("chair_b", f"/api/v1/cases/{case_id}"),  # another conference: not found
                             ("care_member", "/api/v1/cases/00000000-0000-4000-8000-000000000000")):
            answers.append(_answer(await api.get(path, headers=world.headers(person)), ids={}, tag=_tag))
        answers.append(_answer(await api.get(f"/api/v1/cases/{case_id}"), ids={}, tag=_tag))
        etag = (await api.get(f"/api/v1/cases/{case_id}", headers=world.headers("care_member"))).headers["etag"]
        answers.append(_answer(await api.get(f"/api/v1/cases/{case_id}",
                                             headers=world.headers("care_member", **{"If-None-Match": etag})),
                               ids={}, tag=_tag))
        return answers

    through_lane, through_route = await _through_lane_and_route(events_app, cases_router.get_case, run)
    assert [a[0] for a in through_lane] == [200, 200, 404, 404, 401, 304]
    assert through_lane[0][2] != through_lane[1][2]  # (the two organisations see different things)
    assert through_lane == through_route


def test_an_endpoint_a_lane_cannot_run_is_refused_at_start_up() -> None:
    async def with_a_query(case_id: uuid.UUID, guard: GuardDep, full: bool = Query(False)) -> Response:
        raise AssertionError

    async def with_a_model(case_id: uuid.UUID, guard: GuardDep) -> dict[str, str]:
        raise AssertionError

    async def with_a_header(guard: GuardDep, x_trace: str | None = Header(None)) -> Response:
        raise AssertionError

    with pytest.raises(TypeError, match="answers a Response"):
        lane_for(with_a_model, APIRoute("/cases/{case_id:uuid}", with_a_model))
    with pytest.raises(TypeError, match="headers"):
        lane_for(with_a_header, APIRoute("/cases", with_a_header))
    with pytest.raises(TypeError, match="case_id"):  # a path parameter its route does not convert
        lane_for(cases_router.get_case, APIRoute("/cases/{case_id}", cases_router.get_case))
    lane_for(with_a_query, APIRoute("/cases/{case_id:uuid}", with_a_query))  # a query parameter it can give


async def test_the_case_list_answers_in_its_lane_what_the_route_answers(
    api: httpx.AsyncClient, events_app: Any, world: World, owner_db: Database
) -> None:
    for n in range(3):
        await link_case(owner_db, world, zorg_ref=f"ZRG-{n}", police_ref=f"POL-{n}")
    conference = world.conference_a.id
    queries = ["", "?limit=2", "?limit=2&offset=2", "?limit=1&offset=1&phase=active", f"?conference_id={conference}",
               "?phase=closed", "?limit=0", "?limit=abc", "?offset=-1", "?conference_id=nope", "?phase=dreaming",
               f"?conference_id={world.conference_b.id}"]

    async def run(tag: str) -> list[Answer]:
        return [_answer(await api.get("/api/v1/cases" + query, headers=world.headers("care_member")), ids={}, tag=tag)
                for query in queries]

    through_lane, through_route = await _through_lane_and_route(events_app, cases_router.list_cases, run)
    assert [a[0] for a in through_lane] == [200, 200, 200, 200, 200, 200, 422, 422, 422, 422, 422, 200]
    assert through_lane[1][2]["next"] and through_lane[1][2]["total"] == 3
    assert through_lane == through_route
