"""Meeting mode in the web client (issue 15): the chair runs the meeting one agenda item at a time
(item n of m, previous and next), records per item a decision with several actions, a phase
change, a review date and a case director (all or nothing), sees recorded items collapsed, and
publishes the list of decisions at the end. And: a fresh demo opens with a draft agenda."""

from __future__ import annotations

import sqlalchemy as sa

from app.db import Database
from app.demo.seed import demo_agenda_line, load_demo_data
from app.models import AgendaItem, Meeting


async def test_a_fresh_demo_has_a_draft_agenda_for_the_next_meeting(owner_db: Database) -> None:
    base = "http://127.0.0.1:8000"
    async with owner_db.sessions() as session:
        assert await load_demo_data(session, base_url=base)
        await session.commit()
    async with owner_db.sessions() as session:
        meetings = (await session.execute(sa.select(Meeting).order_by(Meeting.starts_at))).scalars().all()
        assert meetings, "the demo lays out the cadence's meetings"
        first = meetings[0]
        assert first.agenda_generated_at is not None and first.agenda_status == "draft"
        items = (await session.execute(sa.select(AgendaItem).where(AgendaItem.meeting_id == first.id,
                                                                   AgendaItem.removed.is_(False)))).scalars().all()
        assert items, "the draft of the next meeting has items"
        assert {i.kind for i in items} >= {"case"}
        line = await demo_agenda_line(session, base_url=base)
    assert line is not None and f"{base}/web/vergaderingen/{first.id}" in line
    assert f"{len(items)} items" in line and "(draft)" in line
