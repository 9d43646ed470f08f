"""Decisions turn into actions (with the mandate check), phase changes, review dates and case
directors; the besluitenlijst is published; exports, the calendar feed and the digest."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.clock import clock
from app.models import Action, Case, Decision
from tests.factories import World, add_action, add_case, add_mandate
from tests.meeting_helpers import MEETING_AT, NOW, add_meeting, chair_post


async def _published_meeting(client, world: World, owner_db, *, status: str = "scheduled"):
    clock.freeze(NOW)
    async with owner_db.sessions() as s:
        case = await add_case(s, world, name="Piet Geheim")
        await add_action(s, world, case, due_in_days=-4)
        await add_mandate(s, world.members["police_member"], "outreach", max_amount_cents=50_000)
        meeting = await add_meeting(s, world, status=status)
        await s.commit()
    draft = await chair_post(client, world, meeting.id, "/agenda/draft")
    assert draft.status_code == 200, draft.text
    item = draft.json()["items"][0]
    assert (await chair_post(client, world, meeting.id, "/agenda/publish")).status_code == 200
    return meeting, case, item


def _decision(world: World) -> dict:
    return {
        "text": "Politie legt huisbezoek af; zorg start intake. Door naar monitoren.",
        "actions": [
            {
                "title": "Huisbezoek met wijkagent",
                "life_domain": "housing",
                "owner_organisation_id": str(world.orgs["politie"].id),
                "committed_by_id": str(world.members["police_member"].id),
                "due_date": (NOW.date() + timedelta(days=14)).isoformat(),
                "resource_scope": "outreach",
                "resource_amount_cents": 10_000,
            },
            {
                "title": "Intake verslavingszorg",
                "life_domain": "substance_use",
                "owner_organisation_id": str(world.orgs["zorg"].id),
                "committed_by_id": str(world.members["care_member"].id),
                "due_date": (NOW.date() + timedelta(days=7)).isoformat(),
                "resource_scope": "treatment_intake",
                "resource_amount_cents": 100,
            },
        ],
        "phase": {"to": "monitoring"},
        "next_review_date": (NOW.date() + timedelta(days=42)).isoformat(),
        "case_director_id": str(world.members["gemeente_member"].id),
    }


async def test_a_decision_creates_actions_and_updates_the_case(client, world: World, owner_db) -> None:
    meeting, case, item = await _published_meeting(client, world, owner_db)
    response = await client.post(
        f"/api/v1/meetings/{meeting.id}/agenda/items/{item['id']}/decisions",
        headers=world.headers("chair"),
        json=_decision(world),
    )
    assert response.status_code == 201, response.text
    decision = response.json()
    assert len(decision["action_ids"]) == 2
    assert decision["phase_from"] == "active" and decision["phase_to"] == "monitoring"
    async with owner_db.sessions() as s:
        stored = await s.get(Case, case.id)
        actions = (
            (await s.execute(sa.select(Action).where(Action.id.in_(decision["action_ids"])))).scalars().all()
        )
    assert stored is not None
    assert stored.phase == "monitoring"
    assert stored.next_review_date == NOW.date() + timedelta(days=42)
    assert stored.case_director_id == world.members["gemeente_member"].id
    coverage = {a.title: a.coverage for a in actions}
    assert coverage == {
        "Huisbezoek met wijkagent": "covered",
        "Intake verslavingszorg": "escalation_required",
    }

    # an agenda with decisions cannot be reopened (its items are referenced by the decisions)
    assert (await chair_post(client, world, meeting.id, "/agenda/reopen")).status_code == 409

    # each organisation sees its new action through the normal action list
    police = await client.get(
        "/api/v1/actions",
        headers=world.headers("police_liaison"),
        params={"organisation_id": str(world.orgs["politie"].id), "due_after": NOW.date().isoformat()},
    )
    assert [a["title"] for a in police.json()["items"]] == ["Huisbezoek met wijkagent"]

    # members see the besluitenlijst only once it is published, after the meeting started
    hidden = await client.get(
        f"/api/v1/meetings/{meeting.id}/decisions", headers=world.headers("care_member")
    )
    assert hidden.status_code == 404
    early = await chair_post(client, world, meeting.id, "/decisions/publish")
    assert early.status_code == 409
    clock.freeze(MEETING_AT + timedelta(hours=3))
    published = await chair_post(client, world, meeting.id, "/decisions/publish")
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "held"
    shown = await client.get(f"/api/v1/meetings/{meeting.id}/decisions", headers=world.headers("care_member"))
    assert shown.status_code == 200
    body = shown.json()
    assert body["published"] is True
    assert [d["text"] for d in body["items"]] == [_decision(world)["text"]]
    assert {a["title"] for a in body["items"][0]["actions"]} == {
        "Huisbezoek met wijkagent",
        "Intake verslavingszorg",
    }
    assert "Piet Geheim" not in shown.text
    # after publication no more decisions
    late = await client.post(
        f"/api/v1/meetings/{meeting.id}/agenda/items/{item['id']}/decisions",
        headers=world.headers("chair"),
        json={"text": "Nog iets"},
    )
    assert late.status_code == 409


async def test_decisions_need_a_published_open_meeting_and_write_nothing_otherwise(
    client, world: World, owner_db
) -> None:
    clock.freeze(NOW)
    async with owner_db.sessions() as s:
        case = await add_case(s, world)
        await add_action(s, world, case, due_in_days=-4)
        draft_meeting = await add_meeting(s, world)
        await s.commit()
    items = (await chair_post(client, world, draft_meeting.id, "/agenda/draft")).json()["items"]
    unpublished = await client.post(
        f"/api/v1/meetings/{draft_meeting.id}/agenda/items/{items[0]['id']}/decisions",
        headers=world.headers("chair"),
        json=_decision(world),
    )
    assert unpublished.status_code == 409
    assert unpublished.headers["content-type"] == "application/problem+json"

    assert (await chair_post(client, world, draft_meeting.id, "/agenda/publish")).status_code == 200
    assert (await chair_post(client, world, draft_meeting.id, "/cancel")).status_code == 200
    cancelled = await client.post(
        f"/api/v1/meetings/{draft_meeting.id}/agenda/items/{items[0]['id']}/decisions",
        headers=world.headers("chair"),
        json=_decision(world),
    )
    assert cancelled.status_code == 409
    async with owner_db.sessions() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Decision))).scalar() == 0
        assert (await s.execute(sa.select(sa.func.count()).select_from(Action))).scalar() == 1
        stored = await s.get(Case, case.id)
        assert stored is not None and stored.phase == "active"


async def test_a_refused_part_rolls_back_the_whole_decision(client, world: World, owner_db) -> None:
    meeting, case, item = await _published_meeting(client, world, owner_db)
    body = _decision(world)
    body["phase"] = {"to": "selected"}  # not a valid transition from active
    invalid_phase = await client.post(
        f"/api/v1/meetings/{meeting.id}/agenda/items/{item['id']}/decisions",
        headers=world.headers("chair"),
        json=body,
    )
    assert invalid_phase.status_code == 409
    body = _decision(world)
    body["actions"][1]["owner_organisation_id"] = "00000000-0000-4000-8000-000000000000"
    bad_owner = await client.post(
        f"/api/v1/meetings/{meeting.id}/agenda/items/{item['id']}/decisions",
        headers=world.headers("chair"),
        json=body,
    )
    assert bad_owner.status_code == 422
    assert bad_owner.json()["detail"].startswith("Action 2:")
    body = _decision(world)
    body["actions"][0]["committed_by_id"] = str(world.members["care_member"].id)  # not of the police
    wrong_committer = await client.post(
        f"/api/v1/meetings/{meeting.id}/agenda/items/{item['id']}/decisions",
        headers=world.headers("chair"),
        json=body,
    )
    assert wrong_committer.status_code == 422, wrong_committer.text
    assert wrong_committer.json()["errors"][0]["pointer"] == "#/actions/0/committed_by_id"  # its place in the body
    member = await client.post(
        f"/api/v1/meetings/{meeting.id}/agenda/items/{item['id']}/decisions",
        headers=world.headers("police_member"),
        json={"text": "Ik besluit"},
    )
    assert member.status_code == 403
    async with owner_db.sessions() as s:
        assert (await s.execute(sa.select(sa.func.count()).select_from(Action))).scalar() == 1
        assert (await s.execute(sa.select(sa.func.count()).select_from(Decision))).scalar() == 0
        stored = await s.get(Case, case.id)
        assert stored is not None and stored.phase == "active" and stored.version == case.version


async def test_exports_render_the_agenda_and_decisions_in_dutch(client, world: World, owner_db) -> None:
    meeting, case, item = await _published_meeting(client, world, owner_db)
    decided = await client.post(
        f"/api/v1/meetings/{meeting.id}/agenda/items/{item['id']}/decisions",
        headers=world.headers("chair"),
        json=_decision(world),
    )
    assert decided.status_code == 201
    number = item["client_number"]

    chair_html = await client.get(
        f"/api/v1/meetings/{meeting.id}/agenda.html", headers=world.headers("chair")
    )
    member_html = await client.get(
        f"/api/v1/meetings/{meeting.id}/agenda.html", headers=world.headers("police_member")
    )
    assert chair_html.status_code == 200 and member_html.status_code == 200
    assert chair_html.headers["content-type"].startswith("text/html")
    for page in (chair_html.text, member_html.text):
        assert "Agenda Casusoverleg A" in page and number in page
        assert "dinsdag 3 maart 2026, 10:00 uur" in page
        assert "1 actie over de termijn" in page
    assert "Piet Geheim" in chair_html.text and "Piet Geheim" not in member_html.text

    pdf = await client.get(
        f"/api/v1/meetings/{meeting.id}/agenda.pdf", headers=world.headers("police_member")
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 800

    decisions_html = await client.get(
        f"/api/v1/meetings/{meeting.id}/decisions.html", headers=world.headers("chair")
    )
    assert decisions_html.status_code == 200
    assert "Besluitenlijst Casusoverleg A" in decisions_html.text
    assert (
        "Politie legt huisbezoek af" in decisions_html.text
        and "Huisbezoek met wijkagent" in decisions_html.text
    )
    assert "mandaat-escalatie nodig" in decisions_html.text
    decisions_pdf = await client.get(
        f"/api/v1/meetings/{meeting.id}/decisions.pdf", headers=world.headers("chair")
    )
    assert decisions_pdf.content.startswith(b"%PDF")
    async with owner_db.sessions() as s:
        exported = (
            await s.execute(
                sa.text(
                    "SELECT action, count(*) FROM access_log WHERE resource_type IN ('agenda', 'decision') "
                    "AND action IN ('print', 'export') GROUP BY action ORDER BY action"
                )
            )
        ).all()
    assert [tuple(r) for r in exported] == [("export", 2), ("print", 3)]  # one row per client per export


async def test_calendar_feed_needs_its_token_and_holds_no_client_data(client, world: World, owner_db) -> None:
    meeting, case, item = await _published_meeting(client, world, owner_db)
    created = await client.post(
        "/api/v1/calendar-feeds",
        headers=world.headers("police_member"),
        json={"conference_id": str(world.a.id)},
    )
    assert created.status_code == 201, created.text
    url = created.json()["url"]
    path = url.split("testserver", 1)[-1] if "testserver" in url else url.split("8000", 1)[-1]
    feed = await client.get(path)
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    text = feed.text
    assert "BEGIN:VEVENT" in text and f"UID:{meeting.id}@casusoverleg" in text
    assert "DTSTART:20260303T090000Z" in text
    assert item["client_number"] not in text and "Piet" not in text
    assert (await client.get("/api/v1/calendar/not-a-token.ics")).status_code == 404
    # rotating invalidates the old URL; the database holds only a hash
    await client.post(
        "/api/v1/calendar-feeds",
        headers=world.headers("police_member"),
        json={"conference_id": str(world.a.id)},
    )
    assert (await client.get(path)).status_code == 404
    token = path.rsplit("/", 1)[-1].removesuffix(".ics")
    async with owner_db.sessions() as s:
        stored = (await s.execute(sa.text("SELECT token_hash FROM calendar_feed"))).scalars().all()
    assert token not in stored and len(stored) == 1
    other = await client.post(
        "/api/v1/calendar-feeds",
        headers=world.headers("police_member_b"),
        json={"conference_id": str(world.a.id)},
    )
    assert other.status_code == 404


async def test_digest_lists_the_organisations_open_actions(client, world: World, owner_db) -> None:
    clock.freeze(NOW)
    async with owner_db.sessions() as s:
        case = await add_case(s, world)
        await add_action(s, world, case, due_in_days=-2)
        await add_action(s, world, case, due_in_days=2)
        await add_action(s, world, case, due_in_days=20)
        await add_action(s, world, case, due_in_days=-9, status="done")
        await add_action(
            s, world, case, owner="zorg", assignee="care_liaison", committed_by="care_member", due_in_days=-2
        )
        await s.commit()
    response = await client.get("/api/v1/me/digest", headers=world.headers("police_member"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [len(body[k]) for k in ("overdue", "due_soon", "later")] == [1, 1, 1]
    assert {a["owner_organisation_id"] for k in ("overdue", "due_soon", "later") for a in body[k]} == {
        str(world.orgs["politie"].id)
    }
    other = await client.get(
        "/api/v1/me/digest",
        headers=world.headers("police_member_b"),
        params={"conference_id": str(world.a.id)},
    )
    assert other.status_code == 404


async def test_reopening_a_published_agenda_hides_it_from_members_again(
    client, world: World, owner_db
) -> None:
    meeting, _case, _item = await _published_meeting(client, world, owner_db)
    url = f"/api/v1/meetings/{meeting.id}/agenda"
    assert (await client.get(url, headers=world.headers("care_member"))).status_code == 200
    reopened = await chair_post(client, world, meeting.id, "/agenda/reopen")
    assert reopened.status_code == 200 and reopened.json()["agenda_status"] == "draft"
    assert (await client.get(url, headers=world.headers("care_member"))).status_code == 404
    assert (await client.get(url, headers=world.headers("chair"))).status_code == 200


async def test_a_referral_item_takes_a_text_only(client, world: World, owner_db) -> None:
    from tests.meeting_helpers import add_referral

    clock.freeze(NOW)
    async with owner_db.sessions() as s:
        referral = await add_referral(s, world)
        meeting = await add_meeting(s, world)
        await s.commit()
    items = (await chair_post(client, world, meeting.id, "/agenda/draft")).json()["items"]
    assert [i["referral_id"] for i in items] == [str(referral.id)]
    assert (await chair_post(client, world, meeting.id, "/agenda/publish")).status_code == 200
    url = f"/api/v1/meetings/{meeting.id}/agenda/items/{items[0]['id']}/decisions"
    with_action = await client.post(url, headers=world.headers("chair"), json=_decision(world))
    assert with_action.status_code == 422
    text_only = await client.post(
        url, headers=world.headers("chair"), json={"text": "Aanmelding: intake plannen."}
    )
    assert text_only.status_code == 201, text_only.text
    assert text_only.json()["client_number"] == items[0]["client_number"]
    assert text_only.json()["case_id"] is None


async def test_liaisons_cannot_ask_for_a_discussion(client, world: World, owner_db) -> None:
    async with owner_db.sessions() as s:
        case = await add_case(s, world)
        await s.commit()
    body = {"case_id": str(case.id), "reason": "Graag bespreken"}
    liaison = await client.post(
        "/api/v1/discussion-requests", headers=world.headers("police_liaison"), json=body
    )
    outsider = await client.post(
        "/api/v1/discussion-requests", headers=world.headers("police_member_b"), json=body
    )
    assert liaison.status_code == 403
    assert outsider.status_code == 404


async def test_publishing_agenda_and_decisions_notifies_subscribed_partner_systems(client, world: World, owner_db) -> None:
    """Partner systems that subscribed hear of a published agenda and list of decisions: an outbox
    row per subscription, written with the publication, carrying ids only."""
    from app.models import OutboxMessage, Subscription

    async with owner_db.sessions() as s:
        s.add(Subscription(partner_system_id=world.systems["police_system"].id, organisation_id=world.orgs["politie"].id,
                           url="https://politie.example/hook", event_types=["agenda.published", "decisions.published"],
                           secret="sealed:v1:not-used-here"))  # no delivery in this test
        await s.commit()
    meeting, _case, item = await _published_meeting(client, world, owner_db)
    clock.freeze(MEETING_AT + timedelta(hours=3))
    assert (await chair_post(client, world, meeting.id, "/decisions/publish")).status_code == 200
    async with owner_db.sessions() as s:
        rows = (await s.execute(sa.select(OutboxMessage).order_by(OutboxMessage.created_at))).scalars().all()
    assert [r.type for r in rows] == ["agenda.published", "decisions.published"]
    assert rows[0].payload["data"] == {"meeting_id": str(meeting.id), "conference_id": str(world.a.id)}
    assert "Piet" not in str([r.payload for r in rows])
