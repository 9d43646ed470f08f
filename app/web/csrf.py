"""Every form of a signed-in page carries the session's CSRF secret; a form without it is refused
(WebRoute shows a page that says so)."""

from __future__ import annotations

import hmac
import logging

from fastapi import Request
from starlette.datastructures import FormData

from app.web.session import WebContext

log = logging.getLogger(__name__)


class CsrfRefused(Exception):
    pass


async def checked_form(request: Request, ctx: WebContext) -> FormData:
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), ctx.csrf.encode()):
        log.info("web form refused: missing or wrong CSRF token")
        raise CsrfRefused()
    return form
