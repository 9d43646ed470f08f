# SQLModel fields are typed as their Python values, which SQLAlchemy 2.1's select()/where() stubs refuse.
# mypy: disable-error-code="call-overload,arg-type,union-attr,attr-defined,operator"
"""A client's requests under the AVG (issue 21): inzage (art. 15), correctie (16), verwijdering
(17), beperking (18), bezwaar (21) and klacht, recorded and answered by a privacy officer of the
client's conference.

- The deadline is one month after receipt (art. 12(3)); it can be extended once, by two months,
  with a recorded reason. An answer after the deadline without an extension is refused.
- A correction changes the value, keeps the old and new value (`client_correction`, and a change
  record on the case), and tells the organisations whose people read the old value: a notification
  to each of those people (ids only) and an outbox message to the organisations' partner systems.
  An agreement's text is never corrected: it is what was signed; a new version is made instead.
- Granted erasure runs through the retention machinery now (the client's closed cases are
  anonymised as at the end of their retention period); granted restriction holds the client's
  data from the retention purge until it is lifted (app/services/privacy/retention.py).
- Overdue requests reach the conference's privacy officers and chairs (`notify_overdue`, run by the
  scheduled job client_requests.overdue).
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Access, Read
from app.auth.principal import Principal
from app.clock import clock
from app.errors import Conflict, NotFound, UnprocessableEntity
from app.events import outbox
from app.models import (
    AccessLogEntry,
    Action,
    Agreement,
    AnonymisedCase,
    Case,
    CaseNote,
    Client,
    ClientCorrection,
    ClientRequest,
    Goal,
    Membership,
    Notification,
    Plan,
)
from app.models.enums import (
    AgreementStatus,
    ClientRequestDecision,
    ClientRequestKind,
    ClientRequestStatus,
    CorrectionField,
    Phase,
    Role,
)
from app.schemas.privacy import (
    AnswerCreate,
    ClientRequestCreate,
    ClientRequestOut,
    CorrectionCreate,
    CorrectionOut,
)
from app.services.common import check_if_match, paged, record_change
from app.services.privacy.retention import DueCase, anonymise_case

RESOURCE = "client_request"
EXTENSION_MONTHS = 2  # AVG art. 12(3): "by two further months where necessary"
OVERDUE_KIND = "client_request_overdue"
CORRECTED_KIND = "data_corrected"
# The access-log resource types under which each correctable value was shown.
SHOWN_AS: dict[CorrectionField, tuple[str, ...]] = {
    CorrectionField.name: ("case", "client"),
    CorrectionField.date_of_birth: ("case", "client"),
    CorrectionField.note_text: ("note",),
    CorrectionField.goal_text: ("plan",),
    CorrectionField.action_title: ("action",),
}
SEEN = ("read", "list", "export", "print")
# The access-log resource type of each corrected value (the correction's own row).
CORRECTED_RESOURCE: dict[CorrectionField, str] = {
    CorrectionField.name: "client",
    CorrectionField.date_of_birth: "client",
    CorrectionField.note_text: "note",
    CorrectionField.goal_text: "plan",
    CorrectionField.action_title: "action",
    CorrectionField.agreement_text: "agreement",
}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the last day of that month (31 January + 1 = 28/29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(request: ClientRequest) -> date:
    return request.extended_until or request.deadline_on


def is_overdue(request: ClientRequest, today: date | None = None) -> bool:
    return request.status == ClientRequestStatus.open and (today or clock.today()) > due_on(request)


def request_access(request: ClientRequest, client_number: str, action: str, part: str | None = None) -> Access:
    return Access(action=action, resource_type=RESOURCE, resource_id=str(request.id),
                  conference_id=request.conference_id, client_number=client_number,
                  part=part or request.kind.value, role=Role.privacy_officer.value)


def correction_out(c: ClientCorrection) -> CorrectionOut:
    return CorrectionOut(id=c.id, field=c.field, entity_id=c.entity_id, case_id=c.case_id, old_value=c.old_value,
                         new_value=c.new_value, told_organisation_ids=list(c.told_organisation_ids),
                         corrected_at=c.corrected_at)


def request_out(request: ClientRequest, client_number: str, corrections: list[ClientCorrection]) -> ClientRequestOut:
    return ClientRequestOut(
        id=request.id, conference_id=request.conference_id, client_number=client_number, kind=request.kind,
        channel=request.channel, received_on=request.received_on, on_behalf_of=request.on_behalf_of,
        description=request.description, deadline_on=request.deadline_on, extended_until=request.extended_until,
        extension_reason=request.extension_reason, status=request.status, overdue=is_overdue(request),
        decision=request.decision, answer=request.answer, answered_on=request.answered_on,
        corrections=[correction_out(c) for c in corrections if c.request_id == request.id],
        version=request.version,
    )


async def corrections_of(session: AsyncSession, request_ids: list[uuid.UUID]) -> list[ClientCorrection]:
    if not request_ids:
        return []
    return list((await session.execute(
        sa.select(ClientCorrection).where(ClientCorrection.request_id.in_(request_ids))
        .order_by(ClientCorrection.corrected_at)
    )).scalars())


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedRequest:
    request: ClientRequest
    client: Client


async def load_request(session: AsyncSession, request_id: uuid.UUID, *, for_update: bool = False) -> LoadedRequest:
    query = sa.select(ClientRequest, Client).join(Client, Client.id == ClientRequest.client_id).where(
        ClientRequest.id == request_id)
    if for_update:
        query = query.with_for_update(of=ClientRequest)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("client request")
    return LoadedRequest(row[0], row[1])


async def request_read(session: AsyncSession, loaded: LoadedRequest) -> Read[ClientRequestOut]:
    corrections = await corrections_of(session, [loaded.request.id])
    out = request_out(loaded.request, loaded.client.client_number, corrections)
    return Read(out, (request_access(loaded.request, loaded.client.client_number, "read"),))


@dataclass(frozen=True)
class RegisterQuery:
    conference_ids: list[uuid.UUID]
    status: ClientRequestStatus | None = None
    overdue: bool | None = None
    client_number: str | None = None


async def register_read(
    session: AsyncSession, query: RegisterQuery, *, limit: int, offset: int
) -> Read[tuple[list[ClientRequestOut], int]]:
    """The privacy officer's register: the requests of their conferences, the earliest deadline
    first; each one shown is a 'list' row in the access log."""
    today = clock.today()
    where: list[Any] = [ClientRequest.conference_id.in_(query.conference_ids)]
    if query.status is not None:
        where.append(ClientRequest.status == query.status.value)
    if query.overdue is not None:
        late = sa.and_(ClientRequest.status == ClientRequestStatus.open.value,
                       sa.func.coalesce(ClientRequest.extended_until, ClientRequest.deadline_on) < today)
        where.append(late if query.overdue else sa.not_(late))
    if query.client_number is not None:
        where.append(ClientRequest.client_id.in_(
            sa.select(Client.id).where(Client.client_number == query.client_number)))
    rows, total = await paged(
        session,
        sa.select(ClientRequest, Client.client_number).join(Client, Client.id == ClientRequest.client_id)
        .order_by(ClientRequest.status, sa.func.coalesce(ClientRequest.extended_until, ClientRequest.deadline_on),
                  ClientRequest.id),
        count_from=ClientRequest, where=where, limit=limit, offset=offset,
    )
    corrections = await corrections_of(session, [r[0].id for r in rows])
    items = [request_out(r[0], r[1], corrections) for r in rows]
    return Read((items, total), tuple(request_access(r[0], r[1], "list") for r in rows))


# --- recording, extending -------------------------------------------------------------------


async def record_request(
    session: AsyncSession, *, client: Client, data: ClientRequestCreate, recorded_by_id: uuid.UUID
) -> ClientRequest:
    today = clock.today()
    if data.received_on > today:
        raise UnprocessableEntity("A request cannot be received in the future.", pointer="#/received_on")
    if data.received_on < today - timedelta(days=366):
        raise UnprocessableEntity("A request is recorded within a year of receipt.", pointer="#/received_on")
    if client.anonymised_at is not None:
        raise Conflict("This client's data has been removed; there is nothing left to ask about.")
    request = ClientRequest(
        conference_id=client.conference_id, client_id=client.id, kind=data.kind, channel=data.channel,
        received_on=data.received_on, on_behalf_of=data.on_behalf_of or None, description=data.description,
        deadline_on=add_months(data.received_on, 1), recorded_by_id=recorded_by_id,
    )
    session.add(request)
    await session.flush()
    return request


async def _bump(session: AsyncSession, request: ClientRequest, values: dict[str, Any]) -> None:
    result = await session.execute(
        sa.update(ClientRequest)
        .where(ClientRequest.id == request.id, ClientRequest.version == request.version)
        .values(**values, version=ClientRequest.version + 1, updated_at=clock.now())
        .returning(ClientRequest.version)
    )
    if result.scalar_one_or_none() is None:
        raise Conflict("This request was changed at the same moment; read it again.")
    await session.refresh(request)


def _require_open(request: ClientRequest) -> None:
    if request.status != ClientRequestStatus.open:
        raise Conflict("This request has been answered; it cannot be changed any more.")


async def extend(session: AsyncSession, loaded: LoadedRequest, *, reason: str, if_match: str | None) -> ClientRequest:
    request = loaded.request
    check_if_match(if_match, request.version, "client request")
    _require_open(request)
    if request.extended_until is not None:
        raise Conflict("The deadline of a request can be extended only once; it was extended already.")
    await _bump(session, request, {"extended_until": add_months(request.deadline_on, EXTENSION_MONTHS),
                                   "extension_reason": reason})
    return request


# --- corrections ----------------------------------------------------------------------------


@dataclass
class _Target:
    row: Any
    attribute: str
    old: str
    case_id: uuid.UUID | None


async def _case_of_client(session: AsyncSession, case_id: uuid.UUID | None, client: Client) -> Case:
    case = await session.get(Case, case_id) if case_id else None
    if case is None or case.client_id != client.id:
        raise NotFound("object", detail="This client has no such note, goal, action or agreement.")
    return case


async def _target(session: AsyncSession, client: Client, data: CorrectionCreate) -> _Target:
    field = data.field
    if field in (CorrectionField.name, CorrectionField.date_of_birth):
        if field == CorrectionField.name:
            return _Target(client, "name", client.name or "", None)
        return _Target(client, "date_of_birth", client.date_of_birth.isoformat() if client.date_of_birth else "",
                       None)
    if data.entity_id is None:
        raise UnprocessableEntity("Name the note, goal, action or agreement to correct.", pointer="#/entity_id")
    if field == CorrectionField.agreement_text:
        agreement = await session.get(Agreement, data.entity_id)
        await _case_of_client(session, agreement.case_id if agreement else None, client)
        assert agreement is not None
        if agreement.status == AgreementStatus.draft:
            raise Conflict("An agreement's text comes from its template and what the parties wrote; make a new "
                           "draft with the right text instead of correcting this one.")
        raise Conflict("This agreement is signed: its text cannot be corrected. Record a new version of the "
                       "agreement (a new agreement that replaces this one) instead.")
    if field == CorrectionField.note_text:
        note = await session.get(CaseNote, data.entity_id)
        case = await _case_of_client(session, note.case_id if note else None, client)
        return _Target(note, "text", note.text, case.id)
    if field == CorrectionField.goal_text:
        goal = await session.get(Goal, data.entity_id)
        plan = await session.get(Plan, goal.plan_id) if goal else None
        case = await _case_of_client(session, plan.case_id if plan else None, client)
        return _Target(goal, "description", goal.description, case.id)
    action = await session.get(Action, data.entity_id)
    case = await _case_of_client(session, action.case_id if action else None, client)
    return _Target(action, "title", action.title, case.id)


def _new_value(field: CorrectionField, text: str) -> Any:
    if field != CorrectionField.date_of_birth:
        return text
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise UnprocessableEntity("A date of birth is written as YYYY-MM-DD.", pointer="#/new_value") from None
    if value > clock.today() or value.year < 1900:
        raise UnprocessableEntity("That date of birth cannot be right.", pointer="#/new_value")
    return value


async def _readers(
    session: AsyncSession, client: Client, field: CorrectionField, target: _Target
) -> list[tuple[uuid.UUID, str, str, uuid.UUID | None]]:
    """(organisation, issuer, subject, case) of everyone who was shown the old value, from the
    access log: the rows of this client under the resource types that show the value."""
    where = [
        AccessLogEntry.client_number == client.client_number,
        AccessLogEntry.conference_id == client.conference_id,
        AccessLogEntry.outcome == "allowed",
        AccessLogEntry.action.in_(SEEN),
        AccessLogEntry.resource_type.in_(SHOWN_AS[field]),
        AccessLogEntry.organisation_id.is_not(None),
    ]
    if target.case_id is not None:
        where.append(sa.or_(AccessLogEntry.case_id == target.case_id, AccessLogEntry.case_id.is_(None)))
    rows = await session.execute(
        sa.select(AccessLogEntry.organisation_id, AccessLogEntry.actor_issuer, AccessLogEntry.actor_subject,
                  AccessLogEntry.case_id).where(*where).distinct()
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def correct(
    session: AsyncSession, principal: Principal, loaded: LoadedRequest, data: CorrectionCreate,
    *, corrected_by_id: uuid.UUID,
) -> ClientCorrection:
    request, client = loaded.request, loaded.client
    _require_open(request)
    if request.kind != ClientRequestKind.rectification:
        raise Conflict("Corrections are made on a request for correction (kind rectification).")
    target = await _target(session, client, data)
    new = _new_value(data.field, data.new_value)
    new_text = new.isoformat() if isinstance(new, date) else new
    if new_text == target.old:
        raise UnprocessableEntity("The new value is the same as the old one.", pointer="#/new_value")
    readers = await _readers(session, client, data.field, target)
    told = sorted({org for org, *_ in readers}, key=str)
    setattr(target.row, target.attribute, new)
    session.add(target.row)
    correction = ClientCorrection(
        request_id=request.id, field=data.field, entity_id=target.row.id, case_id=target.case_id,
        old_value=target.old, new_value=new_text, told_organisation_ids=told, corrected_by_id=corrected_by_id,
    )
    session.add(correction)
    await session.flush()
    case_ids = [target.case_id] if target.case_id else [
        c for (c,) in (await session.execute(sa.select(Case.id).where(Case.client_id == client.id))).all()]
    for case_id in case_ids:
        record_change(session, principal, case_id=case_id, entity_type=data.field.value, entity_id=correction.entity_id,
                      version=1, operation="correct", changes={data.field.value: "changed"})
    await _tell_readers(session, client, correction, readers)
    return correction


async def _tell_readers(
    session: AsyncSession, client: Client, correction: ClientCorrection,
    readers: list[tuple[uuid.UUID, str, str, uuid.UUID | None]],
) -> None:
    """Each person who read the old value gets a notification naming the case (ids only); each
    organisation's partner systems get an outbox message 'client.corrected' (ids only)."""
    if not readers:
        return
    identities = {(issuer, subject) for _org, issuer, subject, _case in readers}
    members = (await session.execute(
        sa.select(Membership.id, Membership.organisation_id, Membership.issuer, Membership.subject).where(
            Membership.conference_id == client.conference_id, Membership.active.is_(True),
            sa.tuple_(Membership.issuer, Membership.subject).in_(sorted(identities)),
        )
    )).all()
    cases = {(issuer, subject): case for _org, issuer, subject, case in readers if case is not None}
    fallback = correction.case_id or await _some_case(session, client)
    today = clock.today()
    seen: set[uuid.UUID] = set()
    for membership_id, organisation_id, issuer, subject in members:
        if membership_id in seen:
            continue
        seen.add(membership_id)
        ref = correction.case_id or cases.get((issuer, subject)) or fallback
        if ref is None:
            continue
        session.add(Notification(kind=CORRECTED_KIND, conference_id=client.conference_id,
                                 organisation_id=organisation_id, membership_id=membership_id, ref_type="case",
                                 ref_id=ref, on_date=today))
    case_id = correction.case_id or fallback
    payload = {"case_id": str(case_id) if case_id else "", "correction_id": str(correction.id),
               "field": correction.field.value}
    await outbox.enqueue(session, "client.corrected", payload, organisation_ids=correction.told_organisation_ids)
    await session.flush()


