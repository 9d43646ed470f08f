"""Hand-made JWTs for attack tests: sign any header and any raw payload bytes, or forge."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from app.clock import clock


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(
    issuer: str, subject: str | None, *, audience: str = "casusoverleg", lifetime: int = 600, **extra: Any
) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if subject is not None:
        claims["sub"] = subject
    claims.update(extra)
    return claims


def sign_raw(payload: bytes, key: RSAKey | ECKey, *, alg: str = "RS256", **header: Any) -> str:
    protected = {"alg": alg, **header}
    return jws.serialize_compact(protected, payload, key, algorithms=[alg])


def sign(claims: dict[str, Any], key: RSAKey | ECKey, *, alg: str = "RS256", **header: Any) -> str:
    if "kid" not in header and key.kid:
        header["kid"] = key.kid
    return sign_raw(json.dumps(claims).encode(), key, alg=alg, **header)


def rs256_by_hand(header_json: bytes, payload: bytes, key: RSAKey) -> str:
    """RS256 over exactly these header bytes (duplicate members, crit...), with a valid signature."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signing_input = f"{b64(header_json)}.{b64(payload)}"
    signature = key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
    return f"{signing_input}.{b64(signature)}"


def hs256_forged(claims: dict[str, Any], secret: bytes, **header: Any) -> str:
    """HS256 computed by hand, so that no library refuses to make it."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = b64(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def unsigned(claims: dict[str, Any], signature: str = "") -> str:
    head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{head}.{b64(json.dumps(claims).encode())}.{signature}"


def replace_payload(token: str, claims: dict[str, Any]) -> str:
    head, _body, sig = token.split(".")
    return f"{head}.{b64(json.dumps(claims).encode())}.{sig}"


def fresh_rsa_key(kid: str | None = None) -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"kid": kid or f"k-{time.time_ns()}"})
    return key
