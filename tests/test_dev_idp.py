"""The development providers: one issuer per demo organisation, served by the running app over
real HTTP (discovery and JWKS), so that a local run shows the multi-issuer behaviour: each
organisation's tokens work for its own people only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from app.auth.dev_idp import DevKeyStore, issuer_url, mint_token
from app.db import DatabaseUrls
from app.demo.people import DEMO_ORGANISATIONS
from app.main import create_app
from app.models import Conference, Membership, Organisation
from tests.conftest import make_settings
from tests.idp import free_port


@pytest.fixture
def dev_server(
    database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, DevKeyStore]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    application = create_app(
        make_settings(
            database_urls, tmp_path_factory.mktemp("dev"), dev_idp_enabled=True, public_base_url=base
        )
    )
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.02)
    try:
        yield base, application.state.dev_keys
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def test_one_issuer_per_demo_organisation(dev_server: tuple[str, DevKeyStore], owner_db) -> None:
    base, store = dev_server
    async with owner_db.sessions() as session:
        conference = Conference(name="Demo", municipality="Zuiderstad", cadence={})
        session.add(conference)
        orgs = {}
        for demo in DEMO_ORGANISATIONS:
            orgs[demo.slug] = Organisation(
                name=demo.name,
                slug=demo.slug,
                kind=demo.kind,
                issuer=issuer_url(base, demo.slug),
                audience="casusoverleg",
            )
            session.add(orgs[demo.slug])
        await session.flush()
        for slug in ("gemeente", "politie"):
            session.add(
                Membership(
                    conference_id=conference.id,
                    organisation_id=orgs[slug].id,
                    issuer=orgs[slug].issuer or "",
                    subject=f"{slug}-1",
                    display_name=slug,
                    role="member",
                )
            )
        await session.commit()

    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for demo in DEMO_ORGANISATIONS:
            discovery = (await http.get(f"/dev-idp/{demo.slug}/.well-known/openid-configuration")).json()
            assert discovery["issuer"] == issuer_url(base, demo.slug)
            jwks = (await http.get(discovery["jwks_uri"])).json()
            assert jwks["keys"] and all("d" not in k for k in jwks["keys"])
        assert (await http.get("/dev-idp/nobody/jwks.json")).status_code == 404

        for slug in ("gemeente", "politie"):
            token = mint_token(store, slug=slug, issuer=issuer_url(base, slug), subject=f"{slug}-1")
            me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, me.text
            assert me.json()["organisation_id"] == str(orgs[slug].id)

        # the police provider's key on a token naming the municipality's issuer: refused
        forged = mint_token(store, slug="politie", issuer=issuer_url(base, "gemeente"), subject="gemeente-1")
        assert (
            await http.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
        ).status_code == 401
        # a police token with a municipality person's subject: nobody
        crossed = mint_token(store, slug="politie", issuer=issuer_url(base, "politie"), subject="gemeente-1")
        assert (
            await http.get("/api/v1/me", headers={"Authorization": f"Bearer {crossed}"})
        ).status_code == 401
