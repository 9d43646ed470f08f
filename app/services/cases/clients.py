"""Clients and their BSN: validated by the 11-test, stored encrypted, found by a keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.crypto import seal, unseal
from app.errors import UnprocessableEntity
from app.models import AccessLogEntry, Case, Client

_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def bsn_is_valid(bsn: str) -> bool:
    """The 11-test (elfproef) for BSNs: 9 digits, weights 9..2 and -1, sum divisible by 11."""
    if len(bsn) != 9 or not bsn.isdigit() or bsn == "000000000":
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True)) - int(bsn[8])
    return total % 11 == 0


def normalise_bsn(raw: str, *, pointer: str = "#/bsn") -> str:
    bsn = raw.strip().replace(" ", "").replace(".", "")
    if len(bsn) == 8 and bsn.isdigit():
        bsn = "0" + bsn
    if not bsn_is_valid(bsn):
        # Never echo the number back.
        raise UnprocessableEntity("This is not a valid BSN: it must be 9 digits and pass the 11-test.",
                                  pointer=pointer)
    return bsn


def encrypt_bsn(bsn: str, settings: Settings) -> bytes:
    return seal(bsn, settings, purpose=b"bsn")


def decrypt_bsn(ciphertext: bytes, settings: Settings) -> str:
    return unseal(ciphertext, settings, purpose=b"bsn")


def bsn_hash(bsn: str, settings: Settings) -> str:
    return hmac.new(settings.bsn_hash_key.encode(), bsn.encode(), hashlib.sha256).hexdigest()


def new_client_number() -> str:
    return "K-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))


def mask_bsn(bsn: str) -> str:
    return "*****" + bsn[-4:]


async def find_by_bsn(
    session: AsyncSession, *, conference_id: uuid.UUID, bsn: str, settings: Settings
) -> Client | None:
    return (
        await session.execute(
            sa.select(Client).where(
                Client.conference_id == conference_id, Client.bsn_hash == bsn_hash(bsn, settings)
            )
        )
    ).scalar_one_or_none()


async def get_or_create_client(
    session: AsyncSession,
    *,
    conference_id: uuid.UUID,
    name: str,
    date_of_birth: object,
    bsn: str | None,
    settings: Settings,
) -> Client:
    if bsn:
        bsn = normalise_bsn(bsn, pointer="#/client/bsn")
        existing = await find_by_bsn(session, conference_id=conference_id, bsn=bsn, settings=settings)
        if existing is not None:
            return existing
    client = Client(
        conference_id=conference_id,
        client_number=new_client_number(),
        name=name,
        date_of_birth=date_of_birth,
        bsn_ciphertext=encrypt_bsn(bsn, settings) if bsn else None,
        bsn_hash=bsn_hash(bsn, settings) if bsn else None,
    )
    session.add(client)
    await session.flush()
    return client


async def cases_of_client(session: AsyncSession, client_id: uuid.UUID) -> list[Case]:
    return list((await session.execute(sa.select(Case).where(Case.client_id == client_id))).scalars())


async def bsn_searches_since(session: AsyncSession, *, issuer: str, subject: str, since: datetime) -> int:
    """How many look-ups by BSN this person made since `since`, read from the access log (shared
    by every replica, so the limit holds across them).

    First takes a transaction-level advisory lock per person, held until the request's transaction
    ends (when its access-log row is committed): concurrent look-ups by one person are counted one
    after the other, so a burst cannot all pass the limit together."""
    await session.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('bsn-lookup'), hashtext(:who))"),
        {"who": f"{issuer} {subject}"},
    )
    return int(
        (
            await session.execute(
                sa.select(sa.func.count())
                .select_from(AccessLogEntry)
                .where(
                    AccessLogEntry.actor_subject == subject,
                    AccessLogEntry.actor_issuer == issuer,
                    AccessLogEntry.occurred_at >= since,
                    AccessLogEntry.resource_type == "client",
                    AccessLogEntry.action == "search",
                )
            )
        ).scalar_one()
    )