async def _some_case(session: AsyncSession, client: Client) -> uuid.UUID | None:
    return (await session.execute(
        sa.select(Case.id).where(Case.client_id == client.id).order_by(Case.opened_at.desc()).limit(1)
    )).scalar_one_or_none()


# --- the answer -----------------------------------------------------------------------------


async def answer(
    session: AsyncSession, loaded: LoadedRequest, data: AnswerCreate, *, answered_by_id: uuid.UUID,
    if_match: str | None,
) -> list[uuid.UUID]:
    """Record the decision and the answer. A granted erasure anonymises the client's closed cases
    now (the retention machinery); a granted restriction holds the client's data from the purge.
    Returns the ids of the cases erased."""
    request, client = loaded.request, loaded.client
    check_if_match(if_match, request.version, "client request")
    _require_open(request)
    today = clock.today()
    if today > request.deadline_on and request.extended_until is None:
        raise Conflict(
            f"The deadline ({request.deadline_on.isoformat()}) has passed and no extension was recorded: "
            "record the extension and its reason first, then the answer."
        )
    granted = data.decision in (ClientRequestDecision.granted, ClientRequestDecision.partly_granted)
    erased: list[uuid.UUID] = []
    if request.kind == ClientRequestKind.erasure and granted:
        erased = await _erase(session, loaded, whole=data.decision == ClientRequestDecision.granted)
    if request.kind == ClientRequestKind.restriction and granted and client.restricted_at is None:
        client.restricted_at = clock.now()
        session.add(client)
    await _bump(session, request, {"status": ClientRequestStatus.answered.value, "decision": data.decision.value,
                                   "answer": data.answer, "answered_on": today, "answered_by_id": answered_by_id})
    return erased


