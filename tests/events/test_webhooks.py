"""Outbound notifications: subscriptions (with SSRF checks), Standard Webhooks signatures, and the
delivery worker against real HTTP receivers on loopback: down-then-up, two workers at once,
410/3xx/429 handling, dead letters and their replay."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.responses import Response

from app.clock import clock
from app.db import Database, DatabaseUrls
from app.events import outbox
from app.events.delivery import deliver_due, message_id
from app.events.signing import sign, verify
from app.events.targets import UnsafeTarget, check_url_shape, resolve_and_check
from app.models import OutboxMessage, Subscription
from tests.events.support import Receiver, link_case
from tests.factories import World


def test_signature_matches_the_reference_known_answer() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_never_raises_on_malformed_headers() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    for headers in (
        {},
        {"webhook-id": "x", "webhook-timestamp": "nan", "webhook-signature": "v1"},
        {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "garbage"},
    ):
        assert verify(secret, headers, b"{}") is False


async def test_target_checks() -> None:
    with pytest.raises(UnsafeTarget):
        check_url_shape("http://example.org/hook", require_https=True)  # production: https only
    assert check_url_shape("https://example.org/hook", require_https=True) == "example.org"
    for url in (
        "file:///etc/passwd",
        "https://user:pw@example.org/",
        "ftp://example.org/",
        "https:///nohost",
    ):
        with pytest.raises(UnsafeTarget):
            check_url_shape(url, require_https=False)
    for url in (
        "http://127.0.0.1/h",
        "http://localhost/h",
        "http://10.1.2.3/h",
        "http://192.168.1.1/h",
        "http://[::1]/h",
        "http://169.254.169.254/latest",
        "http://[::ffff:127.0.0.1]/h",
        "http://0.0.0.0/h",
    ):
        with pytest.raises(UnsafeTarget):
            await resolve_and_check(url, require_https=False, allow_private=False)
    await resolve_and_check("http://127.0.0.1/h", require_https=False, allow_private=True)
    with pytest.raises(UnsafeTarget):  # link-local (cloud metadata) stays refused even then
        await resolve_and_check("http://169.254.169.254/", require_https=False, allow_private=True)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
        ("::127.0.0.1", "IPv4-compatible loopback"),
        ("::10.0.0.1", "IPv4-compatible private"),
        ("2002:7f00:1::", "6to4 of 127.0.0.1"),
        ("2002:a9fe:a9fe::1", "6to4 of the metadata address"),
        ("64:ff9b::a9fe:a9fe", "NAT64 (well-known prefix) of the metadata address"),
        ("64:ff9b::7f00:1", "NAT64 (well-known prefix) of loopback"),
        ("64:ff9b:1::a00:1", "NAT64 (local-use prefix, RFC 8215)"),
        ("64:ff9b:1:a9fe:a9:fe00::", "NAT64 local-use /48 embedding of the metadata address"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo with a non-global client"),
        ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "Teredo with a private server"),
        ("fec0::1", "site-local"),
        ("100::1", "discard prefix"),
    ],
)
async def test_ipv6_embeddings_of_internal_ipv4_are_refused(address: str, why: str) -> None:
    with pytest.raises(UnsafeTarget):
        await resolve_and_check(f"http://[{address}]/h", require_https=False, allow_private=False)
    # Loopback and private targets are allowed in development, link-local never.
    if "metadata" in why:
        with pytest.raises(UnsafeTarget):
            await resolve_and_check(f"http://[{address}]/h", require_https=False, allow_private=True)


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:8.8.8.8",
        "::8.8.8.8",
        "2002:808:808::1",
        "64:ff9b::808:808",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: server and client public
        "2606:4700:4700::1111",
    ],
)
async def test_ipv6_embeddings_of_public_ipv4_are_accepted(address: str) -> None:
    assert await resolve_and_check(f"http://[{address}]/h", require_https=False, allow_private=False)


async def test_subscriptions_refuse_private_targets_by_default(
    client: httpx.AsyncClient, world: World, owner_db: Database
) -> None:
    await link_case(owner_db, world)
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "file:///etc/passwd",
        # IPv6 embeddings of internal IPv4 addresses (NAT64, IPv4-compatible, 6to4)
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[::127.0.0.1]/",
        "http://[2002:7f00:1::]/",
    ):
        response = await client.post(
            "/api/v1/subscriptions",
            headers=world.headers("care_system"),
            json={"url": url, "event_types": ["case.flagged"]},
        )
        assert response.status_code == 422, url
        assert response.json()["errors"][0]["pointer"] == "#/url"


async def test_subscription_api(api: httpx.AsyncClient, world: World, owner_db: Database) -> None:
    await link_case(owner_db, world)
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["case.flagged", "case.phase_changed"]}
    created = await api.post("/api/v1/subscriptions", headers=world.headers("care_system"), json=body)
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    sub_id = created.json()["id"]
    # The secret is shown once and stored sealed: the table never holds it in clear.
    async with owner_db.sessions() as session:
        stored = (await session.execute(sa.select(Subscription.secret))).scalar_one()
    assert stored.startswith("sealed:v1:") and created.json()["secret"] not in stored
    listed = await api.get("/api/v1/subscriptions", headers=world.headers("care_system"))
    assert [s["id"] for s in listed.json()] == [sub_id] and "secret" not in listed.json()[0]
    assert (await api.get("/api/v1/subscriptions", headers=world.headers("wijkteam_system"))).json() == []
    # Another system cannot see or delete it; people and systems without the scope may not manage.
    assert (
        await api.delete(f"/api/v1/subscriptions/{sub_id}", headers=world.headers("wijkteam_system"))
    ).status_code == 404
    assert (await api.get("/api/v1/subscriptions", headers=world.headers("police_system"))).status_code == 403
    assert (
        await api.post("/api/v1/subscriptions", headers=world.headers("chair"), json=body)
    ).status_code == 403
    bad = await api.post(
        "/api/v1/subscriptions",
        headers=world.headers("care_system"),
        json={**body, "event_types": ["everything"]},
    )
    assert bad.status_code == 422
    weak = await api.post(
        "/api/v1/subscriptions",
        headers=world.headers("care_system"),
        json={**body, "secret": "whsec_c2hvcnQ="},
    )
    assert weak.status_code == 422
    assert (
        await api.delete(f"/api/v1/subscriptions/{sub_id}", headers=world.headers("care_system"))
    ).status_code == 204
    assert (await api.get("/api/v1/subscriptions", headers=world.headers("care_system"))).json() == []


async def _subscribe(api: httpx.AsyncClient, world: World, url: str, types: list[str] | None = None) -> dict:
    response = await api.post(
        "/api/v1/subscriptions",
        headers=world.headers("care_system"),
        json={"url": url, "event_types": types or ["case.phase_changed"]},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _enqueue(owner_db: Database, world: World, n: int) -> list[str]:
    async with owner_db.sessions() as session:
        for i in range(n):
            await outbox.enqueue(
                session,
                "case.phase_changed",
                {"case_id": f"c{i}", "phase": "active"},
                organisation_ids=[world.orgs["zorg"].id],
            )
        await session.commit()
        ids = (await session.execute(sa.select(OutboxMessage.id))).scalars().all()
    return sorted(message_id(i) for i in ids)


async def _pending(owner_db: Database) -> int:
    async with owner_db.sessions() as session:
        return int(
            (
                await session.execute(
                    sa.select(sa.func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None))
                )
            ).scalar_one()
        )


async def _drain(
    db: Database, settings: Any, owner_db: Database, *, rounds: int = 200, batch: int = 50
) -> None:
    for _ in range(rounds):
        await deliver_due(db, settings=settings, batch=batch)
        if await _pending(owner_db) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


async def test_a_receiver_that_is_down_for_a_while_gets_every_notification_once_signed(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver()
    sub = await _subscribe(api, world, receiver.url)
    expected = await _enqueue(owner_db, world, 12)
    db, settings = events_app.state.db, events_app.state.settings
    for _ in range(3):  # the receiver is down: every attempt fails and is rescheduled
        assert await deliver_due(db, settings=settings) == 0
        await asyncio.sleep(0.25)
    async with owner_db.sessions() as session:
        rows = (await session.execute(sa.select(OutboxMessage))).scalars().all()
    assert all(r.delivered_at is None and r.attempts >= 2 and r.last_error for r in rows), [
        (r.attempts, r.last_error, r.next_attempt_at, r.dead_at) for r in rows
    ]
    receiver.start()
    try:
        await _drain(db, settings, owner_db)
    finally:
        receiver.stop()
    assert sorted(receiver.counts()) == expected
    assert set(receiver.counts().values()) == {1}
    for item in receiver.received:
        assert verify(sub["secret"], item.headers, item.body)
        payload = json.loads(item.body)
        assert payload["type"] == "case.phase_changed" and set(payload["data"]) == {"case_id", "phase"}
        assert item.headers["content-type"] == "application/json"


async def test_two_workers_deliver_each_notification_exactly_once(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any, database_urls: DatabaseUrls
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver()
    receiver.start()
    try:
        await _subscribe(api, world, receiver.url)
        expected = await _enqueue(owner_db, world, 60)
        settings = events_app.state.settings
        workers = [Database(database_urls.app, pool_size=2) for _ in range(2)]
        delivered: list[int] = [0, 0]

        async def work(i: int) -> None:
            for _ in range(400):
                delivered[i] += await deliver_due(workers[i], settings=settings, batch=4)
                if await _pending(owner_db) == 0:
                    return
                await asyncio.sleep(0)

        try:
            await asyncio.gather(work(0), work(1))
        finally:
            for w in workers:
                await w.dispose()
    finally:
        receiver.stop()
    assert sorted(receiver.counts()) == expected
    assert set(receiver.counts().values()) == {1}
    assert sum(delivered) == 60 and min(delivered) > 0  # both took part


async def test_410_disables_the_subscription(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver(respond=lambda r: Response(status_code=410))
    receiver.start()
    try:
        sub = await _subscribe(api, world, receiver.url)
        await _enqueue(owner_db, world, 1)
        await deliver_due(events_app.state.db, settings=events_app.state.settings)
    finally:
        receiver.stop()
    async with owner_db.sessions() as session:
        subscription = await session.get(Subscription, sub["id"])
        message = (await session.execute(sa.select(OutboxMessage))).scalar_one()
    assert (
        subscription is not None and not subscription.active and "410" in (subscription.disabled_reason or "")
    )
    assert message.dead_at is not None and message.last_status == 410
    listed = await api.get("/api/v1/subscriptions", headers=world.headers("care_system"))
    assert listed.json()[0]["active"] is False
    # A disabled subscription gets no new outbox rows.
    async with owner_db.sessions() as session:
        assert (
            await outbox.enqueue(
                session, "case.phase_changed", {"case_id": "x"}, organisation_ids=[world.orgs["zorg"].id]
            )
            == 0
        )


async def test_redirects_are_failures_and_are_not_followed(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver()
    receiver.respond = lambda r: Response(status_code=307, headers={"location": receiver.url + "?again"})
    receiver.start()
    try:
        await _subscribe(api, world, receiver.url)
        await _enqueue(owner_db, world, 1)
        assert await deliver_due(events_app.state.db, settings=events_app.state.settings) == 0
    finally:
        receiver.stop()
    assert len(receiver.received) == 1
    async with owner_db.sessions() as session:
        message = (await session.execute(sa.select(OutboxMessage))).scalar_one()
    assert (
        message.delivered_at is None
        and message.last_status == 307
        and "redirect" in (message.last_error or "")
    )


async def test_429_retry_after_is_respected(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver(respond=lambda r: Response(status_code=429, headers={"retry-after": "120"}))
    receiver.start()
    try:
        await _subscribe(api, world, receiver.url)
        await _enqueue(owner_db, world, 1)
        settings = events_app.state.settings.model_copy(update={"webhook_backoff_max_seconds": 3600.0})
        before = clock.now()
        await deliver_due(events_app.state.db, settings=settings)
    finally:
        receiver.stop()
    async with owner_db.sessions() as session:
        message = (await session.execute(sa.select(OutboxMessage))).scalar_one()
    assert message.next_attempt_at >= before + timedelta(seconds=119)
    assert message.last_status == 429 and message.dead_at is None


async def test_after_the_last_attempt_a_dead_letter_that_an_admin_can_replay(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver(respond=lambda r: Response(status_code=500))
    receiver.start()
    try:
        await _subscribe(api, world, receiver.url)
        [expected] = await _enqueue(owner_db, world, 1)
        settings = events_app.state.settings.model_copy(update={"webhook_max_attempts": 3})
        await _drain(events_app.state.db, settings, owner_db)
        assert len(receiver.received) == 3
        dead = await api.get("/api/v1/admin/dead-letters", headers=world.headers("admin"))
        assert dead.status_code == 200
        [letter] = dead.json()["items"]
        assert letter["webhook_id"] == expected and letter["attempts"] == 3 and letter["last_status"] == 500
        assert (
            await api.get("/api/v1/admin/dead-letters", headers=world.headers("chair"))
        ).status_code == 403
        receiver.respond = lambda r: Response(status_code=200)
        replay = await api.post(
            f"/api/v1/admin/dead-letters/{letter['id']}/replay", headers=world.headers("admin")
        )
        assert replay.status_code == 200 and replay.json()["dead_at"] is None
        await _drain(events_app.state.db, settings, owner_db)
    finally:
        receiver.stop()
    assert [r.webhook_id for r in receiver.received] == [expected] * 4
    assert (await api.get("/api/v1/admin/dead-letters", headers=world.headers("admin"))).json()["total"] == 0


async def test_delivery_checks_the_target_again(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    """A target that became private after registration (or was written around the API) is not
    contacted: the check runs before every delivery."""
    await link_case(owner_db, world)
    receiver = Receiver()
    receiver.start()
    try:
        await _subscribe(api, world, receiver.url)
        await _enqueue(owner_db, world, 1)
        strict = events_app.state.settings.model_copy(update={"webhook_allow_private_targets": False})
        assert await deliver_due(events_app.state.db, settings=strict) == 0
    finally:
        receiver.stop()
    assert receiver.received == []
    async with owner_db.sessions() as session:
        message = (await session.execute(sa.select(OutboxMessage))).scalar_one()
    assert (message.last_error or "").startswith("target refused")


async def test_a_stalling_receiver_times_out_and_is_retried_later(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver(delay=2.0)
    receiver.start()
    try:
        await _subscribe(api, world, receiver.url)
        await _enqueue(owner_db, world, 1)
        settings = events_app.state.settings.model_copy(update={"webhook_timeout_seconds": 0.5})
        assert await deliver_due(events_app.state.db, settings=settings) == 0
    finally:
        receiver.delay = 0
        receiver.stop()
    async with owner_db.sessions() as session:
        message = (await session.execute(sa.select(OutboxMessage))).scalar_one()
    assert message.delivered_at is None and message.dead_at is None
    assert "Timeout" in (message.last_error or "") and message.attempts == 1


async def test_production_refuses_plain_http_at_registration(owner_db: Database, events_app: Any) -> None:
    from app.auth.principal import Principal
    from app.config import Environment
    from app.errors import UnprocessableEntity
    from app.schemas.events import SubscriptionCreate
    from app.services.events.subscriptions import create_subscription

    production = events_app.state.settings.model_copy(
        update={"environment": Environment.production, "webhook_allow_private_targets": False}
    )
    principal = Principal(
        kind="system",
        issuer="x",
        subject="s",
        display_name="s",
        organisation_id=uuid.uuid4(),
        organisation_kind="police",
        partner_system_id=uuid.uuid4(),
    )
    async with owner_db.sessions() as session:
        with pytest.raises(UnprocessableEntity, match="https"):
            await create_subscription(
                session,
                principal,
                SubscriptionCreate(url="http://example.org/hook", event_types=["case.flagged"]),
                production,
            )


def test_backoff_grows_with_jitter_and_retry_after_parses_both_forms() -> None:
    import random

    from app.config import Settings
    from app.events.delivery import backoff_seconds, parse_retry_after

    settings = Settings(webhook_backoff_base_seconds=60, webhook_backoff_max_seconds=86_400)
    rng = random.Random(7)
    # The delays after attempts 1..13: the 14th (default last) attempt then fails into a dead letter.
    delays = [backoff_seconds(n, settings, rng=rng) for n in range(1, settings.webhook_max_attempts)]
    assert all(60 * 2 ** (n - 1) / 2 <= d <= 60 * 2 ** (n - 1) for n, d in enumerate(delays[:10], start=1))
    assert delays[-1] <= 86_400
    assert 2 * 86_400 < sum(delays) < 4 * 86_400  # a receiver may be down for days before it is given up
    now = clock.now()
    assert parse_retry_after("30", now) == 30
    http_date = (now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 88 <= (parse_retry_after(http_date, now) or 0) <= 91
    assert parse_retry_after("soon", now) is None


async def test_delivery_connects_to_the_checked_address_and_keeps_the_host_name(
    api: httpx.AsyncClient, world: World, owner_db: Database, events_app: Any
) -> None:
    await link_case(owner_db, world)
    receiver = Receiver()
    receiver.start()
    try:
        sub = await _subscribe(api, world, f"http://localhost:{receiver.port}/hook")
        [expected] = await _enqueue(owner_db, world, 1)
        assert await deliver_due(events_app.state.db, settings=events_app.state.settings) == 1
    finally:
        receiver.stop()
    [item] = receiver.received
    assert item.webhook_id == expected and item.headers["host"] == f"localhost:{receiver.port}"
    assert verify(sub["secret"], item.headers, item.body)
