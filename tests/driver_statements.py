"""Statements counted where they reach the server: at the asyncpg driver, below SQLAlchemy.

Counts prepared-statement executions (PreparedStatement.fetch / cursor), executemany, and simple
queries (Connection.execute: BEGIN, COMMIT, ROLLBACK, SAVEPOINT). The auth listener's keepalive
(`SELECT 1` on its own connection) is left out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from asyncpg.connection import Connection
from asyncpg.prepared_stmt import PreparedStatement

from app.auth.cache import LISTENER_NAME


@contextlib.contextmanager
def driver_statements() -> Iterator[list[str]]:
    seen: list[str] = []
    originals = {
        (PreparedStatement, "fetch"): PreparedStatement.fetch,
        (PreparedStatement, "cursor"): PreparedStatement.cursor,
        (Connection, "executemany"): Connection.executemany,
        (Connection, "execute"): Connection.execute,
    }

    def counting(cls: type, name: str) -> Any:
        original = originals[(cls, name)]

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if cls is PreparedStatement:
                seen.append(self.get_query())
            else:
                settings = getattr(self, "_server_parameters", None)
                if getattr(settings, "application_name", None) != LISTENER_NAME:
                    seen.append(str(args[0]) if args else name)
            return original(self, *args, **kwargs)

        return wrapper

    for (cls, name) in originals:
        setattr(cls, name, counting(cls, name))
    try:
        yield seen
    finally:
        for (cls, name), original in originals.items():
            setattr(cls, name, original)
