"""Sign-in at the person's own organisation: OIDC authorization code with PKCE (authlib), the
provider found through its discovery document, and the ID token checked against the sign-in
that started it (nonce) and the access token's subject. The access token itself goes through
the same validation and mapping as every API call (app/deps.py `principal_from_token`)."""

from __future__ import annotations

import hmac
import logging
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import Response

from app.auth.principal import Principal
from app.auth.tokens import IssuerConfig, TokenValidator
from app.config import Settings
from app.models import Organisation, WebSignIn
from app.services.access.web_sessions import PendingSignIn
from app.web.session import SESSION_COOKIE

log = logging.getLogger(__name__)

STATE_COOKIE = "casusoverleg_aanmelden"
CALLBACK_PATH = "/web/callback"


class ProviderUnreachable(Exception):
    """The organisation's provider did not answer its discovery document (or answered wrongly)."""


class SignInRefused(Exception):
    """The provider's answer did not confirm the sign-in (status 401: shown as such)."""


async def _provider_endpoints(org: Organisation) -> tuple[str, str]:
    assert org.issuer is not None
    url = org.discovery_url or f"{org.issuer.rstrip('/')}/.well-known/openid-configuration"
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url)
        response.raise_for_status()
        doc = response.json()
    if doc.get("issuer") != org.issuer:
        raise ValueError("the provider's discovery document names another issuer")
    return str(doc["authorization_endpoint"]), str(doc["token_endpoint"])


def _oauth_client(settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.web_oidc_client_id,
        client_secret=settings.web_oidc_client_secret,
        token_endpoint_auth_method="client_secret_basic" if settings.web_oidc_client_secret else "none",
        redirect_uri=settings.public_base_url.rstrip("/") + CALLBACK_PATH,
        scope="openid",
        code_challenge_method="S256",
        timeout=5.0,
    )


def _id_token_config(org: Organisation, settings: Settings) -> IssuerConfig:
    """The ID token is addressed to the web client (aud = client id), signed by the same issuer."""
    assert org.issuer is not None
    return IssuerConfig(issuer=org.issuer, audience=settings.web_oidc_client_id, jwks_uri=org.jwks_uri,
                        discovery_url=org.discovery_url)


async def authorization_endpoint(org: Organisation) -> str:
    """From the provider's discovery document; ProviderUnreachable when it cannot be read."""
    try:
        endpoint, _token = await _provider_endpoints(org)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("identity provider of an organisation unreachable", exc_info=True)
        raise ProviderUnreachable() from exc
    return endpoint


async def authorization_url(settings: Settings, endpoint: str, pending: PendingSignIn) -> str:
    """Where to send the browser to sign in (state, PKCE challenge and nonce of this sign-in)."""
    async with _oauth_client(settings) as oauth:
        url, _state = oauth.create_authorization_url(
            endpoint, state=pending.state, code_verifier=pending.code_verifier, nonce=pending.nonce
        )
    return str(url)


async def exchange_code(settings: Settings, org: Organisation, pending: WebSignIn, code: str) -> dict[str, Any]:
    """The provider's tokens for the code; SignInRefused when the exchange fails."""
    try:
        _auth, token_endpoint = await _provider_endpoints(org)
        async with _oauth_client(settings) as oauth:
            tokens = await oauth.fetch_token(token_endpoint, grant_type="authorization_code", code=code,
                                             code_verifier=pending.code_verifier)
    except Exception as exc:  # the provider's answer is untrusted input: never a 500  # noqa: BLE001
        log.warning("code exchange with an organisation's provider failed", exc_info=True)
        raise SignInRefused() from exc
    return dict(tokens)


async def check_id_token(validator: TokenValidator, settings: Settings, org: Organisation, pending: WebSignIn,
                         id_token: str, principal: Principal) -> None:
    """The ID token is the provider's, for this sign-in (nonce), about the same subject as the
    access token; SignInRefused otherwise."""
    assert org.issuer is not None
    try:
        claims = await validator.validate(id_token, {org.issuer: _id_token_config(org, settings)})
    except Exception as exc:  # noqa: BLE001
        log.info("id token refused", exc_info=True)
        raise SignInRefused() from exc
    if claims.get("nonce") != pending.nonce or claims.get("sub") != principal.subject:
        raise SignInRefused()


def set_state_cookie(response: Response, settings: Settings, state: str) -> None:
    """Binds the sign-in to this browser (against login CSRF)."""
    response.set_cookie(STATE_COOKIE, state, max_age=settings.web_sign_in_minutes * 60, httponly=True,
                        samesite="lax", secure=not settings.is_development, path=CALLBACK_PATH)


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.web_session_minutes * 60, httponly=True,
                        samesite="lax", secure=not settings.is_development, path="/")
    response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def state_confirmed(cookie_state: str, state: str) -> bool:
    """The callback's state is the one this browser was given when the sign-in started."""
    return bool(cookie_state and state) and hmac.compare_digest(cookie_state.encode(), state.encode())
