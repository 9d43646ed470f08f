"""Bearer-token validation, one key set per registered issuer (see shared/SECURITY.md).

The order matters: the token's `iss` only selects which registered organisation's keys to try;
the signature must then verify with exactly those keys, and `iss` is checked again afterwards.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, KeySet

from app.clock import clock

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256")
FORBIDDEN_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")
AT_JWT_TYPES = ("at+jwt", "application/at+jwt")
MAX_DOCUMENT_BYTES = 256_000  # discovery document or JWKS
MAX_KEYS = 50


class InvalidToken(Exception):
    """Any reason a token is refused. The reason is logged, never sent to the caller."""


class IssuerUnavailable(InvalidToken):
    pass


@dataclass(frozen=True)
class IssuerConfig:
    issuer: str
    audience: str
    jwks_uri: str | None = None
    discovery_url: str | None = None
    # Refuse tokens whose header lacks `typ: at+jwt` (RFC 9068), so that an ID token or any
    # other JWT of this provider cannot be used as an access token. Per organisation.
    require_typ_at_jwt: bool = False


def is_development_issuer(*urls: str | None) -> bool:
    """A development identity provider: plain http, or the service's own /dev-idp/ issuers.
    Refused in production (at start-up and for every token)."""
    return any(u is not None and (u.lower().startswith("http://") or "/dev-idp/" in u) for u in urls)


def token_lifetime(claims: dict[str, Any]) -> float:
    """exp - iat of verified claims (both are checked to be numbers)."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, bool) or isinstance(iat, bool) or not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise InvalidToken("exp and iat must be numbers")
    return float(exp) - float(iat)


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidToken(f"duplicate member {key!r}")
        result[key] = value
    return result


