"""The `casusoverleg` command: serve, migrate, seed, and mint development tokens."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from app.config import Settings, get_settings
from app.db import DEFAULT_DB_NAME, Database, DatabaseUrls, ensure_database, resolve_urls

DEV_KEYS_FILE = ("dev-idp", "keys.json")


def _fail(message: str) -> int:
    print(f"casusoverleg: {message}", file=sys.stderr)
    return 2


def _say(message: str) -> None:
    print(message, flush=True)


def _prepare_database(settings: Settings, *, quiet: bool = False) -> DatabaseUrls:
    """Resolve the URLs (starting the embedded PostgreSQL when needed) and migrate to head."""
    from app import migrations
    from app.progress import Progress

    urls = resolve_urls(settings, announce=None if quiet else _say)
    if not settings.database_url:
        asyncio.run(ensure_database(urls.owner, DEFAULT_DB_NAME))
    if quiet:
        migrations.upgrade(urls.owner)
        return urls
    with Progress("Migrating the database") as progress:
        pending = migrations.upgrade(
            urls.owner, progress=lambda rev, done, total: progress.update("migrations applied", done, total),
            await_other=lambda: progress.item("another migration is running: waiting for it to finish"),
        )
        if not pending:
            progress.item("already at the newest migration")
    return urls


async def _load_demo(owner_url: str, settings: Settings) -> tuple[bool, str | None]:
    from app.demo.seed import demo_agenda_line, load_demo_data, point_demo_issuers, prepare_next_agenda
    from app.progress import Progress

    db = Database(owner_url, pool_size=1)
    try:
        async with db.sessions() as session:
            with Progress("Loading the demo conference") as progress:
                created = await load_demo_data(
                    session, base_url=settings.public_base_url, settings=settings,
                    progress=lambda what, done, total: progress.update(what, done, total),
                )
                if not created:
                    moved = await point_demo_issuers(session, base_url=settings.public_base_url)
                    if moved:
                        progress.item(f"demo issuers moved to {settings.public_base_url}")
                    if await prepare_next_agenda(session, settings=settings):
                        progress.item("the next meeting had no agenda yet: its draft is made")
            await session.commit()
            return created, await demo_agenda_line(session, base_url=settings.public_base_url)
    finally:
        await db.dispose()


def _seed(settings: Settings, urls: DatabaseUrls) -> None:
    created, agenda = asyncio.run(_load_demo(urls.owner, settings))
    print("Demo data loaded." if created else "Demo data present already; left as it is.")
    if agenda:
        print(agenda)


def _ensure_dev_keys(settings: Settings) -> None:
    from app.auth.dev_idp import DevKeyStore
    from app.demo.people import ALL_DEMO_ORGANISATIONS

    store = DevKeyStore(settings.data_dir.joinpath(*DEV_KEYS_FILE))
    for org in ALL_DEMO_ORGANISATIONS:
        store.ensure(org.slug)


def command_name() -> str:
    """How the user called us, so that printed commands can be pasted as they are."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "casusoverleg"
    if Path(argv0).name != "casusoverleg":
        return "casusoverleg"
    try:
        relative = Path(argv0).resolve().relative_to(Path.cwd())
    except ValueError:
        return argv0
    return str(relative) if "/" in str(relative) else argv0


def token_command(settings: Settings, ambient: Settings) -> str:
    """The exact `token` command for the server that `settings` describes, run from a shell whose
    environment gives `ambient`."""
    command = f"{shlex.quote(command_name())} token --as voorzitter"
    if settings.public_base_url != ambient.public_base_url:
        if Settings(port=settings.port).public_base_url == settings.public_base_url:
            command += f" --port {settings.port}"
        else:
            command += f" --base-url {shlex.quote(settings.public_base_url)}"
    return command


def _banner(settings: Settings, ambient: Settings | None = None) -> str:
    base = settings.public_base_url.rstrip("/")
    lines = [
        "",
        f"  casusoverleg ({settings.environment.value})",
        f"  Web client : {base}/web/",
        f"  API        : {base}/api/v1",
        f"  API docs   : {base}/api/v1/docs" if settings.docs_served else "  API docs   : disabled",
        f"  Health     : {base}/api/v1/health",
    ]
    if settings.metrics_enabled and settings.metrics_port:
        lines.append(f"  Metrics    : http://{settings.host}:{settings.metrics_port}/metrics")
    elif settings.metrics_served_on_public_port:
        token = " (bearer METRICS_TOKEN)" if settings.metrics_token else ""
        lines.append(f"  Metrics    : {base}/metrics{token}")
    if settings.dev_idp_enabled:
        from app.demo.people import DEMO_SYSTEMS, DEMO_USERS

        lines.append(f"  Token      : {token_command(settings, ambient or settings)}")
        lines.append("  Demo users : " + ", ".join(user.key for user in DEMO_USERS))
        lines.append("  Demo systems: " + ", ".join(system.key for system in DEMO_SYSTEMS))
    if not settings.database_url:
        lines.append(
            f"  The embedded PostgreSQL keeps running after the server stops; "
            f"stop it with: {shlex.quote(command_name())} db stop"
        )
    return "\n".join([*lines, ""])


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    ambient = get_settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides) if overrides else ambient
    # The server process (and its workers) read the same settings from the environment.
    os.environ["HOST"], os.environ["PORT"] = settings.host, str(settings.port)
    os.environ["PUBLIC_BASE_URL"] = settings.public_base_url
    get_settings.cache_clear()
    # In production the schema is migrated once, by `casusoverleg migrate` (a one-shot job before
    # the replicas start), never by each replica at its start.
    urls = _prepare_database(settings) if settings.is_development else resolve_urls(settings)
    if not settings.is_development:
        asyncio.run(_check_ready(urls.app))
    if settings.is_development and settings.load_demo_data and not args.no_demo:
        _seed(settings, urls)
    if settings.dev_idp_enabled:
        # The server and the `token` command share this key file; create it before either reads it.
        _ensure_dev_keys(settings)
    print(_banner(settings, ambient), flush=True)
    _metrics_setup(settings, args.workers)
    from app.logs import configure_logging

    configure_logging(settings)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        log_config=None,  # app.logs has set up logging (plain text or JSON), uvicorn's loggers too
        access_log=False,  # replaced by the app's request line (route template, never the raw path)
    )
    return 0


