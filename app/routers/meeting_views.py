"""What the meetings API and the web client share: the agenda and the list of decisions as the
caller may see them, and the access-log rows that showing, changing or publishing them writes.
One place, so that a page in the browser logs exactly what the API logs for the same view."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import TYPE_CHECKING

from app.audit import Access, EachOf, Read
from app.deps import Guard
from app.errors import NotFound
from app.models.enums import Role
from app.schemas.meetings import AgendaOut, DecisionCreate, DecisionList
from app.services.meetings import agenda as agenda_service
from app.services.meetings import decisions as decision_service

if TYPE_CHECKING:  # the type only: routers hand these objects back to the services, never query them
    from app.db import Autocommit
    from app.models import Decision, Meeting


def client_accesses(
    conference_id: uuid.UUID,
    clients: list[tuple[uuid.UUID | None, str]],
    *,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID,
    part: str,
) -> list[Access]:
    return per_client(
        Access(action=action, resource_type=resource_type, resource_id=str(resource_id),
               conference_id=conference_id, part=part),
        clients,
    )


def per_client(
    template: Access, clients: list[tuple[uuid.UUID | None, str]], resource_ids: list[str] | None = None
) -> list[Access]:
    """`template` for each (case_id, client_number) (and resource id, if given): the rows of one
    view of many clients. Copied field by field (Access has no __post_init__ and no slots) instead
    of through the frozen dataclass's __init__, which sets each of its nine fields through
    object.__setattr__: a third of the cost, for the 230 rows of an agenda."""
    fields = template.__dict__
    new = object.__new__
    accesses = []
    for n, (case_id, number) in enumerate(clients):
        access = new(Access)
        values = access.__dict__
        values.update(fields, case_id=case_id, client_number=number)
        if resource_ids is not None:
            values["resource_id"] = resource_ids[n]
        accesses.append(access)
    return accesses


async def agenda_for(
    guard: Guard,
    meeting: Meeting,
    role: str | None,
    *,
    action: str = "list",
    change: str | None = None,
    changed_items: Collection[uuid.UUID] | None = None,
    shown: bool = True,
) -> AgendaOut:
    """The agenda as the caller (granted `role` by the policy) may see it, with one log row per
    client shown (`shown=False`: nothing is shown, e.g. a form that answers with a redirect).
    After a change by the chair, `change` (create/update/delete) adds one row per client whose
    item changed (`changed_items`; None: every item on the agenda). A draft asked for by a
    member raises NotFound after logging the refused attempt."""
    try:
        view = await agenda_service.agenda_view(guard.session, meeting, guard.principal, role)
    except NotFound:
        await _agenda_refused(guard, meeting.id, meeting.conference_id, action)
        raise
    _log_agenda(guard, meeting.id, meeting.conference_id, view.clients, [str(item.id) for item in view.out.items],
                action=action if shown else None, change=change, changed_items=changed_items)
    return view.out


async def agenda_json_for(
    guard: Guard,
    loaded: agenda_service.LoadedAgenda,
    role: str | None,
    *,
    action: str = "list",
    change: str | None = None,
    changed_items: Collection[uuid.UUID] | None = None,
    connection: Autocommit | None = None,
) -> agenda_service.AgendaJson:
    """`agenda_for` for the API, on the agenda as `load_agenda` read it: the same view and log
    rows, the answer as JSON bytes. With `connection` (the read's, outside any transaction:
    `guard.autocommit()`) the rows are appended on it before the answer is returned, else they
    go into the request's transaction."""
    try:
        view = agenda_service.agenda_json(loaded, guard.principal, role)
    except NotFound:
        await _agenda_refused(guard, loaded.meeting.id, loaded.conference_id, action)
        raise
    accesses = _agenda_accesses(loaded.meeting.id, loaded.conference_id, view.clients, view.item_ids,
                                action=action, change=change, changed_items=changed_items)
    if connection is None:
        guard.record(*accesses)
        return view
    return await guard.deliver_now(Read(view, tuple(accesses)), connection)


async def _agenda_refused(guard: Guard, meeting_id: uuid.UUID, conference_id: uuid.UUID, action: str) -> None:
    await guard.audit.denied(
        Access(action=action, resource_type="agenda", resource_id=str(meeting_id),
               conference_id=conference_id, part="agenda")
    )


