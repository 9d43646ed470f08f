"""What went wrong, in one line an operator can act on: a bad DATABASE_URL, a PostgreSQL that
cannot be reached or refuses us, settings refused in production, a migration already running.

`explain(error)` returns None for anything it does not recognise (the caller re-raises: a bug
keeps its traceback). Messages carry host, port, database and user, never a password."""

from __future__ import annotations

import socket
from collections.abc import Iterator

from pydantic import ValidationError


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
        todo.extend(e for e in getattr(current, "exceptions", ()) if isinstance(e, BaseException))


def _settings_problem(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        where = ".".join(str(x) for x in problem.get("loc", ()))
        parts.append(f"{where.upper()}: {message}" if where else message)
    return "invalid configuration: " + "; ".join(parts)


def explain(error: BaseException) -> str | None:
    import asyncpg

    for cause in _chain(error):
        if isinstance(cause, ValidationError):
            return _settings_problem(cause)
        if isinstance(cause, ValueError) and "DATABASE_URL" in str(cause):
            return f"{cause} (e.g. postgresql://user:password@host:5432/casusoverleg)"
        if isinstance(cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError):
            return f"PostgreSQL refused the login: {cause} (check the user and password in DATABASE_URL)"
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            return f"PostgreSQL has no such database: {cause} (create it, or fix DATABASE_URL)"
        if isinstance(cause, asyncpg.LockNotAvailableError | asyncpg.QueryCanceledError):
            return f"the database is busy: {cause} (is a migration running elsewhere? try again when it ends)"
        if isinstance(cause, asyncpg.CannotConnectNowError):
            return f"PostgreSQL is not accepting connections yet: {cause}"
        if isinstance(cause, asyncpg.PostgresError):
            return f"PostgreSQL said: {type(cause).__name__}: {cause}"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve the database host in DATABASE_URL: {cause.strerror or cause}"
        if isinstance(cause, ConnectionRefusedError | TimeoutError | ConnectionError):
            return f"cannot reach PostgreSQL (check DATABASE_URL, and that the server runs): {_os_text(cause)}"
        if isinstance(cause, OSError) and cause.errno is not None and "connect" in str(cause).lower():
            return f"cannot reach PostgreSQL (check DATABASE_URL, and that the server runs): {_os_text(cause)}"
    return None


def _os_text(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0]