def _b64json(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw, object_pairs_hook=_strict_object)
    except InvalidToken:
        raise
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidToken("segment is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise InvalidToken("segment is not a JSON object")
    return value


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidToken("not a compact JWS")
    return _b64json(parts[0]), _b64json(parts[1])


@dataclass
class _CachedKeys:
    keys: KeySet
    fetched_at: float
    last_forced: float = float("-inf")  # last refetch for an unknown kid
    last_failed: float = float("-inf")  # last failed refresh


@dataclass
class KeyCache:
    """JWKS per issuer: TTL-cached, refreshed once on an unknown kid (rate-limited per issuer),
    and kept serving while the provider is down. Time comes from app.clock (tests travel).

    Within `refetch_min_interval`, an issuer gets at most one refetch for unknown kids, and after
    a failed fetch no new attempt, so a flood of bad tokens cannot hammer a provider (nor a
    provider that is down).
    """

    ttl_seconds: float = 600.0
    refetch_min_interval: float = 60.0
    timeout: float = 5.0
    _cache: dict[str, _CachedKeys] = field(default_factory=dict)
    _jwks_uris: dict[str, str] = field(default_factory=dict)
    _failed_at: dict[str, float] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    transport: httpx.AsyncBaseTransport | None = None  # tests only: a mock provider

    async def _get_json(self, client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        """GET a JSON object, reading at most MAX_DOCUMENT_BYTES (a hostile or broken provider
        cannot make the service read gigabytes)."""
        async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            response.raise_for_status()
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise IssuerUnavailable("provider document too large")
        value = json.loads(bytes(body))
        if not isinstance(value, dict):
            raise IssuerUnavailable("provider document is not a JSON object")
        return value

    async def _jwks_uri(self, cfg: IssuerConfig, client: httpx.AsyncClient) -> str:
        if cfg.jwks_uri:
            return cfg.jwks_uri
        if cfg.issuer in self._jwks_uris:
            return self._jwks_uris[cfg.issuer]
        discovery = cfg.discovery_url or cfg.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = await self._get_json(client, discovery)
        if document.get("issuer") != cfg.issuer:
            raise IssuerUnavailable("discovery document names another issuer")
        uri = document.get("jwks_uri")
        if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
            raise IssuerUnavailable("discovery document has no usable jwks_uri")
        self._jwks_uris[cfg.issuer] = uri
        return uri

    async def _fetch(self, cfg: IssuerConfig) -> KeySet:
        async with httpx.AsyncClient(
            timeout=self.timeout, follow_redirects=False, transport=self.transport
        ) as client:
            uri = await self._jwks_uri(cfg, client)
            data = await self._get_json(client, uri)
        published = data.get("keys")
        if not isinstance(published, list):
            raise IssuerUnavailable("JWKS document has no keys")
        keys = []
        for entry in published[:MAX_KEYS]:
            if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC"):
                continue
            if entry.get("use", "sig") != "sig":  # encryption keys never verify signatures
                continue
            # Only public members: drop any private ones a careless provider might publish.
            public = {n: v for n, v in entry.items() if n not in ("d", "p", "q", "dp", "dq", "qi")}
            try:
                keys.append(JWKRegistry.import_key(public))
            except (JoseError, ValueError, TypeError, KeyError) as exc:
                log.warning("skipping an unusable key of %s: %s", cfg.issuer, type(exc).__name__)
        if not keys:
            raise IssuerUnavailable("JWKS document has no usable signing keys")
        return KeySet(keys)

    def _recent(self, now: float, then: float) -> bool:
        # A clock that went backwards counts as "long ago", never as "recent for ever".
        return 0 <= now - then < self.refetch_min_interval

    async def keys_for(self, cfg: IssuerConfig, kid: str | None) -> KeySet:
        lock = self._locks.setdefault(cfg.issuer, asyncio.Lock())
        async with lock:  # one fetch per issuer at a time; the others then use its result
            return await self._keys_for(cfg, kid)

    async def _keys_for(self, cfg: IssuerConfig, kid: str | None) -> KeySet:
        now = clock.now().timestamp()
        cached = self._cache.get(cfg.issuer)
        if cached is None:
            failed = self._failed_at.get(cfg.issuer)
            if failed is not None and self._recent(now, failed):
                raise IssuerUnavailable("no keys for issuer (recent fetch failed)")
            try:
                keys = await self._fetch(cfg)
            except (httpx.HTTPError, ValueError, JoseError, IssuerUnavailable) as exc:
                log.warning("could not fetch keys of %s: %s", cfg.issuer, type(exc).__name__)
                self._failed_at[cfg.issuer] = now
                raise IssuerUnavailable("no keys for issuer") from exc
            self._failed_at.pop(cfg.issuer, None)
            self._cache[cfg.issuer] = _CachedKeys(keys=keys, fetched_at=now)
            return keys
        if self._recent(now, cached.last_failed):
            return cached.keys
        stale = not 0 <= now - cached.fetched_at <= self.ttl_seconds
        unknown_kid = kid is not None and not _has_kid(cached.keys, kid)
        force = unknown_kid and not self._recent(now, cached.last_forced)
        if not (stale or force):
            return cached.keys
        if force:
            cached.last_forced = now
        try:
            keys = await self._fetch(cfg)
        except (httpx.HTTPError, ValueError, JoseError, IssuerUnavailable) as exc:
            log.warning("could not fetch keys of %s: %s; serving cached keys", cfg.issuer, type(exc).__name__)
            cached.last_failed = now
            return cached.keys
        self._cache[cfg.issuer] = _CachedKeys(keys=keys, fetched_at=now, last_forced=cached.last_forced)
        return keys

    def clear(self) -> None:
        self._cache.clear()
        self._jwks_uris.clear()
        self._failed_at.clear()

    def forget(self, issuer: str) -> None:
        """Drop what is cached for one issuer (its registration changed)."""
        self._cache.pop(issuer, None)
        self._jwks_uris.pop(issuer, None)
        self._failed_at.pop(issuer, None)


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keys.keys)


@dataclass
class TokenValidator:
    key_cache: KeyCache
    leeway: int = 30
    max_token_bytes: int = 8192
    # The longest lifetime any token may have (the system maximum); a person's shorter maximum
    # is checked once the subject is known to be a person (app/deps.py).
    max_lifetime_seconds: int = 24 * 3600
    refuse_development_issuers: bool = False

    async def validate(self, token: str, issuers: dict[str, IssuerConfig]) -> dict[str, Any]:
        """Return the verified claims, or raise InvalidToken. `issuers` maps registered exact
        issuer strings to their configuration."""
        if len(token) > self.max_token_bytes:
            raise InvalidToken("token too large")
        header, unverified = unverified_parts(token)
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise InvalidToken(f"algorithm {alg!r} not allowed")
        if any(h in header for h in FORBIDDEN_HEADERS):
            raise InvalidToken("token carries key-location or crit headers")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or issuer not in issuers:
            raise InvalidToken("unknown issuer")
        cfg = issuers[issuer]
        if self.refuse_development_issuers and is_development_issuer(cfg.issuer, cfg.jwks_uri, cfg.discovery_url):
            raise InvalidToken("development issuer refused in production")
        if cfg.require_typ_at_jwt and str(header.get("typ", "")).lower() not in AT_JWT_TYPES:
            raise InvalidToken("not an access token (typ)")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("kid must be a string")
        keys = await self.key_cache.keys_for(cfg, kid)
        if kid is not None and not _has_kid(keys, kid):
            raise InvalidToken("unknown kid")
        try:
            verified = jwt.decode(token, keys, algorithms=list(ALLOWED_ALGORITHMS))
            claims_registry = jwt.JWTClaimsRegistry(
                now=lambda: int(clock.now().timestamp()),
                leeway=self.leeway,
                iss={"essential": True, "value": cfg.issuer},
                aud={"essential": True, "value": cfg.audience},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
            )
            claims_registry.validate(verified.claims)
        except JoseError as exc:
            raise InvalidToken(f"rejected: {exc.error}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidToken(f"malformed: {type(exc).__name__}") from exc
        claims = dict(verified.claims)
        if claims != unverified:
            raise InvalidToken("payload mismatch")
        if claims.get("iss") != cfg.issuer:
            raise InvalidToken("issuer changed")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or iat > clock.now().timestamp() + self.leeway:
            raise InvalidToken("issued in the future")
        if token_lifetime(claims) > self.max_lifetime_seconds:
            raise InvalidToken("lifetime (exp - iat) longer than allowed")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("missing subject")
        return claims
