"""Run Alembic programmatically (the CLI and the tests use this)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic import command
from app.config import PROJECT_ROOT


def alembic_config(owner_url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["owner_url"] = owner_url
    return cfg


MigrationProgress = Callable[[str, int, int], None]  # (revision, applied so far, pending in all)


# The key of alembic/env.py's MIGRATION_LOCK_SQL (pg_advisory_xact_lock), probed, never held.
PROBE_LOCK_SQL = "SELECT pg_try_advisory_lock(hashtext('casusoverleg:migrate'))"
RELEASE_PROBE_SQL = "SELECT pg_advisory_unlock(hashtext('casusoverleg:migrate'))"


def pending_revisions(owner_url: str, await_other: Callable[[], None] | None = None) -> list[str]:
    """The revisions an upgrade to head would apply, oldest first. `await_other` is called when
    another migration runs right now (this one will wait for it)."""
    import asyncio

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    async def current() -> set[str]:
        engine = create_async_engine(owner_url)
        try:
            async with engine.connect() as conn:
                if await_other is not None:
                    # A probe of alembic/env.py's lock (not a lock of its own): taken and released
                    # at once if free; if another migration holds it, say that we wait.
                    if (await conn.execute(sa.text(PROBE_LOCK_SQL))).scalar():
                        await conn.execute(sa.text(RELEASE_PROBE_SQL))
                    else:
                        await_other()
                if not (await conn.execute(sa.text("SELECT to_regclass('public.alembic_version')"))).scalar():
                    return set()
                return set((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars())
        finally:
            await engine.dispose()

    script = ScriptDirectory.from_config(alembic_config(owner_url))
    applied = asyncio.run(current())
    lower = next(iter(applied)) if len(applied) == 1 else "base"
    return [rev.revision for rev in script.iterate_revisions("heads", lower)][::-1]


_RUNNING = re.compile(r"Running upgrade (?:\S+)? ?-> (\S+?),")


class _Counter(logging.Handler):
    def __init__(self, total: int, progress: MigrationProgress) -> None:
        super().__init__(logging.INFO)
        self.total = total
        self.done = 0
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        match = _RUNNING.search(record.getMessage())
        if match:
            self.done += 1
            self.progress(match.group(1), self.done, max(self.total, self.done))


@contextmanager
def _counting(total: int, progress: MigrationProgress | None) -> Iterator[_Counter | None]:
    if progress is None:
        yield None
        return
    logger = logging.getLogger("alembic.runtime.migration")
    handler = _Counter(total, progress)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def upgrade(
    owner_url: str,
    revision: str = "head",
    *,
    progress: MigrationProgress | None = None,
    await_other: Callable[[], None] | None = None,
) -> int:
    """Upgrade to `revision`; with `progress`, each applied migration is reported as it starts.
    Returns how many migrations this run applied when `progress` is given (else 0)."""
    total = len(pending_revisions(owner_url, await_other)) if progress is not None else 0
    with _counting(total, progress) as counter:
        command.upgrade(alembic_config(owner_url), revision)
    return counter.done if counter is not None else total


def downgrade(owner_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url), revision)


def check(owner_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(owner_url))
