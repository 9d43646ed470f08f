"""Command-line tools of the access log and retention:

    casusoverleg audit verify [--from-seq N] [--to-seq N]
    casusoverleg purge [--dry-run] [--log-retention-days N]

Wired into app/cli.py with `register(subparsers)`; handlers return the exit code
(0 fine, 1 the chain is broken, 2 bad input or configuration)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from app.config import Settings, get_settings
from app.db import DEFAULT_DB_NAME, Database, DatabaseUrls, ensure_database, resolve_urls
from app.errors import AppError


def _fail(message: str, err: TextIO | None = None) -> int:
    print(f"casusoverleg: {message}", file=err or sys.stderr)
    return 2


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a retention period cannot be negative")
    return value


def _urls(settings: Settings) -> DatabaseUrls:
    urls = resolve_urls(settings)
    if not settings.database_url:
        asyncio.run(ensure_database(urls.owner, DEFAULT_DB_NAME))
    return urls


async def run_verify(
    url: str,
    from_seq: int | None,
    to_seq: int | None,
    out: TextIO,
    err: TextIO,
    *,
    checkpoint_dir: Path | None = None,
    secret: str | None = None,
) -> int:
    from app.audit import chain_secret
    from app.progress import Progress
    from app.services.privacy.checkpoints import verify_against_checkpoint

    settings = get_settings()
    db = Database(url, pool_size=1)
    try:
        async with db.sessions() as session:
            try:
                with Progress("Verifying the access log's hash chains", out=out) as bar:
                    report = await verify_against_checkpoint(
                        session,
                        checkpoint_dir or settings.checkpoint_dir,
                        secret or chain_secret(),
                        from_seq=from_seq,
                        to_seq=to_seq,
                        progress=lambda done, total: bar.update("rows checked", done, total),
                    )
            except AppError as error:
                return _fail(error.detail, err)
    finally:
        await db.dispose()
    against = (
        f"; checked against checkpoint {report.checkpoint}"
        if report.checkpoint
        else "; no checkpoint yet, so rows removed from the end cannot be seen"
    )
    if report.ok:
        print(
            f"Access log intact: {report.rows_checked} rows checked (seq {report.from_seq}-{report.to_seq}); "
            f"last hash {report.last_hash}{against if to_seq is None else ''}",
            file=out,
        )
        return 0
    where = f"at seq {report.first_broken_seq}" if report.first_broken_seq is not None else "(checkpoint)"
    print(
        f"Access log BROKEN {where}: {report.problem} "
        f"({report.rows_checked} rows checked from seq {report.from_seq})",
        file=out,
    )
    return 1


def cmd_audit_verify(args: argparse.Namespace) -> int:
    settings = get_settings()
    if args.from_seq is not None and args.to_seq is not None and args.from_seq > args.to_seq:
        return _fail("--from-seq lies after --to-seq")
    return asyncio.run(run_verify(_urls(settings).app, args.from_seq, args.to_seq, sys.stdout, sys.stderr))


async def run_purge(
    urls: DatabaseUrls,
    settings: Settings,
    *,
    dry_run: bool,
    log_retention_days: int | None,
    out: TextIO,
    err: TextIO,
) -> int:
    from app.jobs.retention import purge_job
    from app.progress import Progress
    from app.services.privacy.retention import RetentionError

    db = Database(urls.app, pool_size=1)
    owner = Database(urls.owner, pool_size=1)
    title = "Retention: what a purge would do (dry run, nothing changes)" if dry_run else "Retention purge"
    try:
        with Progress(title, out=out) as bar:

            def progress(what: str, done: int, total: int) -> None:
                label = "closed cases anonymised" if what == "cases" else "access-log rows removed"
                bar.update(label, done, total)

            result = await purge_job(
                db,
                settings,
                owner_db=owner,
                dry_run=dry_run,
                progress=progress,
                log_retention_days=log_retention_days,
            )
            if dry_run:
                for number, due in enumerate(result.due_cases, start=1):
                    bar.item(
                        f"{number}/{len(result.due_cases)} would anonymise case {due.case_id} "
                        f"(client {due.client_number}, closed {due.closed_at:%Y-%m-%d}, "
                        f"retention {due.retention_days} days)"
                    )
                if not result.due_cases:
                    bar.item("no closed case is past its retention period: nothing would be anonymised")
                bar.item(
                    f"would remove {result.log_rows_due} access-log row(s) past retention"
                    if result.log_rows_due
                    else "no access-log row is past retention: nothing would be removed"
                )
    except RetentionError as error:
        return _fail(str(error), err)
    finally:
        await db.dispose()
        await owner.dispose()
    if dry_run:
        print(
            f"Dry run: {len(result.due_cases)} closed case(s) would be anonymised and "
            f"{result.log_rows_due} access-log row(s) removed; nothing was changed.",
            file=out,
        )
        return 0
    print(
        f"Purge done: {result.cases_anonymised} case(s) and "
        f"{result.clients_anonymised} client(s) anonymised, "
        f"{result.log_rows_removed} access-log row(s) removed.",
        file=out,
    )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    settings = get_settings()
    return asyncio.run(
        run_purge(
            _urls(settings),
            settings,
            dry_run=args.dry_run,
            log_retention_days=args.log_retention_days,
            out=sys.stdout,
            err=sys.stderr,
        )
    )


def register(subparsers: Any) -> None:
    audit = subparsers.add_parser("audit", help="access-log tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="recompute the access log's hash chain; exit 1 if broken"
    )
    verify.add_argument("--from-seq", type=int, default=None, metavar="SEQ")
    verify.add_argument("--to-seq", type=int, default=None, metavar="SEQ")
    verify.set_defaults(handler=cmd_audit_verify)

    purge = subparsers.add_parser(
        "purge", help="anonymise closed cases and remove access-log rows past retention"
    )
    purge.add_argument("--dry-run", action="store_true", help="list what would go; change nothing")
    purge.add_argument(
        "--log-retention-days",
        type=_non_negative,
        default=None,
        metavar="DAYS",
        help="override ACCESS_LOG_RETENTION_DAYS for this run (default 1826, 5 years)",
    )
    purge.set_defaults(handler=cmd_purge)
