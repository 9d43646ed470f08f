"""Issue 15, acceptance 4: every route of the web client, from the application's route list, for
every kind of person that can sign in, against objects of their own conference and of another,
checked against tests/authz_matrix.py WEB_MATRIX over real HTTP with real web sessions (the
authorization-code sign-in at the development providers). Refusals are Dutch pages, never JSON;
a 403 is in the access log."""

from __future__ import annotations

import re
import uuid

import httpx
import sqlalchemy as sa

from app.db import Database
from app.models import AccessLogEntry
from tests.authz_matrix import WEB_LIST_ITEM, WEB_MATRIX, WEB_PARAMS, WEB_ROLES
from tests.factories import World
from tests.test_authz_matrix import CALLERS, GROUP, WEB_ROUTES, Objects, _objects
from tests.web.conftest import WebServer, browsing, sign_in

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Forms that would end the session the test goes on with.
NOT_CALLED = {("POST", "/web/uitloggen")}


def _attribute(route: tuple[str, str], name: str) -> str:
    return WEB_PARAMS.get(route, {}).get(name, name)


def _needs() -> frozenset[str]:
    names = {_attribute(r, n) for r in WEB_MATRIX for n in re.findall(r"\{([a-z_]+)\}", r[1])}
    return frozenset(GROUP[n] for n in names if n in GROUP)


def _path(route: tuple[str, str], objects: Objects | None) -> str:
    def value(match: re.Match[str]) -> str:
        name = _attribute(route, match.group(1))
        if objects is None:
            return "Z-GEEN" if name == "client_number" else str(uuid.uuid4())
        found = getattr(objects, name, None)
        assert found is not None, f"{route[1]}: teach Objects/_objects (tests/test_authz_matrix.py) a {name}"
        return str(found)

    return re.sub(r"\{([a-z_]+)\}", value, route[1])


async def _denials(owner_db: Database) -> int:
    async with owner_db.sessions() as session:
        return int(await session.scalar(
            sa.select(sa.func.count()).select_from(AccessLogEntry).where(AccessLogEntry.outcome == "denied")) or 0)


def _refused(response: httpx.Response) -> bool:
    return response.status_code in (403, 404)


def _a_page(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html") and '<html lang="nl">' in response.text


async def test_every_web_route_against_the_matrix(
    web_world: World, owner_db: Database, web_server: WebServer
) -> None:
    world = web_world
    clients: dict[str, httpx.AsyncClient] = {}
    tokens: dict[str, str] = {}
    problems: list[str] = []
    try:
        for role in WEB_ROLES:
            c = browsing(web_server)
            clients[role] = c
            signed_in = await sign_in(c, world, CALLERS[role][0], start="/web/meldingen")
            assert signed_in.status_code == 200, f"{role}: {signed_in.status_code}"
            found = CSRF.search(signed_in.text)
            assert found, role
            tokens[role] = found.group(1)
        needs = _needs()
        objects: dict[str, Objects] | None = None
        for route in WEB_ROUTES:
            rule = WEB_MATRIX.get(route)
            if rule is None or route in NOT_CALLED:
                continue
            method, template = route
            for role in WEB_ROLES:
                if objects is None:
                    objects = await _objects(owner_db, world, needs)
                own_key = CALLERS[role][1]
                own, other = objects[own_key], objects["A" if own_key == "B" else "B"]
                expect = role in rule.allowed
                c = clients[role]
                before = await _denials(owner_db)
                if method == "GET":
                    response = await c.get(_path(route, own), follow_redirects=False)
                else:
                    response = await c.post(_path(route, own), data={"csrf": tokens[role]}, follow_redirects=False)
                status = response.status_code
                where = f"{method} {template} as {role}: {status}"
                if status >= 500 or status == 401 or (status == 303 and "/web/inloggen" in response.headers["location"]):
                    problems.append(f"{where} (a fault, or the session was not taken)")
                    continue
                if status >= 400 and not _a_page(response):
                    problems.append(f"{where} is not a Dutch page: {response.headers.get('content-type')}")
                if status == 403 and await _denials(owner_db) != before + 1:
                    problems.append(f"{where}: the refusal was not written to the access log (once)")
                if method != "GET":
                    if status < 400:
                        objects = None  # the form may have changed them
                    # An empty form may be refused for what it holds (422, or 409 without the page's version).
                    if expect and _refused(response):
                        problems.append(f"{where}: expected allowed")
                    elif not expect and status < 400:
                        problems.append(f"{where}: expected refused")
                    continue
                if rule.scope == "list":
                    attribute = WEB_LIST_ITEM[template]
                    shown = status == 200 and str(getattr(own, attribute)) in response.text
                    if shown != expect:
                        problems.append(f"{where}: own object {'not shown' if expect else 'shown'}")
                    if status == 200 and str(getattr(other, attribute)) in response.text:
                        problems.append(f"{where}: another conference's object is shown")
                    continue
                if expect != (status in (200, 303)) or (not expect and not _refused(response)):
                    problems.append(f"{where}: expected {'allowed' if expect else 'refused (403/404)'}")
                if rule.scope == "conference":
                    theirs = await c.get(_path(route, other), follow_redirects=False)
                    nowhere = await c.get(_path(route, None), follow_redirects=False)
                    if theirs.status_code != 404 or nowhere.status_code != 404:
                        problems.append(f"{where}: another conference's answered {theirs.status_code}, a missing "
                                        f"one {nowhere.status_code} (both must be 404)")
    finally:
        for c in clients.values():
            await c.aclose()
    assert not problems, "\n  ".join(["web routes against tests/authz_matrix.py WEB_MATRIX:", *problems])


def test_the_matrix_names_only_people_who_can_sign_in() -> None:
    assert set(WEB_ROLES) <= set(CALLERS)
    assert all(CALLERS[r][0] not in ("police_system", "care_system") for r in WEB_ROLES)

