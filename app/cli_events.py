"""CLI commands for the outbox: deliver due webhook notifications (once, or as a loop, e.g. in a
replica without the scheduler), and list the dead letters.

    casusoverleg outbox-deliver [--loop] [--interval 5] [--batch 50]
    casusoverleg outbox-dead-letters
"""

from __future__ import annotations

import argparse
import asyncio

import sqlalchemy as sa
from sqlmodel import col

from app.config import get_settings
from app.db import DEFAULT_DB_NAME, Database, ensure_database, resolve_urls
from app.events.delivery import deliver_due, message_id
from app.models import OutboxMessage


async def _database() -> Database:
    settings = get_settings()
    urls = resolve_urls(settings)
    if not settings.database_url:
        await ensure_database(urls.owner, DEFAULT_DB_NAME)
    return Database(urls.app, pool_size=2)


async def _deliver(loop: bool, interval: float, batch: int) -> int:
    db = await _database()
    total = 0
    try:
        while True:
            sent = await deliver_due(db, batch=batch, settings=get_settings())
            total += sent
            if sent:
                print(f"delivered {sent}")
            if not loop:
                return total
            if sent < batch:
                await asyncio.sleep(interval)
    finally:
        await db.dispose()


async def _dead_letters() -> None:
    db = await _database()
    try:
        async with db.sessions() as session:
            rows = (
                await session.execute(
                    sa.select(OutboxMessage)
                    .where(col(OutboxMessage.dead_at).is_not(None))
                    .order_by(col(OutboxMessage.dead_at))
                )
            ).scalars()
            for m in rows:
                print(
                    f"{message_id(m.id)}\t{m.type}\tattempts={m.attempts}\tstatus={m.last_status}\t{m.last_error}"
                )
    finally:
        await db.dispose()


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    deliver = subparsers.add_parser(
        "outbox-deliver", help="Deliver due webhook notifications from the outbox."
    )
    deliver.add_argument("--loop", action="store_true", help="Keep delivering until interrupted.")
    deliver.add_argument("--interval", type=float, default=5.0)
    deliver.add_argument("--batch", type=int, default=50)
    deliver.set_defaults(handler=lambda args: asyncio.run(_deliver(args.loop, args.interval, args.batch)))
    dead = subparsers.add_parser("outbox-dead-letters", help="List webhook notifications that were given up.")
    dead.set_defaults(handler=lambda args: asyncio.run(_dead_letters()))
