"""Acceptance 2: every forged, stale, misdirected or malformed token is refused with 401,
problem+json, a WWW-Authenticate header, one generic detail, and nothing of the token echoed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from joserfc.jwk import ECKey

from app.auth.dev_idp import mint_token
from app.clock import clock
from app.models import Organisation
from tests.authz_matrix import PUBLIC
from tests.factories import World, add_case, add_organisation_with_member
from tests.idp import TestIdentityProviders
from tests.jwt_tools import (
    b64,
    claims_for,
    fresh_rsa_key,
    hs256_forged,
    replace_payload,
    rs256_by_hand,
    sign,
    sign_raw,
    unsigned,
)

GENERIC = "A valid bearer token is required."
PROBE = "/api/v1/cases"


def _chair_claims(world: World, **extra: object) -> dict:
    return claims_for(world.orgs["gemeente"].issuer or "", "chair-sub", **extra)  # type: ignore[arg-type]


def _gemeente_key(world: World):  # noqa: ANN202
    return world.idp.store.signing_key("gemeente")


def _public_pem(world: World) -> bytes:
    from cryptography.hazmat.primitives import serialization

    public = _gemeente_key(world).public_key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


Attack = Callable[[World], str]

ATTACKS: dict[str, Attack] = {
    "alg none, empty signature": lambda w: unsigned(_chair_claims(w)),
    "alg none, some signature": lambda w: unsigned(_chair_claims(w), signature=b64(b"sig")),
    "alg None spelled differently": lambda w: _with_header(w, {"alg": "nOnE"}),
    "alg HS256 header on an RSA signature": lambda w: _with_header(w, {"alg": "HS256"}),
    "HS256 signed with the provider's public key (PEM)": lambda w: hs256_forged(
        _chair_claims(w), _public_pem(w), kid=_gemeente_key(w).kid
    ),
    "HS256 signed with the provider's public JWK": lambda w: hs256_forged(
        _chair_claims(w),
        json.dumps(w.idp.store.public_jwks("gemeente")["keys"][0]).encode(),
        kid=_gemeente_key(w).kid,
    ),
    "expired": lambda w: w.idp.token(
        "gemeente", "chair-sub", audience="casusoverleg", now=clock.now().timestamp() - 7200, lifetime=3600
    ),
    "not yet valid (nbf in the future)": lambda w: w.idp.token(
        "gemeente", "chair-sub", audience="casusoverleg", extra={"nbf": int(clock.now().timestamp()) + 3600}
    ),
    "issued in the future": lambda w: w.idp.token(
        "gemeente", "chair-sub", audience="casusoverleg", now=clock.now().timestamp() + 3600
    ),
    "wrong audience": lambda w: w.idp.token("gemeente", "chair-sub", audience="another-service"),
    "audience list without ours": lambda w: sign(_chair_claims(w, aud=["a", "b"]), _gemeente_key(w)),
    "unknown issuer": lambda w: w.idp.token("fremd", "chair-sub", audience="casusoverleg"),
    "issuer with a trailing slash": lambda w: sign(
        _chair_claims(w, iss=(w.orgs["gemeente"].issuer or "") + "/"), _gemeente_key(w)
    ),
    "issuer A's key (with its kid) on a token naming issuer B": lambda w: mint_token(
        w.idp.store,
        slug="politie",
        issuer=w.idp.issuer("gemeente"),
        subject="chair-sub",
        now=clock.now().timestamp(),
    ),
    "issuer A's key (no kid) on a token naming issuer B": lambda w: sign_raw(
        json.dumps(_chair_claims(w)).encode(), w.idp.store.signing_key("politie")
    ),
    "issuer A's key with issuer B's kid": lambda w: sign(
        _chair_claims(w), w.idp.store.signing_key("politie"), kid=_gemeente_key(w).kid
    ),
    "unknown kid": lambda w: sign(_chair_claims(w), fresh_rsa_key("unknown-kid")),
    "attacker's own key embedded as jwk header": lambda w: _embedded_jwk(w),
    "jku header pointing elsewhere": lambda w: sign(
        _chair_claims(w), _gemeente_key(w), jku="http://127.0.0.1:9/keys.json"
    ),
    "x5u header": lambda w: sign(_chair_claims(w), _gemeente_key(w), x5u="http://127.0.0.1:9/cert.pem"),
    "crit header": lambda w: rs256_by_hand(
        json.dumps({"alg": "RS256", "kid": _gemeente_key(w).kid, "crit": ["exp"], "exp": 1}).encode(),
        json.dumps(_chair_claims(w)).encode(),
        _gemeente_key(w),
    ),
    "tampered payload (another subject)": lambda w: replace_payload(
        w.token("gemeente_member"), _chair_claims(w)
    ),
    "tampered payload (longer expiry)": lambda w: replace_payload(
        w.idp.token(
            "gemeente",
            "chair-sub",
            audience="casusoverleg",
            now=clock.now().timestamp() - 7200,
            lifetime=3600,
        ),
        _chair_claims(w, exp=int(clock.now().timestamp()) + 3600),
    ),
    "exp far in the future (10^20)": lambda w: sign(_chair_claims(w, exp=10**20), _gemeente_key(w)),
    "a person's token living longer than an hour": lambda w: w.idp.token(
        "gemeente", "chair-sub", audience="casusoverleg", lifetime=3601
    ),
    "a system's token living longer than a day": lambda w: w.token("police_system", lifetime=24 * 3600 + 1),
    "missing subject": lambda w: sign(claims_for(w.orgs["gemeente"].issuer or "", None), _gemeente_key(w)),
    "empty subject": lambda w: sign(claims_for(w.orgs["gemeente"].issuer or "", ""), _gemeente_key(w)),
    "subject as a number": lambda w: sign(_chair_claims(w, sub=12345), _gemeente_key(w)),
    "missing exp": lambda w: sign(_without(_chair_claims(w), "exp"), _gemeente_key(w)),
    "missing iat": lambda w: sign(_without(_chair_claims(w), "iat"), _gemeente_key(w)),
    "missing aud": lambda w: sign(_without(_chair_claims(w), "aud"), _gemeente_key(w)),
    "exp as a string": lambda w: sign(_chair_claims(w, exp="9999999999"), _gemeente_key(w)),
    "subject with no membership": lambda w: w.idp.token("gemeente", "stranger-sub", audience="casusoverleg"),
    "police token with a municipality member's subject": lambda w: w.idp.token(
        "politie", "chair-sub", audience="casusoverleg"
    ),
    "duplicate sub claim (second one a member)": lambda w: sign_raw(
        _duplicate_sub_payload(w), _gemeente_key(w), kid=_gemeente_key(w).kid
    ),
    "duplicate alg in the header": lambda w: _duplicate_header(w),
    "ES256 header on an RSA signature": lambda w: _alg_swapped(w),
    "payload is a JSON array": lambda w: sign_raw(b"[1, 2, 3]", _gemeente_key(w), kid=_gemeente_key(w).kid),
    "payload is not JSON": lambda w: sign_raw(b"not json at all", _gemeente_key(w), kid=_gemeente_key(w).kid),
    "kid is a number": lambda w: rs256_by_hand(
        b'{"alg": "RS256", "kid": 7}', json.dumps(_chair_claims(w)).encode(), _gemeente_key(w)
    ),
}

GARBAGE_HEADERS: dict[str, str] = {
    "no scheme": "abc.def.ghi",
    "Basic credentials": "Basic dXNlcjpwYXNzd29yZA==",
    "Bearer without token": "Bearer ",
    "one segment": "Bearer abcdef",
    "two segments": "Bearer abc.def",
    "four segments": "Bearer a.b.c.d",
    "five segments (JWE shape)": "Bearer a.b.c.d.e",
    "empty segments": "Bearer ..",
    "not base64": "Bearer !!!.***.???",
    "base64 but not JSON": f"Bearer {b64(b'hello')}.{b64(b'world')}.{b64(b'sig')}",
    "header is a JSON string": "Bearer " + ".".join(b64(x) for x in (b'"RS256"', b"{}", b"sig")),
    "deeply nested header": f"Bearer {b64(b'[' * 2500 + b']' * 2500)}.{b64(b'{}')}.{b64(b'sig')}",
    "invalid UTF-8 in header": f"Bearer {b64(bytes([0xFF, 0xFE, 0x7B]))}.{b64(b'{}')}.{b64(b'sig')}",
    "token with spaces": "Bearer abc def ghi",
}


def _without(claims: dict, name: str) -> dict:
    return {k: v for k, v in claims.items() if k != name}


def _duplicate_sub_payload(world: World) -> bytes:
    claims = _chair_claims(world)
    claims.pop("sub")
    body = json.dumps(claims)[:-1]
    return (body + ', "sub": "stranger-sub", "sub": "chair-sub"}').encode()


def _duplicate_header(world: World) -> str:
    key = _gemeente_key(world)
    header = f'{{"alg": "none", "alg": "RS256", "kid": "{key.kid}"}}'.encode()
    return rs256_by_hand(header, json.dumps(_chair_claims(world)).encode(), key)


def _with_header(world: World, header: dict) -> str:
    _head, body, sig = sign(_chair_claims(world), _gemeente_key(world)).split(".")
    return f"{b64(json.dumps(header).encode())}.{body}.{sig}"


def _alg_swapped(world: World) -> str:
    key = _gemeente_key(world)
    token = sign(_chair_claims(world), key)
    _head, body, sig = token.split(".")
    return f"{b64(json.dumps({'alg': 'ES256', 'kid': key.kid}).encode())}.{body}.{sig}"


def _embedded_jwk(world: World) -> str:
    attacker = ECKey.generate_key("P-256", parameters={"kid": "attacker"})
    return sign(_chair_claims(world), attacker, alg="ES256", jwk=attacker.as_dict(private=False))


def assert_refused(response: httpx.Response, token: str | None = None, *, detail: str = GENERIC) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["detail"] == detail
    if token:
        echoed = response.text + json.dumps(dict(response.headers))
        for piece in [token, *[p for p in re.split(r"[.\s]", token) if len(p) >= 8]]:
            assert piece not in echoed, "part of the token was echoed back"


async def test_the_real_token_is_accepted(client: httpx.AsyncClient, world: World) -> None:
    """The control for every attack below: the same request with a good token works."""
    response = await client.get(PROBE, headers=world.headers("chair"))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
async def test_token_attack_is_refused(client: httpx.AsyncClient, world: World, attack: str) -> None:
    token = ATTACKS[attack](world)
    response = await client.get(PROBE, headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, token)


async def test_token_lifetime_limits_per_kind_of_subject(client: httpx.AsyncClient, world: World) -> None:
    """Defaults: a person's token may live one hour, a partner system's one day (exp - iat)."""
    hour = world.idp.token("gemeente", "chair-sub", audience="casusoverleg", lifetime=3600)
    assert (await client.get(PROBE, headers={"Authorization": f"Bearer {hour}"})).status_code == 200
    longer = world.idp.token("gemeente", "chair-sub", audience="casusoverleg", lifetime=3660)
    assert_refused(await client.get(PROBE, headers={"Authorization": f"Bearer {longer}"}), longer)
    # A system may use a token of several hours (it gets past authentication), not of more than a day.
    day = world.token("police_system", lifetime=24 * 3600)
    assert (await client.get(PROBE, headers={"Authorization": f"Bearer {day}"})).status_code != 401
    too_long = world.token("police_system", lifetime=24 * 3600 + 60)
    assert_refused(await client.get(PROBE, headers={"Authorization": f"Bearer {too_long}"}), too_long)


@pytest.mark.parametrize("name", list(GARBAGE_HEADERS), ids=list(GARBAGE_HEADERS))
async def test_garbage_authorization_is_refused(client: httpx.AsyncClient, world: World, name: str) -> None:
    value = GARBAGE_HEADERS[name]
    response = await client.get(PROBE, headers={"Authorization": value})
    assert_refused(response, value.removeprefix("Bearer ").removeprefix("Basic "))


async def test_missing_authorization_is_refused(client: httpx.AsyncClient, world: World) -> None:
    assert_refused(await client.get(PROBE))


async def test_oversized_authorization_header_is_refused_before_parsing(
    client: httpx.AsyncClient, world: World
) -> None:
    good = world.token("chair")
    padded = good + "A" * (8193 - len(good))
    response = await client.get(PROBE, headers={"Authorization": f"Bearer {padded}"})
    assert_refused(response, padded, detail="The Authorization header is too large.")
    # a huge but otherwise well-formed token (a padded claim) is refused too
    big = world.idp.token("gemeente", "chair-sub", audience="casusoverleg", extra={"pad": "x" * 9000})
    assert_refused(
        await client.get(PROBE, headers={"Authorization": f"Bearer {big}"}),
        detail="The Authorization header is too large.",
    )


async def test_key_rotated_out_is_refused(client: httpx.AsyncClient, world: World, owner_db) -> None:
    """A token signed with a key that the provider no longer publishes stops working once the
    service's key cache has refreshed (at the latest after its TTL)."""
    idp: TestIdentityProviders = world.idp
    async with owner_db.sessions() as session:
        await add_organisation_with_member(session, world, slug="roteer", subject="r-1")
        await session.commit()
    idp.store.ensure("roteer")
    old = idp.token("roteer", "r-1", audience="casusoverleg")
    assert (await client.get(PROBE, headers={"Authorization": f"Bearer {old}"})).status_code == 200
    idp.store.rotate("roteer")
    idp.store.drop_old("roteer")
    clock.travel(timedelta(seconds=client_ttl(client) + 1))
    new = idp.token("roteer", "r-1", audience="casusoverleg")
    assert_refused(await client.get(PROBE, headers={"Authorization": f"Bearer {old}"}), old)
    assert (await client.get(PROBE, headers={"Authorization": f"Bearer {new}"})).status_code == 200


