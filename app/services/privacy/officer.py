# SQLModel fields are typed as their Python values, which SQLAlchemy 2.1's select()/where() stubs refuse.
# mypy: disable-error-code="call-overload,arg-type,union-attr,attr-defined,operator"
"""The privacy officer's tools: query the access log, the subject-access report (AVG article 15)
and the data export of one client. Callers are authorised by the router; this module reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import clock
from app.config import Settings
from app.errors import NotFound, UnprocessableEntity
from app.models import (
    AccessLogEntry,
    Action,
    Assessment,
    Case,
    CaseNote,
    ChangeRecord,
    Client,
    ClientReference,
    Conference,
    Goal,
    Organisation,
    Plan,
    Referral,
)
from app.schemas.audit import AccessReportEntry, AccessReportOut
from app.services.cases.clients import decrypt_bsn
from app.services.common import paged
from app.services.privacy.dossier import dossier


@dataclass(frozen=True)
class LogQuery:
    conference_ids: list[uuid.UUID]
    # Also the rows bound to no conference that involve this organisation: its people's or
    # systems' own (a privacy officer's searches, a partner system's refused calls) and refused
    # administrative operations on it. Its privacy officers review them.
    involved_organisation_id: uuid.UUID | None = None
    client_number: str | None = None
    subject: str | None = None
    organisation_id: uuid.UUID | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    outcome: str | None = None


async def query_log(
    session: AsyncSession, query: LogQuery, *, limit: int, offset: int
) -> tuple[list[AccessLogEntry], int]:
    if query.occurred_from and query.occurred_to and query.occurred_from > query.occurred_to:
        raise UnprocessableEntity("The period starts after it ends.", pointer="#query:occurred_from")
    scope: Any = AccessLogEntry.conference_id.in_(query.conference_ids)
    if query.involved_organisation_id is not None:
        scope = sa.or_(scope, without_conference(query.involved_organisation_id))
    where: list[Any] = [scope]
    if query.client_number is not None:
        where.append(AccessLogEntry.client_number == query.client_number)
    if query.subject is not None:
        where.append(AccessLogEntry.actor_subject == query.subject)
    if query.organisation_id is not None:
        where.append(AccessLogEntry.organisation_id == query.organisation_id)
    if query.occurred_from is not None:
        where.append(AccessLogEntry.occurred_at >= query.occurred_from)
    if query.occurred_to is not None:
        where.append(AccessLogEntry.occurred_at < query.occurred_to)
    if query.outcome is not None:
        where.append(AccessLogEntry.outcome == query.outcome)
    rows, total = await paged(
        session,
        sa.select(AccessLogEntry).order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.seq.desc()),
        count_from=AccessLogEntry, where=where, limit=limit, offset=offset,
    )
    return [r[0] for r in rows], total


def without_conference(organisation_id: uuid.UUID) -> Any:
    """Rows of no conference that involve the organisation: by its people or systems, or an
    administrative operation on it (resource_type organisation, resource_id its id)."""
    return sa.and_(
        AccessLogEntry.conference_id.is_(None),
        sa.or_(
            AccessLogEntry.organisation_id == organisation_id,
            sa.and_(AccessLogEntry.resource_type == "organisation",
                    AccessLogEntry.resource_id == str(organisation_id)),
        ),
    )


@dataclass(frozen=True)
class LogLine:
    """One row of a client's access log, with its organisation's name; `break_glass` when the
    emergency procedure gave the access."""

    entry: AccessLogEntry
    organisation_name: str | None
    break_glass: bool


def _break_glass(entry: AccessLogEntry) -> bool:
    return entry.part == "break_glass" or (entry.basis or "").startswith("break_glass:")


async def client_log(session: AsyncSession, client: Client, *, limit: int, offset: int) -> tuple[list[LogLine], int]:
    """Every row of the log about one client in its conference, allowed and refused, newest first."""
    rows, total = await paged(
        session,
        sa.select(AccessLogEntry, Organisation.name)
        .outerjoin(Organisation, Organisation.id == AccessLogEntry.organisation_id)
        .order_by(AccessLogEntry.occurred_at.desc(), AccessLogEntry.seq.desc()),
        count_from=AccessLogEntry,
        where=[sa.and_(AccessLogEntry.client_number == client.client_number,
                       AccessLogEntry.conference_id == client.conference_id)],
        limit=limit, offset=offset,
    )
    return [LogLine(entry, name, _break_glass(entry)) for entry, name in rows], total


async def load_client_by_number(session: AsyncSession, client_number: str) -> Client:
    client = (
        await session.execute(sa.select(Client).where(Client.client_number == client_number))
    ).scalar_one_or_none()
    if client is None:
        raise NotFound("client")
    return client


async def access_report(session: AsyncSession, client: Client) -> AccessReportOut:
    """Every item held about the client, with whom it was shared and on which basis; and every
    allowed access to the client's data, oldest first, with organisation and basis."""
    held = (await dossier(session, client)).held
    conference = await session.get(Conference, client.conference_id)
    rows = (
        await session.execute(
            sa.select(AccessLogEntry, Organisation.name)
            .outerjoin(Organisation, Organisation.id == AccessLogEntry.organisation_id)
            .where(
                AccessLogEntry.client_number == client.client_number,
                AccessLogEntry.conference_id == client.conference_id,
                AccessLogEntry.outcome == "allowed",
            )
            .order_by(AccessLogEntry.occurred_at, AccessLogEntry.seq)
        )
    ).all()
    return AccessReportOut(
        client_number=client.client_number,
        conference_id=client.conference_id,
        conference_name=conference.name if conference else "",
        generated_at=clock.now(),
        entries=[
            AccessReportEntry(
                occurred_at=e.occurred_at,
                organisation_id=e.organisation_id,
                organisation_name=org_name,
                role=e.role,
                person=e.actor_name or e.actor_subject,
                action=e.action,
                resource_type=e.resource_type,
                part=e.part,
                case_id=e.case_id,
                basis=e.basis,
                outcome=e.outcome,
            )
            for e, org_name in rows
        ],
        data_held=held,
        plain_language=client.plain_language,
    )


