"""The access log writer. `allowed()` collects rows in the request's session; they are inserted
in one statement just before that session commits (a `before_commit` hook), so a write and its
log rows commit together, and a read whose rows cannot be written fails instead of being served
(the session commits before the answer is sent, see app/deps.py). Denied attempts are written in
a transaction of their own, since the request that caused them is rolled back.

All rows of a transaction go in with one statement (`access_log_append`: arrays unnested into one
INSERT), chained and keyed here in the application: row_hash is an HMAC under AUDIT_CHAIN_KEY,
which the database never sees (docs/access-log.md, "Threat model"). Log rows added as ORM objects
(`session.add(AccessLogEntry(...))`) are taken out of the flush and appended the same way; the
application role has no other way to write the log."""

from __future__ import annotations

import hashlib
import hmac
import logging
import operator
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from app.auth.principal import Principal
from app.clock import clock
from app.config import get_settings
from app.metrics import ACCESS_LOG_ROWS
from app.models import AccessLogEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Access:
    """One access to (part of) a client's record."""

    action: str  # read / list / create / update / delete / export / print / search
    resource_type: str
    resource_id: str | None = None
    conference_id: uuid.UUID | None = None
    client_number: str | None = None
    case_id: uuid.UUID | None = None
    part: str | None = None
    basis: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class EachOf(Access):
    """One access to each of many objects alike (the cases of a list page): the fields are the
    rows' common ones (conference_id, case_id, resource_id and client_number left out), and
    `objects` gives per row (resource_id, case_id, conference_id, client_number), the ids of
    resource and case as text, as PostgreSQL writes a uuid (the canonical text is the same). The access log has one row per object, exactly as for that many
    `Access` values (`AuditTrail.rows_of`), without an object and a parsed UUID per row."""

    objects: tuple[tuple[str | None, str | None, uuid.UUID | None, str | None], ...] = ()

    def each(self) -> list[Access]:
        """The single accesses (for the paths that take them one by one)."""
        return [replace(self.template(), resource_id=resource_id, case_id=uuid.UUID(case_id) if case_id else None,
                        conference_id=conference_id, client_number=client_number)
                for resource_id, case_id, conference_id, client_number in self.objects]

    def template(self) -> Access:
        return Access(**{name: getattr(self, name) for name in Access.__dataclass_fields__})


T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    """What a read path returns: the shaped data and the access-log rows that showing it needs.
    Routers hand it to `Guard.deliver`, which writes the rows and returns the data."""

    data: T
    access: tuple[Access, ...] = field(default_factory=tuple)


def entry_for(principal: Principal, access: Access, *, outcome: str) -> AccessLogEntry:
    return AccessLogEntry(**entry_values(principal, access, outcome=outcome))


def entry_values(
    principal: Principal, access: Access, *, outcome: str, now: datetime | None = None,
    role: str | None = None, basis: str | None = None,
) -> dict[str, Any]:
    """The column values of one log row (seq comes from the database; chain and the hashes are
    added when the rows are appended). `role` and `basis` count where the access names none."""
    role = access.role if access.role is not None else role
    basis = access.basis if access.basis is not None else basis
    if role is None and access.conference_id is not None:
        roles = sorted(principal.roles_in(access.conference_id))
        role = roles[0] if roles else None
    return dict(
        occurred_at=now or clock.now(),
        actor_issuer=principal.issuer,
        actor_subject=principal.subject,
        actor_name=principal.display_name,
        actor_kind=principal.kind,
        organisation_id=principal.organisation_id,
        role=role or principal.primary_role or None,
        conference_id=access.conference_id,
        client_number=access.client_number,
        case_id=access.case_id,
        resource_type=access.resource_type,
        resource_id=access.resource_id,
        action=access.action,
        part=access.part,
        basis=basis,
        outcome=outcome,
        request_id=principal.request_id,
        source_address=principal.source_address,
    )


PENDING_ROWS = "access_log_rows"
_ADDED_ROWS = "access_log_added_rows"  # rows added as AccessLogEntry objects
_SEALED = "access_log_sealed"  # (the connection's lane state, the head it will have after commit)
_LANE = "access_log_lane"  # per database connection: [lane, head hash, claimed]


# --- the keyed hash chain (docs/access-log.md, "Threat model") --------------------------------
# Each row joins one chain (lane). row_hash = HMAC-SHA256 under a key derived from
# AUDIT_CHAIN_KEY over the row's canonical text, which ends with prev_hash (the chain's previous
# row_hash). The application computes it; the database never sees the key, so its owner can read
# and change rows but cannot make a changed row, a removed row or a forged one verify again.

