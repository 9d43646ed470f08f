"""Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature headers),
through the reference `standardwebhooks` package."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)


def new_secret() -> str:
    """32 random bytes, base64, with the whsec_ prefix (the scheme asks for 24-64 bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def valid_secret(secret: str) -> bool:
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return False
    return 24 <= len(raw) <= 64


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header value (`v1,<base64 HMAC-SHA256>`) over `{id}.{timestamp}.{body}`."""
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode("utf-8"))


def headers_for(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """True when a signature in the headers matches. The reference package raises bare
    ValueErrors (and others) on malformed headers: every failure is just False here."""
    try:
        Webhook(secret).verify(body, headers)
    except Exception:  # noqa: BLE001  (malformed input must never escape as an error)
        return False
    return True


# Associated data for sealing subscription secrets at rest (app/crypto.py).
SECRET_PURPOSE = b"webhook-secret"
