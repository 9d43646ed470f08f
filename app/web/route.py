"""WebRoute, the route class of every web page: a redirect or an application error becomes a
page (never problem+json in the browser), the request's transaction is rolled back on any
error (the edge, like app/db.py for the API), and every answer gets the security headers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import AppError
from app.web.csrf import CsrfRefused
from app.web.render import SECURITY_HEADERS, error_page
from app.web.session import SignInRequired

CSRF_REFUSED = ("Dit formulier is verlopen of niet van deze site afkomstig. "
                "Open de pagina opnieuw en probeer het nog eens.")


class WebRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except (SignInRequired, CsrfRefused, AppError) as exc:
                # Caught before the session dependency ends (which would commit): roll back here.
                db_session: AsyncSession | None = getattr(request.state, "web_db_session", None)
                if db_session is not None:
                    await db_session.rollback()
                if isinstance(exc, SignInRequired):
                    response = RedirectResponse(exc.url, status_code=303)
                elif isinstance(exc, CsrfRefused):
                    response = error_page(request, 403, CSRF_REFUSED)
                else:
                    # A hidden object reads exactly like a missing one: no detail from the policy.
                    response = error_page(request, exc.status)
            for key, value in SECURITY_HEADERS.items():
                response.headers.setdefault(key, value)
            return response

        return handler
