"""Webhook subscriptions of partner systems, and the dead-letter list of the outbox."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.config import Settings
from app.crypto import seal_text
from app.errors import NotFound, UnprocessableEntity
from app.events.delivery import message_id
from app.events.signing import SECRET_PURPOSE, new_secret, valid_secret
from app.events.targets import UnsafeTarget, resolve_and_check
from app.models import OutboxMessage, Subscription
from app.schemas.events import DeadLetterOut, SubscriptionCreate, SubscriptionOut
from app.services.common import paged


async def create_subscription(
    session: AsyncSession, principal: Principal, data: SubscriptionCreate, settings: Settings
) -> tuple[Subscription, str]:
    """Returns the subscription and its secret in clear, to be shown once; it is stored sealed."""
    assert principal.partner_system_id is not None
    try:
        await resolve_and_check(
            data.url,
            require_https=not settings.is_development,
            allow_private=settings.webhook_allow_private_targets,
        )
    except UnsafeTarget as exc:
        raise UnprocessableEntity(str(exc), pointer="#/url") from None
    if data.secret is not None and not valid_secret(data.secret):
        raise UnprocessableEntity(
            "The secret must be whsec_ followed by base64 of 24 to 64 bytes.", pointer="#/secret"
        )
    secret = data.secret or new_secret()
    subscription = Subscription(
        partner_system_id=principal.partner_system_id,
        organisation_id=principal.organisation_id,
        url=data.url,
        event_types=sorted(set(data.event_types)),
        payload_shape=data.payload_shape,
        secret=seal_text(secret, settings, purpose=SECRET_PURPOSE),
    )
    session.add(subscription)
    await session.flush()
    return subscription, secret


async def list_subscriptions(session: AsyncSession, principal: Principal) -> list[Subscription]:
    return list(
        (
            await session.execute(
                sa.select(Subscription)
                .where(
                    col(Subscription.partner_system_id) == principal.partner_system_id,
                    col(Subscription.deleted_at).is_(None),
                )
                .order_by(col(Subscription.created_at))
            )
        ).scalars()
    )


async def delete_subscription(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> None:
    """Soft delete: the row stays for the outbox history; nothing more is delivered to it."""
    result = await session.execute(
        sa.update(Subscription)
        .where(
            col(Subscription.id) == subscription_id,
            col(Subscription.partner_system_id) == principal.partner_system_id,  # another system's: 404
            col(Subscription.deleted_at).is_(None),
        )
        .values(active=False, deleted_at=clock.now(), disabled_reason="Deleted by the partner system.")
        .returning(col(Subscription.id))
    )
    if result.scalar_one_or_none() is None:
        raise NotFound("subscription")


async def dead_letters(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[OutboxMessage], int]:
    rows, total = await paged(
        session,
        sa.select(OutboxMessage).order_by(col(OutboxMessage.dead_at).desc(), col(OutboxMessage.id)),
        count_from=OutboxMessage, where=[col(OutboxMessage.dead_at).is_not(None)], limit=limit, offset=offset,
    )
    return [r[0] for r in rows], total


async def replay_dead_letter(
    session: AsyncSession, message_id: uuid.UUID, *, reactivate: bool
) -> OutboxMessage:
    """Make a dead letter due again with a fresh attempt budget. With `reactivate`, a
    subscription disabled by a 410 (not one its owner deleted) is switched back on."""
    message = (
        await session.execute(
            sa.select(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.dead_at).is_not(None))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if message is None:
        raise NotFound("dead letter")
    message.dead_at = None
    message.attempts = 0
    message.next_attempt_at = clock.now()
    message.last_error = None
    if reactivate:
        await session.execute(
            sa.update(Subscription)
            .where(col(Subscription.id) == message.subscription_id, col(Subscription.deleted_at).is_(None))
            .values(active=True, disabled_reason=None)
        )
    await session.flush()
    return message


def subscription_out(s: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=s.id,
        url=s.url,
        event_types=list(s.event_types),
        payload_shape=s.payload_shape,
        active=s.active,
        disabled_reason=s.disabled_reason,
        created_at=s.created_at,
    )


def dead_letter_out(m: OutboxMessage) -> DeadLetterOut:
    return DeadLetterOut(
        id=m.id,
        webhook_id=message_id(m.id),
        subscription_id=m.subscription_id,
        type=m.type,
        attempts=m.attempts,
        created_at=m.created_at,
        dead_at=m.dead_at,
        last_status=m.last_status,
        last_error=m.last_error,
    )
