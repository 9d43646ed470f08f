"""Acceptance 3: a provider rotates its keys and the service follows without a restart; a key
that left the provider's JWKS stops working; bad kids cannot make the service hammer a provider.

Each test uses its own issuer on the test provider (so the JWKS request counts are its own) and
an app instance of its own with production-like cache settings. Time travels with app.clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest

from app.clock import clock
from app.db import DatabaseUrls
from app.main import create_app
from tests.conftest import make_settings
from tests.factories import World, add_organisation_with_member
from tests.idp import TestIdentityProviders
from tests.jwt_tools import claims_for, fresh_rsa_key, sign

TTL = 600
REFETCH_INTERVAL = 60
PROBE = "/api/v1/cases"
_BAD_KEY = fresh_rsa_key("bad")


@pytest.fixture
async def strict_client(
    database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        database_urls,
        tmp_path_factory.mktemp("rot"),
        jwks_cache_ttl_seconds=TTL,
        jwks_refetch_min_interval_seconds=REFETCH_INTERVAL,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _provider(owner_db, world: World) -> tuple[str, str]:
    """A fresh issuer on the test provider with one member in conference A: (slug, subject)."""
    slug = f"rot-{uuid.uuid4().hex[:8]}"
    idp: TestIdentityProviders = world.idp
    idp.store.ensure(slug)
    async with owner_db.sessions() as session:
        await add_organisation_with_member(session, world, slug=slug, subject="person-1", discovery=True)
        await session.commit()
    return slug, "person-1"


@contextmanager
def _down(idp: TestIdentityProviders) -> Iterator[None]:
    """The provider answers every JWKS request with 503 while inside."""
    idp.down = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        idp.down = False  # type: ignore[attr-defined]


async def _status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get(PROBE, headers={"Authorization": f"Bearer {token}"})).status_code


async def test_rotation_without_restart_and_old_key_retired(
    strict_client: httpx.AsyncClient, world: World, owner_db
) -> None:
    idp = world.idp
    slug, subject = await _provider(owner_db, world)
    old = idp.token(slug, subject, audience="casusoverleg")
    assert await _status(strict_client, old) == 200
    assert idp.jwks_requests[slug] == 1

    # The provider publishes a new key next to the old one and starts signing with it.
    idp.store.rotate(slug)
    new = idp.token(slug, subject, audience="casusoverleg")
    assert await _status(strict_client, new) == 200, "a new key must be picked up without a restart"
    assert await _status(strict_client, old) == 200, "the old key is still published"
    assert idp.jwks_requests[slug] == 2  # one refetch, for the unknown kid

    # The provider retires the old key. Once the cache has refreshed, old-key tokens fail.
    idp.store.drop_old(slug)
    clock.travel(timedelta(seconds=TTL + 1))
    # (the old token itself is valid for an hour: only the retired key refuses it)
    assert await _status(strict_client, old) == 401
    assert await _status(strict_client, idp.token(slug, subject, audience="casusoverleg")) == 200
    assert idp.jwks_requests[slug] == 3


async def test_unknown_kid_refetch_is_rate_limited(
    strict_client: httpx.AsyncClient, world: World, owner_db
) -> None:
    idp = world.idp
    slug, subject = await _provider(owner_db, world)
    good = idp.token(slug, subject, audience="casusoverleg")
    assert await _status(strict_client, good) == 200
    assert idp.jwks_requests[slug] == 1

    for i in range(25):  # a flood of tokens with made-up kids
        forged = sign(claims_for(idp.issuer(slug), subject), _BAD_KEY, kid=f"bad-{i}")
        assert await _status(strict_client, forged) == 401
    assert idp.jwks_requests[slug] == 2, "at most one refetch per interval, however many bad kids"
    assert await _status(strict_client, good) == 200  # known keys keep working meanwhile

    # A genuine rotation right after the flood waits for the interval, then is picked up.
    idp.store.rotate(slug)
    rotated = idp.token(slug, subject, audience="casusoverleg")
    assert await _status(strict_client, rotated) == 401
    assert idp.jwks_requests[slug] == 2
    clock.travel(timedelta(seconds=REFETCH_INTERVAL + 1))
    assert await _status(strict_client, idp.token(slug, subject, audience="casusoverleg")) == 200
    assert idp.jwks_requests[slug] == 3


async def test_cached_keys_keep_serving_while_provider_is_down(
    strict_client: httpx.AsyncClient, world: World, owner_db
) -> None:
    idp = world.idp
    slug, subject = await _provider(owner_db, world)
    assert await _status(strict_client, idp.token(slug, subject, audience="casusoverleg")) == 200
    with _down(idp):
        clock.travel(timedelta(seconds=TTL + 1))  # the cache is stale, the refresh fails
        for _ in range(5):
            assert await _status(strict_client, idp.token(slug, subject, audience="casusoverleg")) == 200
        # one failed refresh attempt, not one per request
        assert idp.jwks_requests[slug] == 2
    clock.travel(timedelta(seconds=REFETCH_INTERVAL + 1))
    assert await _status(strict_client, idp.token(slug, subject, audience="casusoverleg")) == 200
    assert idp.jwks_requests[slug] == 3


async def test_provider_never_reached_is_not_hammered(
    strict_client: httpx.AsyncClient, world: World, owner_db
) -> None:
    idp = world.idp
    slug, subject = await _provider(owner_db, world)
    with _down(idp):
        for _ in range(5):
            assert await _status(strict_client, idp.token(slug, subject, audience="casusoverleg")) == 401
        assert idp.jwks_requests[slug] == 1
    clock.travel(timedelta(seconds=REFETCH_INTERVAL + 1))
    assert await _status(strict_client, idp.token(slug, subject, audience="casusoverleg")) == 200
