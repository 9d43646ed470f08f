"""The read paths of partner events on a case: the timeline, the relapse history and the open
flags. One rule for all three and for the agenda (app/services/meetings/agenda.py): content of a
labelled signal is shown only where need to know allows it; otherwise the signal reads as
"afgeschermd" with its date, and only the chair (who leads the process) also sees that it is a
health or justice signal that needs discussion (docs/need-to-know.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import Access, Read
from app.auth.policy import NeedToKnow, Op, authorize
from app.auth.principal import Principal
from app.models import CaseFlag
from app.models.enums import Label
from app.schemas.events import FlagOut, RelapseHistory, TimelineItem
from app.services.cases.lifecycle import LoadedCase
from app.services.cases.reads import basis_rows, case_access
from app.services.events import history
from app.services.need_to_know import hidden_signal_text, need_to_know


def _rows(loaded: LoadedCase, part: str, bases: set[str | None]) -> tuple[Access, ...]:
    return basis_rows(case_access(loaded, "read", part), bases)


def _judge(events: list, ntk: NeedToKnow) -> list[history.Shown]:
    out = []
    for e in events:
        visible, basis = ntk.sees(e.label, e.organisation_id)
        out.append(history.Shown(e, visible, basis))
    return out


async def timeline_read(
    session: AsyncSession, principal: Principal, loaded: LoadedCase, *, limit: int, offset: int
) -> Read[tuple[list[TimelineItem], int]]:
    ntk = await need_to_know(session, principal, loaded.case)
    events, total = await history.events_of_case(session, loaded.case.id, limit=limit, offset=offset)
    shown = _judge(events, ntk)
    items = [TimelineItem.model_validate(history.event_out(s, show_label=ntk.is_chair)) for s in shown]
    return Read((items, total), _rows(loaded, "events", {s.basis for s in shown if s.visible}))


async def relapses_read(session: AsyncSession, principal: Principal, loaded: LoadedCase) -> Read[RelapseHistory]:
    ntk = await need_to_know(session, principal, loaded.case)
    events = await history.relapse_events(session, loaded.client.id)
    shown = _judge(events, ntk)
    body: dict[str, Any] = history.relapse_summary([s for s in shown if s.visible])
    visible_health, _ = ntk.sees(Label.health, None)
    body["restricted"] = not visible_health
    return Read(RelapseHistory.model_validate(body),
                _rows(loaded, "relapses", {s.basis for s in shown if s.visible}))


def flag_out(flag: CaseFlag, ntk: NeedToKnow) -> tuple[FlagOut, bool, str | None]:
    visible, basis = ntk.sees(flag.label, None)
    if visible:
        return (FlagOut(id=flag.id, case_id=flag.case_id, kind=flag.kind, reason=flag.reason, label=flag.label,
                        severity=flag.severity, created_at=flag.created_at, hidden=False, count=flag.count,
                        last_seen_at=flag.last_seen_at), True, basis)
    return (FlagOut(id=flag.id, case_id=flag.case_id, kind=None, reason=hidden_signal_text(flag.label, ntk),
                    label=flag.label if ntk.is_chair else None, severity=None, created_at=flag.created_at,
                    hidden=True), False, None)


async def flags_read(session: AsyncSession, principal: Principal, loaded: LoadedCase) -> Read[list[FlagOut]]:
    ntk = await need_to_know(session, principal, loaded.case)
    judged = [flag_out(f, ntk) for f in await history.open_flags(session, loaded.case.id)]
    return Read([f for f, _v, _b in judged], _rows(loaded, "flags", {b for _f, v, b in judged if v}))


@dataclass(frozen=True)
class CaseTimeline:
    """The case page's timeline: the open flags and the latest partner events, each shaped by the
    read paths above (hidden items read "afgeschermd")."""

    flags: list[FlagOut]
    events: list[TimelineItem]
    total: int


async def case_page_timeline(
    session: AsyncSession, principal: Principal, loaded: LoadedCase, *, limit: int = 50
) -> Read[CaseTimeline | None]:
    """The timeline and flags for the case page, by the API's read paths (/events and /flags) with
    their access-log rows; None for who may read the case but not its events (a guest): nothing
    read, nothing logged."""
    if not authorize(principal, Op.event_read, loaded.target).allowed:
        return Read(None, ())
    flags = await flags_read(session, principal, loaded)
    timeline = await timeline_read(session, principal, loaded, limit=limit, offset=0)
    events, total = timeline.data
    return Read(CaseTimeline(flags=flags.data, events=events, total=total), (*flags.access, *timeline.access))