def _plain(row: Any, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = row.model_dump()
    for key in drop:
        data.pop(key, None)
    return data


async def _all(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.execute(query)).scalars().all())


async def client_export(session: AsyncSession, client: Client, settings: Settings) -> dict[str, Any]:
    """Everything held on one client, for the client (AVG articles 15 and 20)."""
    client_data = _plain(client, drop=("bsn_ciphertext", "bsn_hash"))
    client_data["bsn"] = decrypt_bsn(client.bsn_ciphertext, settings) if client.bsn_ciphertext else None
    references = await _all(session, sa.select(ClientReference).where(ClientReference.client_id == client.id))
    referrals = await _all(
        session, sa.select(Referral).where(Referral.client_id == client.id).order_by(Referral.created_at)
    )
    cases = await _all(session, sa.select(Case).where(Case.client_id == client.id).order_by(Case.opened_at))
    case_out: list[dict[str, Any]] = []
    for case in cases:
        plan = (await session.execute(sa.select(Plan).where(Plan.case_id == case.id))).scalar_one_or_none()
        goals = (
            await _all(session, sa.select(Goal).where(Goal.plan_id == plan.id).order_by(Goal.position))
            if plan
            else []
        )
        item = _plain(case)
        item["plan"] = {**_plain(plan), "goals": [_plain(g) for g in goals]} if plan else None
        item["assessments"] = [
            _plain(a)
            for a in await _all(
                session,
                sa.select(Assessment).where(Assessment.case_id == case.id).order_by(Assessment.assessed_on),
            )
        ]
        item["actions"] = [
            _plain(a)
            for a in await _all(
                session, sa.select(Action).where(Action.case_id == case.id).order_by(Action.created_at)
            )
        ]
        item["notes"] = [
            _plain(n)
            for n in await _all(
                session, sa.select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at)
            )
        ]
        item["changes"] = [
            _plain(c)
            for c in await _all(
                session,
                sa.select(ChangeRecord)
                .where(ChangeRecord.case_id == case.id)
                .order_by(ChangeRecord.changed_at),
            )
        ]
        case_out.append(item)
    everything = await dossier(session, client)
    kinds = dict(everything.rows)
    kinds["client"] = [client_data]
    return {
        "generated_at": clock.now(),
        "client": client_data,
        "references": [_plain(r) for r in references],
        "referrals": [_plain(r) for r in referrals],
        "cases": case_out,
        "kinds": kinds,
        "held": everything.held,
    }
