"""Browser sign-in state and server-side web sessions (no FastAPI here; the edge commits).

The cookie carries a random 32-byte token; the database keeps only its SHA-256, so a leaked
database dump cannot be replayed as a session. Each session has its own CSRF secret."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.identity import principal_from_claims
from app.auth.principal import Principal
from app.clock import clock
from app.models import Conference, ConferenceOrganisation, Membership, Organisation, WebSession, WebSignIn
from app.models.enums import Role

DEFAULT_NEXT = "/web/acties"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def safe_next(path: str | None) -> str:
    """Only a path inside the web client: never an absolute or protocol-relative URL."""
    if not path or not path.startswith("/web/") or path.startswith("//") or "\\" in path:
        return DEFAULT_NEXT
    if any(ord(c) < 0x20 for c in path) or len(path) > 500:
        return DEFAULT_NEXT
    return path


async def sign_in_organisations(session: AsyncSession) -> list[Organisation]:
    rows = await session.execute(
        sa.select(Organisation).where(Organisation.issuer.is_not(None)).order_by(Organisation.name)  # type: ignore[union-attr]
    )
    return list(rows.scalars())


async def organisation_by_slug(session: AsyncSession, slug: str) -> Organisation | None:
    org = (await session.execute(sa.select(Organisation).where(Organisation.slug == slug))).scalar_one_or_none()
    return org if org is not None and org.issuer else None


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    code_verifier: str
    nonce: str


async def start_sign_in(
    session: AsyncSession, organisation: Organisation, *, next_path: str, minutes: int
) -> PendingSignIn:
    pending = PendingSignIn(
        state=secrets.token_urlsafe(32), code_verifier=secrets.token_urlsafe(48), nonce=secrets.token_urlsafe(24)
    )
    now = clock.now()
    await session.execute(sa.delete(WebSignIn).where(WebSignIn.expires_at < now))
    session.add(
        WebSignIn(
            state_hash=token_hash(pending.state),
            organisation_id=organisation.id,
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
            next_path=safe_next(next_path),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    await session.flush()
    return pending


async def consume_sign_in(session: AsyncSession, state: str) -> WebSignIn | None:
    """Single use: the row is deleted whether or not it is still valid."""
    row = (
        await session.execute(
            sa.delete(WebSignIn).where(WebSignIn.state_hash == token_hash(state)).returning(WebSignIn)
        )
    ).scalar_one_or_none()
    if row is None or row.expires_at <= clock.now():
        return None
    return row


async def create_web_session(
    session: AsyncSession, principal: Principal, *, minutes: int
) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    await session.execute(sa.delete(WebSession).where(WebSession.expires_at < now))
    row = WebSession(
        token_hash=token_hash(token),
        issuer=principal.issuer,
        subject=principal.subject,
        display_name=principal.display_name[:200],
        organisation_id=principal.organisation_id,
        csrf_secret=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(row)
    await session.flush()
    return token, row


async def load_web_session(session: AsyncSession, token: str) -> WebSession | None:
    if not token or len(token) > 100:
        return None
    row = await session.get(WebSession, token_hash(token))
    if row is None or row.expires_at <= clock.now():
        return None
    return row


async def end_web_session(session: AsyncSession, token: str) -> None:
    await session.execute(sa.delete(WebSession).where(WebSession.token_hash == token_hash(token)))


async def principal_for_session(
    session: AsyncSession, row: WebSession, *, request_id: str | None, source_address: str | None
) -> Principal | None:
    """The session's principal, rebuilt from the current memberships on every request, so that a
    revoked membership takes effect at once. Only the issuer's own organisation counts."""
    org = await session.get(Organisation, row.organisation_id)
    if org is None or org.issuer != row.issuer:
        return None
    principal = await principal_from_claims(
        session,
        {"sub": row.subject, "name": row.display_name},
        org,
        request_id=request_id,
        source_address=source_address,
    )
    if principal is None or principal.kind != "person":
        return None
    return principal


# --- small lookups for the pages (kept here so the router holds no SQL) ------------------------


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID | None) -> Organisation | None:
    return await session.get(Organisation, organisation_id) if organisation_id else None


async def get_membership(session: AsyncSession, membership_id: uuid.UUID | None) -> Membership | None:
    return await session.get(Membership, membership_id) if membership_id else None


async def get_conferences(session: AsyncSession, ids: list[uuid.UUID]) -> list[Conference]:
    if not ids:
        return []
    rows = await session.execute(
        sa.select(Conference).where(Conference.id.in_(ids)).order_by(Conference.name)  # type: ignore[attr-defined]
    )
    return list(rows.scalars())


async def conference_organisations(session: AsyncSession, conference_id: uuid.UUID) -> list[Organisation]:
    """The organisations taking part in a conference, by name."""
    rows = await session.execute(
        sa.select(Organisation)
        .join(ConferenceOrganisation, ConferenceOrganisation.organisation_id == Organisation.id)
        .where(ConferenceOrganisation.conference_id == conference_id)
        .order_by(Organisation.name)
    )
    return list(rows.scalars())


async def conference_people(session: AsyncSession, conference_id: uuid.UUID) -> list[Membership]:
    """The active members, liaisons and chairs of a conference (who can own or commit to an
    action), by name."""
    rows = await session.execute(
        sa.select(Membership)
        .where(
            Membership.conference_id == conference_id,
            Membership.active.is_(True),  # type: ignore[attr-defined]
            Membership.role.in_([Role.chair.value, Role.member.value, Role.liaison.value]),  # type: ignore[attr-defined]
        )
        .order_by(Membership.display_name)
    )
    return list(rows.scalars())