def _metrics_setup(settings: Settings, workers: int) -> None:
    """Several workers: prometheus-client's multiprocess mode (a fresh folder per start, set
    before any worker imports it). METRICS_PORT: a separate listener in this process."""
    if not settings.metrics_enabled:
        return
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        import shutil

        folder = settings.data_dir / "metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    if settings.metrics_port:
        from prometheus_client import CollectorRegistry, start_http_server

        registry = None
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        if registry is None:
            start_http_server(settings.metrics_port, addr=settings.host)
        else:
            start_http_server(settings.metrics_port, addr=settings.host, registry=registry)


class NotMigrated(Exception):
    pass


async def _check_ready(app_url: str) -> None:
    """Before serving in production: the database answers, and its schema is at the newest
    migration (else one clear line, instead of a failing start in every worker)."""
    import sqlalchemy as sa
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import create_async_engine

    from app import migrations

    engine = create_async_engine(app_url, connect_args={"timeout": 10})
    try:
        async with engine.connect() as conn:
            found: list[str] = []
            if (await conn.execute(sa.text("SELECT to_regclass('public.alembic_version') IS NOT NULL"))).scalar():
                found = list((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars())
    finally:
        await engine.dispose()
    heads = set(ScriptDirectory.from_config(migrations.alembic_config(app_url)).get_heads())
    if set(found) != heads:
        raise NotMigrated(
            "the database schema is not at the newest migration: run `casusoverleg migrate` "
            "(with MIGRATION_DATABASE_URL, the owner role) before starting the service"
        )


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

    overrides = {k: v for k, v in (("port", args.port), ("public_base_url", args.base_url)) if v}
    settings = Settings(**overrides) if overrides else get_settings()
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


def cmd_db(args: argparse.Namespace) -> int:
    from app.db import embedded_postgres_pid, stop_embedded_postgres

    settings = get_settings()
    if settings.database_url:
        return _fail("DATABASE_URL is set: the database is not the embedded one, manage it where it runs")
    pg = settings.data_dir / "pg"
    if args.db_command == "status":
        pid = embedded_postgres_pid(settings.data_dir)
        print(f"The embedded PostgreSQL under {pg} is " + (f"running (pid {pid})." if pid else "stopped."))
        return 0
    if stop_embedded_postgres(settings.data_dir):
        print(f"Stopped the embedded PostgreSQL under {pg}.")
    else:
        print(f"The embedded PostgreSQL under {pg} was not running.")
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
    token.add_argument("--port", type=int, default=None,
                       help="the port the server runs on (default: PORT, as `serve` reads it)")
    token.add_argument("--base-url", default=None, metavar="URL",
                       help="the server's public base URL (default: PUBLIC_BASE_URL, else http://HOST:PORT)")
    token.set_defaults(handler=cmd_token)

    db = commands.add_parser("db", help="the embedded PostgreSQL of development (under DATA_DIR/pg)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("stop", help="stop the embedded PostgreSQL").set_defaults(handler=cmd_db)
    db_commands.add_parser("status", help="is the embedded PostgreSQL running?").set_defaults(handler=cmd_db)

    # Commands of the other areas, each registered by its own module.
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


COMMAND_MODULES = ("app.cli_agreements", "app.cli_meetings", "app.cli_events", "app.cli_audit", "app.cli_admin")


def main(argv: Sequence[str] | None = None) -> int:
    from app.failures import explain

    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except ValidationError as error:  # e.g. production settings that still enable dev features
        return _fail(explain(error) or "invalid configuration")
    except KeyboardInterrupt:
        return 130
    except NotMigrated as error:
        return _fail(str(error))
    except Exception as error:
        message = explain(error)
        if message is None:
            raise
        return _fail(message)
    return result


if __name__ == "__main__":
    sys.exit(main())
