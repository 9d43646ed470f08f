"""Validated bearer tokens and their Principal, cached per process, so that a warm request is
authenticated without a single SQL statement.

What bounds a cached entry:
- its lifetime (`AUTH_CACHE_SECONDS`, short) and the token's own `exp`, whichever comes first
  (measured on app.clock, like token validation itself, so tests that travel in time see it);
- a change of any organisation, membership or partner system, on any replica: a trigger on those
  tables sends a PostgreSQL notification on commit (channel AUTH_CHANNEL), every replica listens
  on a dedicated connection and empties its cache. Changes this process commits itself empty the
  cache at commit as well, without waiting for the round trip through the server.
- the listener itself: while it is not connected (start-up, a dropped connection) nothing is
  cached, so a replica that might miss a notification never serves from the cache.

The key is the exact token string: the same bytes verified once verify again, and the entry ends
before the token does. A principal whose memberships were seeded from the groups claim in that
very request is not cached (its transaction might still roll back).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, UOWTransaction

from app.auth.principal import Principal
from app.clock import clock

log = logging.getLogger(__name__)

AUTH_CHANNEL = "casusoverleg_auth_changed"
LISTENER_NAME = "casusoverleg-auth-listener"  # its application_name in pg_stat_activity
AUTH_TABLES = frozenset({"organisation", "membership", "partner_system", "organisation_admin", "guest_invitation"})  # the same as the triggers'
MAX_ENTRIES = 10_000  # distinct live tokens per process; beyond it the cache starts over
_CHANGED = "auth_tables_changed"


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    filled_at: float
    expires_at: float


class PrincipalCache:
    def __init__(self, lifetime_seconds: float) -> None:
        self.lifetime = lifetime_seconds
        self._entries: dict[str, _Entry] = {}
        self.generation = 0  # bumped on every invalidation: a fill that began earlier is dropped
        self.listening = False  # set by the listener while its connection is up

    @property
    def enabled(self) -> bool:
        return self.listening and self.lifetime > 0

    def get(self, token: str) -> Principal | None:
        if not self.enabled:
            return None
        entry = self._entries.get(token)
        if entry is None:
            return None
        now = clock.now().timestamp()
        if not entry.filled_at <= now < entry.expires_at:  # expired, or the clock went backwards
            self._entries.pop(token, None)
            return None
        return entry.principal

    def put(self, token: str, principal: Principal, claims: dict[str, Any], generation: int) -> None:
        """Cache a principal resolved while the cache was at `generation`; dropped if anything
        was invalidated in between."""
        if not self.enabled or generation != self.generation:
            return
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            return
        now = clock.now().timestamp()
        expires_at = min(now + self.lifetime, float(exp))
        if expires_at <= now:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[token] = _Entry(principal, now, expires_at)

    def invalidate(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# --- changes committed by this process: invalidate at once, without the server round trip ------

_caches: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()


def watch_local_commits(cache: PrincipalCache) -> None:
    """Empty `cache` whenever a session of this process commits a change to AUTH_TABLES (the
    NOTIFY from the trigger arrives a moment later; this makes a replica read its own writes)."""
    _caches.add(cache)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        event.listen(Session, "after_commit", _after_commit)


def invalidate_all() -> None:
    """Empty every cache of this process (after a change made outside an ORM session here,
    such as a TRUNCATE, when the notification's round trip should not be waited for)."""
    for cache in list(_caches):
        cache.invalidate()


def _touches_auth(objects: Any) -> bool:
    return any(getattr(o, "__tablename__", None) in AUTH_TABLES for o in objects)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if _touches_auth(session.new) or _touches_auth(session.dirty) or _touches_auth(session.deleted):
        session.info[_CHANGED] = True


def _do_orm_execute(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in AUTH_TABLES:
            state.session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        invalidate_all()


def connect_kwargs_of(engine: AsyncEngine) -> dict[str, Any]:
    """asyncpg.connect() arguments for the engine's database (the dialect's own translation of
    the URL, minus SQLAlchemy's adapter options)."""
    import asyncpg

    _args, params = engine.dialect.create_connect_args(engine.url)
    accepted = inspect.signature(asyncpg.connect).parameters
    return {k: v for k, v in params.items() if k in accepted}


class AuthChangeListener:
    """One dedicated connection per process that LISTENs for changes of identity data and empties
    the cache on each. Reconnects with backoff; while disconnected the cache is off."""

    def __init__(self, cache: PrincipalCache, connect_kwargs: dict[str, Any], *,
                 keepalive_seconds: float = 30.0) -> None:
        self.cache = cache
        self._connect_kwargs = connect_kwargs
        self._keepalive = keepalive_seconds
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self, *, wait_seconds: float = 5.0) -> None:
        self._task = asyncio.create_task(self._run(), name="auth-change-listener")
        with contextlib.suppress(TimeoutError):  # the service also works uncached meanwhile
            await asyncio.wait_for(self._connected.wait(), wait_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _on_notify(self, *_args: object) -> None:
        self.cache.invalidate()

    async def _run(self) -> None:
        import asyncpg

        backoff = 0.5
        while True:
            conn = None
            try:
                settings = {**self._connect_kwargs.get("server_settings", {}), "application_name": LISTENER_NAME}
                conn = await asyncpg.connect(**{"timeout": 10, **self._connect_kwargs, "server_settings": settings})
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(AUTH_CHANNEL, self._on_notify)
                # Listening from here on: what changed before is unknown, so start empty.
                self.cache.invalidate()
                self.cache.listening = True
                self._connected.set()
                backoff = 0.5
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self._keepalive)
                    if not lost.is_set():  # a half-open connection only shows when used
                        await asyncio.wait_for(conn.execute("SELECT 1"), 10)
                log.warning("auth change listener lost its connection; caching off until it is back")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (any failure: off, then retry)
                log.warning("auth change listener: %s; caching off, retrying", type(exc).__name__)
            finally:
                self.cache.listening = False
                self.cache.invalidate()
                self._connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
