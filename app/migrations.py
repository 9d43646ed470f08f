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


def pending_revisions(owner_url: str) -> list[str]:
    """The revisions an upgrade to head would apply, oldest first."""
    import asyncio

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    async def current() -> set[str]:
        engine = create_async_engine(owner_url)
        try:
            async with engine.connect() as conn:
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
def _counting(total: int, progress: MigrationProgress | None) -> Iterator[None]:
    if progress is None:
        yield
        return
    logger = logging.getLogger("alembic.runtime.migration")
    handler = _Counter(total, progress)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def upgrade(owner_url: str, revision: str = "head", *, progress: MigrationProgress | None = None) -> int:
    """Upgrade to `revision`; with `progress`, each applied migration is reported as it starts.
    Returns how many migrations were pending (0: the database was at head)."""
    total = len(pending_revisions(owner_url)) if progress is not None else 0
    with _counting(total, progress):
        command.upgrade(alembic_config(owner_url), revision)
    return total


def downgrade(owner_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(owner_url), revision)


def check(owner_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(owner_url))