def _log_agenda(
    guard: Guard,
    meeting_id: uuid.UUID,
    conference_id: uuid.UUID,
    clients: list[tuple[str | None, str]],
    item_ids: list[str],
    *,
    action: str | None,
    change: str | None,
    changed_items: Collection[uuid.UUID] | None,
) -> None:
    guard.record(*_agenda_accesses(meeting_id, conference_id, clients, item_ids, action=action, change=change,
                                   changed_items=changed_items))


def _agenda_accesses(
    meeting_id: uuid.UUID,
    conference_id: uuid.UUID,
    clients: list[tuple[str | None, str]],
    item_ids: list[str],
    *,
    action: str | None,
    change: str | None,
    changed_items: Collection[uuid.UUID] | None,
) -> list[Access]:
    """A row per client shown (`action`), and per client whose item changed (`change`), as one
    EachOf each (the case ids as the statement wrote them: no Access and no UUID per row)."""
    accesses: list[Access] = []
    if action is not None and clients:
        accesses.append(_each_client(action, "agenda", conference_id, clients, [str(meeting_id)] * len(clients)))
    if change is not None:
        changed = None if changed_items is None else {str(i) for i in changed_items}
        pairs = [(client, item_id) for client, item_id in zip(clients, item_ids, strict=True)
                 if changed is None or item_id in changed]
        if pairs:
            accesses.append(_each_client(change, "agenda_item", conference_id, [client for client, _ in pairs],
                                         [item_id for _, item_id in pairs]))
    return accesses


def _each_client(action: str, part: str, conference_id: uuid.UUID, clients: list[tuple[str | None, str]],
                 resource_ids: list[str]) -> EachOf:
    return EachOf(action=action, resource_type="agenda", part=part,
                  objects=tuple((resource_id, case_id, conference_id, number)
                                for resource_id, (case_id, number) in zip(resource_ids, clients, strict=True)))


async def audit_published(guard: Guard, meeting: Meeting, *, decisions: bool, part: str) -> None:
    """Publishing (or withdrawing) an agenda or a list of decisions changes who sees the clients
    on it: one update row per client on it."""
    if decisions:
        clients = (await decision_service.decisions_view(guard.session, meeting, Role.chair, guard.principal)).clients
        guard.record(*client_accesses(meeting.conference_id, clients, action="update", resource_type="decision",
                                      resource_id=meeting.id, part=part))
        return
    view = await agenda_service.agenda_view(guard.session, meeting, guard.principal, Role.chair)
    shown = [c for c, item in zip(view.clients, view.out.items, strict=True) if not item.removed]
    if shown:
        guard.record(_each_client("update", part, meeting.conference_id, shown, [str(meeting.id)] * len(shown)))


async def decisions_for(guard: Guard, meeting: Meeting, role: str | None, action: str) -> DecisionList:
    """The list of decisions as the caller may see it, one log row per client on it. An
    unpublished list asked for by a member raises NotFound after logging the refused attempt."""
    try:
        view = await decision_service.decisions_view(guard.session, meeting, role, guard.principal)
    except NotFound:
        await guard.audit.denied(
            Access(action=action, resource_type="decision", resource_id=str(meeting.id),
                   conference_id=meeting.conference_id, part="decisions")
        )
        raise
    guard.record(
        *client_accesses(meeting.conference_id, view.clients, action=action, resource_type="decision",
                         resource_id=meeting.id, part="decisions")
    )
    return view.out


def decision_accesses(meeting: Meeting, decision: Decision, number: str, data: DecisionCreate) -> list[Access]:
    """The decision, and what it changed through the foundation's services (logged as they log it)."""

    def access(action: str, resource_type: str, resource_id: uuid.UUID, part: str | None = None) -> Access:
        return Access(action=action, resource_type=resource_type, resource_id=str(resource_id),
                      case_id=decision.case_id, conference_id=meeting.conference_id, client_number=number,
                      part=part)

    return [
        access("create", "decision", decision.id),
        *[access("create", "action", a) for a in decision.action_ids],
        *(
            [access("update", "case", decision.case_id)]
            if decision.case_id and (data.next_review_date or data.case_director_id)
            else []
        ),
        *([access("update", "case", decision.case_id, "phase")] if decision.case_id and data.phase else []),
    ]
