"""Command-line tool of organisation administration (the operator's bootstrap):

    casusoverleg organisation-admin add SLUG SUBJECT --name NAME
    casusoverleg organisation-admin list SLUG

An organisation's identity settings and partner systems are changed only by its own
administrators (app/services/access/organisations.py). Someone has to name the first ones of an
organisation registered before administrators existed: the operator, with the database owner's
rights, and the change is recorded like every other (actor `urn:casusoverleg:operator`).
Exit codes: 0 fine, 2 bad input or configuration."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any, TextIO

from app.config import get_settings
from app.db import DEFAULT_DB_NAME, Database, ensure_database, resolve_urls
from app.errors import AppError


async def run_add(owner_url: str, slug: str, subject: str, name: str, out: TextIO, err: TextIO) -> int:
    from app.services.access import organisations as service

    db = Database(owner_url, pool_size=1)
    try:
        async with db.sessions() as session:
            org = await service.load_organisation_by_slug(session, slug)
            admin = await service.add_organisation_admin(
                session, service.operator(org, getpass.getuser()), org, subject=subject, display_name=name
            )
            await session.commit()
    except AppError as error:
        print(f"casusoverleg: {error.detail}", file=err)
        return 2
    finally:
        await db.dispose()
    print(f"{name} ({subject}) administers {org.name} now; id {admin.id}", file=out)
    return 0


async def run_list(owner_url: str, slug: str, out: TextIO, err: TextIO) -> int:
    from app.services.access import organisations as service

    db = Database(owner_url, pool_size=1)
    try:
        async with db.sessions() as session:
            org = await service.load_organisation_by_slug(session, slug)
            admins = await service.list_organisation_admins(session, org)
    except AppError as error:
        print(f"casusoverleg: {error.detail}", file=err)
        return 2
    finally:
        await db.dispose()
    for admin in admins:
        print(f"{admin.subject}\t{admin.display_name}\t{'active' if admin.active else 'inactive'}", file=out)
    return 0


def _owner_url() -> str:
    settings = get_settings()
    urls = resolve_urls(settings)
    if not settings.database_url:
        asyncio.run(ensure_database(urls.owner, DEFAULT_DB_NAME))
    return urls.owner


def cmd_add(args: argparse.Namespace) -> int:
    return asyncio.run(run_add(_owner_url(), args.slug, args.subject, args.name, sys.stdout, sys.stderr))


def cmd_list(args: argparse.Namespace) -> int:
    return asyncio.run(run_list(_owner_url(), args.slug, sys.stdout, sys.stderr))


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("organisation-admin", help="an organisation's administrators (bootstrap)")
    commands = parser.add_subparsers(dest="organisation_admin_command", required=True)
    add = commands.add_parser("add", help="register an administrator of an organisation")
    add.add_argument("slug", help="the organisation's slug")
    add.add_argument("subject", help="their `sub` at the organisation's identity provider")
    add.add_argument("--name", required=True, help="their name as shown in the record of changes")
    add.set_defaults(handler=cmd_add)
    listing = commands.add_parser("list", help="list an organisation's administrators")
    listing.add_argument("slug")
    listing.set_defaults(handler=cmd_list)
