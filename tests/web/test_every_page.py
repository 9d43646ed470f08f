"""Issue 15, acceptance 2: every GET page of the web client, from the application's route list,
opened in Chromium as the people who may open it (tests/authz_matrix.py WEB_MATRIX) at 1280 and at
390 px, error and print pages included: axe-core finds no serious or critical violation, and at
390 px no page is wider than the screen (document scrollWidth <= viewport width). The pages forms
answer with (a refused field, the conflict page of a stale version) are reached by sending the form
from the browser.

One browser; one context (and page) per person, reused; sessions are made with the real sign-in
round trip over HTTP and handed to the browser as its cookie. With SCREENSHOTS_DIR set, the main
pages are also written there at both widths (scripts/screenshots.py runs it for docs/screenshots/)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.clock import clock
from app.db import Database
from app.main import create_app
from tests.authz_matrix import WEB_MATRIX, WEB_PARAMS, WEB_PUBLIC
from tests.factories import World
from tests.routes import app_routes
from tests.test_authz_matrix import APP, CALLERS, Objects, _objects
from tests.web.chromium import AXE, BROWSER_MARKS, launched
from tests.web.conftest import WebServer, browsing, sign_in
from tests.web.test_authz_web import _needs

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright for Python is not installed")
pytestmark = BROWSER_MARKS

WIDTHS = (1280, 390)
# Who opens a page when several may: the chair sees the most; the others as listed.
PREFERRED = ("chair", "member_other_org", "member", "liaison", "privacy_officer", "admin", "member_b")
# Pages also opened as a second person, whose view differs (what a liaison of the police sees).
ALSO_AS = {"/web/casussen/{case_id}": "liaison", "/web/vergaderingen/{meeting_id}": "member",
           "/web/acties": "liaison", "/web/meldingen": "liaison"}
# The main pages, with the name of their screenshot (SCREENSHOTS_DIR).
MAIN = {
    ("/web/acties", "liaison"): "mijn-acties",
    ("/web/casussen", "chair"): "casussen",
    ("/web/casussen/{case_id}", "chair"): "casus",
    ("/web/aanmeldingen", "chair"): "aanmeldingen",
    ("/web/vergaderingen/{meeting_id}", "chair"): "agenda-concept",
    ("/web/meldingen", "liaison"): "meldingen",
    ("/web/privacy/clienten/{client_number}", "privacy_officer"): "toegangslog",
    ("/web/bestaat-niet", "chair"): "niet-gevonden",
}
# Error pages and refused forms, besides the routes: (path, person or None for signed out, status).
EXTRA = [
    ("/web/bestaat-niet", "chair", 404),
    ("/web/casussen/not-a-uuid", "liaison", 404),
    ("/web/privacy", "liaison", 403),
    ("/web/privacy?clientnummer=geen+nummer", "privacy_officer", 422),
    ("/web/inloggen", None, 200),
    ("/web/bestaat-niet", None, 404),
]


def _path(route: tuple[str, str], objects: Objects) -> str:
    def value(match: re.Match[str]) -> str:
        name = WEB_PARAMS.get(route, {}).get(match.group(1), match.group(1))
        found = getattr(objects, name, None)
        assert found is not None, f"{route[1]}: teach Objects/_objects (tests/test_authz_matrix.py) a {name}"
        return str(found)

    return re.sub(r"\{([a-z_]+)\}", value, route[1])


def pages_to_visit() -> list[tuple[str, str]]:
    """(route template, person) for every GET page of the route list."""
    visits = []
    for methods, path in sorted(app_routes(APP), key=lambda r: r[1]):
        route = ("GET", path)
        if "GET" not in methods or not path.startswith("/web") or route in WEB_PUBLIC:
            continue
        rule = WEB_MATRIX.get(route)
        assert rule is not None, f"{path}: no entry in tests/authz_matrix.py WEB_MATRIX"
        allowed = [r for r in PREFERRED if r in rule.allowed]
        if not allowed:
            continue
        visits.append((path, allowed[0]))
        if path in ALSO_AS and ALSO_AS[path] in rule.allowed and ALSO_AS[path] != allowed[0]:
            visits.append((path, ALSO_AS[path]))
    return visits


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    async with launched() as browser:
        yield browser


async def _axe(page: Any) -> list[str]:
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


async def _check(page: Any, url: str, label: str, problems: list[str], shots: Path | None, shot: str | None,
                 status: int | None = None, load: Callable[[], Awaitable[Any]] | None = None) -> None:
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        response = await (load() if load is not None else page.goto(url))
        assert response is not None
        if status is not None and response.status != status:
            problems.append(f"{label} at {width}: status {response.status}, expected {status}")
        elif status is None and response.status != 200:
            problems.append(f"{label} at {width}: status {response.status}")
        if shots is not None and shot is not None:
            height = await page.evaluate("() => document.documentElement.scrollHeight")
            await page.screenshot(path=str(shots / f"{shot}-{width}.png"), full_page=True,
                                  clip={"x": 0, "y": 0, "width": width, "height": min(height, 2400)})
        if width == 390:
            wide = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            if wide[0] > wide[1]:
                problems.append(f"{label} at 390 px is {wide[0]} px wide")
        problems.extend(f"{label} at {width}: {v}" for v in await _axe(page))


async def _submit(page: Any, form: str) -> Any:
    async with page.expect_navigation() as answer:
        await page.click(f"{form} button[type=submit]")
    return await answer.value


def answered_pages(page: Any, base: str, objects: Objects) -> list[tuple[str, int, str | None, Callable[[], Awaitable[Any]]]]:
    """The pages forms answer with, which have no URL of their own, sent by the chair from the
    browser: (label, status, screenshot, how to get there). Nothing they send is saved."""
    case_url = f"{base}/web/casussen/{objects.case_id}"
    changes = "#casus-bijwerken form"

    async def refused_phase() -> Any:
        await page.goto(case_url)
        return await _submit(page, f"{changes}[action$='/fase']")  # no phase chosen

    async def stale_version() -> Any:
        await page.goto(case_url)
        form = f"{changes}[action$='/evaluatie']"
        await page.eval_on_selector(f"{form} input[name=versie]", "e => { e.value = String(Number(e.value) - 1); }")
        await page.fill(f"{form} input[name=evaluatiedatum]", (clock.today() + timedelta(days=7)).isoformat())
        return await _submit(page, form)

    async def refused_name() -> Any:
        await page.goto(f"{base}/web/casussen")
        await page.fill("#naam", "a")  # a name search needs two letters
        return await _submit(page, "main form.filters")

    return [("the case page with a refused field", 422, None, refused_phase),
            ("the conflict page of a stale version", 412, "casus-conflict", stale_version),
            ("the case list searched by name, refused", 422, None, refused_name)]


async def _forms_help(page: Any, base: str) -> list[str]:
    """A refused form: the focus is on the error summary, its link moves the focus to the field; a
    submitted form is busy (web.js)."""
    found = []
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(base + "/web/privacy?clientnummer=geen+nummer")
    if not await page.evaluate("() => document.activeElement.classList.contains('error-summary')"):
        found.append("a refused form: the focus is not on the error summary")
    await page.locator(".error-summary a").first.click()
    if await page.evaluate("() => document.activeElement.id") != "clientnummer":
        found.append("the error summary's link does not move the focus to its field")
    if await page.get_attribute("#clientnummer", "aria-invalid") != "true":
        found.append("the refused field is not marked aria-invalid")
    await page.evaluate("() => { const f = document.querySelector('main form'); "
                        "f.addEventListener('submit', e => e.preventDefault()); f.requestSubmit(); }")
    if await page.get_attribute("main form", "aria-busy") != "true":
        found.append("a submitted form is not marked busy")
    return found


async def test_every_page_passes_axe_and_fits_a_phone(
    web_world: World, owner_db: Database, web_server: WebServer, chromium: Any
) -> None:
    world = web_world
    shots_dir = os.environ.get("SCREENSHOTS_DIR")
    shots = Path(shots_dir) if shots_dir else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    objects = (await _objects(owner_db, world, _needs()))["A"]
    visits = pages_to_visit()
    people = sorted({p for _r, p in visits} | {p for _u, p, _s in EXTRA if p})
    pages: dict[str | None, Any] = {}
    for person in people:
        async with browsing(web_server) as c:
            assert (await sign_in(c, world, CALLERS[person][0])).status_code == 200
            cookie = c.cookies.get("casusoverleg_sessie")
        context = await chromium.new_context(bypass_csp=True, locale="nl-NL")
        await context.add_cookies([{"name": "casusoverleg_sessie", "value": cookie, "url": web_server.base}])
        pages[person] = await context.new_page()
    pages[None] = await (await chromium.new_context(bypass_csp=True, locale="nl-NL")).new_page()

    problems: list[str] = []
    visited = 0
    for template, person in visits:
        page = pages[person]
        url = web_server.base + _path(("GET", template), objects)
        # Downloads (the PDF, the JSON export) are no pages: only their answer is checked.
        head = await page.context.request.get(url)
        if not head.headers.get("content-type", "").startswith("text/html"):
            if head.status != 200:
                problems.append(f"{template} as {person}: status {head.status}")
            continue
        await _check(page, url, f"{template} as {person}", problems, shots, MAIN.get((template, person)))
        visited += 1
    for path, person, status in EXTRA:
        await _check(pages[person], web_server.base + path, f"{path} as {person or 'nobody'}", problems, shots,
                     MAIN.get((path, person)) if person else None, status=status)
    for label, status, shot, load in answered_pages(pages["chair"], web_server.base, objects):
        await _check(pages["chair"], "", label, problems, shots, shot, status=status, load=load)
    problems.extend(await _forms_help(pages["privacy_officer"], web_server.base))
    for page in pages.values():
        await page.context.close()
    assert visited >= 10, "the route list gives the pages"
    assert not problems, "\n  ".join(["pages with problems:", *problems])


def test_the_route_list_gives_every_get_page() -> None:
    app = create_app(APP.state.settings)
    gets = {p for methods, p in app_routes(app) if "GET" in methods and p.startswith("/web")}
    visited = {t for t, _p in pages_to_visit()}
    assert {p for p in gets if ("GET", p) not in WEB_PUBLIC and WEB_MATRIX[("GET", p)].allowed} == visited
