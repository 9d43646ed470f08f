"""The key cache against providers that misbehave: broken keys, encryption keys, huge or
lying documents, redirects. None of it may crash validation or be trusted."""

from __future__ import annotations

import json

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

from app.auth.tokens import IssuerConfig, IssuerUnavailable, KeyCache

ISSUER = "https://idp.example.test"
CFG = IssuerConfig(issuer=ISSUER, audience="casusoverleg")


def _public(key: RSAKey | ECKey, **extra: object) -> dict:
    return {**key.as_dict(private=False), **extra}


def _cache(documents: dict[str, httpx.Response]) -> tuple[KeyCache, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return documents.get(request.url.path, httpx.Response(404))

    return KeyCache(transport=httpx.MockTransport(handler), refetch_min_interval=0), seen


def _discovery(jwks_uri: str = f"{ISSUER}/jwks", issuer: str = ISSUER) -> httpx.Response:
    return httpx.Response(200, json={"issuer": issuer, "jwks_uri": jwks_uri})


SIGNING = RSAKey.generate_key(2048, parameters={"kid": "good"})


async def test_unusable_keys_are_skipped_and_good_ones_kept() -> None:
    keys = [
        {"kty": "RSA", "kid": "broken", "n": "not-base64!", "e": "AQAB"},
        _public(RSAKey.generate_key(2048, parameters={"kid": "enc"}), use="enc"),
        {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"},
        "not even an object",
        {**_public(SIGNING), "d": "private-part-that-must-be-dropped"},
    ]
    cache, _ = _cache(
        {"/.well-known/openid-configuration": _discovery(), "/jwks": httpx.Response(200, json={"keys": keys})}
    )
    keyset = await cache.keys_for(CFG, "good")
    assert [k.kid for k in keyset.keys] == ["good"]
    assert not keyset.keys[0].is_private


@pytest.mark.parametrize(
    "documents",
    [
        {"/.well-known/openid-configuration": _discovery(issuer="https://evil.example.test")},
        {
            "/.well-known/openid-configuration": httpx.Response(
                200, json={"issuer": ISSUER, "jwks_uri": "file:///etc/passwd"}
            )
        },
        {
            "/.well-known/openid-configuration": httpx.Response(
                302, headers={"location": "http://127.0.0.1:9/"}
            )
        },
        {"/.well-known/openid-configuration": _discovery(), "/jwks": httpx.Response(200, content=b"[1, 2]")},
        {
            "/.well-known/openid-configuration": _discovery(),
            "/jwks": httpx.Response(200, content=b"{not json"),
        },
        {
            "/.well-known/openid-configuration": _discovery(),
            "/jwks": httpx.Response(200, json={"keys": "none"}),
        },
        {"/.well-known/openid-configuration": _discovery(), "/jwks": httpx.Response(200, json={"keys": []})},
        {
            "/.well-known/openid-configuration": _discovery(),
            "/jwks": httpx.Response(200, content=json.dumps({"keys": [], "pad": "x" * 300_000}).encode()),
        },
        {"/.well-known/openid-configuration": _discovery(), "/jwks": httpx.Response(500)},
    ],
    ids=[
        "issuer-mismatch",
        "file-jwks-uri",
        "redirect",
        "array",
        "not-json",
        "keys-not-list",
        "no-keys",
        "huge",
        "5xx",
    ],
)
async def test_misbehaving_provider_yields_no_keys(documents: dict[str, httpx.Response]) -> None:
    cache, _ = _cache(documents)
    with pytest.raises(IssuerUnavailable):
        await cache.keys_for(CFG, "good")
