"""Issue 18, acceptance 1: every outcome figure computed from a seeded conference with known
answers, counted by hand below, including the suppression of counts under 5 and of the
complementary counts that would give them away. Plus: who may read the figures (the chair,
members, policy staff; never another conference), bad filters (422, logged), the access log, CSV.

The clock stands at 2026-07-15 12:00 UTC; the period asked is 2026-01-01 .. 2026-06-30
(Europe/Amsterdam). Everything is seeded at 12:00 UTC unless said otherwise, so no day or month
boundary is near.

The seed (conference A; area "Noord" unless said):
  A1..A6  referred 01-05, opened 01-10 (selected), prioritised 02-10, active 03-10 (history rows)
  B       opened 01-10 (selected), prioritised 02-10, closed 04-10 (no referral)
  C1, C2  opened 2025-11-05 in monitoring, no history (monitoring since they opened)
  D       area "Zuid", opened 03-10 in active, no history
  E       opened 2025-10-01 in active, no history
  a case in conference B (active, referral, actions, events): never counted
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.clock import clock
from app.db import Database
from app.models import (
    Action,
    AftercareWatch,
    AgendaItem,
    Assessment,
    Case,
    ChangeRecord,
    Client,
    Conference,
    Consultation,
    Meeting,
    PartnerEvent,
    Referral,
)
from app.services.cases.clients import new_client_number
from app.services.outcomes.suppression import Grid, protect
from tests.factories import World

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}
W = "<5"  # withheld


def at(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Seed:
    def __init__(self, session: Any, world: World) -> None:
        self.session = session
        self.world = world
        self._events = 0

    async def case(self, *, opened: datetime, phase: str, area: str | None = "Noord",
                   conference: Conference | None = None, closed: datetime | None = None) -> Case:
        conference = conference or self.world.a
        client = Client(conference_id=conference.id, client_number=new_client_number(), name="Cliënt Telling",
                        date_of_birth=date(1980, 1, 1))
        self.session.add(client)
        await self.session.flush()
        case = Case(conference_id=conference.id, client_id=client.id, phase=phase, area=area,
                    opened_on=opened.date(), opened_at=opened, closed_at=closed,
                    closure_reason="other" if phase == "closed" else None)
        self.session.add(case)
        await self.session.flush()
        return case

    def history(self, case: Case, entity: str, entity_id: uuid.UUID, when: datetime, changes: dict) -> None:
        self.session.add(ChangeRecord(case_id=case.id, entity_type=entity, entity_id=entity_id, version=1,
                                      operation="update", actor_issuer="test", actor_subject="chair-sub",
                                      actor_name="Chair", changes=changes, changed_at=when))

    def phase(self, case: Case, when: datetime, before: str | None, after: str) -> None:
        self.history(case, "case", case.id, when, {"phase": {"from": before, "to": after}})

    def action(self, case: Case, *, org: str, due: date, status: str = "open", created: datetime = at(1, 20),
               coverage: str = "not_applicable", done_at: datetime | None = None,
               updated: datetime | None = None) -> Action:
        member = {"gemeente": "gemeente_member", "politie": "police_member", "zorg": "care_member"}[org]
        if case.conference_id == self.world.b.id:
            member = "police_member_b"
        action = Action(case_id=case.id, conference_id=case.conference_id, title="Telling", life_domain="housing",
                        owner_organisation_id=self.world.orgs[org].id, due_date=due, status=status,
                        committed_by_id=self.world.members[member].id, coverage=coverage,
                        created_at=created, updated_at=updated or created)
        self.session.add(action)
        if done_at is not None:
            self.history(case, "action", action.id, done_at, {"status": {"from": "open", "to": "done"}})
        return action

    def event(self, case: Case, when: datetime, kind: str = "relapse") -> None:
        self._events += 1
        self.session.add(PartnerEvent(
            organisation_id=self.world.orgs["zorg"].id, source="urn:zorg", event_id=f"e-{self._events}",
            type=kind, subject_reference="ZRG", client_id=case.client_id, case_id=case.id, occurred_at=when,
            label="health", severity="high", data={}, payload_hash="0" * 64))

    def referral(self, when: datetime, case: Case | None = None, conference: Conference | None = None,
                 client_id: uuid.UUID | None = None) -> Referral:
        conference = conference or self.world.a
        chair = self.world.members["chair" if conference.id == self.world.a.id else "chair_b"]
        referral = Referral(conference_id=conference.id, client_id=case.client_id if case else client_id,
                            referred_by_id=chair.id, referring_organisation_id=self.world.orgs["gemeente"].id,
                            reason="Zorgen.", status="accepted" if case else "declined",
                            case_id=case.id if case else None, created_at=when)
        self.session.add(referral)
        return referral

    def assessment(self, case: Case, on: date, scores: dict[str, int]) -> None:
        self.session.add(Assessment(case_id=case.id, assessed_on=on, scores=scores,
                                    assessed_by_id=self.world.members["care_member"].id))

    def watch(self, case: Case, start: datetime, end: datetime) -> None:
        self.session.add(AftercareWatch(case_id=case.id, client_id=case.client_id, started_at=start, ends_at=end))


async def seed(owner_db: Database, world: World) -> dict[str, Case]:
    async with owner_db.sessions() as session:
        s = Seed(session, world)
        a = [await s.case(opened=at(1, 10), phase="active") for _ in range(6)]
        b = await s.case(opened=at(1, 10), phase="closed", closed=at(4, 10))
        c1 = await s.case(opened=at(11, 5, year=2025), phase="monitoring")
        c2 = await s.case(opened=at(11, 5, year=2025), phase="monitoring")
        d = await s.case(opened=at(3, 10), phase="active", area="Zuid")
        e = await s.case(opened=at(10, 1, year=2025), phase="active")
        other = await s.case(opened=at(1, 10), phase="active", conference=world.b)

        # phase history
        for case in a:
            s.phase(case, at(1, 10), None, "selected")
            s.phase(case, at(2, 10), "selected", "prioritised")
            s.phase(case, at(3, 10), "prioritised", "active")
        s.phase(b, at(1, 10), None, "selected")
        s.phase(b, at(2, 10), "selected", "prioritised")
        s.phase(b, at(4, 10), "prioritised", "closed")
        s.phase(other, at(1, 10), None, "selected")

        # referrals: A1..A6 (accepted) and five declined ones in the period; one before it; one in B
        referrals = [s.referral(at(1, 5), case) for case in a]
        for _ in range(5):
            s.referral(at(2, 1), client_id=c1.client_id)
        s.referral(at(12, 20, year=2025), client_id=c2.client_id)
        s.referral(at(1, 5), other, conference=world.b)
        await session.flush()

        # first actions: A1..A5 at 01-15 (due after the period, so not in the on-time figure)
        for case in a[:5]:
            s.action(case, org="politie", due=date(2026, 8, 31), created=at(1, 15))
        s.action(other, org="politie", due=date(2026, 8, 31), created=at(1, 6))
        # first discussion: a held meeting on 01-13 with the six referrals on its published agenda;
        # an earlier, cancelled one with the same items does not count
        for starts, status in ((at(1, 13), "held"), (at(1, 7), "cancelled")):
            meeting = Meeting(conference_id=world.a.id, starts_at=starts, ends_at=starts + timedelta(hours=2),
                              status=status, agenda_status="published")
            session.add(meeting)
            await session.flush()
            session.add_all(AgendaItem(meeting_id=meeting.id, kind="referral", referral_id=r.id, position=i)
                            for i, r in enumerate(referrals))

        # actions on time, all on A1, due 03-15 (Gemeente 5/6/7, Politie 6/1/5, Zorg 7/5/6)
        due = date(2026, 3, 15)
        plan = {"gemeente": (5, 6, 7), "politie": (6, 1, 5), "zorg": (7, 5, 6)}
        for org, (on_time, late, not_done) in plan.items():
            for i in range(on_time):
                if org == "gemeente" and i == 0:  # 23:30 in Amsterdam on the due date: on time
                    s.action(a[0], org=org, due=due, status="done", done_at=at(3, 15, 22, 30))
                elif org == "zorg" and i == 0:  # no history row: its last update (03-10) counts
                    s.action(a[0], org=org, due=due, status="done", updated=at(3, 10))
                else:
                    s.action(a[0], org=org, due=due, status="done", done_at=at(3, 14))
            for i in range(late):
                if org == "gemeente" and i == 0:  # 00:30 in Amsterdam the day after: late
                    s.action(a[0], org=org, due=due, status="done", done_at=at(3, 15, 23, 30))
                else:
                    s.action(a[0], org=org, due=due, status="done", done_at=at(3, 17))
            for i in range(not_done):
                s.action(a[0], org=org, due=due, status="in_progress" if i % 2 else "open")
        s.action(a[0], org="politie", due=due, status="cancelled")  # cancelled: not counted
        s.action(a[0], org="politie", due=date(2026, 7, 10))  # due after the period
        s.action(other, org="politie", due=due)  # conference B

        # escalations on A2 (due after the period): Feb 5 open + 2 done, Apr 6 open + 5 done
        for month, open_, done in ((2, 5, 2), (4, 6, 5)):
            for i in range(open_ + done):
                s.action(a[1], org="gemeente", due=date(2026, 8, 31), created=at(month, 15),
                         coverage="escalation_required", status="open" if i < open_ else "done")
        s.action(other, org="politie", due=date(2026, 8, 31), created=at(2, 15), coverage="escalation_required")

        # ZRM: first 01-20, a middle one 03-20 (ignored), latest 05-20; A1 also one in 2025 (outside)
        s.assessment(a[0], date(2025, 12, 20), {"housing": 1, "finances": 1, "substance_use": 5})
        firsts = {"housing": 2, "finances": 3}
        latest = [  # A1..A6
            {"housing": 3, "finances": 2, "substance_use": 2},
            {"housing": 3, "finances": 2},
            {"housing": 3, "finances": 2},
            {"housing": 3, "finances": 3},
            {"housing": 3, "finances": 3},
            {"housing": 2, "finances": 3},
        ]
        for i, case in enumerate(a):
            s.assessment(case, date(2026, 1, 20), {**firsts, **({"substance_use": 1} if i == 0 else {})})
            s.assessment(case, date(2026, 3, 20), {"housing": 5, "finances": 5})
            s.assessment(case, date(2026, 5, 20), latest[i])
        s.assessment(c1, date(2026, 2, 1), {"housing": 1})  # one assessment only: no trend

        # relapse signals: Jan 5 relapses; Feb 2 relapses + 6 lapses; Jun 6 relapses + 5 lapses
        for case in (a[0], a[1], a[2], b, b):
            s.event(case, at(1, 15))
        for case in (a[0], a[0]):
            s.event(case, at(2, 15))
        for case in (a[1], a[1], a[1], b, b, b):
            s.event(case, at(2, 15), "lapse")
        for case in (a[2], a[3], a[4], a[2], a[3], a[4]):
            s.event(case, at(6, 15))
        for _ in range(5):
            s.event(a[0], at(6, 15), "lapse")
        s.event(c1, at(9, 15, year=2025))  # before the period: only in the 12-month window
        s.event(a[5], at(3, 15), "overdose")  # not a relapse
        s.event(other, at(3, 15))  # conference B

        # aftercare watches ending within the period: five without a relapse, one (A2) with
        s.watch(b, at(4, 10), at(6, 10))
        s.watch(c2, at(1, 1), at(3, 1))
        s.watch(c1, at(2, 1), at(5, 1))
        s.watch(e, at(1, 1), at(4, 1))
        s.watch(a[5], at(2, 1), at(4, 1))
        s.watch(a[1], at(1, 1), at(2, 20))  # A2 relapsed on 01-15
        s.watch(a[2], at(6, 1), at(8, 1))  # ends after the period
        s.watch(other, at(1, 1), at(2, 1))  # conference B

        # consultations (spreekuur): Feb 1 open + 5 answered; Jun 6 answered + 5 turned into a
        # referral; one in 2025 and one in conference B are not counted
        for when, status, n in ((at(2, 15), "open", 1), (at(2, 15), "answered", 5), (at(6, 15), "answered", 6),
                                (at(6, 15), "converted", 5), (at(12, 15, year=2025), "open", 1)):
            for _ in range(n):
                session.add(Consultation(conference_id=world.a.id, asked_by_id=world.members["wijkteam_member"].id,
                                         asking_organisation_id=world.orgs["wijkteam"].id, question="Wat nu?",
                                         status=status, created_at=when))
        session.add(Consultation(conference_id=world.b.id, asked_by_id=world.members["police_member_b"].id,
                                 asking_organisation_id=world.orgs["politie"].id, question="Wat nu?",
                                 created_at=at(2, 15)))
        await session.commit()
    return {"A1": a[0], "D": d}


def table(body: dict, key: str) -> dict:
    return next(t for t in body["tables"] if t["key"] == key)


def shown(cell: dict | None) -> int | str | None:
    if cell is None:
        return None
    assert (cell["value"] is None) == cell["suppressed"], cell
    return W if cell["suppressed"] else cell["value"]


def grid(t: dict) -> dict[str, list]:
    """{row key: [cells..., row total]} with "<5" for withheld counts; "total": the column totals and
    the grand total."""
    out = {r["key"]: [shown(c) for c in r["cells"]] + ([shown(r["total"])] if r["total"] else []) for r in t["rows"]}
    if t["column_totals"] is not None:
        out["total"] = [shown(c) for c in t["column_totals"]] + [shown(t["grand_total"])]
    return out


def measures(t: dict) -> dict[str, dict[str, float | str | None]]:
    return {r["key"]: {m["key"]: W if m["suppressed"] else m["value"] for m in r["measures"]} for r in t["rows"]}


@pytest.fixture
async def figures(client: httpx.AsyncClient, world: World, owner_db: Database) -> dict:
    clock.freeze(NOW)
    await seed(owner_db, world)
    response = await client.get(f"/api/v1/conferences/{world.a.id}/outcomes", params=PERIOD,
                                headers=world.headers("policy_staff"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_cases_per_phase_at_each_months_end(figures: dict) -> None:
    t = table(figures, "cases_per_phase")
    assert [c["key"] for c in t["columns"]] == ["selected", "prioritised", "active", "monitoring", "closed"]
    assert grid(t) == {
        # Jan: selected A1-6 + B = 7; active E = 1; monitoring C1, C2 = 2; total 10. The cells
        # under 5 (0, 1, 2, 0) are withheld; together they are 3, so none can be told from 10 - 7.
        "2026-01": [7, W, W, W, W, 10],
        # Feb: prioritised A1-6 + B = 7; active E; monitoring C1, C2
        "2026-02": [W, 7, W, W, W, 10],
        # Mar: prioritised B = 1; active A1-6 + D (opened 03-10) + E = 8; monitoring 2; total 11
        "2026-03": [W, W, 8, W, W, 11],
        # Apr .. Jun: active 8; monitoring 2; closed B (04-10) = 1
        "2026-04": [W, W, 8, W, W, 11],
        "2026-05": [W, W, 8, W, W, 11],
        "2026-06": [W, W, 8, W, W, 11],
    }


async def test_time_spent_in_each_phase(figures: dict) -> None:
    t = table(figures, "time_in_phase")
    # Stays that ended in the period: selected A1-6 and B, 01-10 .. 02-10 = 31 days each (7);
    # prioritised A1-6 02-10 .. 03-10 = 28 days, B 02-10 .. 04-10 = 59 days (7): median 28, mean
    # (6 * 28 + 59) / 7 = 32.43. No active or monitoring stay ended (C1, C2, D, E, A1-6 go on).
    assert grid(t) == {"selected": [7], "prioritised": [7], "active": [W], "monitoring": [W]}
    assert measures(t) == {
        "selected": {"median_days": 31.0, "mean_days": 31.0},
        "prioritised": {"median_days": 28.0, "mean_days": 32.4},
        "active": {"median_days": W, "mean_days": W},
        "monitoring": {"median_days": W, "mean_days": W},
    }


async def test_referral_to_first_action_and_first_discussion(figures: dict) -> None:
    t = table(figures, "referral_first_step")
    # Referrals in the period: A1-6 (01-05) and five declined ones (02-01) = 11; the one of
    # 2025-12-20 and conference B's are not counted. First action: A1-5 on 01-15 (10 days), A6
    # none, the declined none: 5 and 6. First discussion: the held meeting of 01-13 (8 days) for
    # A1-6 (the cancelled one of 01-07 does not count): 6 and 5.
    assert grid(t) == {"first_action": [5, 6, 11], "first_discussion": [6, 5, 11]}
    assert measures(t) == {"first_action": {"median_days": 10.0}, "first_discussion": {"median_days": 8.0}}


async def test_actions_done_on_time_per_organisation_with_complementary_suppression(figures: dict) -> None:
    t = table(figures, "actions_on_time")
    # Due 03-15: Gemeente 5 on time (one done 23:30 Amsterdam on the day), 6 late (one done 00:30
    # Amsterdam the next day), 7 not done; Politie 6 / 1 / 5; Zorg 7 / 5 / 6 (one on time by its
    # last update, without history). Not counted: a cancelled one, one due after the period, B's.
    # Raw: Gemeente [5, 6, 7] 18; Politie [6, 1, 5] 12; Zorg [7, 5, 6] 18; columns 18, 12, 18; 48.
    # Politie late 1 is under 5. Its row would give it away (12 - 6 - 5): the row's smallest other
    # cell goes too (not done 5). The late column would give it away (12 - 6 - 5): its smallest
    # other cell goes (Zorg 5). The not-done column now has Politie's 5 alone: Zorg's 6 goes.
    # Zorg's row then has two withheld (5 + 6), and so has every column: safe.
    assert grid(t) == {
        "Gemeente": [5, 6, 7, 18],
        "Politie": [6, W, W, 12],
        "Zorg": [7, W, W, 18],
        "total": [18, 12, 18, 48],
    }


async def test_escalations_per_month(figures: dict) -> None:
    t = table(figures, "escalations")
    # Feb: 5 open + 2 handled = 7; Apr: 6 open + 5 handled = 11; other months 0; columns 11 and 7;
    # grand 18 (B's escalation not counted). Withheld: every 0, Feb's 2, then Feb's 5 (its row).
    # The row totals (0, 7, 0, 11, 0, 0) against 18: the four withheld zeros sum to 0, so each
    # would be known to be 0: the smallest published row total (Feb's 7) goes too.
    assert grid(t) == {
        "2026-01": [W, W, W],
        "2026-02": [W, W, W],
        "2026-03": [W, W, W],
        "2026-04": [6, 5, 11],
        "2026-05": [W, W, W],
        "2026-06": [W, W, W],
        "total": [11, 7, 18],
    }


async def test_zrm_trend_per_life_domain(figures: dict) -> None:
    t = table(figures, "zrm_trend")
    # First 01-20 against latest 05-20 (the 03-20 scores and A1's 2025 ones play no part; C1 has
    # one assessment). Housing: A1-5 2 -> 3, A6 2 -> 2: improved 5, same 1; mean 2.0 -> 17/6 = 2.8.
    # Finances: A1-3 3 -> 2, A4-6 3 -> 3: same 3, worse 3; mean 3.0 -> 15/6 = 2.5.
    # Substance use: A1 only (1 -> 2): withheld, and its means too.
    rows = grid(t)
    assert rows["housing"] == [5, W, W, 6]
    assert rows["finances"] == [W, W, W, 6]
    assert rows["substance_use"] == [W, W, W, W]
    assert rows["justice"] == [W, W, W, W]
    assert len(rows) == 13
    m = measures(t)
    assert m["housing"] == {"mean_first": 2.0, "mean_latest": 2.8}
    assert m["finances"] == {"mean_first": 3.0, "mean_latest": 2.5}
    assert m["substance_use"] == {"mean_first": W, "mean_latest": W}


async def test_relapse_signals_per_month(figures: dict) -> None:
    t = table(figures, "relapse_signals")
    # Raw: Jan [5, 0] 5; Feb [2, 6] 8; Mar-May [0, 0] 0; Jun [6, 5] 11; columns 13, 11; 24.
    # Not counted: C1's of 2025-09, A6's overdose, B's conference. Withheld: the zeros and Feb's
    # 2; Jan's 5 (its row had one withheld cell), Feb's 6 (idem). The row totals against 24: the
    # withheld zeros of Mar-May sum to 0, so the smallest published row total (Jan's 5) goes.
    assert grid(t) == {
        "2026-01": [W, W, W],
        "2026-02": [W, W, 8],
        "2026-03": [W, W, W],
        "2026-04": [W, W, W],
        "2026-05": [W, W, W],
        "2026-06": [6, 5, 11],
        "total": [13, 11, 24],
    }


async def test_clients_without_a_signal_in_6_and_12_months(figures: dict) -> None:
    t = table(figures, "without_signal")
    # Clients with a case open at the period's end: A1-6, C1, C2, D, E = 10 (B closed 04-10).
    # 6 months: a signal for A1 (Jan, Feb, Jun), A2 (Jan, Feb), A3 (Jan, Jun), A4, A5 (Jun) = 5;
    # without: A6 (an overdose is not a relapse), C1, C2, D, E = 5: 50.0 %.
    # 12 months: C1's of 2025-09 too: 6 with, 4 without; the 4 is withheld and with it the 6.
    assert grid(t) == {"6_months": [5, 5, 10], "12_months": [W, W, 10]}


async def test_aftercare_watches_completed_without_relapse(figures: dict) -> None:
    t = table(figures, "aftercare")
    # Ended in the period: B, C2, C1, E, A6 without a relapse during the watch (5); A2 with one
    # (01-15): 1; total 6. The 1 is withheld, so the 5 is too. A3's ends after the period.
    assert grid(t) == {"completed": [W, W, 6]}


async def test_consultations_held(figures: dict) -> None:
    t = table(figures, "consultations")
    assert [c["key"] for c in t["columns"]] == ["open", "answered", "converted"]
    # Raw: Feb [1, 5, 0] 6; Jun [0, 6, 5] 11; other months 0; columns 1, 11, 5; 17.
    # Withheld: every 0, Feb's 1, the open column's total 1. Jun's row: its 0 alone would be known
    # (11 - 6 - 5): its 5 goes. The answered column: its zeros alone would be known (11 - 5 - 6):
    # Feb's 5 goes. The column totals against 17: the open total alone: the converted total (5)
    # goes. The row totals against 17: the zeros alone: Feb's total (6) goes.
    assert grid(t) == {
        "2026-01": [W, W, W, W],
        "2026-02": [W, W, W, W],
        "2026-03": [W, W, W, W],
        "2026-04": [W, W, W, W],
        "2026-05": [W, W, W, W],
        "2026-06": [W, 6, W, 11],
        "total": [W, 11, W, 17],
    }


async def test_figures_carry_no_client_data(client: httpx.AsyncClient, world: World, owner_db: Database,
                                            figures: dict) -> None:
    async with owner_db.engine.connect() as conn:
        numbers = [r[0] for r in await conn.execute(sa.text("SELECT client_number FROM client"))]
        case_ids = [str(r[0]) for r in await conn.execute(sa.text('SELECT id FROM "case"'))]
    text = str(figures)
    assert not [n for n in numbers if n in text]
    assert not [c for c in case_ids if c in text]
    assert "Telling" not in text  # the clients' names, the actions' titles
    assert figures["areas"] == ["Noord"]  # Zuid has one case: not offered as a filter
    assert figures["threshold"] == 5
    assert figures["not_available"] == []


async def test_area_filter(client: httpx.AsyncClient, world: World, owner_db: Database) -> None:
    clock.freeze(NOW)
    await seed(owner_db, world)
    url = f"/api/v1/conferences/{world.a.id}/outcomes"
    zuid = (await client.get(url, params={**PERIOD, "area": "Zuid"}, headers=world.headers("chair"))).json()
    # Zuid: only D, active from 03-10: every count under 5.
    assert grid(table(zuid, "cases_per_phase"))["2026-04"] == [W, W, W, W, W, W]
    assert zuid["area"] == "Zuid"
    # consultations are anonymous: no area, so no figure for one, and the answer says why
    assert "consultations" not in [t["key"] for t in zuid["tables"]]
    assert [n.split(":")[0] for n in zuid["not_available"]] == ["consultations"]
    noord = (await client.get(url, params={**PERIOD, "area": "Noord"}, headers=world.headers("chair"))).json()
    # Noord without D: active A1-6 + E = 7, total 10.
    assert grid(table(noord, "cases_per_phase"))["2026-04"] == [W, W, 7, W, W, 10]


async def test_csv_has_the_same_published_numbers(client: httpx.AsyncClient, world: World, owner_db: Database,
                                                  figures: dict) -> None:
    response = await client.get(f"/api/v1/conferences/{world.a.id}/outcomes.csv", params=PERIOD,
                                headers=world.headers("chair"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["figure", "row", "column", "value"]
    lines = {tuple(r[:3]): r[3] for r in rows[1:]}
    assert lines[("actions_on_time", "Politie", "late")] == W
    assert lines[("actions_on_time", "Politie", "not_done")] == W
    assert lines[("actions_on_time", "Politie", "on_time")] == "6"
    assert lines[("actions_on_time", "total", "total")] == "48"
    assert lines[("time_in_phase", "prioritised", "mean_days")] == "32.4"
    assert lines[("relapse_signals", "2026-02", "total")] == "8"


async def test_who_may_read_the_figures(client: httpx.AsyncClient, world: World) -> None:
    url = f"/api/v1/conferences/{world.a.id}/outcomes"
    for person, status in (("chair", 200), ("police_member", 200), ("policy_staff", 200),
                           ("police_liaison", 403), ("privacy_officer", 403), ("admin", 403),
                           ("police_member_b", 404), ("police_system", 404)):
        response = await client.get(url, headers=world.headers(person))
        assert response.status_code == status, (person, response.text)
    other = await client.get(f"/api/v1/conferences/{world.b.id}/outcomes", headers=world.headers("policy_staff"))
    assert other.status_code == 404


async def test_policy_staff_never_read_a_case(client: httpx.AsyncClient, world: World, owner_db: Database) -> None:
    clock.freeze(NOW)
    cases = await seed(owner_db, world)
    headers = world.headers("policy_staff")
    case_id = cases["A1"].id
    for path in (f"/api/v1/cases/{case_id}", f"/api/v1/cases/{case_id}/plan", f"/api/v1/cases/{case_id}/events",
                 f"/api/v1/cases/{case_id}/assessments", f"/api/v1/cases/{case_id}/history"):
        response = await client.get(path, headers=headers)
        assert response.status_code in (403, 404), (path, response.status_code)
    listed = await client.get("/api/v1/cases", headers=headers)
    assert listed.status_code == 403 or listed.json()["items"] == []


async def _log(owner_db: Database, request_id: str) -> list[Any]:
    async with owner_db.engine.connect() as conn:
        return list(await conn.execute(sa.text(
            "SELECT action, resource_type, resource_id, conference_id, client_number, case_id, part, outcome "
            "FROM access_log WHERE request_id = :r"), {"r": request_id}))


async def test_every_figures_read_is_logged(client: httpx.AsyncClient, world: World, owner_db: Database) -> None:
    url = f"/api/v1/conferences/{world.a.id}/outcomes"
    read = await client.get(url, params={"area": "Noord"}, headers=world.headers("policy_staff"))
    assert [tuple(r) for r in await _log(owner_db, read.headers["x-request-id"])] == [
        ("read", "outcomes", str(world.a.id), world.a.id, None, None, "area:Noord", "allowed")]
    export = await client.get(url + ".csv", headers=world.headers("chair"))
    assert [(r.action, r.outcome) for r in await _log(owner_db, export.headers["x-request-id"])] == [
        ("export", "allowed")]
    refused = await client.get(url, headers=world.headers("police_liaison"))
    assert [(r.action, r.resource_type, r.outcome) for r in await _log(owner_db, refused.headers["x-request-id"])] \
        == [("read", "outcomes", "denied")]


@pytest.mark.parametrize(("params", "pointer"), [
    ({"from": "2026-06-30", "to": "2026-01-01"}, "#query:from"),  # inverted
    ({"from": "2023-01-01", "to": "2026-06-30"}, "#query:from"),  # longer than 730 days of retention
    ({"area": "x" * 65}, "#query:area"),
])
async def test_bad_filters_are_refused_and_logged(client: httpx.AsyncClient, world: World, owner_db: Database,
                                                  params: dict, pointer: str) -> None:
    response = await client.get(f"/api/v1/conferences/{world.a.id}/outcomes", params=params,
                                headers=world.headers("chair"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert pointer in str(problem)
    rows = await _log(owner_db, response.headers["x-request-id"])
    assert [(r.action, r.resource_type, r.outcome) for r in rows] == [("read", "outcomes", "denied")]


async def test_default_period_is_the_last_twelve_months(client: httpx.AsyncClient, world: World) -> None:
    clock.freeze(NOW)
    response = await client.get(f"/api/v1/conferences/{world.a.id}/outcomes", headers=world.headers("chair"))
    body = response.json()
    assert (body["period_from"], body["period_to"]) == ("2025-08-01", "2026-07-15")
    assert [r["key"] for r in table(body, "cases_per_phase")["rows"]][0] == "2025-08"
    assert len(table(body, "cases_per_phase")["rows"]) == 12


# --- the suppression rules on their own -------------------------------------------------------


def _flags(g: Grid) -> list[list[bool]]:
    return [[*g.cells[r], *(g.rows[r:r + 1] if g.row_totals else [])] for r in range(len(g.values))]


def test_a_line_with_one_small_cell_loses_its_next_smallest_cell() -> None:
    g = protect(Grid([[9, 2, 7, 12]], row_totals=True))
    # 2 is under 5; 30 - 9 - 7 - 12 would give it back: the next smallest (7) goes too.
    assert _flags(g) == [[False, True, True, False, False]]


def test_a_line_with_nothing_left_to_withhold_loses_its_total() -> None:
    g = protect(Grid([[3]], row_totals=True))
    assert _flags(g) == [[True, True]]
    g = protect(Grid([[8, 3]], row_totals=True, column_totals=True))
    # row: 3 withheld, 8 goes too; the columns' totals are each a cell's copy: they go too.
    assert g.cells == [[True, True]] and g.columns == [True, True]


def test_withheld_zeros_alone_against_a_total_are_not_safe() -> None:
    g = protect(Grid([[0, 0, 6, 9]], row_totals=True))
    # 0 and 0 withheld: 15 - 6 - 9 = 0 tells both: the 6 goes too.
    assert g.cells == [[True, True, True, False]]


def test_rows_that_share_a_total_withhold_it_together() -> None:
    g = protect(Grid([[6, 6], [8, 4]], row_totals=True, same_row_totals=True))
    assert g.cells == [[False, False], [True, True]] and g.rows == [False, False]
    g = protect(Grid([[2, 2], [1, 3]], row_totals=True, same_row_totals=True))
    assert g.rows == [True, True]


async def test_the_chair_sets_a_cases_area_and_the_figures_follow(client: httpx.AsyncClient, world: World,
                                                                  owner_db: Database) -> None:
    from tests.factories import add_case

    async with owner_db.sessions() as session:
        cases = [await add_case(session, world) for _ in range(5)]  # active, no area
        await session.commit()
    url = f"/api/v1/conferences/{world.a.id}/outcomes"
    for case in cases:
        path = f"/api/v1/cases/{case.id}"
        etag = (await client.get(path, headers=world.headers("chair"))).headers["ETag"]
        patched = await client.patch(path, json={"area": "Oost"}, headers=world.headers("chair", **{"If-Match": etag}))
        assert patched.status_code == 200, patched.text
        assert (await client.get(path, headers=world.headers("chair"))).json()["area"] == "Oost"
    oost = (await client.get(url, params={"area": "Oost"}, headers=world.headers("policy_staff"))).json()
    assert oost["areas"] == ["Oost"]  # five cases: offered as a filter
    last = table(oost, "cases_per_phase")["rows"][-1]
    # 5 cases, all active, at the end of this month: the other phases' zeros are withheld, and since
    # they would add up to 0 against the total 5, the 5 active goes too; the total stays.
    assert [shown(c) for c in last["cells"]] == [W, W, W, W, W] and shown(last["total"]) == 5
    too_long = await client.patch(f"/api/v1/cases/{cases[0].id}", json={"area": "x" * 65},
                                  headers=world.headers("chair", **{"If-Match": '"v2"'}))
    assert too_long.status_code == 422


async def test_a_number_is_not_a_date(client: httpx.AsyncClient, world: World) -> None:
    """The fuzzer found `to=-2.225073858507e-311` read as seconds since 1970 (a 200)."""
    for value in ("-2.225073858507e-311", "1e5", ".5", "12"):
        response = await client.get(f"/api/v1/conferences/{world.a.id}/outcomes", params={"to": value},
                                    headers=world.headers("chair"))
        assert response.status_code == 422, (value, response.text)
