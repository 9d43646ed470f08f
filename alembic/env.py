"""Alembic environment: runs as the owner role, then grants the application role its rights.

Migrations are serialised: each run first takes a PostgreSQL advisory lock (held until its
transaction ends), so that replicas or one-shot jobs started together never race on
`alembic_version` or on the grants. The second run waits, then finds the schema at head and
does nothing. Grants are only (re)issued when this run applied something.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table)
from app.config import get_settings
from app.db import APP_ROLE, DEFAULT_DB_NAME, ensure_database, resolve_urls

target_metadata = SQLModel.metadata

# pg_advisory_xact_lock key of the migrations (any constant; this one is hashtext('casusoverleg:migrate')).
MIGRATION_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('casusoverleg:migrate'))"


def _owner_url() -> str:
    explicit = context.config.attributes.get("owner_url") or os.environ.get("ALEMBIC_OWNER_URL")
    if explicit:
        return str(explicit)
    settings = get_settings()
    urls = resolve_urls(settings)
    if not settings.database_url:
        asyncio.run(ensure_database(urls.owner, DEFAULT_DB_NAME))
    return urls.owner


def _grant_app_role(connection: Connection) -> None:
    exists = connection.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}'").scalar()
    if not exists:
        return
    connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    connection.exec_driver_sql(
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
    )
    connection.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    # The access log is append-only for the application: enforced here, in the database.
    has_log = connection.exec_driver_sql("SELECT to_regclass('public.access_log') IS NOT NULL").scalar()
    if has_log:
        connection.exec_driver_sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON access_log FROM {APP_ROLE}")
    # Since 0011_accesslog_keyed the log is appended only through access_log_append (which checks
    # the chain's head under the chain's lock), not by INSERT.
    appends = connection.exec_driver_sql(
        "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname IN "
        "('access_log_append', 'access_log_claim') AND p.pronamespace = 'public'::regnamespace"
    ).scalars().all()
    if has_log and appends:
        connection.exec_driver_sql(f"REVOKE INSERT ON access_log FROM {APP_ROLE}")
        for function in appends:
            connection.exec_driver_sql(f"GRANT EXECUTE ON FUNCTION {function} TO {APP_ROLE}")
    # Purge anchors of the log chain are written by the owner only (the log purge).
    has_anchor = connection.exec_driver_sql("SELECT to_regclass('public.access_log_anchor') IS NOT NULL").scalar()
    if has_anchor:
        connection.exec_driver_sql(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON access_log_anchor FROM {APP_ROLE}")
    # The record of administrative changes is append-only for the application too.
    has_admin_changes = connection.exec_driver_sql("SELECT to_regclass('public.admin_change') IS NOT NULL").scalar()
    if has_admin_changes:
        connection.exec_driver_sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON admin_change FROM {APP_ROLE}")


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name == "alembic_version")


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        # Taken before Alembic reads alembic_version: a run that waited sees what the other applied.
        connection.exec_driver_sql(MIGRATION_LOCK_SQL)
        migration_context = context.get_context()
        before = set(migration_context.get_current_heads())
        context.run_migrations()
        if set(migration_context.get_current_heads()) != before:
            _grant_app_role(connection)


async def run_async_migrations(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations(_owner_url()))


run_migrations_online()