GENESIS = "0" * 64
LANES = 64

# The columns of a row's canonical text, in order (prev_hash last). seq is not among them: the
# database hands it out when the rows are appended; the order within a chain is its links.
CHAINED_COLUMNS: tuple[str, ...] = (
    "chain",
    "occurred_at",
    "actor_issuer",
    "actor_subject",
    "actor_name",
    "actor_kind",
    "organisation_id",
    "role",
    "conference_id",
    "client_number",
    "case_id",
    "resource_type",
    "resource_id",
    "action",
    "part",
    "basis",
    "outcome",
    "request_id",
    "source_address",
    "prev_hash",
)
_VALUE_COLUMNS = CHAINED_COLUMNS[1:-1]  # what the application supplies per row (json positions 1..18)
_chained_values = operator.itemgetter(*CHAINED_COLUMNS)


def canonical_bytes(values: Mapping[str, Any]) -> bytes:
    """The row's canonical text: the compact JSON array (orjson) of its values in the order of
    CHAINED_COLUMNS: numbers, strings, null, UUIDs as lowercase strings, the time as RFC 3339 in
    UTC with `Z`. JSON escaping makes it unambiguous; orjson builds it in C (a microsecond or two
    per row, where joining fields in Python cost ten times that)."""
    occurred_at = values.get("occurred_at")
    if occurred_at is not None and occurred_at.tzinfo is not UTC:
        values = {**values, "occurred_at": occurred_at.astimezone(UTC)}
    return orjson.dumps(_chained_values(values), default=_uuid_text, option=orjson.OPT_UTC_Z)


def _uuid_text(value: Any) -> str:
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID type, which orjson does not know
        return str(value)
    raise TypeError(f"no canonical text for {type(value).__name__}")


def canonical_text(values: Mapping[str, Any]) -> str:
    return canonical_bytes(values).decode("utf-8")


def derived_key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), b"casusoverleg access log: " + purpose, hashlib.sha256).digest()


@lru_cache(maxsize=8)
def row_key(secret: str) -> bytes:
    return derived_key(secret, b"row hash v1")


@lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)  # copied per row: the key schedule once


_process_secret: str | None = None


def use_chain_secret(secret: str) -> None:
    """The application sets its AUDIT_CHAIN_KEY at start-up (app/main.py), so that the writer,
    which runs in a session hook without the settings, seals with the key verify uses."""
    global _process_secret
    _process_secret = secret


def chain_secret() -> str:
    """AUDIT_CHAIN_KEY of this process (a development default is refused in production)."""
    return _process_secret or get_settings().audit_chain_key


def row_hash(values: Mapping[str, Any], key: bytes) -> str:
    mac = _keyed(key).copy()
    mac.update(canonical_bytes(values))
    return mac.hexdigest()


