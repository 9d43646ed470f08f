"""The `casusoverleg` command: serve, migrate, seed, and mint development tokens."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from app.config import Settings, get_settings
from app.db import DEFAULT_DB_NAME, Database, DatabaseUrls, ensure_database, resolve_urls

DEV_KEYS_FILE = ("dev-idp", "keys.json")


def _fail(message: str) -> int:
    print(f"casusoverleg: {message}", file=sys.stderr)
    return 2


def _prepare_database(settings: Settings) -> DatabaseUrls:
    """Resolve the URLs (starting the embedded PostgreSQL when needed) and migrate to head."""
    from app import migrations

    urls = resolve_urls(settings)
    if not settings.database_url:
        asyncio.run(ensure_database(urls.owner, DEFAULT_DB_NAME))
    migrations.upgrade(urls.owner)
    return urls


async def _load_demo(owner_url: str, settings: Settings) -> bool:
    from app.demo.seed import load_demo_data

    db = Database(owner_url, pool_size=1)
    try:
        async with db.sessions() as session:
            created = await load_demo_data(session, base_url=settings.public_base_url, settings=settings)
            await session.commit()
            return created
    finally:
        await db.dispose()


def _seed(settings: Settings, urls: DatabaseUrls) -> None:
    created = asyncio.run(_load_demo(urls.owner, settings))
    print("Demo data loaded." if created else "Demo data present already; left as it is.")


def _ensure_dev_keys(settings: Settings) -> None:
    from app.auth.dev_idp import DevKeyStore
    from app.demo.people import DEMO_ORGANISATIONS

    store = DevKeyStore(settings.data_dir.joinpath(*DEV_KEYS_FILE))
    for org in DEMO_ORGANISATIONS:
        store.ensure(org.slug)


def _banner(settings: Settings) -> str:
    base = settings.public_base_url.rstrip("/")
    lines = [
        "",
        f"  casusoverleg ({settings.environment.value})",
        f"  API docs : {base}/api/v1/docs" if settings.docs_served else "  API docs : disabled",
        f"  Health   : {base}/api/v1/health",
    ]
    if settings.dev_idp_enabled:
        from app.demo.people import DEMO_SYSTEMS, DEMO_USERS

        lines.append("  Demo token: .venv/bin/casusoverleg token --as voorzitter")
        lines.append("  Demo users: " + ", ".join(user.key for user in DEMO_USERS))
        lines.append("  Demo systems: " + ", ".join(system.key for system in DEMO_SYSTEMS))
    return "\n".join([*lines, ""])


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    # In production the schema is migrated once, by `casusoverleg migrate` (a one-shot job before
    # the replicas start), never by each replica at its start.
    urls = _prepare_database(settings) if settings.is_development else resolve_urls(settings)
    if settings.is_development and settings.load_demo_data and not args.no_demo:
        _seed(settings, urls)
    if settings.dev_idp_enabled:
        # The server and the `token` command share this key file; create it before either reads it.
        _ensure_dev_keys(settings)
    print(_banner(settings), flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _prepare_database(get_settings())
    print("Database migrated to head.")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not settings.is_development:
        return _fail("demo data is for development only (ENVIRONMENT=development)")
    _seed(settings, _prepare_database(settings))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from app.auth.dev_idp import DevKeyStore, issuer_url, mint_token
    from app.demo.people import DemoSystem, demo_user

    settings = get_settings()
    if not settings.dev_idp_enabled:
        return _fail("the development identity providers are disabled (DEV_IDP_ENABLED=false)")
    try:
        who = demo_user(args.as_)
    except KeyError as error:
        return _fail(str(error.args[0]))
    store = DevKeyStore(settings.data_dir.joinpath(*DEV_KEYS_FILE))
    system = who if isinstance(who, DemoSystem) else None
    token = mint_token(
        store,
        slug=who.organisation,
        issuer=issuer_url(settings.public_base_url, who.organisation),
        subject=who.key,
        name=None if system else who.name,
        scope=" ".join(system.scopes) if system else None,
        lifetime=args.lifetime,
    )
    print(token)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from app.auth.dev_idp import TOKEN_LIFETIME_SECONDS

    parser = argparse.ArgumentParser(prog="casusoverleg", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the server (development: migrate and load the demo data first)"
    )
    serve.add_argument("--host", default=None, help="default: HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="default: PORT (8000)")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="upgrade the database to the newest migration")
    migrate.set_defaults(handler=cmd_migrate)

    seed = commands.add_parser("seed", help="load the demo conference (development only)")
    seed.set_defaults(handler=cmd_seed)

    token = commands.add_parser("token", help="print a development token for a demo user or system")
    token.add_argument("--as", dest="as_", required=True, metavar="KEY", help="e.g. voorzitter")
    token.add_argument("--lifetime", type=int, default=TOKEN_LIFETIME_SECONDS, metavar="SECONDS")
    token.set_defaults(handler=cmd_token)

    # Commands of the other areas, each registered by its own module.
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


COMMAND_MODULES = ("app.cli_agreements", "app.cli_meetings", "app.cli_events", "app.cli_audit")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except ValidationError as error:  # e.g. production settings that still enable dev features
        return _fail(f"invalid configuration: {error}")
    return result


if __name__ == "__main__":
    sys.exit(main())
