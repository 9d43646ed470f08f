"""The webhook delivery worker. Any number of replicas may run it against one database:

1. claim: in a short transaction, due rows are selected FOR UPDATE SKIP LOCKED (so two workers
   never pick the same row) and leased (next_attempt_at moves past the lease, attempts + 1);
2. send: outside any transaction, each row is POSTed, signed per Standard Webhooks;
3. record: in a second short transaction the outcome is written, guarded by the attempt number
   so that a worker whose lease ran out cannot overwrite a newer attempt's outcome.

A worker that dies between 1 and 3 leaves a leased row that becomes due again when the lease
ends (WEBHOOK_TIMEOUT_SECONDS + 15 s by default: one delivery is bounded by the timeout as a
whole, and a batch is sent at once), and another worker takes it over: delivery is at least
once, and receivers deduplicate by webhook-id (stable per row, the same in every attempt).
Sender rules: 2xx success; 3xx failure (redirects are not followed); 410 disables the
subscription; 429/502/504 respect Retry-After; otherwise exponential backoff with jitter, and
after the last attempt the row is dead-lettered (an admin can list and replay those)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import sqlalchemy as sa
from sqlmodel import col

from app.clock import clock
from app.config import Settings, get_settings
from app.crypto import unseal_text
from app.db import Database
from app.events.shapes import STANDARD_WEBHOOKS, shaped
from app.events.signing import SECRET_PURPOSE, headers_for
from app.events.targets import UnsafeTarget, resolve_and_check
from app.models import OutboxMessage, Subscription

log = logging.getLogger(__name__)

USER_AGENT = "casusoverleg-webhooks/1"
THROTTLE_STATUSES = frozenset({429, 502, 504})


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    attempts: int
    type: str
    payload: dict
    subscription_id: uuid.UUID
    url: str
    secret: str
    shape: str = STANDARD_WEBHOOKS


@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str | None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def message_id(row_id: uuid.UUID) -> str:
    return f"msg_{row_id.hex}"


def backoff_seconds(attempts: int, settings: Settings, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with 'equal jitter': half fixed, half random, capped."""
    base = min(
        settings.webhook_backoff_base_seconds * (2 ** max(attempts - 1, 0)),
        settings.webhook_backoff_max_seconds,
    )
    r = (rng or random).random()  # noqa: S311  (jitter, not cryptography)
    return base / 2 + base / 2 * r


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


async def _claim(db: Database, settings: Settings, batch: int) -> list[Claimed]:
    now = clock.now()
    async with db.sessions() as session, session.begin():
        rows = (
            await session.execute(
                sa.select(OutboxMessage, Subscription)
                .join(Subscription, col(Subscription.id) == col(OutboxMessage.subscription_id))
                .where(
                    col(OutboxMessage.delivered_at).is_(None),
                    col(OutboxMessage.dead_at).is_(None),
                    col(OutboxMessage.next_attempt_at) <= now,
                    col(Subscription.active).is_(True),
                )
                .order_by(col(OutboxMessage.next_attempt_at))
                .limit(batch)
                .with_for_update(skip_locked=True, of=OutboxMessage)
            )
        ).all()
        if not rows:
            return []
        claimed = [
            Claimed(m.id, m.attempts + 1, m.type, m.payload, s.id, s.url,
                    unseal_text(s.secret, settings, purpose=SECRET_PURPOSE), s.payload_shape)
            for m, s in rows
        ]
        lease_until = now + timedelta(seconds=settings.webhook_lease)
        await session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id).in_([c.id for c in claimed]))
            .values(next_attempt_at=lease_until, attempts=col(OutboxMessage.attempts) + 1)
            .execution_options(synchronize_session=False)
        )
        return claimed


async def _send(http: httpx.AsyncClient, item: Claimed, settings: Settings) -> Outcome:
    """One delivery, bounded by webhook_timeout_seconds altogether (the lease counts on it)."""
    try:
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            return await _send_unbounded(http, item, settings)
    except TimeoutError:
        return Outcome(None, "TimeoutError while sending")


async def _send_unbounded(http: httpx.AsyncClient, item: Claimed, settings: Settings) -> Outcome:
    try:
        addresses = await resolve_and_check(
            item.url,
            require_https=not settings.is_development,
            allow_private=settings.webhook_allow_private_targets,
        )
    except UnsafeTarget as exc:
        return Outcome(None, f"target refused: {exc}")
    # Connect to the address just checked, not to whatever a second DNS lookup would return
    # (DNS rebinding); Host header and TLS SNI/certificate check keep the original name.
    url = httpx.URL(item.url)
    pinned = url.copy_with(host=addresses[0])
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    content = shaped(item.shape, item.payload, base_url=settings.public_base_url)
    body = json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    timestamp = int(clock.now().timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": url.netloc.decode("ascii"),
        **headers_for(item.secret, message_id(item.id), timestamp, body),
    }
    try:
        # Stream, and never read the body: a hostile receiver cannot make us swallow gigabytes.
        async with http.stream(
            "POST", pinned, content=body, headers=headers, extensions=extensions
        ) as response:
            status = response.status_code
            retry_after = parse_retry_after(response.headers.get("retry-after"), clock.now())
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        return Outcome(None, f"{type(exc).__name__} while sending")
    if 200 <= status < 300:
        return Outcome(status, None)
    if 300 <= status < 400:
        return Outcome(status, "redirects are not followed")
    return Outcome(
        status, f"receiver answered {status}", retry_after if status in THROTTLE_STATUSES else None
    )


async def _record(db: Database, settings: Settings, item: Claimed, outcome: Outcome) -> None:
    now = clock.now()
    values: dict[str, object] = {"last_status": outcome.status, "last_error": outcome.error}
    disable = False
    if outcome.delivered:
        values["delivered_at"] = now
    elif outcome.status == 410:
        values["dead_at"] = now
        disable = True
    elif item.attempts >= settings.webhook_max_attempts:
        values["dead_at"] = now
    else:
        delay = backoff_seconds(item.attempts, settings)
        if outcome.retry_after is not None:
            delay = min(max(delay, outcome.retry_after), settings.webhook_backoff_max_seconds)
        values["next_attempt_at"] = now + timedelta(seconds=delay)
    async with db.sessions() as session, session.begin():
        await session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id) == item.id, col(OutboxMessage.attempts) == item.attempts)
            .values(**values)
        )
        if disable:
            await session.execute(
                sa.update(Subscription)
                .where(col(Subscription.id) == item.subscription_id)
                .values(active=False, disabled_reason="The receiver answered 410 Gone.")
            )


async def deliver_due(
    db: Database,
    *,
    batch: int = 50,
    settings: Settings | None = None,
    http: httpx.AsyncClient | None = None,
) -> int:
    """Deliver up to `batch` due notifications; returns how many were delivered."""
    settings = settings or get_settings()
    claimed = await _claim(db, settings, batch)
    if not claimed:
        return 0
    own_client = http is None
    client = http or httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
    )
    try:
        outcomes = await asyncio.gather(*(_send(client, item, settings) for item in claimed))
    finally:
        if own_client:
            await client.aclose()
    delivered = 0
    for item, outcome in zip(claimed, outcomes, strict=True):
        if not outcome.delivered:
            log.info("webhook %s attempt %d failed: %s", message_id(item.id), item.attempts, outcome.error)
        await _record(db, settings, item, outcome)
        delivered += outcome.delivered
    return delivered