async def _erase(session: AsyncSession, loaded: LoadedRequest, *, whole: bool) -> list[uuid.UUID]:
    client = loaded.client
    cases = list((await session.execute(
        sa.select(Case).where(
            Case.client_id == client.id,
            ~sa.exists(sa.select(AnonymisedCase.case_id).where(AnonymisedCase.case_id == Case.id)),
        ).order_by(Case.opened_at)
    )).scalars())
    open_cases = [c for c in cases if c.phase != Phase.closed]
    if open_cases and whole:
        raise Conflict(
            "The client has an open case: its data is still needed. Close the case first, or decide "
            "partly_granted to erase the closed cases only.", open_case_ids=[str(c.id) for c in open_cases],
        )
    if client.restricted_at is not None:
        raise Conflict("The client's data is under a restriction (kept on their request); lift it first.")
    now = clock.now()
    erased = []
    for case in cases:
        if case.phase != Phase.closed:
            continue
        due = DueCase(case.id, case.conference_id, client.id, client.client_number, case.closed_at or now, 0)
        await anonymise_case(session, due, now, basis=f"{RESOURCE}:{loaded.request.id}")
        erased.append(case.id)
    return erased


# --- overdue --------------------------------------------------------------------------------


async def notify_overdue(session: AsyncSession, today: date) -> int:
    """Tell the privacy officers and chairs of the conference about each open request past its
    deadline, once per request (a notification with ids and dates only). Returns the number of
    requests newly reported."""
    late = list((await session.execute(
        sa.select(ClientRequest).where(
            ClientRequest.status == ClientRequestStatus.open.value,
            sa.func.coalesce(ClientRequest.extended_until, ClientRequest.deadline_on) < today,
            ClientRequest.overdue_notified_on.is_(None),
        ).with_for_update(skip_locked=True)
    )).scalars())
    if not late:
        return 0
    people = (await session.execute(
        sa.select(Membership.id, Membership.organisation_id, Membership.conference_id).where(
            Membership.conference_id.in_({r.conference_id for r in late}),
            Membership.role.in_([Role.privacy_officer.value, Role.chair.value]),
            Membership.active.is_(True),
        )
    )).all()
    for request in late:
        for membership_id, organisation_id, conference_id in people:
            if conference_id == request.conference_id:
                session.add(Notification(kind=OVERDUE_KIND, conference_id=conference_id,
                                         organisation_id=organisation_id, membership_id=membership_id,
                                         ref_type=RESOURCE, ref_id=request.id, on_date=today,
                                         due_on=due_on(request)))
        request.overdue_notified_on = today
        session.add(request)
    await session.flush()
    return len(late)
