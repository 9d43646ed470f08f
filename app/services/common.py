"""Shared service helpers: ETags, version history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import clock
from app.errors import PreconditionFailed, PreconditionRequired
from app.models import ChangeRecord


def etag_of(version: int) -> str:
    return f'"v{version}"'


def check_if_match(if_match: str | None, version: int, what: str) -> None:
    """A lost update is impossible: every update names the version it was based on."""
    if not if_match:
        raise PreconditionRequired(
            f"Updating this {what} needs an If-Match header with its current ETag "
            f"(read it first; it is {etag_of(version)} now)."
        )
    candidates = [c.strip().removeprefix("W/") for c in if_match.split(",")]
    if etag_of(version) not in candidates:
        raise PreconditionFailed(
            f"This {what} was changed by someone else since you read it (current ETag "
            f"{etag_of(version)}). Read it again and reapply your change.",
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
