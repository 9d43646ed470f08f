"""Shared service helpers: ETags, version history, paging."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import counts_in
from app.auth.principal import Principal
from app.clock import clock
from app.errors import PreconditionFailed, PreconditionRequired, UnprocessableEntity
from app.models import ChangeRecord, Membership


def etag_of(version: int) -> str:
    return f'"v{version}"'


# RFC 9110 section 13.1.1: "*" or a comma-separated list of entity tags (opaque, quoted).
IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"[!#-~\x80-\xff]*"(\s*,\s*(W/)?"[!#-~\x80-\xff]*")*)\s*$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN)


def check_if_match(if_match: str | None, version: int, what: str) -> None:
    """A lost update is impossible: every update names the version it was based on.
    RFC 9110 13.1.1: `*` matches any current representation; otherwise the comparison is strong,
    so a weak tag (W/"v2") never matches."""
    if not if_match:
        raise PreconditionRequired(
            f"Updating this {what} needs an If-Match header with its current ETag "
            f"(read it first; it is {etag_of(version)} now)."
        )
    if not _IF_MATCH.match(if_match):
        raise UnprocessableEntity(
            f'If-Match must be * or a list of quoted ETags, such as {etag_of(version)} for this {what}.',
            pointer="#header:If-Match",
        )
    candidates = [c.strip() for c in if_match.split(",")]
    if "*" not in candidates and etag_of(version) not in candidates:
        weak = any(c.startswith("W/") for c in candidates)
        raise PreconditionFailed(
            f"This {what} was changed by someone else since you read it (current ETag "
            f"{etag_of(version)}). Read it again and reapply your change."
            + (" If-Match compares strongly: send the ETag without W/." if weak else ""),
            current_etag=etag_of(version),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# Free-text fields: the history records that they changed, never their content (it may hold
# health or justice details that the history's readers may not see).
FREE_TEXT_FIELDS = frozenset({"description", "client_goals", "note", "text", "reason"})


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, new in after.items():
        old = before.get(key)
        if old != new:
            if key in FREE_TEXT_FIELDS:
                changes[key] = {"changed": True}
            else:
                changes[key] = {"from": _plain(old), "to": _plain(new)}
    return changes


def record_change(
    session: AsyncSession,
    principal: Principal,
    *,
    case_id: uuid.UUID,
    entity_type: str,
    entity_id: uuid.UUID,
    version: int,
    operation: str,
    changes: dict[str, Any],
) -> None:
    session.add(
        ChangeRecord(
            case_id=case_id,
            entity_type=entity_type,
            entity_id=entity_id,
            version=version,
            operation=operation,
            actor_issuer=principal.issuer,
            actor_subject=principal.subject,
            actor_name=principal.display_name,
            organisation_id=principal.organisation_id,
            changes=changes,
            changed_at=clock.now(),
        )
    )


async def paged(
    session: AsyncSession,
    query: sa.Select[Any],
    *,
    count_from: Any,
    where: Sequence[sa.ColumnElement[bool]],
    limit: int,
    offset: int,
    with_total: bool = True,
) -> tuple[list[Any], int]:
    """One page of `query` and the number of rows it pages through: the filter applied to both,
    the total counted over `count_from` alone (no joins), the page in the query's own order."""
    total = 0
    if with_total:
        total = int(
            (await session.execute(sa.select(sa.func.count()).select_from(count_from).where(*where))).scalar_one()
        )
    rows = (await session.execute(query.where(*where).limit(limit).offset(offset))).all()
    return list(rows), total


async def named_member(
    session: AsyncSession, membership_id: uuid.UUID, conference_id: uuid.UUID, *roles: str, pointer: str,
    detail: str = "This membership is not part of the conference.",
) -> Membership:
    """The membership a request names, when it counts in the conference (app/auth/policy.py
    `counts_in`); 422 pointing at the field otherwise."""
    member = await session.get(Membership, membership_id)
    if member is None or not counts_in(member, conference_id, *roles):
        raise UnprocessableEntity(detail, pointer=pointer)
    return member
