"""The development providers' authorization-code flow (PKCE S256 only): who may sign in, and
single-use, short-lived codes kept in the database so that any replica can redeem them.
Only reachable when DEV_IDP_ENABLED, which production refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.models import DevAuthorizationCode, GuestInvitation, Membership

CODE_LIFETIME_SECONDS = 60


@dataclass(frozen=True)
class DevPerson:
    subject: str
    name: str


async def people_of_issuer(session: AsyncSession, issuer: str) -> list[DevPerson]:
    """Members of the issuer's organisation, and its people invited as guests of a case."""
    members = sa.select(Membership.subject, Membership.display_name).where(
        Membership.issuer == issuer, Membership.active.is_(True))  # type: ignore[attr-defined]
    guests = sa.select(GuestInvitation.subject, GuestInvitation.display_name).where(GuestInvitation.issuer == issuer)
    people = sa.union_all(members, guests).subquery()
    rows = await session.execute(
        sa.select(people.c.subject, sa.func.min(people.c.display_name))
        .group_by(people.c.subject)
        .order_by(sa.func.min(people.c.display_name))
    )
    return [DevPerson(subject=r[0], name=r[1]) for r in rows]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "replace")).hexdigest()


async def issue_code(
    session: AsyncSession,
    *,
    slug: str,
    person: DevPerson,
    client_id: str,
    redirect_uri: str,
    code_challenge: str,
    nonce: str | None,
) -> str:
    code = secrets.token_urlsafe(32)
    now = clock.now()
    await session.execute(sa.delete(DevAuthorizationCode).where(DevAuthorizationCode.expires_at < now))
    session.add(
        DevAuthorizationCode(
            code_hash=_hash(code), slug=slug, subject=person.subject, name=person.name, client_id=client_id,
            redirect_uri=redirect_uri, code_challenge=code_challenge, nonce=nonce, created_at=now,
            expires_at=now + timedelta(seconds=CODE_LIFETIME_SECONDS),
        )
    )
    await session.flush()
    return code


class InvalidGrant(Exception):
    pass


async def redeem_code(
    session: AsyncSession, *, slug: str, code: str, client_id: str, redirect_uri: str, code_verifier: str
) -> DevAuthorizationCode:
    """Marks the code used in one statement (a second redemption finds nothing), then checks the
    binding: provider, client, redirect URI and the PKCE verifier."""
    now = clock.now()
    row = (
        await session.execute(
            sa.update(DevAuthorizationCode)
            .where(
                DevAuthorizationCode.code_hash == _hash(code),
                DevAuthorizationCode.used_at.is_(None),  # type: ignore[union-attr]
                DevAuthorizationCode.expires_at > now,
            )
            .values(used_at=now)
            .returning(DevAuthorizationCode)
        )
    ).scalar_one_or_none()
    if row is None:
        raise InvalidGrant("unknown, expired or already used code")
    if row.slug != slug or row.client_id != client_id or row.redirect_uri != redirect_uri:
        raise InvalidGrant("the code was issued for another provider, client or redirect URI")
    if not hmac.compare_digest(s256(code_verifier), row.code_challenge):
        raise InvalidGrant("the code verifier does not match the challenge")
    return row