def client_ttl(client: httpx.AsyncClient) -> float:
    app = client._transport.app  # type: ignore[attr-defined]
    return float(app.state.token_validator.key_cache.ttl_seconds)


async def test_access_token_type_is_required_where_configured(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    async with owner_db.sessions() as session:
        await session.execute(
            sa.update(Organisation).where(Organisation.slug == "gemeente").values(require_typ_at_jwt=True)
        )
        await session.commit()
    key = _gemeente_key(world)
    plain = sign(_chair_claims(world), key)  # e.g. an ID token of the same provider
    assert_refused(await client.get(PROBE, headers={"Authorization": f"Bearer {plain}"}), plain)
    typed = sign(_chair_claims(world), key, typ="at+jwt")
    assert (await client.get(PROBE, headers={"Authorization": f"Bearer {typed}"})).status_code == 200
    # other organisations' providers are not affected
    assert (await client.get(PROBE, headers=world.headers("police_member"))).status_code == 200


async def test_police_token_never_acts_as_municipality_member(
    client: httpx.AsyncClient, world: World, owner_db
) -> None:
    """Whatever the police provider puts in its token, the caller is a police member."""
    async with owner_db.sessions() as session:
        case = await add_case(session, world)
        await session.commit()
    gemeente = world.orgs["gemeente"]
    token = world.idp.token(
        "politie",
        "police_member-sub",
        audience="casusoverleg",
        extra={
            "organisation_id": str(gemeente.id),
            "roles": ["chair"],
            "groups": ["cg-chair"],
            "act": {"sub": "chair-sub", "iss": gemeente.issuer},
        },
    )
    response = await client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={"to": "monitoring"},
        headers={"Authorization": f"Bearer {token}", "If-Match": '"v1"'},
    )
    assert response.status_code == 403, response.text


async def test_every_route_refuses_a_missing_or_forged_token(client: httpx.AsyncClient, world: World) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    forged = ATTACKS["HS256 signed with the provider's public key (PEM)"](world)
    checked = 0
    for path, item in app.openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
        for method in item:
            if (method.upper(), path) in PUBLIC:
                continue
            for headers in ({}, {"Authorization": f"Bearer {forged}"}):
                response = await client.request(method.upper(), concrete, headers=headers, json={})
                assert_refused(response, forged if headers else None)
                checked += 1
    assert checked >= 20
