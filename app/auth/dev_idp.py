"""The development identity providers: one issuer per demo organisation.

Keys are real RSA keys, kept in a JSON file under the data directory so that the
`casusoverleg token` command and the running service agree. Their JWKS are served over HTTP
like any real provider's; the service fetches them over HTTP like any other. Refused in production.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

DEV_AUDIENCE = "casusoverleg"
TOKEN_LIFETIME_SECONDS = 3600


class DevKeyStore:
    """Private keys per organisation slug; the newest key signs, all published keys verify."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: dict[str, list[dict[str, Any]]] = {}
        # Importing an RSA private key validates it (tens of milliseconds): keep them by kid.
        self._imported: dict[str, RSAKey] = {}
        if path.exists():
            self._keys = json.loads(path.read_text())

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._keys))
        tmp.chmod(0o600)
        tmp.replace(self.path)

    def ensure(self, slug: str) -> None:
        if not self._keys.get(slug):
            self.rotate(slug, keep_previous=False)

    def rotate(self, slug: str, *, keep_previous: bool = True) -> str:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"})
        key.ensure_kid()
        entry = key.as_dict(private=True)
        previous = self._keys.get(slug, []) if keep_previous else []
        self._keys[slug] = [entry, *previous][:2]
        self._save()
        return str(entry["kid"])

    def drop_old(self, slug: str) -> None:
        self._keys[slug] = self._keys.get(slug, [])[:1]
        self._save()

    def reload(self) -> None:
        if self.path.exists():
            self._keys = json.loads(self.path.read_text())

    def _key(self, entry: dict[str, Any]) -> RSAKey:
        kid = str(entry.get("kid"))
        if kid not in self._imported:
            self._imported[kid] = RSAKey.import_key(entry)
        return self._imported[kid]

    def signing_key(self, slug: str) -> RSAKey:
        self.ensure(slug)
        return self._key(self._keys[slug][0])

    def public_jwks(self, slug: str) -> dict[str, Any]:
        self.ensure(slug)
        public = []
        for entry in self._keys[slug]:
            key = self._key(entry)
            public.append({**key.as_dict(private=False), "use": "sig", "alg": "RS256"})
        return {"keys": public}


def issuer_url(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/dev-idp/{slug}"


def discovery_document(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/jwks.json",
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
    }


def mint_token(
    store: DevKeyStore,
    *,
    slug: str,
    issuer: str,
    subject: str,
    audience: str = DEV_AUDIENCE,
    name: str | None = None,
    scope: str | None = None,
    lifetime: int = TOKEN_LIFETIME_SECONDS,
    now: float | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if name:
        claims["name"] = name
    if scope:
        claims["scope"] = scope
    if extra:
        claims.update(extra)
    key = store.signing_key(slug)
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
