"""Authenticated encryption of small secrets at rest (AES-GCM, key from settings).

Each use names its purpose, bound in as associated data, so a ciphertext of one kind (a BSN)
cannot be passed off as another (a webhook secret)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.config import Settings

SEALED_PREFIX = "sealed:v1:"


def _key(settings: Settings) -> bytes:
    key = base64.b64decode(settings.bsn_encryption_key)
    if len(key) not in (16, 24, 32):
        raise RuntimeError("BSN_ENCRYPTION_KEY must be base64 of 16, 24 or 32 bytes")
    return key


def seal(plaintext: str, settings: Settings, *, purpose: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_key(settings)).encrypt(nonce, plaintext.encode(), purpose)


def unseal(ciphertext: bytes, settings: Settings, *, purpose: bytes) -> str:
    return AESGCM(_key(settings)).decrypt(ciphertext[:12], ciphertext[12:], purpose).decode()


def seal_text(plaintext: str, settings: Settings, *, purpose: bytes) -> str:
    """For a text column: `sealed:v1:` + base64 of nonce and ciphertext."""
    return SEALED_PREFIX + base64.b64encode(seal(plaintext, settings, purpose=purpose)).decode()


def unseal_text(stored: str, settings: Settings, *, purpose: bytes) -> str:
    if not stored.startswith(SEALED_PREFIX):
        raise ValueError("not a sealed value")
    return unseal(base64.b64decode(stored[len(SEALED_PREFIX) :]), settings, purpose=purpose)