@lru_cache(maxsize=8)
def _pads(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256 (RFC 2104) as the two SHA-256 states after the key's inner and outer pads.
    Copying these per row gives the digest of `hmac.new(key, text, sha256)` (which `row_hash`, and
    so verification, computes) at half the cost: no Python-level HMAC object per row."""
    block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
    return (hashlib.sha256(block.translate(hmac.trans_36)), hashlib.sha256(block.translate(hmac.trans_5C)))


# A row's canonical text in three runs of CHAINED_COLUMNS: what all rows of one call of
# `AuditTrail.rows_of` share (who, when; outcome, request), and what varies per row.
SHARED_HEAD = ("occurred_at", "actor_issuer", "actor_subject", "actor_name", "actor_kind", "organisation_id")
VARYING = ("role", "conference_id", "client_number", "case_id", "resource_type", "resource_id", "action", "part",
           "basis")
SHARED_TAIL = ("outcome", "request_id", "source_address")
assert CHAINED_COLUMNS == ("chain", *SHARED_HEAD, *VARYING, *SHARED_TAIL, "prev_hash")
_shared_head = operator.itemgetter(*SHARED_HEAD)
_varying = operator.itemgetter(*VARYING)
_shared_tail = operator.itemgetter(*SHARED_TAIL)


@dataclass(slots=True)
class Rows:
    """Access-log rows that share the columns of SHARED_HEAD and SHARED_TAIL (the rows of one call
    of `AuditTrail.rows_of`: one caller, one time, one outcome), those values once and per row
    the values of VARYING, in that order. Sealed without a dict per row; each row's canonical
    text is byte for byte `canonical_bytes` of its values (tests/test_audit_seal.py)."""

    shared: tuple[Any, ...]  # SHARED_HEAD's values
    tail: tuple[Any, ...]  # SHARED_TAIL's values
    varying: list[tuple[Any, ...]]  # per row, VARYING's values

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Rows:
        """One row from its column values (`entry_values`, a row added as an object)."""
        return cls(_shared_head(values), _shared_tail(values), [_varying(values)])

    def __len__(self) -> int:
        return len(self.varying)


def seal_rows(batches: list[Rows], chain: int, prev: str, key: bytes) -> tuple[str, list[bytes], list[str]]:
    """Link the rows into `chain` after `prev`: the new head, and per row its canonical text and
    row_hash. Of a batch of several rows the shared columns are written (and hashed into the
    HMAC's inner state) once; per row only its varying values, the shared tail and the link."""
    texts: list[bytes] = []
    hashes: list[str] = []
    inner_pad, outer_pad = _pads(key)
    dumps, option = orjson.dumps, orjson.OPT_UTC_Z
    for rows in batches:
        shared = rows.shared
        occurred_at = shared[0]
        if occurred_at is not None and occurred_at.tzinfo is not UTC:  # as canonical_bytes
            shared = (occurred_at.astimezone(UTC), *shared[1:])
        if len(rows.varying) == 1:  # one row (a write, an event): its text in one piece
            text = dumps((chain, *shared, *rows.varying[0], *rows.tail, prev), default=_uuid_text, option=option)
            inner = inner_pad.copy()
            inner.update(text)
            outer = outer_pad.copy()
            outer.update(inner.digest())
            prev = outer.hexdigest()
            texts.append(text)
            hashes.append(prev)
            continue
        head = dumps((chain, *shared), default=_uuid_text, option=option)[:-1] + b","
        tail = b"," + dumps(rows.tail, default=_uuid_text)[1:-1] + b',"'
        inner_head = inner_pad.copy()
        inner_head.update(head)
        for varying in rows.varying:
            rest = b"".join((dumps(varying, default=_uuid_text)[1:-1], tail, prev.encode("ascii"), b'"]'))
            inner = inner_head.copy()
            inner.update(rest)
            outer = outer_pad.copy()
            outer.update(inner.digest())
            prev = outer.hexdigest()
            texts.append(head + rest)
            hashes.append(prev)
    return prev, texts, hashes


def seal(rows: list[dict[str, Any]], chain: int, prev: str, key: bytes) -> tuple[str, list[bytes], list[str]]:
    """Link rows given as their column values (`entry_values`: a single partner event) into
    `chain` after `prev`, each through `canonical_bytes`; `seal_rows` gives the same."""
    texts: list[bytes] = []
    hashes: list[str] = []
    inner_pad, outer_pad = _pads(key)
    for row in rows:
        text = canonical_bytes({**row, "chain": chain, "prev_hash": prev})
        inner = inner_pad.copy()
        inner.update(text)
        outer = outer_pad.copy()
        outer.update(inner.digest())
        prev = outer.hexdigest()
        texts.append(text)
        hashes.append(prev)
    return prev, texts, hashes


# One statement appends a request's rows: access_log_append (migrations 0011_accesslog_keyed and
# _json) takes the chain's lock until commit, checks that the chain's head is still `prev`, and
# inserts all rows, sent as the JSON array of their canonical texts (what was hashed is what is
# stored), with consecutive seq. When the head moved (another connection wrote the chain), it
# inserts nothing and returns the actual head; the rows are sealed again on top of it.
_CLAIM = "SELECT lane, head, claimed FROM access_log_claim()"
_APPEND = "SELECT access_log_append($1::smallint, $2::text, $3::jsonb, $4::text)"


def _append(session: Session, rows: list[Rows]) -> None:
    """Runs in the session's `before_commit` hook (synchronous, inside SQLAlchemy's greenlet), on
    the asyncpg connection of the session's transaction: two prepared statements at most, without
    SQLAlchemy's statement building per request."""
    connection = session.connection()
    adapted: Any = connection.connection.dbapi_connection
    if adapted._transaction is None:  # the asyncpg adapter begins lazily: the rows join the transaction
        await_only(adapted._start_transaction())
    driver: Any = connection.connection.driver_connection
    state = connection.info.get(_LANE)
    if state is None or not state[2]:
        # A lane of its own for as long as this database connection lives (a session-level
        # advisory lock), so its head can be kept here and the append needs one round trip.
        lane, head, claimed = await_only(driver.fetchrow(_CLAIM))
        state = connection.info[_LANE] = [lane, head, claimed]
    key = row_key(chain_secret())
    chain, head = state[0], state[1]
    for _attempt in range(5):
        new_head, texts, hashes = seal_rows(rows, chain, head, key)
        actual = await_only(driver.fetchval(
            _APPEND, chain, head, (b"[" + b",".join(texts) + b"]").decode("utf-8"), ",".join(hashes)))
        if actual is None:
            session.info[_SEALED] = (state, new_head)
            return
        head = state[1] = actual
    raise RuntimeError("the access log's chain kept moving under this connection")


async def claim_lane(driver: Any, info: dict[Any, Any]) -> list[Any]:
    """The chain state of a pool connection (`info` is the pool's record of it, as
    `connection.info` in `_append`), claimed on the asyncpg connection itself when it has none:
    for appends that run outside a session (app/services/events/single.py)."""
    state: list[Any] | None = info.get(_LANE)
    if state is None or not state[2]:
        lane, head, claimed = await driver.fetchrow(_CLAIM)
        state = info[_LANE] = [lane, head, claimed]
    return state


@event.listens_for(Session, "before_flush")
def _collect_added_rows(session: Session, *_flush_args: Any) -> None:
    """Log rows added as objects (session.add(AccessLogEntry(...))) join the request's pending
    rows: the log is only written through access_log_append, which chains it."""
    entries = [obj for obj in session.new if isinstance(obj, AccessLogEntry)]
    if entries:
        pending = session.info.setdefault(_ADDED_ROWS, [])  # counted by their writers' metrics
        for entry in entries:
            session.expunge(entry)
            pending.append(Rows.of({c: getattr(entry, c) for c in _VALUE_COLUMNS}))


@event.listens_for(Session, "before_commit")
def _insert_pending_rows(session: Session) -> None:
    """Append the request's collected log rows in one statement, inside its transaction."""
    _collect_added_rows(session)
    allowed = session.info.pop(PENDING_ROWS, None) or []
    rows = allowed + (session.info.pop(_ADDED_ROWS, None) or [])
    if rows:
        _append(session, rows)
        ACCESS_LOG_ROWS.labels("allowed").inc(sum(map(len, allowed)))


@event.listens_for(Session, "after_commit")
def _advance_head(session: Session) -> None:
    sealed = session.info.pop(_SEALED, None)
    if sealed is not None:
        state, head = sealed
        state[1] = head


@event.listens_for(Session, "after_rollback")
def _keep_head(session: Session) -> None:
    session.info.pop(_SEALED, None)  # the rows did not commit: the chain's head stays


SeparateWriter = Callable[[list[AccessLogEntry]], Awaitable[None]]
_NO_CONFERENCE = object()  # AuditTrail.allowed: before its first row


class AuditTrail:
    """Per-request access log: allowed accesses go into the request's transaction."""

    def __init__(self, session: AsyncSession | Callable[[], AsyncSession], principal: Principal,
                 write_separately: SeparateWriter) -> None:
        self._session = session  # or how to open it: a request that appends on its own needs none
        self.principal = principal
        self._write_separately = write_separately
        # The role that the policy granted per conference (e.g. case_director), for the log rows.
        self._granted: dict[uuid.UUID, str] = {}
        # The basis of an access the policy granted on one case (a guest's invitation), for the
        # rows of that case that name no sharing basis of their own.
        self._granted_basis: dict[uuid.UUID, str] = {}

    @property
    def session(self) -> AsyncSession:
        if not isinstance(self._session, AsyncSession):
            self._session = self._session()
        return self._session

    def note_granted_role(self, conference_id: uuid.UUID, role: str) -> None:
        self._granted[conference_id] = role

    def note_granted_basis(self, case_id: uuid.UUID, basis: str) -> None:
        self._granted_basis[case_id] = basis

    def allowed(self, *accesses: Access) -> None:
        """Collect the rows in the request's session: they are inserted in one statement at
        commit, together with the request's writes (or the read is refused when they cannot be)."""
        pending = self.session.info.setdefault(PENDING_ROWS, [])
        rows = self.rows_of(*accesses)
        if rows:
            pending.append(rows)

    async def append_now(self, driver: Any, info: dict[Any, Any], *accesses: Access) -> None:
        """Append the rows at once, on a connection outside any transaction (Database.autocommit):
        for a read made there, whose answer waits for this (a read whose rows cannot be written is
        refused, as always)."""
        rows = self.rows_of(*accesses)
        if not rows:
            return
        lane = await claim_lane(driver, info)
        key = row_key(chain_secret())
        for _attempt in range(5):
            new_head, texts, hashes = seal_rows([rows], lane[0], lane[1], key)
            actual = await driver.fetchval(
                _APPEND, lane[0], lane[1], (b"[" + b",".join(texts) + b"]").decode("utf-8"), ",".join(hashes))
            if actual is None:  # appended: the chain's head is this request's last row
                lane[1] = new_head
                ACCESS_LOG_ROWS.labels("allowed").inc(len(rows))
                return
            lane[1] = actual  # sealed on a stale head: seal again on the actual one
        raise RuntimeError("the access log's chain kept moving under this connection")

    def rows_of(self, *accesses: Access) -> Rows:
        """The allowed rows of these accesses, with the role and basis the policy granted: the
        values `entry_values` gives each, without a dict per row (one caller, one time)."""
        principal = self.principal
        now = clock.now()  # the rows of one call are one access: one time
        granted, granted_basis = self._granted, self._granted_basis
        fallback = principal.primary_role or None
        varying: list[tuple[Any, ...]] = []
        add = varying.append
        conference_id: Any = _NO_CONFERENCE
        role: str | None = None
        for a in accesses:
            if a.conference_id is not conference_id:  # the rows of one view share their conference's UUID
                conference_id = a.conference_id
                role = granted.get(conference_id) if conference_id is not None else None
                if role is None and conference_id is not None:  # as entry_values decides it
                    held = sorted(principal.roles_in(conference_id))
                    role = held[0] if held else None
            if type(a) is EachOf:
                self._add_each(a, add, fallback)
                continue
            basis = a.basis
            if basis is None and granted_basis:
                basis = granted_basis.get(a.case_id)
            add(((a.role if a.role is not None else role) or fallback, conference_id, a.client_number, a.case_id,
                 a.resource_type, a.resource_id, a.action, a.part, basis))
        return Rows((now, principal.issuer, principal.subject, principal.display_name, principal.kind,
                     principal.organisation_id), ("allowed", principal.request_id, principal.source_address), varying)

    def _add_each(self, each: EachOf, add: Callable[[tuple[Any, ...]], None], fallback: str | None) -> None:
        """The rows of `each`, one per object, as `rows_of` writes those of single accesses."""
        granted, granted_basis, principal = self._granted, self._granted_basis, self.principal
        conference_id: Any = _NO_CONFERENCE
        role: str | None = None
        for resource_id, case_id, object_conference, client_number in each.objects:
            if object_conference is not conference_id:
                conference_id = object_conference
                role = each.role
                if role is None and conference_id is not None:
                    role = granted.get(conference_id)
                    if role is None:
                        held = sorted(principal.roles_in(conference_id))
                        role = held[0] if held else None
                role = role or fallback
            basis = each.basis
            if basis is None and granted_basis and case_id:
                basis = granted_basis.get(uuid.UUID(case_id))
            add((role, conference_id, client_number, case_id, each.resource_type, resource_id, each.action,
                 each.part, basis))

    async def allowed_regardless(self, *accesses: Access) -> None:
        """Write allowed rows in a transaction of their own: for an access that ends in an error
        answer (a search that finds nobody), whose request transaction is rolled back."""
        single = [one for a in accesses for one in (a.each() if type(a) is EachOf else (a,))]
        await self._write_separately([entry_for(self.principal, self._with_role(a), outcome="allowed")
                                      for a in single])
        ACCESS_LOG_ROWS.labels("allowed").inc(len(single))

    def _with_role(self, access: Access) -> Access:
        if access.role is None and access.conference_id in self._granted:
            access = replace(access, role=self._granted[access.conference_id])
        if access.basis is None and access.case_id in self._granted_basis:
            access = replace(access, basis=self._granted_basis[access.case_id])
        return access

    async def denied(self, access: Access) -> None:
        await self._write_separately([entry_for(self.principal, access, outcome="denied")])
        ACCESS_LOG_ROWS.labels("denied").inc()
