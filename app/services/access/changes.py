"""The record of administrative changes: who changed what, before and after. Written in the
change's own transaction (so a change and its record commit together), read by the
administrators and privacy officers that app/auth/policy.py `visible_admin_changes` names."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.clock import clock
from app.models import AdminChange


def snapshot(row: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row as JSON values (ids and dates as text)."""
    return {name: to_jsonable_python(getattr(row, name)) for name in fields}


def record_admin_change(
    session: AsyncSession,
    principal: Principal,
    *,
    entity_type: str,
    entity_id: uuid.UUID | None,
    operation: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    organisation_id: uuid.UUID | None = None,
    conference_id: uuid.UUID | None = None,
) -> AdminChange:
    change = AdminChange(
        occurred_at=clock.now(),
        actor_issuer=principal.issuer,
        actor_subject=principal.subject,
        actor_name=principal.display_name,
        actor_organisation_id=principal.organisation_id,
        organisation_id=organisation_id,
        conference_id=conference_id,
        entity_type=entity_type,
        entity_id=entity_id,
        operation=operation,
        before=to_jsonable_python(dict(before or {})),
        after=to_jsonable_python(dict(after or {})),
    )
    session.add(change)
    return change


@dataclass(frozen=True)
class ChangeFilter:
    organisation_id: uuid.UUID | None = None
    conference_id: uuid.UUID | None = None
    entity_type: str | None = None


async def list_admin_changes(
    session: AsyncSession, visibility: sa.ColumnElement[bool], flt: ChangeFilter, *, limit: int, offset: int
) -> tuple[list[AdminChange], int]:
    where: list[Any] = [visibility]
    if flt.organisation_id is not None:
        where.append(col(AdminChange.organisation_id) == flt.organisation_id)
    if flt.conference_id is not None:
        where.append(col(AdminChange.conference_id) == flt.conference_id)
    if flt.entity_type is not None:
        where.append(col(AdminChange.entity_type) == flt.entity_type)
    total = (await session.execute(sa.select(sa.func.count()).select_from(AdminChange).where(*where))).scalar_one()
    rows = (
        await session.execute(
            sa.select(AdminChange)
            .where(*where)
            .order_by(col(AdminChange.occurred_at).desc(), col(AdminChange.id))
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return list(rows), int(total)
