"""Every form of a signed-in page carries the session's CSRF secret; a form without it is refused
(WebRoute shows a page that says so)."""

from __future__ import annotations

import hmac
import logging

from fastapi import Request
from starlette.datastructures import FormData

from app.errors import UnprocessableEntity
from app.schemas.common import NUL_DETAIL
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
    for name, value in form.multi_items():
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise UnprocessableEntity(NUL_DETAIL, pointer=f"#/{name}")
    return form
