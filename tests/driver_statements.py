"""Statements counted where they reach the server: at the asyncpg driver, below SQLAlchemy.

Counts prepared-statement executions (PreparedStatement.fetch / cursor: SQLAlchemy's statements),
the connection's own query methods (fetch, fetchrow, fetchval, executemany: hot paths that run SQL
text on RetryingSession.driver()), and simple queries (Connection.execute: BEGIN, COMMIT, ROLLBACK,
SAVEPOINT, or SQL text with arguments). The auth listener's keepalive (`SELECT 1` on its own
connection) is left out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from asyncpg.connection import Connection
from asyncpg.prepared_stmt import PreparedStatement

from app.auth.cache import LISTENER_NAME

_COUNTED = (
    (PreparedStatement, "fetch"),
    (PreparedStatement, "cursor"),
    (Connection, "fetch"),
    (Connection, "fetchrow"),
    (Connection, "fetchval"),
    (Connection, "executemany"),
    (Connection, "execute"),
)


@contextlib.contextmanager
def driver_calls() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Each statement sent to the server while inside, as (SQL text, arguments)."""
    seen: list[tuple[str, tuple[Any, ...]]] = []
    originals = {(cls, name): getattr(cls, name) for cls, name in _COUNTED}

    def counting(cls: type, name: str) -> Any:
        original = originals[(cls, name)]

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if cls is PreparedStatement:
                seen.append((self.get_query(), tuple(args)))
            else:
                settings = getattr(self, "_server_parameters", None)
                if getattr(settings, "application_name", None) != LISTENER_NAME:
                    seen.append((str(args[0]), tuple(args[1:])) if args else (name, ()))
            return original(self, *args, **kwargs)

        return wrapper

    for (cls, name) in originals:
        setattr(cls, name, counting(cls, name))
    try:
        yield seen
    finally:
        for (cls, name), original in originals.items():
            setattr(cls, name, original)


@contextlib.contextmanager
def driver_statements() -> Iterator[list[str]]:
    """The SQL text of each statement sent to the server while inside."""
    with driver_calls() as calls:
        texts: list[str] = []
        try:
            yield texts
        finally:
            texts.extend(text for text, _ in calls)
