"""Partner events in: CloudEvents validation, idempotency, all-or-nothing batches, unknown
references, out-of-order events, effects (flags, notifications, aftercare) and label filtering."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import AccessLogEntry, AftercareWatch, CaseFlag, Notification, OutboxMessage, PartnerEvent
from app.services.agreements import sharing
from tests.events.support import CE, CE_BATCH, NS, event, link_case
from tests.factories import World, add_case


async def count(owner_db: Database, model: Any, *where: Any) -> int:
    async with owner_db.sessions() as session:
        return int(
            (await session.execute(sa.select(sa.func.count()).select_from(model).where(*where))).scalar_one()
        )


async def push(
    api: httpx.AsyncClient,
    world: World,
    body: Any,
    *,
    who: str = "care_system",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    h = headers or (CE_BATCH if isinstance(body, list) else CE)
    return await api.post("/api/v1/events", content=json.dumps(body), headers={**world.headers(who), **h})


async def test_relapse_is_stored_flags_the_case_and_notifies_the_case_director(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    response = await push(api, world, event("relapse"))
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert set(receipt) == {"id", "source", "event", "received_at"}
    async with owner_db.sessions() as session:
        stored = (await session.execute(sa.select(PartnerEvent))).scalar_one()
        flag = (await session.execute(sa.select(CaseFlag))).scalar_one()
        note = (await session.execute(sa.select(Notification))).scalar_one()
        log_rows = (
            (
                await session.execute(
                    sa.select(AccessLogEntry).where(AccessLogEntry.resource_type == "partner_event")
                )
            )
            .scalars()
            .all()
        )
    assert stored.case_id == linked.case.id and stored.label == "health" and stored.severity == "high"
    assert flag.case_id == linked.case.id and flag.kind == "relapse" and flag.cleared_at is None
    assert note.membership_id == world.members["care_member"].id and note.ref_id == flag.id
    assert [r.actor_kind for r in log_rows] == ["system"] and log_rows[0].action == "create"

    # The case director sees it in their notifications; the flag is listed for the agenda.
    mine = await api.get("/api/v1/me/notifications", headers=world.headers("care_member"))
    assert [n["kind"] for n in mine.json()] == ["case_flagged"]
    flags = await api.get(f"/api/v1/cases/{linked.case.id}/flags", headers=world.headers("chair"))
    assert flags.status_code == 200
    assert [(f["hidden"], f["kind"]) for f in flags.json()] == [(True, None)]  # health label: not the chair's
    flags = await api.get(f"/api/v1/cases/{linked.case.id}/flags", headers=world.headers("care_member"))
    assert [(f["hidden"], f["kind"]) for f in flags.json()] == [(False, "relapse")]


async def test_a_replay_returns_the_original_receipt_and_stores_nothing_new(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    ev = event("relapse")
    first = await push(api, world, ev)
    assert first.status_code == 201
    # Same event, keys in another order: still the same event.
    again = await push(api, world, dict(reversed(list(ev.items()))))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await count(owner_db, PartnerEvent) == 1
    assert await count(owner_db, CaseFlag) == 1
    # In a batch with a new one: the replay gets its original receipt, the new one is stored.
    other = event("lapse")
    batch = await push(api, world, [ev, other])
    assert batch.status_code == 201
    receipts = batch.json()["receipts"]
    assert receipts[0] == first.json() and receipts[1]["id"] == other["id"]
    assert await count(owner_db, PartnerEvent) == 2


async def test_same_id_with_different_content_is_a_conflict_and_the_batch_is_not_stored(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    ev = event("relapse")
    assert (await push(api, world, ev)).status_code == 201
    changed = {**ev, "data": {"substances": ["cocaine"]}}
    response = await push(api, world, [event("lapse"), changed])
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["index"] for e in response.json()["errors"]] == [1]
    assert await count(owner_db, PartnerEvent) == 1  # the good lapse of the failed batch was not kept
    # Within one batch, too.
    twice = event("lapse")
    response = await push(api, world, [twice, {**twice, "data": {"substances": ["ghb"]}}])
    assert response.status_code == 409 and response.json()["errors"][0]["index"] == 1


async def test_another_partner_reusing_the_same_source_and_id_does_not_collide(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    ev = event("relapse", id="shared-1", source="urn:shared")
    assert (await push(api, world, ev)).status_code == 201
    police = event("police_contact", subject="POL-1", id="shared-1", source="urn:shared")
    assert (await push(api, world, police, who="police_system")).status_code == 201
    assert await count(owner_db, PartnerEvent) == 2


MALFORMED: list[tuple[str, Any, str]] = [
    ("no specversion", lambda e: {k: v for k, v in e.items() if k != "specversion"}, "#/specversion"),
    ("wrong specversion", lambda e: {**e, "specversion": "0.3"}, "#/specversion"),
    ("no id", lambda e: {k: v for k, v in e.items() if k != "id"}, "#/id"),
    ("numeric id", lambda e: {**e, "id": 12}, "#/id"),
    ("empty source", lambda e: {**e, "source": ""}, "#/source"),
    ("no subject", lambda e: {k: v for k, v in e.items() if k != "subject"}, "#/subject"),
    ("unknown type", lambda e: {**e, "type": NS + "picnic"}, "#/type"),
    ("foreign namespace", lambda e: {**e, "type": "com.example.relapse"}, "#/type"),
    ("no time", lambda e: {k: v for k, v in e.items() if k != "time"}, "#/time"),
    ("time not RFC 3339", lambda e: {**e, "time": "20-11-2026 10:00"}, "#/time"),
    ("time without zone", lambda e: {**e, "time": "2026-11-20T10:00:00"}, "#/time"),
    ("far future", lambda e: {**e, "time": (clock.now() + timedelta(hours=2)).isoformat()}, "#/time"),
    ("data not an object", lambda e: {**e, "data": ["ghb"]}, "#/data"),
    ("data_base64", lambda e: {**e, "data_base64": "aGVsbG8="}, "#/data_base64"),
    ("unknown data field", lambda e: {**e, "data": {"substances": ["ghb"], "name": "Jan"}}, "#/data/name"),
    ("data of wrong type", lambda e: {**e, "data": {"substances": "ghb"}}, "#/data/substances"),
    ("bad extension name", lambda e: {**e, "Trace-Id": "x"}, "#/Trace-Id"),
    ("wrong content type", lambda e: {**e, "datacontenttype": "text/xml"}, "#/datacontenttype"),
]


@pytest.mark.parametrize(("case", "mutate", "pointer"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_each_malformed_kind_is_refused_with_a_pointer(
    api: httpx.AsyncClient, world: World, owner_db: Database, case: str, mutate: Any, pointer: str
) -> None:
    await link_case(owner_db, world)
    response = await push(api, world, mutate(event("relapse")))
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert pointer in [e["pointer"] for e in errors] and all(e["index"] == 0 for e in errors)
    assert "Jan" not in response.text  # input is never echoed
    assert await count(owner_db, PartnerEvent) == 0


async def test_a_batch_names_every_failing_event_by_index_and_stores_none(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    good = event("relapse")
    batch = [
        good,
        {**event("lapse"), "specversion": "2.0"},
        event("lapse"),
        "not an event",
        {**event("overdose"), "time": (clock.now() + timedelta(days=1)).isoformat()},
    ]
    response = await push(api, world, batch)
    assert response.status_code == 422
    body = response.json()
    assert sorted({e["index"] for e in body["errors"]}) == [1, 3, 4]
    assert {e["pointer"] for e in body["errors"]} >= {"#/1/specversion", "#/3", "#/4/time"}
    assert await count(owner_db, PartnerEvent) == 0


async def test_a_batch_over_the_limit_is_refused(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    limit = events_app.state.settings.events_max_batch
    response = await push(api, world, [event("lapse") for _ in range(limit + 1)])
    assert response.status_code == 413
    assert response.json()["errors"][0]["index"] == limit
    assert await count(owner_db, PartnerEvent) == 0
    assert (await push(api, world, [])).status_code == 400


async def test_media_types_and_json_shape(api: httpx.AsyncClient, world: World, owner_db: Database) -> None:
    await link_case(owner_db, world)
    ev = event("lapse")
    assert (await push(api, world, ev, headers={"content-type": "text/plain"})).status_code == 415
    assert (await push(api, world, ev, headers=CE_BATCH)).status_code == 400
    assert (await push(api, world, [ev], headers=CE)).status_code == 400
    duplicated_key = '{"id": "a", "id": "b"}'
    response = await api.post(
        "/api/v1/events", content=duplicated_key, headers={**world.headers("care_system"), **CE}
    )
    assert response.status_code == 400
    plain = await push(api, world, [ev], headers={"content-type": "application/json"})
    assert plain.status_code == 201 and "receipts" in plain.json()


async def test_a_type_that_does_not_fit_the_organisation_is_refused(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    response = await push(api, world, event("treatment_completed", subject="POL-1"), who="police_system")
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/type"
    response = await push(api, world, event("police_contact"), who="care_system")
    assert response.status_code == 422
    assert await count(owner_db, PartnerEvent) == 0


async def test_only_systems_with_events_write_may_push(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    assert (await push(api, world, event("lapse"), who="care_member")).status_code == 403
    assert (await push(api, world, event("lapse"), who="wijkteam_system")).status_code == 403
    assert (
        await api.post("/api/v1/events", content=json.dumps(event("lapse")), headers=CE)
    ).status_code == 401


async def test_unknown_references_all_get_the_same_answer(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    # A client in conference B, where the care organisation does not take part, with a care reference.
    async with owner_db.sessions() as session:
        from app.models import ClientReference

        elsewhere = await add_case(session, world, conference=world.b)
        session.add(
            ClientReference(
                client_id=elsewhere.client_id, organisation_id=world.orgs["zorg"].id, reference="ZRG-B"
            )
        )
        await session.commit()
    answers = []
    for subject in ("ZRG-NOPE", "POL-1", "ZRG-B"):  # unknown; the police's reference; not in our conference
        response = await push(api, world, event("relapse", subject=subject))
        assert response.status_code == 422
        body = response.json()
        answers.append((body["detail"], body["errors"]))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1][0]["pointer"] == "#/subject"
    assert await count(owner_db, PartnerEvent) == 0


async def test_out_of_order_events_are_ordered_by_their_own_time(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    now = clock.now()
    newer = event("relapse", time=now - timedelta(days=2))
    older = event("relapse", time=now - timedelta(days=9))
    lapse = event("lapse", time=now - timedelta(days=5))
    assert (await push(api, world, newer)).status_code == 201
    assert (await push(api, world, [lapse, older])).status_code == 201
    timeline = await api.get(f"/api/v1/cases/{linked.case.id}/events", headers=world.headers("care_member"))
    assert timeline.status_code == 200
    ids = [item["id"] for item in timeline.json()["items"]]
    async with owner_db.sessions() as session:
        by_event = {str(r.id): r.event_id for r in (await session.execute(sa.select(PartnerEvent))).scalars()}
    assert [by_event[i] for i in ids] == [newer["id"], lapse["id"], older["id"]]
    history = (
        await api.get(f"/api/v1/cases/{linked.case.id}/relapses", headers=world.headers("care_member"))
    ).json()
    assert history["days_since_last_relapse"] == 2  # the late older relapse does not reset it
    assert history["total_relapses"] == 2 and history["total_lapses"] == 1
    assert sum(p["relapses"] for p in history["per_month"]) == 2
    assert sum(p["lapses"] for p in history["per_quarter"]) == 1
    # One open flag per reason: the second relapse does not flag the case again.
    assert await count(owner_db, CaseFlag) == 1


async def test_an_event_that_arrives_long_after_it_happened_only_goes_on_the_timeline(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    stale = event("overdose", time=clock.now() - timedelta(days=60))
    assert (await push(api, world, stale)).status_code == 201
    assert await count(owner_db, PartnerEvent) == 1
    assert await count(owner_db, CaseFlag) == 0 and await count(owner_db, Notification) == 0


async def test_details_follow_the_label_of_their_origin(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    await push(api, world, event("relapse"))
    await push(api, world, event("police_contact", subject="POL-1"), who="police_system")
    url = f"/api/v1/cases/{linked.case.id}/events"

    def shown(response: httpx.Response) -> dict[str, Any]:
        # Hidden items carry no label for anyone but the chair: key them as "hidden".
        return {item["label"] or "hidden": item for item in response.json()["items"]}

    police_view = shown(await api.get(url, headers=world.headers("police_member")))
    assert police_view["justice"]["type"] == "police_contact" and police_view["justice"]["data"]
    assert police_view["hidden"]["hidden"] and police_view["hidden"]["type"] is None
    assert police_view["hidden"]["data"] is None and police_view["hidden"]["organisation_id"] is None
    care_view = shown(await api.get(url, headers=world.headers("care_member")))
    assert care_view["health"]["data"] == {"substances": ["ghb"], "reported_by": "professional"}
    assert care_view["hidden"]["hidden"]
    chair_view = shown(await api.get(url, headers=world.headers("chair")))
    assert chair_view["justice"]["type"] == "police_contact"
    assert chair_view["health"]["hidden"] and chair_view["health"]["type"] is None  # a health signal, no content
    # Not in the conference at all: 404, like any case of another conference.
    assert (await api.get(url, headers=world.headers("police_member_b"))).status_code == 404

    relapses = (
        await api.get(f"/api/v1/cases/{linked.case.id}/relapses", headers=world.headers("police_member"))
    ).json()
    # No count of what is hidden: the answer is the same whether or not there was a relapse.
    assert relapses["items"] == [] and relapses["restricted"] is True
    assert relapses["total_relapses"] == 0 and relapses["days_since_last_relapse"] is None
    assert "hidden_count" not in relapses
    async with owner_db.sessions() as session:
        reads = (
            await session.execute(
                sa.select(AccessLogEntry.part, AccessLogEntry.outcome).where(
                    AccessLogEntry.action == "read", AccessLogEntry.case_id == linked.case.id
                )
            )
        ).all()
    assert sorted(tuple(r) for r in reads) == [
        ("events", "allowed"),
        ("events", "allowed"),
        ("events", "allowed"),
        ("events", "denied"),
        ("relapses", "allowed"),
    ]


async def test_with_a_sharing_basis_care_details_reach_the_police(
    api: httpx.AsyncClient, world: World, owner_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.auth.policy import SharingBasis
    from app.services import need_to_know

    linked = await link_case(owner_db, world)
    await push(api, world, event("relapse"))

    def bases(found: Any) -> tuple[SharingBasis, ...]:
        return (SharingBasis("agreement", "agr-1", {"health": frozenset({"police"})}),)

    monkeypatch.setattr(need_to_know, "_bases", bases)
    response = await api.get(
        f"/api/v1/cases/{linked.case.id}/relapses", headers=world.headers("police_member")
    )
    body = response.json()
    assert body["total_relapses"] == 1 and body["items"][0]["basis"] == "agreement:agr-1"
    async with owner_db.sessions() as session:
        basis = (
            await session.execute(sa.select(AccessLogEntry.basis).where(AccessLogEntry.part == "relapses"))
        ).scalar_one()
    assert basis == "agreement:agr-1"


async def test_aftercare_watch_makes_a_relapse_reach_the_neighbourhood_team(
    api: httpx.AsyncClient, world: World, owner_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    linked = await link_case(owner_db, world)

    async def consent(session: Any, case_id: Any) -> bool:
        return case_id == linked.case.id

    monkeypatch.setattr(sharing, "has_aftercare_consent", consent)
    sub = await api.post(
        "/api/v1/subscriptions",
        headers=world.headers("wijkteam_system"),
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["aftercare.relapse"]},
    )
    assert sub.status_code == 201, sub.text
    now = clock.now()
    assert (
        await push(api, world, event("treatment_completed", time=now - timedelta(days=20)))
    ).status_code == 201
    assert await count(owner_db, AftercareWatch) == 1
    assert (await push(api, world, event("relapse", time=now - timedelta(days=3)))).status_code == 201
    team = await api.get("/api/v1/me/notifications", headers=world.headers("wijkteam_member"))
    assert [n["kind"] for n in team.json()] == ["aftercare_relapse"]
    assert await count(owner_db, OutboxMessage, OutboxMessage.type == "aftercare.relapse") == 1


async def test_without_aftercare_consent_no_watch_starts(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    assert (await push(api, world, event("treatment_completed"))).status_code == 201
    assert (await push(api, world, event("relapse"))).status_code == 201
    assert await count(owner_db, AftercareWatch) == 0
    team = await api.get("/api/v1/me/notifications", headers=world.headers("wijkteam_member"))
    assert team.json() == []


async def test_changes_write_outbox_rows_in_their_own_transaction(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    linked = await link_case(owner_db, world)
    for who, types in (
        ("care_system", ["case.flagged", "case.phase_changed"]),
        ("gemeente_system", ["action.created"]),
    ):
        response = await api.post(
            "/api/v1/subscriptions",
            headers=world.headers(who),
            json={"url": "http://127.0.0.1:9/hook", "event_types": types},
        )
        assert response.status_code == 201, response.text
    await push(api, world, event("relapse"))
    case_url = f"/api/v1/cases/{linked.case.id}"
    etag = (await api.get(case_url, headers=world.headers("chair"))).headers["ETag"]
    moved = await api.post(
        f"{case_url}/transitions",
        json={"to": "monitoring"},
        headers=world.headers("chair", **{"If-Match": etag}),
    )
    assert moved.status_code == 200, moved.text
    # A refused transition writes nothing.
    refused = await api.post(
        f"{case_url}/transitions",
        json={"to": "selected"},
        headers=world.headers("chair", **{"If-Match": moved.headers["ETag"]}),
    )
    assert refused.status_code == 409
    action = await api.post(
        f"{case_url}/actions",
        headers=world.headers("chair"),
        json={
            "title": "Schuldhulp",
            "life_domain": "finances",
            "owner_organisation_id": str(world.orgs["gemeente"].id),
            "due_date": str(clock.today() + timedelta(days=7)),
        },
    )
    assert action.status_code == 201, action.text
    async with owner_db.sessions() as session:
        rows = (await session.execute(sa.select(OutboxMessage))).scalars().all()
    assert sorted(r.type for r in rows) == ["action.created", "case.flagged", "case.phase_changed"]
    payloads = {r.type: r.payload for r in rows}
    assert payloads["case.phase_changed"]["data"] == {"case_id": str(linked.case.id), "phase": "monitoring"}
    assert set(payloads["case.flagged"]["data"]) == {"case_id", "flag_id"}  # thin: ids only


async def test_concurrent_pushes_of_one_event_store_it_once(
    api: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    headers = {**world.headers("care_system"), **CE}
    body = json.dumps(event("relapse"))
    responses = await asyncio.gather(
        *(api.post("/api/v1/events", content=body, headers=headers) for _ in range(6))
    )
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.text for r in responses}) == 1  # everyone gets the same receipt
    assert await count(owner_db, PartnerEvent) == 1
    assert await count(owner_db, CaseFlag) == 1

    # Racing with different content under one id: one wins, the others are told of the conflict.
    racing = [json.dumps(event("lapse", id="race-1", data={"substances": [f"s{i}"]})) for i in range(4)]
    responses = await asyncio.gather(
        *(api.post("/api/v1/events", content=b, headers=headers) for b in racing)
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert await count(owner_db, PartnerEvent, PartnerEvent.event_id == "race-1") == 1


async def test_the_openapi_document_lists_the_event_routes(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/events",
        "/api/v1/cases/{case_id}/relapses",
        "/api/v1/subscriptions",
        "/api/v1/admin/dead-letters",
    ):
        assert path in paths
    assert "application/cloudevents-batch+json" in paths["/api/v1/events"]["post"]["requestBody"]["content"]
