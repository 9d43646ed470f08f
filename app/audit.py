"""The access log writer. `allowed()` collects rows in the request's session; they are inserted
in one statement just before that session commits (a `before_commit` hook), so a write and its
log rows commit together, and a read whose rows cannot be written fails instead of being served
(the session commits before the answer is sent, see app/deps.py). Denied attempts are written in
a transaction of their own, since the request that caused them is rolled back.

The rows are inserted through SQLAlchemy Core, not as ORM objects: the log is written on every
request, and the ORM's unit of work costs more than the insert itself (bench/access_log.py)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import clock
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


T = TypeVar("T")


@dataclass(frozen=True)
class Read(Generic[T]):
    """What a read path returns: the shaped data and the access-log rows that showing it needs.
    Routers hand it to `Guard.deliver`, which writes the rows and returns the data."""

    data: T
    access: tuple[Access, ...] = field(default_factory=tuple)


def entry_for(principal: Principal, access: Access, *, outcome: str) -> AccessLogEntry:
    return AccessLogEntry(**entry_values(principal, access, outcome=outcome))


def entry_values(principal: Principal, access: Access, *, outcome: str) -> dict[str, Any]:
    """The column values of one log row (seq, chain and the hashes come from the database)."""
    role = access.role
    if role is None and access.conference_id is not None:
        roles = sorted(principal.roles_in(access.conference_id))
        role = roles[0] if roles else None
    return dict(
        occurred_at=clock.now(),
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
        basis=access.basis,
        outcome=outcome,
        request_id=principal.request_id,
        source_address=principal.source_address,
        chain=0,
        prev_hash=None,
        row_hash=None,
    )


PENDING_ROWS = "access_log_rows"
_ACCESS_LOG = AccessLogEntry.__table__  # type: ignore[attr-defined]
_INSERT = sa.insert(_ACCESS_LOG)  # built once: its compiled form and cache key are reused


@event.listens_for(Session, "before_commit")
def _insert_pending_rows(session: Session) -> None:
    """Insert the request's collected log rows in one statement, inside its transaction."""
    rows = session.info.pop(PENDING_ROWS, None)
    if rows:
        session.execute(_INSERT, rows)
        ACCESS_LOG_ROWS.labels("allowed").inc(len(rows))


SeparateWriter = Callable[[list[AccessLogEntry]], Awaitable[None]]


class AuditTrail:
    """Per-request access log: allowed accesses go into the request's transaction."""

    def __init__(self, session: AsyncSession, principal: Principal, write_separately: SeparateWriter) -> None:
        self.session = session
        self.principal = principal
        self._write_separately = write_separately
        # The role that the policy granted per conference (e.g. case_director), for the log rows.
        self._granted: dict[uuid.UUID, str] = {}

    def note_granted_role(self, conference_id: uuid.UUID, role: str) -> None:
        self._granted[conference_id] = role

    def allowed(self, *accesses: Access) -> None:
        """Collect the rows in the request's session: they are inserted in one statement at
        commit, together with the request's writes (or the read is refused when they cannot be)."""
        rows = [entry_values(self.principal, self._with_role(a), outcome="allowed") for a in accesses]
        self.session.info.setdefault(PENDING_ROWS, []).extend(rows)

    async def allowed_regardless(self, *accesses: Access) -> None:
        """Write allowed rows in a transaction of their own: for an access that ends in an error
        answer (a search that finds nobody), whose request transaction is rolled back."""
        await self._write_separately([entry_for(self.principal, self._with_role(a), outcome="allowed")
                                      for a in accesses])
        ACCESS_LOG_ROWS.labels("allowed").inc(len(accesses))

    def _with_role(self, access: Access) -> Access:
        if access.role is None and access.conference_id in self._granted:
            return replace(access, role=self._granted[access.conference_id])
        return access

    async def denied(self, access: Access) -> None:
        await self._write_separately([entry_for(self.principal, access, outcome="denied")])
        ACCESS_LOG_ROWS.labels("denied").inc()
