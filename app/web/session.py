"""The signed-in person's web session (an opaque token in an HttpOnly cookie) and the context
every page gets from it: the same Principal and Guard as the API, so the policy and the access
log are the API's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.deps import Guard, get_session
from app.services.access import web_sessions
from app.services.events import notifications

SESSION_COOKIE = "casusoverleg_sessie"


async def _web_db(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in get_session(request):
        # WebRoute turns an error into a page before this dependency ends, so it rolls the
        # request back itself: it finds the session here.
        request.state.web_db_session = session
        yield session


# Function scope: the transaction commits before the response leaves, so a redirect never
# overtakes its own write.
WebDb = Annotated[AsyncSession, Depends(_web_db, scope="function")]


class SignInRequired(Exception):
    """No (valid) web session: WebRoute answers with a redirect to the sign-in page."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass
class WebContext:
    principal: Principal
    guard: Guard
    csrf: str
    token: str
    unread: int = 0  # the person's unread notifications, for the header of every page


def _next_for(request: Request) -> str:
    if request.method == "GET":
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return web_sessions.safe_next(path)
    return web_sessions.DEFAULT_NEXT


async def web_context(request: Request, session: WebDb) -> WebContext:
    token = request.cookies.get(SESSION_COOKIE, "")
    row = await web_sessions.load_web_session(session, token) if token else None
    principal = None
    if row is not None:
        principal = await web_sessions.principal_for_session(
            session, row, request_id=getattr(request.state, "request_id", None),
            source_address=request.client.host if request.client else None,
        )
    if row is None or principal is None:
        raise SignInRequired(
            "/web/inloggen?" + urlencode({"next": _next_for(request), "verlopen": "1" if token else ""})
        )
    request.state.principal = principal
    # One count per request (the dependency is resolved once per request), shown in the header.
    unread = await notifications.unread_count(session, principal)
    ctx = WebContext(principal, Guard(principal, session, request.app.state.db), row.csrf_secret, token, unread)
    request.state.web = ctx
    return ctx


Ctx = Annotated[WebContext, Depends(web_context)]
