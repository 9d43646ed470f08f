"""The intake checklist of the approach, per case. Items that the data can answer are computed on
every read (so signing the agreement ticks its item by itself); the others are ticked by hand."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.clock import clock
from app.errors import UnprocessableEntity
from app.models import Agreement, Case, ChangeRecord, ChecklistTick, Client, Goal, Plan
from app.models.predicates import agreement_is_signed_unexpired, case_is_open
from app.schemas.cases import ChecklistProgress
from app.services.common import record_change

PLAN_DEADLINE_DAYS = 28


@dataclass(frozen=True)
class ItemSpec:
    key: str
    title: str
    automatic: bool


ITEMS: tuple[ItemSpec, ...] = (
    ItemSpec("client_informed", "Cliënt geïnformeerd over de aanpak", automatic=False),
    ItemSpec("agreement_signed", "Driepartijenovereenkomst getekend", automatic=True),
    ItemSpec("case_director_named", "Casusregisseur benoemd", automatic=True),
    ItemSpec("partners_information_gathered", "Informatie van de partners verzameld", automatic=False),
    ItemSpec("plan_within_four_weeks", "Plan van aanpak binnen vier weken gemaakt", automatic=True),
    ItemSpec("first_review_date_set", "Eerste evaluatiedatum gepland", automatic=True),
)
MANUAL = frozenset(i.key for i in ITEMS if not i.automatic)


@dataclass(frozen=True)
class ItemState:
    spec: ItemSpec
    done: bool
    ticked_by_id: uuid.UUID | None = None
    ticked_at: datetime | None = None
    due_on: date | None = None
    overdue: bool = False


@dataclass(frozen=True)
class Checklist:
    case: Case
    client_number: str
    items: list[ItemState]

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def complete(self) -> bool:
        return self.done == len(self.items)


@dataclass(frozen=True)
class ChecklistFacts:
    """What the computed items are answered from, per case."""

    signed: bool  # a signed, unexpired agreement
    has_goals: bool
    goals_made_at: datetime | None  # when the plan first got goals (else its last change)


def checklist_from(case: Case, number: str, facts: ChecklistFacts, ticks: dict[str, ChecklistTick]) -> Checklist:
    today = clock.today()
    states = []
    for spec in ITEMS:
        if not spec.automatic:
            tick = ticks.get(spec.key)
            states.append(ItemState(spec, tick is not None, tick.ticked_by_id if tick else None,
                                    tick.ticked_at if tick else None))
        elif spec.key == "agreement_signed":
            states.append(ItemState(spec, facts.signed))
        elif spec.key == "case_director_named":
            states.append(ItemState(spec, case.case_director_id is not None))
        elif spec.key == "first_review_date_set":
            states.append(ItemState(spec, case.next_review_date is not None))
        else:
            due = case.opened_on + timedelta(days=PLAN_DEADLINE_DAYS)
            made = facts.goals_made_at
            done = facts.has_goals and made is not None and made.date() <= due
            states.append(ItemState(spec, done, due_on=due, overdue=not done and today > due))
    return Checklist(case, number, states)


async def checklists(session: AsyncSession, cases: list[tuple[Case, str]]) -> list[Checklist]:
    """Checklists of many cases in a fixed number of queries."""
    ids = [c.id for c, _ in cases]
    if not ids:
        return []
    today = clock.today()
    # One statement for the computed items of every case (the case detail has a statement budget).
    signed = sa.exists().where(Agreement.case_id == Case.id, agreement_is_signed_unexpired(today))
    has_goals = sa.exists().where(Plan.case_id == Case.id, Goal.plan_id == Plan.id)
    # When the plan first got goals: the first change that touched them, else the plan's last change.
    first_goals = (
        sa.select(sa.func.min(ChangeRecord.changed_at))
        .where(
            ChangeRecord.case_id == Case.id,
            ChangeRecord.entity_type == "plan",
            ChangeRecord.changes.has_key("goals"),  # type: ignore[attr-defined]
        )
        .scalar_subquery()
    )
    plan_updated = sa.select(Plan.updated_at).where(Plan.case_id == Case.id).limit(1).scalar_subquery()
    facts = {
        r[0]: ChecklistFacts(signed=bool(r[1]), has_goals=bool(r[2]), goals_made_at=r[3] or r[4])
        for r in await session.execute(
            sa.select(Case.id, signed, has_goals, first_goals, plan_updated).where(Case.id.in_(ids))  # type: ignore[attr-defined]
        )
    }
    ticks: dict[uuid.UUID, dict[str, ChecklistTick]] = {}
    for t in (
        await session.execute(sa.select(ChecklistTick).where(ChecklistTick.case_id.in_(ids)))  # type: ignore[attr-defined]
    ).scalars():
        ticks.setdefault(t.case_id, {})[t.item] = t
    return [checklist_from(case, number, facts[case.id], ticks.get(case.id, {})) for case, number in cases]


async def checklist_of(session: AsyncSession, case: Case, client_number: str) -> Checklist:
    return (await checklists(session, [(case, client_number)]))[0]


def progress(checklist: Checklist) -> ChecklistProgress:
    return ChecklistProgress(complete=checklist.complete, done=checklist.done, total=len(checklist.items))


async def set_tick(
    session: AsyncSession, principal: Principal, *, case: Case, item: str, done: bool, membership_id: uuid.UUID
) -> None:
    if item not in {i.key for i in ITEMS}:
        raise UnprocessableEntity("No such checklist item.", pointer="#/item")
    if item not in MANUAL:
        raise UnprocessableEntity("This item is ticked automatically from the case's data.", pointer="#/item")
    existing = (
        await session.execute(
            sa.select(ChecklistTick).where(ChecklistTick.case_id == case.id, ChecklistTick.item == item)
        )
    ).scalar_one_or_none()
    if done and existing is None:
        session.add(ChecklistTick(case_id=case.id, item=item, ticked_by_id=membership_id))
    elif not done and existing is not None:
        await session.delete(existing)
    else:
        return
    record_change(session, principal, case_id=case.id, entity_type="checklist", entity_id=case.id,
                  version=case.version, operation="update", changes={item: {"from": not done, "to": done}})
    await session.flush()


async def open_cases_of(session: AsyncSession, conference_ids: list[uuid.UUID]) -> list[tuple[Case, str]]:
    if not conference_ids:
        return []
    rows = await session.execute(
        sa.select(Case, Client.client_number)
        .join(Client, Client.id == Case.client_id)
        .where(Case.conference_id.in_(conference_ids), case_is_open())  # type: ignore[attr-defined]
        .order_by(Case.opened_on, Case.id)
    )
    return [(r[0], r[1]) for r in rows]
