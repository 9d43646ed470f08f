"""Acceptance 4: interoperability with an OpenID provider that no one here wrote.

The npm package `oidc-provider` (a certified OpenID Connect implementation) runs under the
machine's Node.js (tests/oidc/provider.mjs); the test installs it on first use into
.data/node-oidc. An administrator registers the provider for a new organisation through the
API; a partner system signs in with client credentials and a person with the authorization-code
flow with PKCE (authlib's OAuth2 client, httpx following the provider's redirects). The service
accepts both JWT access tokens and maps them to that organisation, and nothing else."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from app.config import PROJECT_ROOT
from tests.factories import World
from tests.idp import free_port

OIDC_PROVIDER_VERSION = "8.8.1"
NODE_DIR = PROJECT_ROOT / ".data" / "node-oidc"
SCRIPT = Path(__file__).parent / "oidc" / "provider.mjs"
ACCOUNT = "pim-proef-7"
PARTNER_CLIENT = ("partner-system", "partner-system-secret-for-tests-only")
WEB_CLIENT = "web-client"
REDIRECT_URI = "http://127.0.0.1/callback"


def _install() -> None:
    installed = NODE_DIR / "node_modules" / "oidc-provider" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == OIDC_PROVIDER_VERSION:
        return
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    (NODE_DIR / "package.json").write_text(json.dumps({"private": True, "type": "module"}))
    result = subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"oidc-provider@{OIDC_PROVIDER_VERSION}",
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"npm install oidc-provider failed:\n{result.stderr[-2000:]}"


@pytest.fixture(scope="module")
def oidc_issuer() -> Iterator[str]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run the OpenID provider `oidc-provider` (not installed)")
    _install()
    shutil.copy(SCRIPT, NODE_DIR / "provider.mjs")
    port = free_port()
    process = subprocess.Popen(
        ["node", "provider.mjs", str(port), ACCOUNT],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline and not line.startswith("ready"):
            if process.poll() is not None:
                raise AssertionError(
                    f"oidc-provider exited: {process.stderr.read() if process.stderr else ''}"
                )
            ready, _, _ = select.select([process.stdout], [], [], 0.5)
            if ready:
                line = process.stdout.readline()
        assert line.startswith("ready"), "oidc-provider did not start within 30 s"
        yield line.split()[1]
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


async def _register(client: httpx.AsyncClient, world: World, issuer: str) -> str:
    """What administrators do to let a new organisation in: the organisation with its provider
    and first administrator (a conference's administrator), a member in conference A (the
    conference's administrator), and a partner system (the organisation's own administrator,
    signed in at its provider). Returns the organisation id."""
    admin = world.headers("admin")
    response = await client.post(
        "/api/v1/organisations",
        headers=admin,
        json={
            "name": "Reclassering Zuid",
            "slug": "reclassering",
            "kind": "probation",
            "issuer": issuer,
            "audience": "casusoverleg",
            "discovery_url": f"{issuer}/.well-known/openid-configuration",
            "require_typ_at_jwt": True,
            "claim_mapping": {"subject": "sub", "name": "name"},
            "administrators": [{"subject": ACCOUNT, "display_name": "Pim Proef"}],
        },
    )
    assert response.status_code == 201, response.text
    org_id = response.json()["id"]
    assert response.json()["issuer"] == issuer
    response = await client.post(
        f"/api/v1/conferences/{world.a.id}/memberships",
        headers=admin,
        json={"organisation_id": org_id, "subject": ACCOUNT, "display_name": "Pim Proef", "role": "member"},
    )
    assert response.status_code == 201, response.text
    # the conference's administrator has no say over the new organisation's partner systems
    system = {"name": "Reclasseringssysteem", "subject": PARTNER_CLIENT[0], "scopes": ["events:write", "cases:read-minimal"]}
    url = f"/api/v1/organisations/{org_id}/partner-systems"
    assert (await client.post(url, headers=admin, json=system)).status_code == 403
    own_admin = _bearer((await _code_flow_tokens(issuer))["access_token"])
    response = await client.post(url, headers=own_admin, json=system)
    assert response.status_code == 201, response.text
    return org_id


async def _client_credentials_token(issuer: str, scope: str) -> str:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{issuer}/token", auth=PARTNER_CLIENT, data={"grant_type": "client_credentials", "scope": scope}
        )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _code_flow_tokens(issuer: str) -> dict:
    """Authorization code with PKCE (S256): authlib builds the request and redeems the code;
    httpx plays the browser through the provider's login and consent redirects."""
    verifier = generate_token(64)
    oauth = AsyncOAuth2Client(
        WEB_CLIENT,
        redirect_uri=REDIRECT_URI,
        scope="openid profile",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        timeout=10,
    )
    url, _state = oauth.create_authorization_url(f"{issuer}/auth", code_verifier=verifier)
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        for _ in range(10):
            response = await browser.get(url)
            assert response.status_code in (302, 303), response.text[:500]
            url = str(httpx.URL(url).join(response.headers["location"]))
            if url.startswith(REDIRECT_URI):
                break
    assert url.startswith(REDIRECT_URI) and "code=" in url, url
    async with oauth:
        token = await oauth.fetch_token(f"{issuer}/token", authorization_response=url, code_verifier=verifier)
    return dict(token)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_partner_system_and_person_signed_in_by_oidc_provider(
    client: httpx.AsyncClient, world: World, oidc_issuer: str
) -> None:
    org_id = await _register(client, world, oidc_issuer)

    # A partner system: client credentials, sub = its client id, JWT access token (typ at+jwt).
    machine = await _client_credentials_token(oidc_issuer, "events:write")
    me = await client.get("/api/v1/me", headers=_bearer(machine))
    assert me.status_code == 200, me.text
    assert me.json()["kind"] == "system"
    assert me.json()["organisation_id"] == org_id
    assert me.json()["organisation_kind"] == "probation"
    assert me.json()["scopes"] == ["events:write"]  # what the token carries, within the registration
    assert me.json()["memberships"] == []
    cases = await client.get("/api/v1/cases", headers=_bearer(machine))
    assert cases.status_code in (200, 403)
    assert cases.status_code == 403 or cases.json()["total"] == 0  # a machine is no case worker

    # A person: authorization code with PKCE.
    tokens = await _code_flow_tokens(oidc_issuer)
    me = await client.get("/api/v1/me", headers=_bearer(tokens["access_token"]))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["kind"] == "person"
    assert body["organisation_id"] == org_id
    assert [(m["conference_id"], m["role"]) for m in body["memberships"]] == [(str(world.a.id), "member")]
    cases = await client.get("/api/v1/cases", headers=_bearer(tokens["access_token"]))
    assert cases.status_code == 200, cases.text

    # The ID token of the same sign-in is no access token here (typ and audience differ).
    refused = await client.get("/api/v1/me", headers=_bearer(tokens["id_token"]))
    assert refused.status_code == 401
    assert "www-authenticate" in refused.headers


async def test_provider_tokens_are_not_trusted_before_registration(
    client: httpx.AsyncClient, world: World, oidc_issuer: str
) -> None:
    machine = await _client_credentials_token(oidc_issuer, "events:write")
    assert (await client.get("/api/v1/me", headers=_bearer(machine))).status_code == 401
