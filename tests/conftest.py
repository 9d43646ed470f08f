"""Test harness: real PostgreSQL (embedded unless DATABASE_URL is set), a fresh database per
test run, tables truncated after each test, real signed tokens from a real HTTP JWKS endpoint."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app import migrations
from app.auth.cache import invalidate_all
from app.clock import clock
from app.config import PROJECT_ROOT, Settings
from app.db import APP_ROLE, Database, DatabaseUrls, embedded_urls, start_embedded_postgres, to_async_url
from app.main import create_app
from tests.factories import World, build_world
from tests.idp import TestIdentityProviders


def _server_urls(database: str) -> tuple[DatabaseUrls, str]:
    """URLs for `database`, and an admin DSN (asyncpg form) to create/drop it."""
    external = os.environ.get("DATABASE_URL")
    if external:
        base = to_async_url(external)
        head, _, tail = base.rpartition("/")
        db_and_query = tail.split("?", 1)
        query = "?" + db_and_query[1] if len(db_and_query) > 1 else ""
        owner = f"{head}/{database}{query}"
        admin = f"{head}/postgres{query}".replace("postgresql+asyncpg://", "postgresql://")
        return DatabaseUrls(app=owner, owner=owner), admin
    socket_dir = start_embedded_postgres(PROJECT_ROOT / ".data")
    urls = embedded_urls(socket_dir, database)
    admin = f"postgresql://postgres@/postgres?host={socket_dir}"
    return urls, admin


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseUrls]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"test_{worker}_{uuid.uuid4().hex[:8]}"
    urls, admin = _server_urls(name)

    async def create() -> None:
        conn = await asyncpg.connect(admin)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
                await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    migrations.upgrade(urls.owner)
    try:
        yield urls
    finally:
        asyncio.run(drop())


@pytest.fixture(scope="session")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestIdentityProviders]:
    providers = TestIdentityProviders(tmp_path_factory.mktemp("idp") / "keys.json")
    providers.start()
    yield providers
    providers.stop()


def make_settings(urls: DatabaseUrls, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": urls.app,
        "migration_database_url": urls.owner,
        "dev_idp_enabled": False,
        "load_demo_data": False,
        "scheduler_enabled": False,
        "data_dir": data_dir,
        "jwks_refetch_min_interval_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def app(database_urls: DatabaseUrls, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[object]:
    application = create_app(make_settings(database_urls, tmp_path_factory.mktemp("data")))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def owner_db(database_urls: DatabaseUrls) -> AsyncIterator[Database]:
    db = Database(database_urls.owner, pool_size=2)
    yield db
    await db.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
async def _clean_database(owner_db: Database) -> AsyncIterator[None]:
    clock.reset()
    yield
    clock.reset()
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    async with owner_db.engine.begin() as conn:
        await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    invalidate_all()  # the next test's world reuses issuers and subjects: no principal may survive


@pytest.fixture
async def world(owner_db: Database, idp: TestIdentityProviders) -> World:
    async with owner_db.sessions() as session:
        built = await build_world(session, idp)
        await session.commit()
    return built
