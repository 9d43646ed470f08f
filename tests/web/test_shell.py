"""The shell around every page (issue 15): notifications with an unread count in the header, the
privacy officer's pages, Dutch error pages for every status and every /web path (never JSON), and
forms that check every field in one round, mark and describe the refused ones and sum them up."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import asyncpg
import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRouter

from app.clock import clock
from app.db import Database
from app.http.middleware import RequestContextMiddleware
from app.http.problems import install_error_handlers
from app.models import AccessLogEntry, BreakGlass, Client, Notification, NotificationRead
from app.web.render import web_error_page
from tests.factories import World, add_action, add_case
from tests.web.conftest import csrf_of, sign_in

COUNT = re.compile(r'<span class="count">(\d+)<span class="visually-hidden"> ongelezen</span>')


def unread(page: httpx.Response) -> int:
    found = COUNT.search(page.text)
    return int(found.group(1)) if found else 0


async def test_notifications_with_an_unread_count_marked_read_per_person(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    today = clock.today()
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        visit = await add_action(session, web_world, case, owner="politie", due_in_days=-2)
        police = web_world.orgs["politie"].id
        overdue = Notification(kind="action_overdue", conference_id=web_world.a.id, organisation_id=police,
                               ref_type="action", ref_id=visit.id, on_date=today, due_on=visit.due_date)
        mine = Notification(kind="mandate_expiring", conference_id=web_world.a.id,
                            membership_id=web_world.members["police_liaison"].id, ref_type="mandate",
                            ref_id=uuid.uuid4(), on_date=today - timedelta(days=1), due_on=today + timedelta(days=20))
        old = Notification(kind="action_due_soon", conference_id=web_world.a.id, organisation_id=police,
                           ref_type="action", ref_id=visit.id, on_date=today - timedelta(days=30))
        care = Notification(kind="case_flagged", conference_id=web_world.a.id,
                            membership_id=web_world.members["care_member"].id, ref_type="case_flag",
                            ref_id=uuid.uuid4(), on_date=today)
        session.add_all([overdue, mine, old, care])
        await session.commit()

    liaison = await sign_in(browser, web_world, "police_liaison")
    assert unread(liaison) == 2  # the organisation's reminder and their own warning; not the old one, not care's
    page = await browser.get("/web/meldingen")
    assert page.status_code == 200
    assert "Actie is over de termijn" in page.text and "Uw mandaat loopt binnenkort af" in page.text
    assert "Signaal van een ketenpartner" not in page.text  # addressed to care's member
    assert f"uiterlijk {visit.due_date.day} " in page.text
    assert "2 meldingen, waarvan 2 ongelezen" in page.text

    # One read by the liaison: the count drops for them, not for their colleague.
    read = await browser.post(f"/web/meldingen/{mine.id}/gelezen", data={"csrf": csrf_of(page.text)})
    assert read.status_code == 200 and unread(read) == 1 and "Gemarkeerd als gelezen" in read.text
    colleague = await sign_in(browser2, web_world, "police_member")
    assert unread(colleague) == 1  # the organisation's reminder (the warning was the liaison's own)

    # Opening one marks it read and leads to the case it is about.
    opened = await browser.get(f"/web/meldingen/{overdue.id}")
    assert opened.url.path == f"/web/casussen/{case.id}" and unread(opened) == 0
    # Another's notification reads like a missing one.
    foreign = await browser.get(f"/web/meldingen/{care.id}")
    assert foreign.status_code == 404 and "Pagina niet gevonden" in foreign.text
    assert await browser.post(f"/web/meldingen/{care.id}/gelezen", data={"csrf": csrf_of(page.text)})
    async with owner_db.sessions() as session:
        reads = (await session.execute(sa.select(NotificationRead.notification_id, NotificationRead.subject))).all()
    liaison_subject = web_world.members["police_liaison"].subject
    assert set(reads) == {(mine.id, liaison_subject), (overdue.id, liaison_subject)}

    # Mark all read: the colleague's count goes to zero.
    colleague_page = await browser2.get("/web/meldingen")
    done = await browser2.post("/web/meldingen/gelezen", data={"csrf": csrf_of(colleague_page.text)})
    assert unread(done) == 0 and "waarvan 0 ongelezen" in done.text
    # Without the form's CSRF token nothing is marked.
    refused = await browser2.post("/web/meldingen/gelezen", data={})
    assert refused.status_code == 403


async def test_the_privacy_officer_reads_a_clients_access_log_report_and_export(
    web_world: World, owner_db: Database, browser: httpx.AsyncClient, browser2: httpx.AsyncClient
) -> None:
    async with owner_db.sessions() as session:
        case = await add_case(session, web_world)
        number = (await session.get(Client, case.client_id)).client_number  # type: ignore[union-attr]
        grant = BreakGlass(case_id=case.id, conference_id=web_world.a.id,
                           membership_id=web_world.members["police_member"].id,
                           organisation_id=web_world.orgs["politie"].id, reason="Acute crisis",
                           opened_at=clock.now(), expires_at=clock.now() + timedelta(hours=1))
        session.add(grant)
        await session.commit()
    # Reads by case workers, one through break-glass, and a refusal.
    care = await sign_in(browser2, web_world, "care_member")
    assert (await browser2.get(f"/web/casussen/{case.id}")).status_code == 200
    async with owner_db.sessions() as session:
        session.add_all([
            AccessLogEntry(**_row(web_world, number, case, "police_member", basis=f"break_glass:{grant.id}")),
            AccessLogEntry(**_row(web_world, number, case, "police_liaison", outcome="denied")),
        ])
        await session.commit()
    assert care.status_code == 200

    officer = await sign_in(browser, web_world, "privacy_officer", start="/web/privacy")
    assert officer.url.path == "/web/privacy" and "Toegangslog van een cliënt" in officer.text
    assert 'href="/web/privacy"' in officer.text  # the menu shows the privacy pages to the officer
    wrong = await browser.get("/web/privacy", params={"clientnummer": "naam met spaties"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text and 'href="#clientnummer"' in wrong.text
    log_page = await browser.get("/web/privacy", params={"clientnummer": number})
    assert log_page.url.path == f"/web/privacy/clienten/{number}"
    text = log_page.text
    assert "Care Member" in text and "Geweigerd" in text and "Noodtoegang" in text
    assert 'class="break-glass"' in text and "noodtoegang (break-glass" in text
    assert f"/web/privacy/clienten/{number}/inzage.pdf" in text

    report = await browser.get(f"/web/privacy/clienten/{number}/inzage")
    assert report.status_code == 200 and "Wie heeft uw gegevens ingezien of gewijzigd?" in report.text
    pdf = await browser.get(f"/web/privacy/clienten/{number}/inzage.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    export = await browser.get(f"/web/privacy/clienten/{number}/export")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    assert export.json()["client"]["client_number"] == number

    # Each of the officer's reads is in the log, like the API's.
    async with owner_db.sessions() as session:
        logged = (await session.execute(
            sa.select(AccessLogEntry.action, AccessLogEntry.resource_type, AccessLogEntry.part)
            .where(AccessLogEntry.actor_subject == web_world.members["privacy_officer"].subject,
                   AccessLogEntry.client_number == number, AccessLogEntry.outcome == "allowed")
        )).all()
    assert {("search", "access_log", "query"), ("list", "access_log", "query"),
            ("print", "access_log", "subject_access_report"), ("export", "client", "export")} <= set(logged)
    assert [r for r in logged if r[0] == "print"] and len([r for r in logged if r[0] == "print"]) == 2

    # Nobody else: a case worker is refused (a Dutch page), and an unknown client reads like a foreign one.
    await browser2.get("/web/acties")
    refused = await browser2.get("/web/privacy")
    assert refused.status_code == 403 and "Geen toegang" in refused.text
    assert 'href="/web/privacy"' not in refused.text
    assert (await browser2.get(f"/web/privacy/clienten/{number}")).status_code == 403  # in the conference: 403
    assert (await browser.get("/web/privacy/clienten/Z-NIEMAND")).status_code == 404


def _row(world: World, number: str, case: object, person: str, *, basis: str | None = None,
         outcome: str = "allowed") -> dict:
    member = world.members[person]
    return {"actor_issuer": member.issuer, "actor_subject": member.subject, "actor_name": member.display_name,
            "organisation_id": member.organisation_id, "role": member.role, "conference_id": world.a.id,
            "client_number": number, "case_id": case.id, "resource_type": "case",  # type: ignore[attr-defined]
            "resource_id": str(case.id), "action": "read", "basis": basis, "outcome": outcome,  # type: ignore[attr-defined]
            "part": None}


async def test_every_web_error_is_a_dutch_page(web_world: World, browser: httpx.AsyncClient) -> None:
    await sign_in(browser, web_world, "police_liaison")
    for path, status in (("/web/bestaat-niet", 404), ("/web/casussen/not-a-uuid", 404),
                         ("/web/meldingen/not-a-uuid", 404), ("/web/static/geen.css", 404),
                         ("/web/privacy/clienten/Z-0001?pagina=geen-getal", 422)):
        response = await browser.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert '<html lang="nl">' in response.text and "<title>" in response.text, path
    wrong_method = await browser.get("/web/uitloggen")
    assert wrong_method.status_code == 405 and "Niet mogelijk" in wrong_method.text
    assert wrong_method.headers["content-type"].startswith("text/html")
    too_large = await browser.post("/web/aanmeldingen", content=b"x" * 2_000_000,
                                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert too_large.status_code == 413 and "Te groot" in too_large.text
    nul = await browser.get("/web/casussen", params={"fase": "a\x00b"})
    assert nul.status_code == 422 and nul.headers["content-type"].startswith("text/html")


async def test_database_faults_under_web_are_dutch_pages_and_json_elsewhere() -> None:
    app = FastAPI()
    install_error_handlers(app, html_page=web_error_page)
    router = APIRouter()

    @router.get("/web/database")
    @router.get("/api/database")
    async def database() -> None:
        await asyncpg.connect("postgresql://nobody@/nothing?host=/nonexistent/casusoverleg", timeout=2)

    @router.get("/web/race")
    async def race() -> None:
        class UniqueViolation(Exception):
            sqlstate = "23505"

        raise sa.exc.IntegrityError("INSERT", {}, UniqueViolation())

    @router.get("/web/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    app.include_router(router)
    wrapped = RequestContextMiddleware(app, max_body_bytes=10, html_page=web_error_page)
    transport = httpx.ASGITransport(app=wrapped, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        away = await c.get("/web/database")
        assert away.status_code == 503 and "Even niet beschikbaar" in away.text
        assert away.headers["retry-after"] and away.headers["content-type"].startswith("text/html")
        assert (await c.get("/api/database")).headers["content-type"] == "application/problem+json"
        raced = await c.get("/web/race")
        assert raced.status_code == 409 and raced.headers["content-type"].startswith("text/html")
        broken = await c.get("/web/bug")
        assert broken.status_code == 500 and "Er ging iets mis" in broken.text
        large = await c.post("/web/race", content=b"x" * 100)
        assert large.status_code == 413 and large.headers["content-type"].startswith("text/html")
        assert (await c.post("/api/database", content=b"x" * 100)).headers["content-type"] == "application/problem+json"


async def test_the_referral_form_checks_every_field_in_one_round(
    web_world: World, browser: httpx.AsyncClient
) -> None:
    page = await sign_in(browser, web_world, "wijkteam_member", start="/web/aanmeldingen")
    refused = await browser.post("/web/aanmeldingen", data={
        "csrf": csrf_of(page.text), "naam": "", "geboortedatum": "31-02-1980", "bsn": "123456789", "reden": ""})
    assert refused.status_code == 422
    text = refused.text
    for field in ("naam", "geboortedatum", "bsn", "reden"):  # all four in the first round, the BSN included
        assert f'id="{field}-fout"' in text, field
        assert f'href="#{field}"' in text, field  # the summary links to the field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="{field}-fout', text), field
    assert re.search(r'class="error-summary" role="alert"[^>]*tabindex="-1"', text)

