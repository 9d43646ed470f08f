"""CLI commands for the outbox: deliver due webhook notifications (once, or as a loop, e.g. in a
replica without the scheduler), and list the dead letters.

    casusoverleg outbox-deliver [--loop] [--interval 5] [--batch 50]
    casusoverleg outbox-dead-letters
    casusoverleg outbox-replay (--all | MESSAGE_ID ...) [--reactivate]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

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


def _message_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.removeprefix("msg_"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a message id: {text!r} (as outbox-dead-letters lists them)") from None


async def _replay(ids: list[uuid.UUID], replay_all: bool, reactivate: bool) -> int:
    from app.errors import NotFound
    from app.progress import Progress
    from app.services.events.subscriptions import replay_dead_letter

    db = await _database()
    missing = 0
    try:
        if replay_all:
            async with db.sessions() as session:
                ids = list(
                    (
                        await session.execute(
                            sa.select(OutboxMessage.id)
                            .where(col(OutboxMessage.dead_at).is_not(None))
                            .order_by(col(OutboxMessage.dead_at))
                        )
                    ).scalars()
                )
        with Progress("Replaying dead letters") as progress:
            progress.total("dead letters due again", len(ids))
            for number, row_id in enumerate(ids, start=1):
                async with db.sessions() as session:
                    try:
                        await replay_dead_letter(session, row_id, reactivate=reactivate)
                        await session.commit()
                    except NotFound:
                        missing += 1
                        progress.item(f"{message_id(row_id)}: no such dead letter (delivered, or replayed already?)")
                progress.update("dead letters due again", number - missing)
            if not ids:
                progress.item("there are no dead letters")
    finally:
        await db.dispose()
    print(f"{len(ids) - missing} dead letter(s) due again; the next delivery run sends them.")
    return 1 if missing else 0


def _replay_command(args: argparse.Namespace) -> int:
    if bool(args.ids) == bool(args.all):
        print("casusoverleg: name the dead letters to replay, or give --all", file=sys.stderr)
        return 2
    return asyncio.run(_replay(args.ids, args.all, args.reactivate))


def register(subparsers: argparse._SubParsersAction) -> None:
    deliver = subparsers.add_parser(
        "outbox-deliver", help="Deliver due webhook notifications from the outbox."
    )
    deliver.add_argument("--loop", action="store_true", help="Keep delivering until interrupted.")
    deliver.add_argument("--interval", type=float, default=5.0)
    deliver.add_argument("--batch", type=int, default=50)
    deliver.set_defaults(handler=lambda args: asyncio.run(_deliver(args.loop, args.interval, args.batch)))
    dead = subparsers.add_parser("outbox-dead-letters", help="List webhook notifications that were given up.")
    dead.set_defaults(handler=lambda args: asyncio.run(_dead_letters()))
    replay = subparsers.add_parser("outbox-replay", help="Make dead letters due again (fresh attempts).")
    replay.add_argument("ids", nargs="*", type=_message_uuid, metavar="MESSAGE_ID")
    replay.add_argument("--all", action="store_true", help="every dead letter")
    replay.add_argument("--reactivate", action="store_true",
                        help="switch subscriptions that a 410 Gone disabled back on")
    replay.set_defaults(handler=_replay_command)
